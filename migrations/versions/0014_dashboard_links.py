"""members.dashboard_generation: `/dashboard revoke` raises it, refusing the member's older links

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, no batch: SQLite's batch mode recreates `members`, and dropping the old table
# would cascade-delete every row that references a member.
def upgrade() -> None:
    op.add_column(
        "members", sa.Column("dashboard_generation", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("members", "dashboard_generation")
