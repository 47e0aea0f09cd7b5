"""The health check on a real database: an alert when an environment falls behind or drifts, said
once however often the check runs, and an all-clear when it is well again."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.config import parse_settings
from bot.engine.service import Direction, Engine
from bot.services.bookings import BookingService
from bot.services.reports import DailyReport, HealthAlert, ReportService
from bot.services.scheduler import Scheduler
from bot.store import Store
from tests.support.clock import Clock

FIRST_LATISS = "8ebb60eda79d"


@dataclass
class Recorder:
    alerts: list[HealthAlert] = field(default_factory=list)

    def report(self, report: DailyReport) -> None:
        raise AssertionError("no report was asked for")

    def alert(self, alert: HealthAlert) -> None:
        self.alerts.append(alert)


@pytest.mark.slow
def test_an_environment_falling_behind_and_drifting_is_alerted_once_then_cleared(tmp_path: Path, new_database):
    settings = parse_settings(
        f"""
state_url: sqlite:///{tmp_path / "state.sqlite3"}
schemas: [latiss]
slack: {{announce_channel: C0ANNOUNCE}}
environments:
  bts: {{test_stand: true, database_url: {new_database()}, channel: C0BTS}}
""",
        environ={},
    )
    clock = Clock()
    store = Store(str(settings.state_url), clock=clock)
    store.upgrade()
    engine, recorder = Engine(settings), Recorder()
    bookings = BookingService(settings, store, Scheduler(store, poll_seconds=60), clock=clock)
    reports = ReportService(settings, engine, store, bookings, recorder, clock=clock)
    bts = settings.environment("bts")

    reports.check("bts")
    assert recorder.alerts == []  # an empty database is not behind: nothing was ever there

    # Recorded at the first revision without its tables: one behind, and drifted from what it records.
    engine.change(bts, ["latiss"], direction=Direction.STAMP, to=FIRST_LATISS, actor="test", force=True)
    reports.check("bts")
    reports.check("bts")
    [alert] = recorder.alerts
    assert alert.channels == ["C0ANNOUNCE", "C0BTS"]
    assert alert.health.problems[0] == "latiss is 1 revision behind head"
    assert alert.health.problems[1].startswith("latiss has drifted (")

    engine.change(bts, ["latiss"], direction=Direction.STAMP, to="base", actor="test")
    reports.check("bts")
    reports.check("bts")
    assert len(recorder.alerts) == 2
    assert recorder.alerts[1].cleared == alert.health.problems
    assert [record.action for record in store.audit_trail(environment="bts")][:2] == ["cleared", "alerted"]
