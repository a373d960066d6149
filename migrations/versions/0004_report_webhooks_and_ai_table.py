"""report webhooks (report-only groups) and the DingTalk AI table setting

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:21:35.077130
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_member_id"],
            ["members.id"],
            name=op.f("fk_report_webhooks_created_by_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_report_webhooks_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_webhooks")),
        sa.UniqueConstraint("project_id", "url", name=op.f("uq_report_webhooks_project_id_url")),
    )
    with op.batch_alter_table("report_webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_webhooks_project_id"), ["project_id"], unique=False)

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aitable_base_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("aitable_sheet_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("aitable_operator_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("aitable_operator_id")
        batch_op.drop_column("aitable_sheet_id")
        batch_op.drop_column("aitable_base_id")

    with op.batch_alter_table("report_webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_webhooks_project_id"))

    op.drop_table("report_webhooks")
