"""Test-stand bookings: who holds BTS or TTS when, and the announcements that go with it.

A booking is checked (a test stand, not in the past, of a sane length, overlapping nobody) and
stored in one step; its announcements are jobs of the :class:`~bot.services.scheduler.Scheduler`, so that
they survive restarts and whichever process leads posts them: booked at once, a reminder before the
start, the start and the end; cancel and extend are announced too, and move the jobs. Each
announcement is claimed in the store before it is posted, so none is posted twice.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.config import Environment, Settings
from bot.errors import Refused
from bot.metrics import ANNOUNCEMENTS
from bot.services.scheduler import Scheduler
from bot.store import Store, aware
from bot.store.models import Booking
from bot.when import When, length, local_clock, span

log = logging.getLogger(__name__)
ANNOUNCE_TASK = "booking-announcement"
LATE_AFTER = timedelta(minutes=1)
# An end, a cancel or an extension still says something useful half a day late; not later.
NEWS_GRACE_SECONDS = 12 * 3600
# "today 09:00" typed at 09:00:40 means the booking that starts now.
START_TOLERANCE = timedelta(minutes=1)


class BookingEvent(StrEnum):
    BOOKED = "booked"
    REMINDER = "reminder"
    STARTED = "started"
    ENDED = "ended"
    CANCELLED = "cancelled"
    EXTENDED = "extended"


@dataclass(frozen=True)
class BookingView:
    """A booking as everyone sees it: times in UTC, shown on the test stand's own clock."""

    id: int
    environment: str
    environment_title: str
    timezone: str
    booker: str
    starts_at: datetime
    ends_at: datetime
    ticket: str | None
    note: str
    cancelled_by: str | None = None
    jira: str = ""
    """What became of the comment on the ticket, when this booking was just made or cancelled."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def span(self) -> str:
        return span(self.starts_at, self.ends_at, self.zone)

    def holds(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


@dataclass(frozen=True)
class Announcement:
    """News of a booking, for its channels; ``late_by`` when the bot was not running at the time."""

    event: BookingEvent
    booking: BookingView
    channels: list[str]
    due_at: datetime
    actor: str = ""
    added_seconds: int = 0
    reminder_minutes: float = 0
    late_by: timedelta | None = None


class Announcer(Protocol):
    """Where scheduled news goes (Slack in production)."""

    def booking(self, announcement: Announcement) -> None: ...


class BookingTickets(Protocol):
    """What bookings need of Jira tickets (tickets.TicketService is it): declared here, so no import of tickets."""

    def check(self, key: str | None) -> object:
        """Refuse a ticket Jira does not have."""

    def booking_changed(self, view: BookingView, event: BookingEvent, actor: str) -> str | None:
        """Comment on the booking's ticket; what became of the comment, or None."""


class BookingService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        scheduler: Scheduler,
        announcer: Announcer | None = None,
        *,
        approvers: Callable[[Environment], set[str]] = lambda _env: set(),
        tickets: BookingTickets | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        """``announcer`` is needed only where announcements are posted: the terminal schedules them.
        ``tickets`` checks the ticket a booking names, and comments on it."""
        self.settings = settings
        self.store = store
        self.scheduler = scheduler
        self.announcer = announcer
        self.approvers = approvers
        self.tickets = tickets
        self.clock = clock

    def register(self) -> None:
        self.scheduler.register(ANNOUNCE_TASK, self.announce)

    def book(
        self, environment: str, when: When, seconds: int, actor: str, *, ticket: str | None = None, note: str = ""
    ) -> BookingView:
        env = self.test_stand(environment)
        at = self.clock()
        starts = when.resolve(env.zone, now=at)
        if starts < at - START_TOLERANCE:
            raise Refused(
                f"{when} at {env.key} ({local_clock(starts, env.zone)}) is in the past",
                hint=f"Book a time to come, or from now: `book {env.key} now {length(seconds)}`.",
            )
        self._sane_length(seconds)
        if self.tickets:
            self.tickets.check(ticket)
        booking = Booking(
            environment=env.key, booker=actor, starts_at=starts, ends_at=starts + timedelta(seconds=seconds),
            ticket=ticket, note=note, created_at=at,
        )  # fmt: skip
        clash = self.store.add_booking(booking)
        if clash is not None:
            raise self._in_the_way(env, self.view(clash), what="book that time")
        view = self.view(booking)
        self.store.audit(
            actor=actor, action="booked", environment=env.key,
            summary=f"booked {env.key} #{view.id}: {view.span}", detail={"booking": view.id, "ticket": ticket},
        )  # fmt: skip
        self._schedule(view, at)
        self._announce_later(view, BookingEvent.BOOKED, at, grace=(view.ends_at - at).total_seconds())
        return self._commented(view, BookingEvent.BOOKED, actor)

    def cancel(self, booking_id: int, actor: str, *, operator: bool = False) -> BookingView:
        view, env = self._changeable(booking_id, actor, operator=operator, verb="cancel")
        at = self.clock()
        if not self.store.cancel_booking(view.id, by=actor, at=at):
            raise Refused(f"booking #{view.id} was cancelled already", hint="`bookings` lists the ones that stand.")
        for event in (BookingEvent.REMINDER, BookingEvent.STARTED, BookingEvent.ENDED):
            self.scheduler.cancel(_job_id(view.id, event))
        self.store.audit(
            actor=actor, action="cancelled", environment=env.key, summary=f"cancelled booking #{view.id}: {view.span}",
            detail={"booking": view.id},
        )  # fmt: skip
        cancelled = self.view(self._booking(view.id))
        self._announce_later(cancelled, BookingEvent.CANCELLED, at, grace=NEWS_GRACE_SECONDS)
        return self._commented(cancelled, BookingEvent.CANCELLED, actor)

    def extend(self, booking_id: int, seconds: int, actor: str, *, operator: bool = False) -> BookingView:
        view, env = self._changeable(booking_id, actor, operator=operator, verb="extend")
        until = view.ends_at + timedelta(seconds=seconds)
        self._sane_length(int((until - view.starts_at).total_seconds()), extending=True)
        clash = self.store.extend_booking(view.id, until=until)
        if clash is not None:
            raise self._in_the_way(env, self.view(clash), what=f"extend #{view.id} by {length(seconds)}")
        at = self.clock()
        extended = self.view(self._booking(view.id))
        self.store.audit(
            actor=actor, action="extended", environment=env.key,
            summary=f"extended booking #{view.id} by {length(seconds)}: {extended.span}", detail={"booking": view.id},
        )  # fmt: skip
        self._schedule(extended, at, only=BookingEvent.ENDED)
        self._announce_later(
            extended, BookingEvent.EXTENDED, at, grace=NEWS_GRACE_SECONDS, actor=actor, seconds=seconds,
            suffix=f"{int(until.timestamp())}",
        )  # fmt: skip
        return extended

    def _commented(self, view: BookingView, event: BookingEvent, actor: str) -> BookingView:
        said = self.tickets.booking_changed(view, event, actor) if self.tickets else None
        return dataclasses.replace(view, jira=said) if said else view

    def coming(self, environment: str | None = None) -> list[BookingView]:
        """Bookings under way or to come, soonest first."""
        key = self.settings.environment(environment).key if environment else None
        return [self.view(booking) for booking in self.store.bookings(ending_after=self.clock(), environment=key)]

    def between(self, env: Environment, starts: datetime, ends: datetime) -> list[BookingView]:
        found = self.store.bookings(ending_after=starts, starting_before=ends, environment=env.key)
        return [self.view(booking) for booking in found]

    def standing(self, env: Environment, requester: str) -> str | None:
        """Why a change at a test stand by ``requester`` needs one more approval, or None when it does not:
        it is not a test stand, or the requester holds the booking under way."""
        if not env.test_stand:
            return None
        at = self.clock()
        current = next((view for view in self.between(env, at, at + timedelta(seconds=1)) if view.holds(at)), None)
        if current is None:
            return f"{env.key} is not booked now (book it: `book {env.key} now 1h`)"
        if current.booker == requester:
            return None
        return f"{env.key} is booked by {current.booker} until {local_clock(current.ends_at, env.zone, day_of=at)}"

    def announce(self, booking_id: int, event: str, due: str, actor: str = "", seconds: int = 0) -> None:
        """The scheduled task: post one announcement, once, saying so when it is late."""
        booking = self.store.booking(booking_id)
        if booking is None or self.announcer is None:
            return
        view = self.view(booking)
        due_at = datetime.fromisoformat(due)
        kind = BookingEvent(event)
        if view.cancelled_by and kind is not BookingEvent.CANCELLED:
            return
        if kind is BookingEvent.ENDED and view.ends_at != due_at:
            return  # extended since: the job for the new end says it
        if not self.store.first_sighting(f"{_job_id(booking_id, kind)}@{due_at.timestamp():.0f}"):
            return
        at = self.clock()
        env = self.settings.environment(view.environment)
        announcement = Announcement(
            kind, view, self.settings.news_channels(env), due_at, actor=actor, added_seconds=seconds,
            reminder_minutes=self.settings.bookings.reminder_minutes,
            late_by=at - due_at if at - due_at > LATE_AFTER else None,
        )  # fmt: skip
        self.announcer.booking(announcement)
        ANNOUNCEMENTS.labels(kind.value).inc()

    def view(self, booking: Booking) -> BookingView:
        return booking_view(self.settings, booking)

    def find(self, booking_id: int) -> BookingView | None:
        booking = self.store.booking(booking_id)
        return self.view(booking) if booking is not None else None

    def over(self, view: BookingView) -> bool:
        """Cancelled, or ended: nothing can change it any more."""
        return view.cancelled_by is not None or view.ends_at <= self.clock()

    def test_stand(self, environment: str) -> Environment:
        env = self.settings.environment(environment)
        if not env.test_stand:
            stands = ", ".join(e.key for e in self.settings.environments.values() if e.test_stand) or "none"
            raise Refused(f"{env.key} is not a test stand, so it cannot be booked", hint=f"Test stands: {stands}.")
        return env

    def _booking(self, booking_id: int) -> Booking:
        booking = self.store.booking(booking_id)
        if booking is None:
            raise Refused(f"there is no booking #{booking_id}", hint="`bookings` lists the ones that stand.")
        return booking

    def _changeable(self, booking_id: int, actor: str, *, operator: bool, verb: str) -> tuple[BookingView, Environment]:
        view = self.view(self._booking(booking_id))
        env = self.settings.environment(view.environment)
        if view.cancelled_by:
            raise Refused(f"booking #{view.id} was cancelled already", hint="`bookings` lists the ones that stand.")
        if view.ends_at <= self.clock():
            raise Refused(f"booking #{view.id} has ended already", hint=f"Book {env.key} again with `book`.")
        if not (operator or actor == view.booker or actor in self.approvers(env)):
            raise Refused(
                f"only {view.booker}, who booked #{view.id}, or an approver of {env.key} can {verb} it",
                hint=f"Ask {view.booker} or an approver.",
            )
        return view, env

    def _sane_length(self, seconds: int, *, extending: bool = False) -> None:
        longest = self.settings.bookings.max_days * 86400
        if seconds > longest:
            whole = "the whole booking" if extending else "a booking"
            raise Refused(
                f"{length(seconds)} is too long: {whole} may last {length(longest)} at most",
                hint="Book a shorter time; extend it later if you need to.",
            )

    def _in_the_way(self, env: Environment, other: BookingView, *, what: str) -> Refused:
        return Refused(
            f"cannot {what}: {env.key} is booked by {other.booker} then (#{other.id}, {other.span})",
            hint=f"Pick a time outside it, or ask {other.booker} to cancel or move #{other.id}.",
        )

    def _schedule(self, view: BookingView, at: datetime, *, only: BookingEvent | None = None) -> None:
        """The reminder, start and end jobs; those already past are left to the announcement just made."""
        lead = timedelta(minutes=self.settings.bookings.reminder_minutes)
        moments = {
            BookingEvent.REMINDER: (view.starts_at - lead, lead.total_seconds()),
            BookingEvent.STARTED: (view.starts_at, (view.ends_at - view.starts_at).total_seconds()),
            BookingEvent.ENDED: (view.ends_at, NEWS_GRACE_SECONDS),
        }
        for event, (moment, grace) in moments.items():
            if (only is None or event is only) and moment > at:
                self.scheduler.at(
                    _job_id(view.id, event), moment, ANNOUNCE_TASK, view.id, event.value, moment.isoformat(),
                    grace_seconds=grace,
                )  # fmt: skip

    def _announce_later(
        self, view: BookingView, event: BookingEvent, at: datetime, *, grace: float, actor: str = "",
        seconds: int = 0, suffix: str = "",
    ) -> None:  # fmt: skip
        """News posted by the scheduler's leader, which may be another process (at once when it is this one)."""
        job = _job_id(view.id, event) + (f"-{suffix}" if suffix else "")
        self.scheduler.at(
            job, at, ANNOUNCE_TASK, view.id, event.value, at.isoformat(), actor, seconds, grace_seconds=grace
        )


def booking_view(settings: Settings, booking: Booking) -> BookingView:
    env = settings.environment(booking.environment)
    return BookingView(
        id=booking.id, environment=env.key, environment_title=env.title, timezone=env.timezone,
        booker=booking.booker, starts_at=aware(booking.starts_at), ends_at=aware(booking.ends_at),
        ticket=booking.ticket, note=booking.note, cancelled_by=booking.cancelled_by,
    )  # fmt: skip


def _job_id(booking_id: int, event: BookingEvent) -> str:
    return f"booking-{booking_id}-{event.value}"
