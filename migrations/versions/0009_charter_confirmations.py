"""charter_confirmations and the departments' resource needs (people, budget, other)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOURCE_COLUMNS = ("resource_people", "resource_budget", "resource_other")


def upgrade() -> None:
    op.create_table(
        "charter_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_charter_confirmations_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_charter_confirmations_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_charter_confirmations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_confirmations")),
        sa.UniqueConstraint(
            "project_id", "department_id", name=op.f("uq_charter_confirmations_project_id_department_id")
        ),
    )
    op.create_index(
        op.f("ix_charter_confirmations_project_id"), "charter_confirmations", ["project_id"], unique=False
    )
    # Plain ALTER TABLE, no batch: SQLite's batch mode recreates the table, and dropping the old one
    # would cascade-delete the members and tasks that reference a department.
    op.add_column(
        "departments", sa.Column("resource_people", sa.String(100), server_default="", nullable=False)
    )
    op.add_column(
        "departments", sa.Column("resource_budget", sa.String(100), server_default="", nullable=False)
    )
    op.add_column("departments", sa.Column("resource_other", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    for column in reversed(RESOURCE_COLUMNS):
        op.drop_column("departments", column)
    op.drop_index(op.f("ix_charter_confirmations_project_id"), table_name="charter_confirmations")
    op.drop_table("charter_confirmations")
