"""Logging for `crosstrack serve` / `scheduler`: plain text, or one JSON object a line
(`CROSSTRACK_LOG_FORMAT=json`, python-json-logger) whose `extra` fields (event id, platform,
command, outcome, duration...) become keys; and no credential in any record."""

from __future__ import annotations

import logging
import re
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A credential in a URL: a query parameter (a custom robot's access_token and sign, a DingTalk
# session webhook's session, the Stream ticket) or a Feishu custom bot's hook id.
_URL_SECRETS = re.compile(r"((?:access_token|sign|session|ticket)=)[^&\s'\"]+|(/hook/)[\w-]+", re.IGNORECASE)


def redact(text: str) -> str:
    return _URL_SECRETS.sub(lambda m: f"{m.group(1) or m.group(2)}***", text)


class RedactUrls(logging.Filter):
    """httpx and websockets log the URLs they call, some of which carry credentials (see
    _URL_SECRETS): rewrite the record before any handler (ours, pytest's) sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(str(arg)) if _URL_SECRETS.search(str(arg)) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


# Libraries that log request URLs (websockets: the Stream URL with its ticket, at DEBUG).
URL_LOGGERS = ("httpx", "websockets.client")


def configure_logging(
    level: int = logging.INFO,
    log_format: LogFormat = "text",
    stream: TextIO | None = None,
    *,
    force: bool = False,
) -> None:
    """Log to `stream` (default stderr) in `log_format`. Like logging.basicConfig, a root logger that
    already has handlers (a test runner's, an embedding program's) keeps them unless `force`."""
    root = logging.getLogger()
    if force or not root.handlers:
        handler = logging.StreamHandler(stream)
        if log_format == "json":
            handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        else:
            handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
        root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs every run of every job at INFO; scheduler.service logs what matters.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    # httpx logs every request at INFO: noise unless debugging.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    # SQL parameters, result rows and driver calls carry user text and stored credentials (a custom
    # robot's webhook and secret): never logged, whatever the level.
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    install_redaction()


def install_redaction() -> None:
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrls) for f in logger.filters):
            logger.addFilter(RedactUrls())
