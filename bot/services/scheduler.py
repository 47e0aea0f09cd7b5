"""Scheduled work (booking announcements, daily reports, drift checks): APScheduler 3, its jobs kept
in the bot's state database, run by one process at a time.

Every process opens the scheduler paused, so that it can add, move and remove jobs (the terminal
too). One process leads and runs them: on PostgreSQL the holder of a session advisory lock, which
the others try for now and then, and which passes on when the leader's connection ends; on SQLite,
the only process. The leader also looks at the job store every ``poll_seconds``, for jobs another
process added.

Jobs are stored as a reference to :func:`run_task` and the name of a task, because a job store keeps
a textual reference to a module-level callable, not an object. Each :class:`Scheduler` registers its
own tasks under those names, and its executor runs the task of the job's name in place of
:func:`run_task`: the registry belongs to the scheduler, so two in one process (the tests make
several) each run their own.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import threading
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, text

from bot.metrics import SCHEDULER_LEADER
from bot.store import Store

log = logging.getLogger(__name__)
JOBS_TABLE = "scheduled_jobs"
LEADER_LOCK_KEY = zlib.crc32(b"consdb-bot scheduler leader") & 0x7FFFFFFF


def run_task(name: str, *args: Any) -> None:
    """The callable every stored job names (``bot.services.scheduler:run_task``: moving it needs a store
    revision that rewrites the stored jobs, as 0006 did); a :class:`Scheduler`'s executor runs its own
    task ``name`` instead, so this only runs when something else runs a job, which would be a mistake."""
    raise RuntimeError(f"the task {name!r} is run by the Scheduler that registered it, not by run_task")


class _OwnTasks(ThreadPoolExecutor):
    """APScheduler's thread pool, running each job as the owning scheduler's task of the job's name."""

    def __init__(self, tasks: Mapping[str, Callable[..., None]], workers: int) -> None:
        super().__init__(workers)
        self._tasks = tasks

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        """Submit a copy of ``job`` calling the task itself: the job is stored again after it is
        submitted (its next run), so it must keep naming :func:`run_task` and the task."""
        name, *args = job.args
        task = copy.copy(job)
        task.func = self._tasks.get(name) or functools.partial(_unknown, name)
        task.args = tuple(args)
        task._jobstore_alias = job._jobstore_alias
        super()._do_submit_job(task, run_times)


def _unknown(name: str, *_args: Any) -> None:
    log.error("no task %r in this process; the job is dropped", name)


class _BackgroundScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one last pass over the jobs after ``shutdown``.

    APScheduler 3 wakes its loop once after shutting its executors down, and that pass takes due jobs
    from the store, fails to submit them and deletes them (agronholm/apscheduler#985): a process that
    stops, or the terminal that only added jobs, would lose announcements the leader still owes.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait: float | None = super()._process_jobs()
        return wait


class Scheduler:
    def __init__(self, store: Store, *, poll_seconds: float) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.jobs = SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)
        self._tasks: dict[str, Callable[..., None]] = {}
        self._aps = _BackgroundScheduler(
            jobstores={"default": self.jobs},
            executors={"default": _OwnTasks(self._tasks, workers=2)},
            # A job is never run twice at once, and a recurring job missed several times runs once.
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._lock_connection: Connection | None = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Ready to add and remove jobs, running none."""
        self.store.upgrade(foreign_tables=[self.jobs.jobs_t])
        self._aps.start(paused=True)

    def register(self, name: str, task: Callable[..., None]) -> None:
        self._tasks[name] = task

    def lead(self) -> None:
        """Take part in the election of the process that runs the jobs (the bot's processes only); the
        first try is made before this returns, so a process that can lead at once does."""
        self._try_to_lead()
        self._thread = threading.Thread(target=self._campaign, daemon=True, name="scheduler-leadership")
        self._thread.start()

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    def at(self, job_id: str, moment: datetime, task: str, *args: Any, grace_seconds: float | None) -> None:
        """Run ``task`` once at ``moment``, or up to ``grace_seconds`` late (None: however late)."""
        self._aps.add_job(
            run_task, DateTrigger(moment), args=(task, *args), id=job_id, name=job_id,
            replace_existing=True, misfire_grace_time=None if grace_seconds is None else _whole(grace_seconds),
        )  # fmt: skip

    def daily(self, job_id: str, at: time, zone: ZoneInfo, task: str, *args: Any, grace_seconds: float) -> None:
        """Run ``task`` every day at ``at`` on the wall clocks of ``zone``; days missed run once, late."""
        trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)
        self._aps.add_job(
            run_task, trigger, args=(task, *args), id=job_id, name=job_id, replace_existing=True,
            misfire_grace_time=_whole(grace_seconds),
        )  # fmt: skip

    def every(self, job_id: str, minutes: float, task: str, *args: Any) -> None:
        """Run ``task`` every ``minutes``; a run missed is not made up (the next one does the same work)."""
        trigger = IntervalTrigger(seconds=minutes * 60, timezone=UTC)
        self._aps.add_job(
            run_task, trigger, args=(task, *args), id=job_id, name=job_id, replace_existing=True,
            misfire_grace_time=_whole(minutes * 30),
        )  # fmt: skip

    def cancel(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):  # gone already: ran, or was never made
            self._aps.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._aps.get_jobs()]

    def next_run(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id)
        return job.next_run_time if job else None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._resign()
        if self._aps.running:
            self._aps.shutdown(wait=True)

    def _campaign(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self._try_to_lead()

    def _try_to_lead(self) -> None:
        try:
            if self.leading:
                self._still_leading()
            elif self._won():
                log.info("this process now runs the scheduled jobs")
                self._leading.set()
                SCHEDULER_LEADER.set(1)
                self._aps.resume()
        except Exception as error:  # the state database went away: stand down, try again later
            log.warning("scheduler leadership lost or not taken: %s", type(error).__name__)
            self._resign()

    def _won(self) -> bool:
        if self.store.engine.dialect.name != "postgresql":
            return True
        connection = self.store.engine.connect()
        won = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}).scalar()
        if won:
            connection.commit()
            self._lock_connection = connection
        else:
            connection.close()
        return bool(won)

    def _still_leading(self) -> None:
        """Check that the lock's session is alive, and look for jobs other processes added."""
        if self._lock_connection is not None:
            self._lock_connection.execute(text("SELECT 1"))
            self._lock_connection.commit()
        self._aps.wakeup()

    def _resign(self) -> None:
        if self._leading.is_set():
            self._leading.clear()
            SCHEDULER_LEADER.set(0)
            if self._aps.running:
                self._aps.pause()
        if self._lock_connection is not None:
            try:  # invalidated, so that the pool closes it (and its lock) instead of keeping it
                self._lock_connection.invalidate()
                self._lock_connection.close()
            except Exception:  # the connection is broken already, which released the lock
                log.debug("closing the leadership connection failed", exc_info=True)
            self._lock_connection = None


def _whole(seconds: float) -> int:
    """APScheduler takes a grace time in whole seconds, at least one."""
    return max(1, int(seconds))
