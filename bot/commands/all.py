"""The one place where command routers are composed (explicitly, in /help's order)."""

from __future__ import annotations

from bot.commands import (
    baseline,
    changes,
    charter,
    dashboard,
    help,
    needs,
    overview,
    pictures,
    plan,
    project,
    report,
    rhythm,
    standup,
    tracking,
    undo,
)
from bot.commands.registry import Registry
from bot.permissions import undeclared


def build_registry() -> Registry:
    registry = Registry().include_routers(
        help.router,
        project.router,
        charter.router,
        plan.router,
        baseline.router,
        changes.router,
        tracking.router,
        needs.router,
        standup.router,
        overview.router,
        report.router,
        pictures.router,
        dashboard.router,
        rhythm.router,
        undo.router,
    )
    # Text that is no command may be a standup reply.
    registry.with_fallback(standup.FREE_TEXT)
    if missing := undeclared(registry):
        raise RuntimeError(f"commands without a permission rule: {missing}")
    return registry
