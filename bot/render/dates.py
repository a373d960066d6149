"""Dates as a phone line shows them."""

from __future__ import annotations

from datetime import date


def short_day(value: date, today: date) -> str:
    """12-10 this year, 2027-01-05 otherwise: short enough for one phone line."""
    return value.strftime("%m-%d") if value.year == today.year else value.isoformat()
