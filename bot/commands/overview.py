"""Read-only views: /status, /mytasks, /risks, /actions."""

from __future__ import annotations

from bot.commands.registry import Router

router = Router("overview", title="help.section.overview")
