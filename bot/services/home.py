"""What the bot's Home shows (Slack's App Home tab): where every environment's schemas stand, the replicas,
the requests still open, the test stands' bookings of today and tomorrow, and the open tickets.

Read in one go from what ``status`` reads (the environments' version tables, the replicas' ends) and the
bot's own state; nothing here calls Jira or Slack, so a Home is quick to read and reads the same whoever
opens it. The surface renders it and shows it to each person who opened it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.config import Environment, Settings
from bot.engine.service import Engine
from bot.engine.status import SchemaStatus
from bot.services.bookings import BookingService, BookingView
from bot.services.changes import RESTART, RequestView, request_view
from bot.services.replicas import ReplicaStatus, replica_environments, replica_statuses
from bot.store import Store
from bot.store.models import OPEN_STATES, ChangeRequest, RequestState

Days = tuple[list[BookingView], list[BookingView]]
"""Today's bookings and tomorrow's."""


@dataclass(frozen=True)
class TicketLine:
    """An open ticket in one line: where its changes stand, environment by environment, from the state."""

    key: str
    standing: list[str]
    """``bts upgrade #1 succeeded``, one per environment its requests reached, in configuration order."""
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
    tickets: list[TicketLine]
    """The boards of open tickets: for now each ticket's line from the state (the rollout board goes here)."""


def read_home(
    settings: Settings, engine: Engine, store: Store, bookings: BookingService, *, clock: Callable[[], datetime]
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
    return Home(at, statuses, replicas, views, today, tomorrow, open_tickets(settings, store, views, today + tomorrow))


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
    settings: Settings, store: Store, requests: list[RequestView], bookings: list[BookingView]
) -> list[TicketLine]:
    """The tickets of the open requests and of the bookings shown, each with where its changes stand.

    The place of the rollout boards: each line is what the state records of the ticket's requests, the
    latest per environment."""
    keys = list(dict.fromkeys([view.ticket for view in requests if view.ticket]
                              + [view.ticket for view in bookings if view.ticket]))  # fmt: skip
    lines = []
    for key in keys:
        asked, _, _, _ = store.on_ticket(key)
        latest: dict[str, ChangeRequest] = {}
        for request in asked:
            if request.environment in settings.environments:
                latest[request.environment] = request
        standing = [_standing(latest[env]) for env in settings.environments if env in latest]
        lines.append(
            TicketLine(
                key, standing,
                open_requests=[view.id for view in requests if view.ticket == key],
                bookings=[view.id for view in bookings if view.ticket == key],
            )
        )  # fmt: skip
    return lines


def _standing(request: ChangeRequest) -> str:
    kind = "pqserver restart" if request.kind == RESTART else request.kind
    return f"{request.environment} {kind} #{request.id} {RequestState(request.state).value}"
