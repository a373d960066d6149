"""projects.join_policy: whether non-members acting in a bound group join (auto) or are refused

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, no batch: SQLite's batch mode recreates `projects`, and dropping the old
# table would cascade-delete every row that references a project.
def upgrade() -> None:
    op.add_column(
        "projects", sa.Column("join_policy", sa.String(length=8), server_default="auto", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("projects", "join_policy")
