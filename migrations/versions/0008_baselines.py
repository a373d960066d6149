"""baselines and baseline_items: the plan's promised dates, numbered per project

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "baselines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by_member_id", sa.Integer(), nullable=True),
        sa.Column("project_start", sa.Date(), nullable=True),
        sa.Column("project_end", sa.Date(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_baselines_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["set_by_member_id"],
            ["members.id"],
            name=op.f("fk_baselines_set_by_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baselines")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_baselines_project_id_number")),
    )
    op.create_index(op.f("ix_baselines_project_id"), "baselines", ["project_id"], unique=False)
    op.create_table(
        "baseline_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("baseline_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('task', 'milestone')", name=op.f("ck_baseline_items_kind")),
        sa.ForeignKeyConstraint(
            ["baseline_id"],
            ["baselines.id"],
            name=op.f("fk_baseline_items_baseline_id_baselines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baseline_items")),
        sa.UniqueConstraint(
            "baseline_id", "kind", "ref_id", name=op.f("uq_baseline_items_baseline_id_kind_ref_id")
        ),
    )
    op.create_index(op.f("ix_baseline_items_baseline_id"), "baseline_items", ["baseline_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_baseline_items_baseline_id"), table_name="baseline_items")
    op.drop_table("baseline_items")
    op.drop_index(op.f("ix_baselines_project_id"), table_name="baselines")
    op.drop_table("baselines")
