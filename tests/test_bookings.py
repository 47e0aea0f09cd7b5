"""Bookings in-process, on SQLite and PostgreSQL: who may book, change and cancel what, which jobs
are scheduled for when, and announcements posted once. Time is the test's to move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import parse_settings
from bot.errors import Refused
from bot.services.bookings import Announcement, BookingEvent, BookingService
from bot.services.scheduler import Scheduler
from bot.store import Store
from bot.when import When
from tests.support.clock import Clock

BOOKER, OTHER, APPROVER = "U0BOOKER01", "U0OTHER001", "U0APPROVE1"
# Tuesday 24 November 2026, 08:00 in Santiago.
MORNING = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
SETTINGS = parse_settings(
    f"""
schemas: [latiss]
slack: {{announce_channel: C0ANNOUNCE}}
bookings: {{reminder_minutes: 15}}
environments:
  bts: {{test_stand: true, timezone: America/Santiago, channel: C0BTS, approvals: {{approvers: [{APPROVER}]}}}}
  tts: {{test_stand: true, timezone: America/Phoenix, channel: C0ANNOUNCE}}
  summit: {{timezone: America/Santiago}}
""",
    environ={},
)


@dataclass
class Recorder:
    said: list[Announcement] = field(default_factory=list)

    def booking(self, announcement: Announcement) -> None:
        self.said.append(announcement)


@dataclass
class Desk:
    service: BookingService
    scheduler: Scheduler
    clock: Clock
    announcer: Recorder

    def book(self, when: str, seconds: int, who: str = BOOKER, stand: str = "bts"):
        return self.service.book(stand, When.read(when), seconds, who, ticket="OSW-1", note="a test")

    def due(self, booking_id: int, event: BookingEvent) -> datetime | None:
        return self.scheduler.next_run(f"booking-{booking_id}-{event.value}")


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request, tmp_path: Path, new_database) -> Iterator[Desk]:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}" if request.param == "sqlite" else new_database()
    clock, announcer = Clock(MORNING), Recorder()
    store = Store(url.replace("postgresql://", "postgresql+psycopg://"), clock=clock)
    scheduler = Scheduler(store, poll_seconds=60)
    scheduler.open()  # never leads: jobs are looked at, and run by the test
    service = BookingService(SETTINGS, store, scheduler, announcer, approvers=lambda _env: {APPROVER}, clock=clock)
    yield Desk(service, scheduler, clock, announcer)
    scheduler.close()


def santiago(text: str) -> datetime:
    return datetime.fromisoformat(text + "-03:00")


def test_a_booking_schedules_its_announcements_at_the_right_moments(desk: Desk):
    booking = desk.book("today 10:00", 2 * 3600)
    assert (booking.starts_at, booking.ends_at) == (santiago("2026-11-24T10:00"), santiago("2026-11-24T12:00"))
    assert desk.due(booking.id, BookingEvent.BOOKED) == MORNING
    assert desk.due(booking.id, BookingEvent.REMINDER) == santiago("2026-11-24T09:45")
    assert desk.due(booking.id, BookingEvent.STARTED) == santiago("2026-11-24T10:00")
    assert desk.due(booking.id, BookingEvent.ENDED) == santiago("2026-11-24T12:00")


def test_a_booking_from_now_is_announced_once_not_also_as_started(desk: Desk):
    booking = desk.book("now", 3600)
    assert desk.due(booking.id, BookingEvent.REMINDER) is None
    assert desk.due(booking.id, BookingEvent.STARTED) is None
    assert desk.due(booking.id, BookingEvent.ENDED) == MORNING + timedelta(hours=1)


def test_overlaps_are_refused_naming_the_booking_in_the_way(desk: Desk):
    first = desk.book("today 10:00", 2 * 3600)
    with pytest.raises(Refused) as raised:
        desk.book("today 11:30", 3600, who=OTHER)
    assert f"bts is booked by {BOOKER} then (#{first.id}, Tue 2026-11-24 10:00 -03 to 12:00 -03)" in str(raised.value)
    assert f"ask {BOOKER} to cancel or move #{first.id}" in (raised.value.hint or "")
    desk.book("today 12:00", 3600, who=OTHER)  # touching is not overlapping
    desk.book("today 10:00", 3600, who=OTHER, stand="tts")  # another test stand


@pytest.mark.parametrize(
    ("stand", "when", "seconds", "complaint"),
    [
        ("bts", "today 07:00", 3600, "is in the past"),
        ("bts", "now", 8 * 86400, "8d is too long: a booking may last 7d at most"),
        ("summit", "now", 3600, "summit is not a test stand, so it cannot be booked"),
    ],
)
def test_bookings_in_the_past_too_long_or_not_at_a_test_stand_are_refused(desk, stand, when, seconds, complaint):
    with pytest.raises(Refused) as raised:
        desk.book(when, seconds, stand=stand)
    assert complaint in str(raised.value)
    assert desk.service.coming() == []


def test_only_the_booker_or_an_approver_can_cancel_or_extend(desk: Desk):
    booking = desk.book("today 10:00", 3600)
    for change in (lambda: desk.service.cancel(booking.id, OTHER), lambda: desk.service.extend(booking.id, 60, OTHER)):
        with pytest.raises(Refused) as raised:
            change()
        assert f"only {BOOKER}, who booked #{booking.id}, or an approver of bts" in str(raised.value)
    assert desk.service.extend(booking.id, 1800, BOOKER).ends_at == santiago("2026-11-24T11:30")
    assert desk.service.extend(booking.id, 1800, APPROVER).ends_at == santiago("2026-11-24T12:00")
    assert desk.service.cancel(booking.id, APPROVER).cancelled_by == APPROVER
    with pytest.raises(Refused, match="was cancelled already"):
        desk.service.cancel(booking.id, BOOKER)


def test_extending_moves_the_end_and_is_refused_into_another_booking_or_past_seven_days(desk: Desk):
    booking = desk.book("today 10:00", 3600)
    later = desk.book("today 12:00", 3600, who=OTHER)
    desk.service.extend(booking.id, 3600, BOOKER)
    assert desk.due(booking.id, BookingEvent.ENDED) == santiago("2026-11-24T12:00")
    with pytest.raises(Refused) as raised:
        desk.service.extend(booking.id, 60, BOOKER)
    assert f"cannot extend #{booking.id} by 1m: bts is booked by {OTHER} then (#{later.id}" in str(raised.value)
    with pytest.raises(Refused, match="the whole booking may last 7d at most"):
        desk.service.extend(later.id, 7 * 86400, OTHER)


def test_cancelling_removes_the_scheduled_announcements_and_announces_the_cancel(desk: Desk):
    booking = desk.book("today 10:00", 3600)
    desk.service.cancel(booking.id, BOOKER)
    for event in (BookingEvent.REMINDER, BookingEvent.STARTED, BookingEvent.ENDED):
        assert desk.due(booking.id, event) is None
    assert desk.due(booking.id, BookingEvent.CANCELLED) == MORNING
    assert [view.id for view in desk.service.coming()] == []


def test_an_announcement_is_posted_once_and_says_when_it_is_late(desk: Desk):
    booking = desk.book("today 10:00", 3600)
    start = santiago("2026-11-24T10:00").isoformat()
    desk.clock.moment = santiago("2026-11-24T10:05")  # the bot was down at 10:00
    desk.service.announce(booking.id, "started", start)
    desk.service.announce(booking.id, "started", start)  # a second process, or a restart
    [said] = desk.announcer.said
    assert said.event is BookingEvent.STARTED
    assert said.channels == ["C0ANNOUNCE", "C0BTS"]
    assert said.late_by == timedelta(minutes=5)


def test_the_old_end_of_an_extended_booking_and_news_of_a_cancelled_one_are_not_posted(desk: Desk):
    booking = desk.book("today 10:00", 3600)
    old_end = booking.ends_at.isoformat()
    desk.service.extend(booking.id, 3600, BOOKER)
    desk.service.announce(booking.id, "ended", old_end)
    desk.service.cancel(booking.id, BOOKER)
    desk.service.announce(booking.id, "started", booking.starts_at.isoformat())
    assert desk.announcer.said == []


def test_a_change_at_a_test_stand_outside_the_requesters_booking_is_flagged(desk: Desk):
    bts = SETTINGS.environment("bts")
    assert desk.service.standing(SETTINGS.environment("summit"), OTHER) is None
    assert desk.service.standing(bts, OTHER) == "bts is not booked now (book it: `book bts now 1h`)"
    desk.book("today 10:00", 4 * 3600)
    desk.clock.moment = santiago("2026-11-24T10:30")
    assert desk.service.standing(bts, BOOKER) is None
    assert desk.service.standing(bts, OTHER) == f"bts is booked by {BOOKER} until 14:00 -03"


@pytest.mark.slow
def test_the_terminal_books_lists_extends_and_cancels_and_notes_the_booking_on_a_change(consdb_bot, bundled):
    config = str(bundled)
    Path(config).write_text(Path(config).read_text().replace("  bts:\n", "  bts:\n    test_stand: true\n"))
    booked = consdb_bot("--config", config, "book", "bts", "now", "1h", "OSW-9", "checking")
    assert booked.code == 0, booked.text
    assert "booking #1 of bts booked (the bot announces it in Slack)" in booked.out
    listed = consdb_bot("--config", config, "bookings")
    assert "#1" in listed.out
    assert "(now)" in listed.out
    assert "OSW-9" in listed.out
    taken = consdb_bot("--config", config, "book", "bts", "now", "30m")
    assert taken.code == 1
    assert "cannot book that time: bts is booked by" in taken.err
    assert consdb_bot("--config", config, "extend", "1", "30m").code == 0
    assert consdb_bot("--config", config, "cancel", "1").code == 0
    assert consdb_bot("--config", config, "bookings", "--json").out.strip() == "[]"
    unbooked = consdb_bot("--config", config, "upgrade", "bts", "latiss")
    assert "note: bts is not booked now" in unbooked.err
