"""Jira comments waiting to be posted, and the ticket of each audit record

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jira_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.String(length=32), nullable=False),
        sa.Column("about", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("given_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("about", name="uq_jira_comments_about"),
    )
    op.create_index("ix_jira_comments_ticket", "jira_comments", ["ticket"], unique=False)
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("ticket", sa.String(length=32), nullable=True))
        batch.create_index("ix_audit_records_ticket", ["ticket"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_index("ix_audit_records_ticket")
        batch.drop_column("ticket")
    op.drop_index("ix_jira_comments_ticket", table_name="jira_comments")
    op.drop_table("jira_comments")
