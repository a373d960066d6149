"""change_requests: changes to the baselined plan (CR-1, CR-2 ...), asked, decided and logged

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("requester_member_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("old", sa.JSON(), nullable=False),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("discussing", sa.Boolean(), nullable=False),
        sa.Column("decided_by_member_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("impact", sa.JSON(), nullable=True),
        sa.Column("baseline_number", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('task.edit', 'task.add', 'task.delete', 'milestone.edit', 'charter.scope')",
            name=op.f("ck_change_requests_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'approved', 'rejected')", name=op.f("ck_change_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_member_id"],
            ["members.id"],
            name=op.f("fk_change_requests_decided_by_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_change_requests_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_member_id"],
            ["members.id"],
            name=op.f("fk_change_requests_requester_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_change_requests_project_id_number")),
    )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_requests_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_requests_project_id"))

    op.drop_table("change_requests")
