"""/config, the working calendar (/holiday, /workday) and /leave."""

from __future__ import annotations

from bot.commands.registry import Router

router = Router("rhythm", title="help.section.rhythm")
