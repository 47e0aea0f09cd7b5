"""``ticket TICKET``: where a schema change stands across the environments, read from the bot's own state.

Requests and bookings that name the ticket, changes made from a terminal under it, and the comments
the bot made or owes it, beside Jira's summary and status; and its rollout board (``bot.services.board``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.clients.jira import TicketUnknown
from bot.config import Settings
from bot.engine.tree import revisions_text
from bot.errors import Refused
from bot.services.board import Board, BoardService
from bot.services.bookings import BookingView, booking_view
from bot.services.changes import RESTART, request_view
from bot.services.tickets import CommentTally, TicketCheck, TicketService
from bot.store import Store, aware
from bot.store.models import ChangeRequest


@dataclass(frozen=True)
class Happening:
    """One change under the ticket in one environment: a request, or a change made from a terminal."""

    at: datetime
    timezone: str
    environment: str
    state: str
    what: str
    schemas: str
    who: str


@dataclass(frozen=True)
class TicketOverview:
    ticket: TicketCheck
    standing: dict[str, Happening | None]
    """Every configured environment, with the latest change under the ticket there (None: nothing yet)."""
    happenings: list[Happening] = field(default_factory=list)
    """Newest first."""
    bookings: list[BookingView] = field(default_factory=list)
    comments: CommentTally = field(default_factory=CommentTally)
    board: Board | None = None
    """The rollout board, where the caller asked for it."""


def ticket_overview(
    settings: Settings, store: Store, tickets: TicketService, key: str, *, boards: BoardService | None = None
) -> TicketOverview:
    requests, bookings, outcomes, comments = store.on_ticket(key)
    try:
        ticket = tickets.check(key)
    except TicketUnknown as unknown:
        if not (requests or bookings or outcomes or comments):
            raise Refused(unknown.message, hint=unknown.hint) from None
        ticket = TicketCheck(key, unchecked="Jira has no such ticket now")
    assert ticket is not None
    happenings = [_of_request(settings, store, request) for request in requests]
    for record in outcomes:
        if record.environment in settings.environments:
            env = settings.environments[record.environment]
            reached = record.detail.get("reached", {})
            schemas = "; ".join(f"{schema} now at {revisions_text(revisions)}" for schema, revisions in reached.items())
            happenings.append(
                Happening(aware(record.at), env.timezone, env.key, record.action,
                          f"{record.detail.get('kind', 'change')} from a terminal", schemas, f"by {record.actor}")
            )  # fmt: skip
    happenings.sort(key=lambda happening: happening.at, reverse=True)
    standing: dict[str, Happening | None] = dict.fromkeys(settings.environments)
    for happening in reversed(happenings):
        standing[happening.environment] = happening
    return TicketOverview(
        ticket=ticket,
        standing=standing,
        happenings=happenings,
        bookings=[
            booking_view(settings, booking) for booking in bookings if booking.environment in settings.environments
        ],
        comments=tickets.comments_of(comments),
        board=boards.board(key, ticket=ticket) if boards else None,
    )


def _of_request(settings: Settings, store: Store, request: ChangeRequest) -> Happening:
    view = request_view(settings, store, request)
    env = settings.environment(view.environment)
    what = f"{'pqserver restart' if view.kind == RESTART else view.kind} #{view.id}"
    reached = view.reached
    schemas = "; ".join(
        f"{schema} {span}" + (f", now at {revisions_text(reached[schema])}" if reached.get(schema) else "")
        for schema, span in view.ranges.items()
    )
    approved = f", approved by {', '.join(view.approvers)}" if view.approvers else ""
    at = view.finished_at or view.created_at or view.expires_at
    return Happening(at, env.timezone, env.key, view.state.value, what, schemas, f"asked by {view.requester}{approved}")
