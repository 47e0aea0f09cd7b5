"""Runner and heartbeat of requests; presence and event time of approvals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:44:47.798966
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("present", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("event_ts", sa.String(length=32), server_default="0", nullable=False))

    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("runner")

    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_column("event_ts")
        batch_op.drop_column("present")
