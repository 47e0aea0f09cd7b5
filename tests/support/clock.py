"""The one clock of the tests: set by hand, read by the services and the store, never the machine's.

A test that read the real clock passed on the day it was written and failed a week later; every
service and the store take their clock as an argument, and tests give them this one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Now, as far as the code under test knows: ``moment``, moved by the test."""

    moment: datetime = START

    def __call__(self) -> datetime:
        return self.moment


def pause(seconds: float) -> None:
    """Wait between two polls. Not ``time.sleep``: with libfaketime moving the wall clock and leaving
    the monotonic one alone (the suite run a year ahead or back), Python's sleep fails with EINVAL."""
    threading.Event().wait(seconds)
