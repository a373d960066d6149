"""Strings for standup."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"help.section.standup": "站会"},
    "en": {"help.section.standup": "Standup"},
}
