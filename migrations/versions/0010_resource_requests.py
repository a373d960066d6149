"""resource_requests: what members ask the project for (N1, N2 ...), routed and marked handled

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resource_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("requester_member_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("routed_to_member_id", sa.Integer(), nullable=True),
        sa.Column("handled_by_member_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_note", sa.Text(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('standup', 'command')", name=op.f("ck_resource_requests_source")),
        sa.CheckConstraint("status IN ('open', 'handled')", name=op.f("ck_resource_requests_status")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_resource_requests_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_member_id"],
            ["members.id"],
            name=op.f("fk_resource_requests_handled_by_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_resource_requests_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_member_id"],
            ["members.id"],
            name=op.f("fk_resource_requests_requester_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["routed_to_member_id"],
            ["members.id"],
            name=op.f("fk_resource_requests_routed_to_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_resource_requests_task_id_tasks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_requests")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_resource_requests_project_id_number")),
    )
    with op.batch_alter_table("resource_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_requests_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resource_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_requests_project_id"))

    op.drop_table("resource_requests")
