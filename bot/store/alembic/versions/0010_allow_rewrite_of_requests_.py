"""Whether a request's run may rewrite a table holding rows (--allow-rewrite), so that its approval binds to it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-16 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "change_requests", sa.Column("allow_rewrite", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("change_requests") as batch:
        batch.drop_column("allow_rewrite")
