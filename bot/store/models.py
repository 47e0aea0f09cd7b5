"""The bot's own state: change requests, approvals, test-stand bookings and their announcements with buttons,
Jira comments, what Slack is owed, ids of things done once, the audit trail.

Never ConsDB's data: this lives in ``state_url`` (SQLite by default, PostgreSQL in production).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, false, text, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: DateTime(timezone=True),
    }


class RequestState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    INTERRUPTED = "interrupted"


OPEN_STATES = (RequestState.REQUESTED, RequestState.APPROVED, RequestState.RUNNING)


class ChangeRequest(Base):
    """A change asked for in Slack, bound to exactly what will run once approved.

    What it showed when asked for: ``ranges`` (per schema, from and to), ``warnings``, ``booking_flag``
    (why it needs one more approval), the ticket as Jira showed it (``ticket_*``), ``trace`` and
    ``forced`` (a stamp not checked against the model) and ``allow_rewrite`` (its run may rewrite a table holding
    rows, ``--allow-rewrite``: approved with the request). What its run left: ``run_session`` (the name of
    its database sessions, to end them after a crash), ``reached`` (per schema, the revisions recorded
    after), ``added_columns`` (per schema and table) and ``note`` (why it failed or was interrupted).
    A rollout records ``step``, the last step it finished (``bot.engine.rollout.RolloutStep``), as it goes.
    """

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    environment: Mapped[str] = mapped_column(String(64))
    schemas: Mapped[list[str]]
    target: Mapped[str | None] = mapped_column(String(64))
    binding: Mapped[dict[str, Any]]
    options: Mapped[dict[str, Any]]
    ticket: Mapped[str | None] = mapped_column(String(32))
    requester: Mapped[str] = mapped_column(String(32))
    required_approvals: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    runner: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None]
    ranges: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    warnings: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    booking_flag: Mapped[str | None] = mapped_column(Text)
    ticket_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    ticket_status: Mapped[str] = mapped_column(String(64), default="", server_default="")
    ticket_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    ticket_unchecked: Mapped[str] = mapped_column(Text, default="", server_default="")
    trace: Mapped[str | None] = mapped_column(String(64))
    forced: Mapped[bool] = mapped_column(default=False, server_default=false())
    allow_rewrite: Mapped[bool] = mapped_column(default=False, server_default=false())
    run_session: Mapped[str | None] = mapped_column(String(64))
    reached: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    added_columns: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    step: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_change_requests_message", "channel", "message_ts", unique=True),
        # One open change per environment, enforced by the database itself for every replica.
        Index(
            "ux_change_requests_one_open_per_environment",
            "environment",
            unique=True,
            sqlite_where=text("state IN ('requested', 'approved', 'running')"),
            postgresql_where=text("state IN ('requested', 'approved', 'running')"),
        ),
    )


class Approval(Base):
    """An approver's approve or reject, and whether it stands (a removed reaction withdraws it).

    ``event_ts`` is Slack's time of the reaction event: events may be handled out of order, and the
    latest one decides.
    """

    __tablename__ = "approvals"

    request_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(String(32), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[datetime]
    present: Mapped[bool] = mapped_column(default=True, server_default=true())
    event_ts: Mapped[str] = mapped_column(String(32), default="0", server_default="0")


class Booking(Base):
    """A test stand held by someone for a while; a cancelled booking keeps its row, for the record."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    environment: Mapped[str] = mapped_column(String(64))
    booker: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ticket: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_bookings_environment_ends_at", "environment", "ends_at"),)


class BookingPost(Base):
    """An announcement of a booking that offers its buttons, as posted (``payload``: its text and blocks), so
    that each is taken back (its buttons gone, what became of the booking said under it) when the booking
    is cancelled or ends."""

    __tablename__ = "booking_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class SeenEvent(Base):
    """Ids of things done once: Slack event ids (Slack redelivers what it thinks was missed) and
    scheduled announcements (a job may be run again by a restarted or second process)."""

    __tablename__ = "seen_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]


class AuditRecord(Base):
    """Who asked what, who approved, what ran, how it ended: one row per fact."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    environment: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]]
    ticket: Mapped[str | None] = mapped_column(String(32), index=True)

    __table_args__ = (Index("ix_audit_records_environment_at", "environment", "at"),)


class JiraComment(Base):
    """A comment the bot owes a ticket, kept until Jira took it (or the bot gave up).

    ``about`` names what it is about (``request-12-succeeded``), so that one outcome makes one comment.
    Each attempt is claimed by moving ``attempts`` on, so that one process at a time tries it.
    """

    __tablename__ = "jira_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(32), index=True)
    about: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    request_id: Mapped[int | None]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    given_up_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("about", name="uq_jira_comments_about"),)


class SlackPost(Base):
    """What a request's Slack view is owed, kept until Slack took it (or the bot gave up): its message
    brought up to date (``update``, rendered from the request as it stands when sent), or its outcome
    in its thread (``post``, or ``upload`` when too long for a message; ``payload`` is what is sent).

    ``about`` names it (``request-12-succeeded-outcome``), so that one outcome is owed once; each
    attempt is claimed by moving ``attempts`` on, so that one process at a time tries it; ``posted_ref``
    is the ts of the message Slack made (the file id of an upload).
    """

    __tablename__ = "slack_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    about: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    posted_ref: Mapped[str | None] = mapped_column(String(64))
    given_up_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("about", name="uq_slack_posts_about"),)


class TicketBoard(Base):
    """Where a ticket's live rollout board is in Slack: one message, posted once and updated in place.

    The row is added before the message is posted (``message_ts`` empty meanwhile), so that two processes
    never post two boards of one ticket; ``shown_through`` is the last audit record the board showed knew
    of (news after it may change the board: ids, not clocks, which a terminal's may not agree with), and
    ``complete`` whether every step was done then (a complete board is not looked at again on its own).
    """

    __tablename__ = "ticket_boards"

    ticket: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    shown_through: Mapped[int] = mapped_column(default=0, server_default="0")
    complete: Mapped[bool] = mapped_column(default=False, server_default=false())
