"""report webhook credentials encrypted at rest (CROSSTRACK_SECRET_KEY), unique by a keyed URL digest

Existing bindings are encrypted here, with the key from the settings; without a key the upgrade
stops with a message naming the setting (only when there are bindings to encrypt). Queued reports
get the encrypted credentials, sent and failed ones lose theirs, and stored commands that carried
a webhook URL and secret are masked. The downgrade decrypts (and needs the key likewise).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.services import integrations
from bot.settings import get_settings
from storage.secretbox import KEY_SETTING, SecretBox

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WEBHOOK_PLATFORMS = (integrations.DINGTALK_WEBHOOK, integrations.FEISHU_WEBHOOK)
_webhooks = sa.table(
    "report_webhooks",
    sa.column("id", sa.Integer),
    sa.column("url", sa.String),
    sa.column("secret", sa.String),
    sa.column("url_digest", sa.String),
    sa.column("url_sealed", sa.Text),
    sa.column("url_shown", sa.String),
    sa.column("secret_sealed", sa.Text),
)
_outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("platform", sa.String),
    sa.column("chat_id", sa.String),
    sa.column("status", sa.String),
    sa.column("payload", sa.JSON),
)
_inbound = sa.table(
    "inbound_events",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("payload", sa.JSON),
)


def _box(rows: int, direction: str) -> SecretBox:
    box = get_settings().secret_box()
    if box is None:
        raise RuntimeError(
            f"{rows} report webhook(s) must be {direction}, which needs the key: set {KEY_SETTING} "
            "(a Fernet key: python -c 'from storage.secretbox import new_key; print(new_key())') "
            "and run `crosstrack migrate` again"
        )
    return box


def _rewrite_outbox(credentials: dict[str, dict[str, str]], drop: tuple[str, ...]) -> None:
    """Pending webhook rows get `credentials` of their binding (by chat id); every webhook row loses
    the `drop` keys of its extra."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_outbox.c.id, _outbox.c.chat_id, _outbox.c.status, _outbox.c.payload).where(
            _outbox.c.platform.in_(_WEBHOOK_PLATFORMS)
        )
    )
    for row_id, chat_id, status, payload in list(rows):
        extra = {key: value for key, value in payload.get("extra", {}).items() if key not in drop}
        if status == "pending":
            extra |= credentials.get(chat_id, {})
        connection.execute(
            _outbox.update().where(_outbox.c.id == row_id).values(payload={**payload, "extra": extra})
        )


def _mask_stored_commands() -> None:
    """Handled commands that carried a webhook URL keep it masked, and no word after it (the secret)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_inbound.c.id, _inbound.c.payload).where(_inbound.c.status.in_(("done", "failed")))
    )
    for row_id, payload in list(rows):
        words = str(payload.get("text", "")).split()
        first = next((i for i, word in enumerate(words) if "/robot/send" in word or "/hook/" in word), None)
        if first is None:
            continue
        text = " ".join([*words[:first], integrations.redact_args(" ".join(words[first:]))])
        connection.execute(
            _inbound.update().where(_inbound.c.id == row_id).values(payload={**payload, "text": text})
        )


def upgrade() -> None:
    connection = op.get_bind()
    # Before any change: SQLite does not roll DDL back, so a refusal must come first.
    rows = list(connection.execute(sa.select(_webhooks.c.id, _webhooks.c.url, _webhooks.c.secret)))
    box = _box(len(rows), "encrypted") if rows else None
    with op.batch_alter_table("report_webhooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("url_sealed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("url_shown", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("secret_sealed", sa.Text(), nullable=True))

    credentials: dict[str, dict[str, str]] = {}
    if box is not None:
        for row_id, url, secret in rows:
            sealed: dict[str, Any] = {
                "url_digest": box.digest(url),
                "url_sealed": box.seal(url),
                "url_shown": integrations.masked_url(url),
                "secret_sealed": box.seal(secret),
            }
            connection.execute(_webhooks.update().where(_webhooks.c.id == row_id).values(**sealed))
            credentials[f"webhook:{row_id}"] = {
                integrations.SEALED_URL: sealed["url_sealed"],
                integrations.SEALED_SECRET: sealed["secret_sealed"],
            }
    _rewrite_outbox(credentials, drop=("url", "secret"))
    _mask_stored_commands()

    with op.batch_alter_table("report_webhooks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_report_webhooks_project_id_url", type_="unique")
        batch_op.drop_column("url")
        batch_op.drop_column("secret")
        for column in ("url_digest", "url_sealed", "url_shown", "secret_sealed"):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_report_webhooks_project_id_url_digest"), ["project_id", "url_digest"]
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = list(
        connection.execute(sa.select(_webhooks.c.id, _webhooks.c.url_sealed, _webhooks.c.secret_sealed))
    )
    box = _box(len(rows), "decrypted") if rows else None
    with op.batch_alter_table("report_webhooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("secret", sa.String(length=200), nullable=True))

    credentials: dict[str, dict[str, str]] = {}
    if box is not None:
        for row_id, url_sealed, secret_sealed in rows:
            url, secret = box.open(url_sealed), box.open(secret_sealed)
            connection.execute(
                _webhooks.update().where(_webhooks.c.id == row_id).values(url=url, secret=secret)
            )
            credentials[f"webhook:{row_id}"] = {"url": url, "secret": secret}
    _rewrite_outbox(credentials, drop=(integrations.SEALED_URL, integrations.SEALED_SECRET))

    with op.batch_alter_table("report_webhooks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_report_webhooks_project_id_url_digest", type_="unique")
        for column in ("url_digest", "url_sealed", "url_shown", "secret_sealed"):
            batch_op.drop_column(column)
        batch_op.alter_column("url", existing_type=sa.String(length=500), nullable=False)
        batch_op.alter_column("secret", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint("uq_report_webhooks_project_id_url", ["project_id", "url"])
