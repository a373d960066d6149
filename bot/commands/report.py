"""/report: the weekly report on demand, and past reports."""

from __future__ import annotations

from bot.commands.registry import Router

router = Router("report", title="help.section.report")
