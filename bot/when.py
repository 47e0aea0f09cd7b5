"""WHEN and moments of bookings, read and shown in a test stand's own time zone.

Pure: the grammar reads the form of a WHEN (``now``, ``today 14:00``, ``tomorrow 09:30``,
``2026-11-24 09:00``, ``mon 10:00``); :meth:`When.resolve` places it on the clock of a zone at a
given moment, refusing wall times that daylight saving skips and naming the offset of those it
repeats. Durations are real elapsed time, so a two-hour booking over a clock change lasts two hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UsageError, did_you_mean, echoed

WHEN_FORMS = "now, today 14:00, tomorrow 09:30, 2026-11-24 09:00 or mon 10:00"
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
"""The dates a WHEN may name: any later would overflow what adds a DURATION to it, or mean nothing here."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class WhenError(ValueError):
    """A WHEN that cannot be read; the message says what was wrong and the forms that work."""


@dataclass(frozen=True)
class When:
    """A WHEN as typed: a day (``now``, ``today``, ``tomorrow``, a date or a weekday) and a wall time."""

    day: str
    clock: time | None = None

    @classmethod
    def read(cls, text: str) -> When:
        words = text.lower().split()
        if words == ["now"]:
            return cls("now")
        if len(words) != 2:
            raise WhenError(f"{echoed(text)} is not a time; write it as {WHEN_FORMS}")
        day, clock = words
        match = _CLOCK.match(clock)
        if not match:
            raise WhenError(f"{echoed(clock)} is not a time of day; write it as 24-hour HH:MM, such as 09:30 or 14:00")
        if day not in ("today", "tomorrow", *WEEKDAYS) and not _DATE.match(day):
            near = did_you_mean(day, ("today", "tomorrow", *WEEKDAYS))
            raise WhenError(
                f"{echoed(day)} is not a day{near}; write today, tomorrow, mon..sun or 2026-11-24 ({WHEN_FORMS})"
            )
        if _DATE.match(day):
            try:
                named = date.fromisoformat(day)
            except ValueError:
                raise WhenError(f"{echoed(day)} is not a date in the calendar; write it as YYYY-MM-DD") from None
            if not FIRST_DAY <= named <= LAST_DAY:
                raise WhenError(
                    f"{echoed(day)} is out of range: a date from {FIRST_DAY} to {LAST_DAY}, such as 2026-11-24"
                )
        return cls(day, time(int(match.group(1)), int(match.group(2))))

    def __str__(self) -> str:
        return self.day if self.clock is None else f"{self.day} {self.clock:%H:%M}"

    def resolve(self, zone: ZoneInfo, *, now: datetime) -> datetime:
        """The moment meant, in UTC: the next such weekday (today if still to come), a wall time skipped by
        daylight saving refused, a repeated one taken at its first occurrence."""
        if self.clock is None:
            return now.astimezone(UTC)
        today = now.astimezone(zone).date()
        if self.day == "today":
            day = today
        elif self.day == "tomorrow":
            day = today + timedelta(days=1)
        elif self.day in WEEKDAYS:
            ahead = (WEEKDAYS.index(self.day) - today.weekday()) % 7
            day = today + timedelta(days=ahead)
            if ahead == 0 and datetime.combine(day, self.clock, zone) <= now:
                day += timedelta(days=7)
        else:
            day = date.fromisoformat(self.day)
        return on_the_clock(day, self.clock, zone)


def on_the_clock(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``clock`` on the wall clocks of ``zone``, as a UTC moment."""
    local = datetime.combine(day, clock, zone)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise UsageError(
            f"{day} {clock:%H:%M} does not exist in {zone.key}: the clocks jump forward over it",
            usage=f"WHEN: {WHEN_FORMS}",
            hint="Pick a time an hour later (or earlier).",
        )
    return moment


def local(moment: datetime, zone: ZoneInfo) -> str:
    """A moment on the zone's wall clock, with its offset: ``Tue 2026-11-24 09:00 -03``."""
    shown = moment.astimezone(zone)
    return f"{shown:%a %Y-%m-%d %H:%M} {_offset(shown)}"


def local_clock(moment: datetime, zone: ZoneInfo, *, day_of: datetime | None = None) -> str:
    """Only the wall time (``14:00 -03``) when it falls on the same local day as ``day_of``."""
    shown = moment.astimezone(zone)
    if day_of is not None and shown.date() == day_of.astimezone(zone).date():
        return f"{shown:%H:%M} {_offset(shown)}"
    return local(moment, zone)


def seconds_clock(moment: datetime, zone: ZoneInfo, *, day_of: datetime) -> str:
    """To the second, on the zone's clock: ``12:01:03 UTC``, ``09:01:03 -03``; the date first when it is not
    the local day of ``day_of`` (``2026-11-23 23:59:58 -03``)."""
    shown = moment.astimezone(zone)
    label = "UTC" if zone.key in ("UTC", "Etc/UTC") else _offset(shown)
    day = "" if shown.date() == day_of.astimezone(zone).date() else f"{shown:%Y-%m-%d} "
    return f"{day}{shown:%H:%M:%S} {label}"


def span(starts: datetime, ends: datetime, zone: ZoneInfo) -> str:
    """``Tue 2026-11-24 09:00 -03 to 11:00 -03`` (the end's date only when it is another day)."""
    return f"{local(starts, zone)} to {local_clock(ends, zone, day_of=starts)}"


def length(seconds: float) -> str:
    """``1h30m``, ``2d4h``: the form DURATION is typed in."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    text = "".join(f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if value)
    return text or "0m"


def _offset(moment: datetime) -> str:
    """``-03``, ``+0530``: the UTC offset as the tz database abbreviates zones that have no letters."""
    offset = moment.utcoffset() or timedelta()
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours:02d}" + (f"{minutes:02d}" if minutes else "")
