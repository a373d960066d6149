"""Strings for report."""

STRINGS: dict[str, dict[str, str]] = {
    "zh": {"help.section.report": "周报"},
    "en": {"help.section.report": "Weekly report"},
}
