"""What the bot's Home shows (Slack's App Home tab): where every environment's schemas stand, the replicas,
the requests still open, the test stands' bookings of today and tomorrow, and the open tickets' rollout
boards.

Read in one go from what ``status`` reads (the environments' version tables, the replicas' ends) and the
bot's own state (a board's blockers as the policy would answer its next step now); nothing here calls Jira
or Slack, so a Home is quick to read and reads the same whoever opens it. The surface renders it and shows
it to each person who opened it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.config import Environment, Settings
from bot.engine.service import Engine
from bot.engine.status import SchemaStatus
from bot.errors import ConsdbBotError
from bot.services.board import Board, BoardService
from bot.services.bookings import BookingService, BookingView
from bot.services.changes import RequestView, request_view
from bot.services.replicas import ReplicaStatus, replica_environments, replica_statuses
from bot.services.tickets import TicketCheck
from bot.store import Store
from bot.store.models import OPEN_STATES

log = logging.getLogger(__name__)
MOST_BOARDS = 25
"""Boards the Home makes at most: each reads the state and asks the policy, which reads the environments."""
NOT_ASKED = "Jira is not asked for the Home"

Days = tuple[list[BookingView], list[BookingView]]
"""Today's bookings and tomorrow's."""


@dataclass(frozen=True)
class OpenTicket:
    """An open ticket and its rollout board; or, when the board could not be made, why."""

    key: str
    board: Board | None
    unavailable: str = ""
    """Why the board could not be made (``board`` is None)."""
    open_requests: list[int] = field(default_factory=list)
    bookings: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Home:
    at: datetime
    statuses: list[SchemaStatus]
    """Every environment by every schema, as ``status`` reads them."""
    replicas: list[ReplicaStatus]
    """Each replica environment whose database is configured here."""
    requests: list[RequestView]
    """The requests still open (asked, approved or running), oldest first."""
    today: list[BookingView]
    """Bookings of the test stands standing today (on each stand's own clock), not yet ended, soonest first."""
    tomorrow: list[BookingView]
    tickets: list[OpenTicket]
    """The open tickets with their boards: those of the open requests, of the bookings shown, and of the
    live boards not complete."""
    more_tickets: int = 0
    """Open tickets past :data:`MOST_BOARDS`, whose boards were not made."""


def read_home(
    settings: Settings,
    engine: Engine,
    store: Store,
    bookings: BookingService,
    boards: BoardService,
    *,
    clock: Callable[[], datetime],
) -> Home:
    at = clock()
    environments, schemas = list(settings.environments.values()), list(settings.schemas)
    statuses = engine.status(environments, schemas)
    shown = replica_environments(environments)
    replicas = replica_statuses(settings, engine, store, statuses, shown, schemas) if shown else []
    # A request of an environment no longer configured cannot be shown (nor approved, nor run).
    requests = sorted(
        (request for state in OPEN_STATES for request in store.requests_in(state)
         if request.environment in settings.environments),
        key=lambda request: request.id,
    )  # fmt: skip
    views = [request_view(settings, store, request) for request in requests]
    today, tomorrow = _two_days(settings, bookings, at)
    tickets, more = open_tickets(store, boards, views, today + tomorrow)
    return Home(at, statuses, replicas, views, today, tomorrow, tickets, more)


def _two_days(settings: Settings, bookings: BookingService, at: datetime) -> Days:
    """Each test stand's bookings not yet ended that stand today or tomorrow, on the stand's own calendar."""
    today: list[BookingView] = []
    tomorrow: list[BookingView] = []
    for env in settings.environments.values():
        if not env.test_stand:
            continue
        tomorrow_starts, day_after = _midnights(env, at)
        for view in bookings.between(env, at, day_after):
            (today if view.starts_at < tomorrow_starts else tomorrow).append(view)
    return sorted(today, key=_start), sorted(tomorrow, key=_start)


def _midnights(env: Environment, at: datetime) -> tuple[datetime, datetime]:
    """Where tomorrow and the day after start, on the environment's wall clock."""
    day = at.astimezone(env.zone).date()
    tomorrow, day_after = (datetime.combine(day + timedelta(days=n), time(0), tzinfo=env.zone) for n in (1, 2))
    return tomorrow, day_after


def _start(view: BookingView) -> datetime:
    return view.starts_at


def open_tickets(
    store: Store, boards: BoardService, requests: list[RequestView], bookings: list[BookingView]
) -> tuple[list[OpenTicket], int]:
    """The tickets of the open requests, of the bookings shown and of the live boards not complete, each with
    its board (the first :data:`MOST_BOARDS`), and how many more there are.

    Jira is not asked: each board is made on the ticket as the state knows it. A board that cannot be made
    says why in its place, and the others are shown."""
    keys = list(dict.fromkeys([view.ticket for view in requests if view.ticket]
                              + [view.ticket for view in bookings if view.ticket]
                              + store.boards_not_complete()))  # fmt: skip
    tickets = []
    for key in keys[:MOST_BOARDS]:
        board, unavailable = None, ""
        try:
            board = boards.board(key, ticket=TicketCheck(key, unchecked=NOT_ASKED))
        except ConsdbBotError as error:
            unavailable = error.message
        except Exception as error:
            log.exception("the board of %s could not be made for the Home", key)
            unavailable = f"{type(error).__name__} (the bot's log says more)"
        tickets.append(
            OpenTicket(
                key, board, unavailable,
                open_requests=[view.id for view in requests if view.ticket == key],
                bookings=[view.id for view in bookings if view.ticket == key],
            )
        )  # fmt: skip
    return tickets, len(keys) - len(tickets)
