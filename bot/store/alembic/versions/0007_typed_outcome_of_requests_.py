"""A request's outcome in typed columns, converted from the JSON bag it was

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TICKET = ("summary", "status", "url", "unchecked")
"""The ticket as Jira showed it: ``outcome["ticket"][name]`` became ``ticket_{name}``."""
KEPT = {"ranges": "ranges", "warnings": "warnings", "booking": "booking_flag", "trace": "trace",
        "forced": "forced", "session": "run_session", "reached": "reached", "added": "added_columns",
        "note": "note"}  # fmt: skip
"""Each key of the bag, and the column it became."""

requests = sa.table(
    "change_requests",
    sa.column("id", sa.Integer()),
    sa.column("ticket", sa.String()),
    sa.column("outcome", sa.JSON()),
    *(sa.column(column, sa.JSON() if column in ("ranges", "warnings", "reached", "added_columns") else None)
      for column in KEPT.values()),
    *(sa.column(f"ticket_{name}", sa.Text()) for name in TICKET),
)  # fmt: skip


def upgrade() -> None:
    op.add_column("change_requests", sa.Column("ranges", sa.JSON(), server_default="{}", nullable=False))
    op.add_column("change_requests", sa.Column("warnings", sa.JSON(), server_default="[]", nullable=False))
    op.add_column("change_requests", sa.Column("booking_flag", sa.Text(), nullable=True))
    op.add_column("change_requests", sa.Column("ticket_summary", sa.Text(), server_default="", nullable=False))
    op.add_column("change_requests", sa.Column("ticket_status", sa.String(64), server_default="", nullable=False))
    op.add_column("change_requests", sa.Column("ticket_url", sa.Text(), server_default="", nullable=False))
    op.add_column("change_requests", sa.Column("ticket_unchecked", sa.Text(), server_default="", nullable=False))
    op.add_column("change_requests", sa.Column("trace", sa.String(64), nullable=True))
    op.add_column("change_requests", sa.Column("forced", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("change_requests", sa.Column("run_session", sa.String(64), nullable=True))
    op.add_column("change_requests", sa.Column("reached", sa.JSON(), server_default="{}", nullable=False))
    op.add_column("change_requests", sa.Column("added_columns", sa.JSON(), server_default="{}", nullable=False))
    op.add_column("change_requests", sa.Column("note", sa.Text(), server_default="", nullable=False))
    connection = op.get_bind()
    for row in connection.execute(sa.select(requests.c.id, requests.c.outcome)).all():
        connection.execute(sa.update(requests).where(requests.c.id == row.id).values(**_columns(_bag(row.outcome))))
    with op.batch_alter_table("change_requests") as batch:
        batch.drop_column("outcome")


def downgrade() -> None:
    op.add_column("change_requests", sa.Column("outcome", sa.JSON(), nullable=True))
    connection = op.get_bind()
    columns = [requests.c[column] for column in KEPT.values()] + [requests.c[f"ticket_{n}"] for n in TICKET]
    for row in connection.execute(sa.select(requests.c.id, requests.c.ticket, *columns)).mappings().all():
        outcome: dict[str, Any] = {key: row[column] for key, column in KEPT.items()}
        if any(row[f"ticket_{name}"] for name in TICKET):
            outcome["ticket"] = {"key": row["ticket"], **{name: row[f"ticket_{name}"] for name in TICKET}}
        connection.execute(sa.update(requests).where(requests.c.id == row["id"]).values(outcome=outcome))
    with op.batch_alter_table("change_requests") as batch:
        for column in [*KEPT.values(), *(f"ticket_{name}" for name in TICKET)]:
            batch.drop_column(column)


def _bag(outcome: Any) -> dict[str, Any]:
    """The JSON bag as a dict, whether the driver hands it back parsed or as text."""
    if isinstance(outcome, str):
        outcome = json.loads(outcome)
    return outcome if isinstance(outcome, dict) else {}


def _columns(bag: dict[str, Any]) -> dict[str, Any]:
    ticket = bag.get("ticket") or {}
    return {
        "ranges": dict(bag.get("ranges") or {}),
        "warnings": list(bag.get("warnings") or []),
        "booking_flag": str(bag["booking"]) if bag.get("booking") else None,
        "trace": str(bag["trace"]) if bag.get("trace") else None,
        "forced": bool(bag.get("forced")),
        "run_session": str(bag["session"]) if bag.get("session") else None,
        "reached": dict(bag.get("reached") or {}),
        "added_columns": dict(bag.get("added") or {}),
        "note": str(bag.get("note") or ""),
    } | {f"ticket_{name}": str(ticket.get(name) or "") for name in TICKET}
