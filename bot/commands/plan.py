"""Departments, members, phases, tasks, RACI and milestones."""

from __future__ import annotations

from bot.commands.registry import Router

router = Router("plan", title="help.section.plan")
