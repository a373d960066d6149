"""raci_assignments may name a department (`R=市场部`) instead of a person: exactly one of the two

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode recreates the table on SQLite; nothing references raci_assignments, so no cascade.
    with op.batch_alter_table("raci_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch_op.alter_column("member_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_raci_assignments_department_id_departments"),
            "departments",
            ["department_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_raci_assignments_task_id_department_id_role"), ["task_id", "department_id", "role"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_raci_assignments_one_target"), "(member_id IS NULL) <> (department_id IS NULL)"
        )


def downgrade() -> None:
    # A department entry has no person to keep: it goes, as the column does.
    op.execute("DELETE FROM raci_assignments WHERE member_id IS NULL")
    with op.batch_alter_table("raci_assignments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_raci_assignments_one_target"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_raci_assignments_task_id_department_id_role"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_raci_assignments_department_id_departments"), type_="foreignkey"
        )
        batch_op.alter_column("member_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("department_id")
