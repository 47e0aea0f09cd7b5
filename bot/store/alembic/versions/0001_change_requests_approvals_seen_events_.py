"""Change requests, approvals, seen events, audit records

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:05:02.936432
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index("ix_audit_records_environment_at", ["environment", "at"], unique=False)

    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("schemas", sa.JSON(), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("binding", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("ticket", sa.String(length=32), nullable=True),
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("required_approvals", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index("ix_change_requests_message", ["channel", "message_ts"], unique=True)
        batch_op.create_index(
            "ux_change_requests_one_open_per_environment",
            ["environment"],
            unique=True,
            sqlite_where=sa.text("state IN ('requested', 'approved', 'running')"),
            postgresql_where=sa.text("state IN ('requested', 'approved', 'running')"),
        )

    op.create_table(
        "seen_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "approvals",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["change_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "user", "verdict"),
    )


def downgrade() -> None:
    op.drop_table("approvals")
    op.drop_table("seen_events")
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_change_requests_one_open_per_environment",
            sqlite_where=sa.text("state IN ('requested', 'approved', 'running')"),
            postgresql_where=sa.text("state IN ('requested', 'approved', 'running')"),
        )
        batch_op.drop_index("ix_change_requests_message")

    op.drop_table("change_requests")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_environment_at")

    op.drop_table("audit_records")
