"""Message catalogs (zh, en) composed from one module per feature, and the lookup function."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Literal

from bot.render.catalog import (
    alerts,
    baseline,
    cards,
    changes,
    core,
    dashboard,
    integrations,
    needs,
    pictures,
    plan,
    report,
    rhythm,
    signoff,
    standup,
    tracking,
    undo,
    views,
    xlsx,
)
from bot.render.safe import inert

Locale = Literal["zh", "en"]
LOCALES: tuple[Locale, ...] = ("zh", "en")


def _merge(*parts: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {locale: {} for locale in LOCALES}
    for part in parts:
        for locale in LOCALES:
            clash = merged[locale].keys() & part[locale].keys()
            if clash:
                raise RuntimeError(f"message keys defined twice: {sorted(clash)}")
            merged[locale].update(part[locale])
    return merged


CATALOG = _merge(
    core.STRINGS,
    plan.STRINGS,
    baseline.STRINGS,
    signoff.STRINGS,
    tracking.STRINGS,
    rhythm.STRINGS,
    standup.STRINGS,
    alerts.STRINGS,
    report.STRINGS,
    cards.STRINGS,
    changes.STRINGS,
    integrations.STRINGS,
    undo.STRINGS,
    needs.STRINGS,
    pictures.STRINGS,
    dashboard.STRINGS,
    views.STRINGS,
    xlsx.STRINGS,
)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class _Formatter(string.Formatter):
    """str.format plus `{n:plural:day}`: "1 day", "2 days" (`{n:plural:person/people}` for an
    irregular plural), so English counts read right without a key per number."""

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec.startswith("plural:"):
            one, _, many = format_spec.removeprefix("plural:").partition("/")
            return f"{value} {one if value == 1 else many or one + 's'}"
        return str(super().format_field(value, format_spec))


_FORMATTER = _Formatter()


class Rendered(str):
    """A message `t` filled in: passed on into another message, it is not made inert again."""


def t(locale: str, key: str, **params: object) -> str:
    """The message `key` in `locale` (falling back to zh), with `params` filled in.

    Every text parameter is made inert (`safe.inert`): names, titles, notes and the rest reach
    templates here, so typed markup can never act in a reply. Our own fragments passed on (mention
    tokens, lines of other messages) hold no markup it changes, escaping twice changes nothing, and
    a message passed on as it is (a usage line) is not escaped at all.
    """
    table = CATALOG.get(locale) or CATALOG["zh"]
    template = table.get(key) or CATALOG["zh"][key]
    if not params:
        return Rendered(template)
    safe = {
        name: inert(v) if isinstance(v, str) and not isinstance(v, Rendered) else v
        for name, v in params.items()
    }
    return Rendered(_FORMATTER.format(template, **safe))
