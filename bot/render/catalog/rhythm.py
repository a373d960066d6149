"""Strings for rhythm."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"help.section.rhythm": "节奏与日历"},
    "en": {"help.section.rhythm": "Rhythm and calendar"},
}
