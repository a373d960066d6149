"""The tracking catalog is complete in both languages and covers every key its code uses."""

import re
from pathlib import Path

import pytest

from bot.commands import overview, tracking
from bot.render.catalog.tracking import STRINGS
from bot.render.i18n import CATALOG, LOCALES, placeholders

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot/commands/tracking.py", "bot/commands/overview.py", "bot/services/tracking.py")
# Keys built at run time from a value: prefix -> the values it is completed with.
DYNAMIC = {
    "track.task_status.": ("not_started", "in_progress", "blocked", "done"),
    "track.level.": ("high", "medium", "low"),
    "track.risk_status.": ("new", "open", "mitigated", "closed"),
    "track.risk_already_": ("open", "mitigated", "closed"),
    "overview.state.": ("on_track", "at_risk", "late", "done"),
}


def test_same_keys_and_placeholders_in_every_language() -> None:
    assert STRINGS["zh"].keys() == STRINGS["en"].keys()
    for key, template in STRINGS["zh"].items():
        assert placeholders(template) == placeholders(STRINGS["en"][key]), key


def used_keys() -> set[str]:
    keys: set[str] = set()
    for source in SOURCES:
        text = (ROOT / source).read_text(encoding="utf-8")
        keys |= set(re.findall(r'"((?:track|overview|usage|summary|who|arg|value|help)\.[A-Za-z_.]+)"', text))
    for prefix, values in DYNAMIC.items():
        keys |= {prefix + value for value in values}
    return keys


@pytest.mark.parametrize("locale", LOCALES)
def test_every_key_the_code_uses_exists(locale: str) -> None:
    missing = {key for key in used_keys() if key not in CATALOG[locale]}
    assert not missing


def test_every_command_has_usage_summary_and_who() -> None:
    for router in (tracking.router, overview.router):
        assert router.title in STRINGS["zh"]
        for spec in router.commands:
            for key in (spec.usage_key, spec.summary_key, spec.who):
                assert key in CATALOG["zh"] and key in CATALOG["en"], key
