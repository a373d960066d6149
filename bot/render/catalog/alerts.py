"""Strings for alerts."""

STRINGS: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
