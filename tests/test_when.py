"""WHEN and DURATION as a user types them, on a test stand's clock, daylight saving included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import grammar
from bot.errors import UsageError
from bot.when import When, length, span

SANTIAGO, PHOENIX = ZoneInfo("America/Santiago"), ZoneInfo("America/Phoenix")
# Tuesday 24 November 2026, 10:00 in Santiago (summer time, -03).
NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "zone", "meant"),
    [
        ("now", SANTIAGO, "2026-11-24 13:00"),
        ("today 14:00", SANTIAGO, "2026-11-24 17:00"),
        ("today 14:00", PHOENIX, "2026-11-24 21:00"),
        ("tomorrow 09:30", SANTIAGO, "2026-11-25 12:30"),
        ("2026-12-01 09:00", SANTIAGO, "2026-12-01 12:00"),
        ("tue 11:00", SANTIAGO, "2026-11-24 14:00"),  # later today
        ("tue 09:00", SANTIAGO, "2026-12-01 12:00"),  # gone today: next week
        ("mon 10:00", SANTIAGO, "2026-11-30 13:00"),
        ("SUN 8:05", SANTIAGO, "2026-11-29 11:05"),
        # Winter time in Santiago (-04) after April's change; Phoenix keeps -07 all year.
        ("2026-06-01 09:00", SANTIAGO, "2026-06-01 13:00"),
        ("2026-06-01 09:00", PHOENIX, "2026-06-01 16:00"),
        # 2026-04-04 23:30 happens twice in Santiago (clocks go back at midnight): the first is meant.
        ("2026-04-04 23:30", SANTIAGO, "2026-04-05 02:30"),
    ],
)
def test_a_when_is_read_on_the_test_stands_clock(typed: str, zone: ZoneInfo, meant: str):
    moment = When.read(typed).resolve(zone, now=NOW)
    assert moment == datetime.fromisoformat(meant).replace(tzinfo=UTC)


def test_a_wall_time_that_daylight_saving_skips_is_refused_with_what_to_do():
    # Santiago's clocks jump from 00:00 to 01:00 on 2026-09-06.
    with pytest.raises(UsageError) as raised:
        When.read("2026-09-06 00:30").resolve(SANTIAGO, now=NOW)
    assert "does not exist in America/Santiago" in raised.value.message
    assert "an hour later" in (raised.value.hint or "")


def test_a_booking_over_a_clock_change_lasts_its_real_length_and_shows_the_new_offset():
    starts = When.read("2026-04-04 22:00").resolve(SANTIAGO, now=NOW)
    ends = starts.replace(hour=starts.hour + 3)
    assert span(starts, ends, SANTIAGO) == "Sat 2026-04-04 22:00 -03 to Sun 2026-04-05 00:00 -04"


@pytest.mark.parametrize("seconds", [60, 5400, 7200, 86400, 93600])
def test_lengths_are_written_the_way_durations_are_typed(seconds: int):
    assert grammar.duration_seconds(length(seconds)) == seconds


@pytest.mark.parametrize(
    ("typed", "complaint", "example"),
    [
        ("book bts today 25:00 2h", "'25:00' is not a time of day", "09:30"),
        ("book bts today 2h", "'2h' is not a time of day", "HH:MM"),
        ("book bts someday 10:00 2h", "'someday' is not a day", "2026-11-24"),
        ("book bts 2026-02-30 10:00 2h", "not a date in the calendar", "YYYY-MM-DD"),
        ("book bts today", "'today' is not a time", "tomorrow 09:30"),
        ("book bts today 14:00", "a DURATION must follow 'today 14:00'", "1h30m"),
        ("book bts today 14:00 2x", "'2x' is not a duration", "1h30m"),
        ("book bts now 0m", "no time at all", "1h30m"),
        ("extend 3 soon", "'soon' is not a duration", "1h30m"),
        ("extend x 1h", "'x' is not a booking number", "extend 12 30m"),
        ("cancel", "the following arguments are required: BOOKING", "cancel 12"),
    ],
)
def test_bad_times_and_durations_each_say_what_was_wrong_with_an_example(typed: str, complaint: str, example: str):
    with pytest.raises(UsageError) as raised:
        grammar.parse(typed.split(), prog="/consdb")
    error = raised.value
    assert complaint in error.message
    assert example in f"{error.message} {error.usage} {error.hint}"
    assert "For example: /consdb " in (error.hint or "")


@pytest.mark.parametrize(
    ("typed", "book"),
    [
        ("book bts today 14:00 2h OSW-123 schema test", grammar.Book("bts", When.read("today 14:00"), 7200, "OSW-123",
                                                                     "schema test")),
        ("book TTS now 90m", grammar.Book("TTS", When.read("now"), 5400)),
        ("book bts mon 09:30 1h30m trying things", grammar.Book("bts", When.read("mon 09:30"), 5400, None,
                                                                 "trying things")),
    ],
)  # fmt: skip
def test_book_reads_when_duration_ticket_and_note(typed: str, book: grammar.Book):
    assert grammar.parse(typed.split(), prog="/consdb").command == book
