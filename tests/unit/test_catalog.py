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


def test_english_counts_are_singular_or_plural() -> None:
    assert t("en", "overview.late_header", count=1) == "🔴 1 late task:"
    assert t("en", "overview.late_header", count=2) == "🔴 2 late tasks:"
    assert t("en", "report.age_workdays", n=1) == "1 workday"
    assert t("en", "report.age_workdays", n=2) == "2 workdays"
    assert t("en", "report.age_days", n=2) == "2 days"
    # No "day(s)"-style or "3d" abbreviations are left in English.
    import re

    for key, template in CATALOG["en"].items():
        assert "(s)" not in template and not re.search(r"\}d\b", template), key
