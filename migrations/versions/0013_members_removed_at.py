"""members.removed_at: a member removed from the project keeps their row (history, audit, /undo)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, no batch: SQLite's batch mode recreates `members`, and dropping the old table
# would cascade-delete every row that references a member.
def upgrade() -> None:
    op.add_column(
        "members", sa.Column("removed_at", storage.models.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("members", "removed_at")
