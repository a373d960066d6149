"""The README's command reference names every command in both languages."""

from pathlib import Path

from bot.commands.all import build_registry
from bot.render.i18n import t

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_listed_command_is_in_the_reference() -> None:
    missing = [
        usage
        for router in build_registry().routers
        for spec in router.commands
        if spec.listed
        for usage in (t("en", spec.usage_key), t("zh", spec.usage_key))
        if usage.replace("|", "\\|") not in README
    ]
    assert missing == []


def test_quick_start_has_the_two_commands() -> None:
    assert "pip install -e . && crosstrack serve" in README
    assert "pip install -e '.[test]' && pytest" in README
