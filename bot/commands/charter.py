"""/charter: view and edit the project charter."""

from __future__ import annotations

from bot.commands.registry import Router

router = Router("charter", title="help.section.charter")
