"""Every message exists in both languages with the same placeholders, and every key code uses exists."""

import pytest

from bot.commands.all import build_registry
from bot.commands.parsing import ARG_ERROR_KEYS
from bot.render.i18n import CATALOG, placeholders, t


def test_both_locales_have_the_same_keys() -> None:
    assert CATALOG["zh"].keys() == CATALOG["en"].keys()


@pytest.mark.parametrize("key", sorted(CATALOG["zh"]))
def test_placeholders_match(key: str) -> None:
    assert placeholders(CATALOG["zh"][key]) == placeholders(CATALOG["en"][key])


def test_every_command_and_argument_error_has_its_texts() -> None:
    registry = build_registry()
    keys = {key for router in registry.routers for key in (router.title,)}
    for router in registry.routers:
        for spec in router.commands:
            keys |= {spec.usage_key, spec.summary_key, spec.who}
    keys |= set(ARG_ERROR_KEYS)
    assert keys - CATALOG["zh"].keys() == set()


def test_unknown_locale_falls_back_to_chinese() -> None:
    assert t("fr", "value.none") == t("zh", "value.none")
