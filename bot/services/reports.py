"""Each environment's daily status report, and an alert when one falls behind or drifts.

The report (revisions behind head, drift, the day's bookings) runs at ``reports.daily_at`` on the
environment's own clock. The check runs every ``reports.check_minutes`` and speaks only when the
list of problems changes: an alert when there are new ones, an all-clear when they are gone. What it
last said is read back from the audit trail, so a restart neither repeats nor forgets an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol

from bot.config import Environment, Settings
from bot.engine.drift import SchemaDrift
from bot.engine.service import Engine
from bot.engine.status import SchemaStatus, State
from bot.errors import ConsdbBotError
from bot.services.bookings import BookingService, BookingView
from bot.services.scheduler import Scheduler
from bot.store import Store
from bot.when import on_the_clock
from bot.words import plural

log = logging.getLogger(__name__)
REPORT_TASK = "daily-report"
CHECK_TASK = "health-check"
# A report is still worth reading a few hours late (the bot was down at 08:00); the next day's is due then.
REPORT_GRACE_SECONDS = 6 * 3600
ALERTED, CLEARED = "alerted", "cleared"


@dataclass(frozen=True)
class EnvironmentHealth:
    """Where an environment stands: its schemas, their drift, and the problems worth an alert."""

    environment: str
    environment_title: str
    statuses: list[SchemaStatus]
    drifts: list[SchemaDrift]

    @property
    def problems(self) -> list[str]:
        behind = [
            f"{s.schema} is {plural(s.behind or 0, 'revision')} behind head"
            for s in self.statuses
            if s.state is State.BEHIND
        ]
        drifted = [
            f"{d.schema} has drifted ({plural(len(d.differences), 'difference')})" for d in self.drifts if d.differences
        ]
        return behind + drifted


@dataclass(frozen=True)
class DailyReport:
    health: EnvironmentHealth
    day: str
    bookings: list[BookingView]
    channels: list[str]
    late_by: timedelta | None = None


@dataclass(frozen=True)
class HealthAlert:
    health: EnvironmentHealth
    channels: list[str]
    cleared: list[str] = field(default_factory=list)


class ReportAnnouncer(Protocol):
    def report(self, report: DailyReport) -> None: ...

    def alert(self, alert: HealthAlert) -> None: ...


class ReportService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: Store,
        bookings: BookingService,
        announcer: ReportAnnouncer,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.store = store
        self.bookings = bookings
        self.announcer = announcer
        self.clock = clock

    def register(self, scheduler: Scheduler) -> None:
        """The report and check jobs of every environment, replacing those of an earlier start; jobs of
        environments (or reports) no longer configured are removed."""
        scheduler.register(REPORT_TASK, self.daily)
        scheduler.register(CHECK_TASK, self.check)
        wanted: set[str] = set()
        reports = self.settings.reports
        for env in self.settings.environments.values():
            if not self.settings.news_channels(env):
                continue
            if reports.daily_at:
                hour, minute = (int(part) for part in reports.daily_at.split(":"))
                job = f"report-{env.key}"
                scheduler.daily(job, time(hour, minute), env.zone, REPORT_TASK, env.key,
                                grace_seconds=REPORT_GRACE_SECONDS)  # fmt: skip
                wanted.add(job)
            if reports.check_minutes:
                job = f"check-{env.key}"
                scheduler.every(job, reports.check_minutes, CHECK_TASK, env.key)
                wanted.add(job)
        for job in scheduler.job_ids():
            if job.startswith(("report-", "check-")) and job not in wanted:
                scheduler.cancel(job)

    def health(self, env: Environment) -> EnvironmentHealth:
        statuses = self.engine.status([env], self.engine.schemas_at(env, []))
        versioned = [s.schema for s in statuses if s.state in (State.HEAD, State.BEHIND)]
        drifts: list[SchemaDrift] = []
        if versioned:
            try:
                drifts = self.engine.drift(env, versioned)
            except ConsdbBotError as error:
                drifts = [SchemaDrift(env.key, schema, (), detail=error.message) for schema in versioned]
        return EnvironmentHealth(env.key, env.title, statuses, drifts)

    def daily(self, environment: str) -> None:
        """The scheduled report: once a day per environment, however many processes or restarts."""
        env = self.settings.environment(environment)
        at = self.clock()
        day = at.astimezone(env.zone).date()
        if not self.store.first_sighting(f"report-{env.key}@{day.isoformat()}"):
            return
        hour, minute = (int(part) for part in (self.settings.reports.daily_at or "00:00").split(":"))
        due = on_the_clock(day, time(hour, minute), env.zone)
        starts, ends = on_the_clock(day, time(0), env.zone), on_the_clock(day + timedelta(days=1), time(0), env.zone)
        report = DailyReport(
            self.health(env), f"{day:%a %Y-%m-%d}", self.bookings.between(env, starts, ends),
            self.settings.news_channels(env), late_by=at - due if at - due > timedelta(minutes=1) else None,
        )  # fmt: skip
        self.announcer.report(report)

    def check(self, environment: str) -> None:
        """The scheduled check: speak when the problems change, and only then."""
        env = self.settings.environment(environment)
        health = self.health(env)
        problems = health.problems
        said = self._last_said(env.key)
        if problems and problems != said:
            self.announcer.alert(HealthAlert(health, self.settings.news_channels(env)))
            self.store.audit(actor="consdb-bot", action=ALERTED, environment=env.key,
                             summary="; ".join(problems), detail={"problems": problems})  # fmt: skip
        elif not problems and said:
            self.announcer.alert(HealthAlert(health, self.settings.news_channels(env), cleared=said))
            self.store.audit(actor="consdb-bot", action=CLEARED, environment=env.key,
                             summary="no longer: " + "; ".join(said), detail={"problems": []})  # fmt: skip

    def _last_said(self, environment: str) -> list[str]:
        record = self.store.last_audit(environment=environment, actions=(ALERTED, CLEARED))
        return list(record.detail.get("problems", [])) if record else []
