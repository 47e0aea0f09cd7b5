"""Starts :mod:`bot.engine.child` for one Alembic command and follows it to the end.

The child gets an environment of its own: ``CONSDB_URL``, ``SDM_SCHEMAS_DIR`` and
``PGOPTIONS`` (lock and statement timeouts, applied to every connection env.py opens), and none
of the bot's own secrets; it tries a schema refused its lock again itself (:mod:`bot.engine.child`),
while a :class:`~bot.engine.locks.LockWatcher` here names who holds that lock. It has a hard time
limit; past it the child is killed and PostgreSQL rolls its transaction back. The limit is the
child's: what the bot does with the child's news (tell Slack, however slowly) happens on a thread
of its own, and never holds up reading the child's output.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from bot.config import INSTALLED, postgres_seconds
from bot.engine.database import DatabaseUrl, connect
from bot.engine.locks import ONLINE, Blocker, LockNews, LockRetry, LockWait, LockWatcher, poll_seconds
from bot.engine.tree import SchemaTree

Operation = Literal["upgrade", "downgrade", "stamp", "upgrade-sql", "downgrade-sql"]

log = logging.getLogger(__name__)
STOP_CHECK_SECONDS = 0.2
_SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|DATABASE_URL|STATE_URL|TAP_SCHEMA_URL|_DSN$", re.IGNORECASE)
_LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class ChildLimits:
    lock_timeout: str
    statement_timeout: str
    run_timeout_seconds: int
    connect_timeout_seconds: int
    lock_retry_seconds: float = 0.0


@dataclass
class ChildRun:
    """What a child reported of one job: statements executed, offline SQL, and how it ended."""

    started: bool = False
    statements: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    """What the run said of the phases it left for after its transaction, and did."""
    sql: str = ""
    error: str | None = None
    timed_out: bool = False
    log_tail: list[str] = field(default_factory=list)
    seconds: float = 0.0
    model_missing: bool = False
    """The schema has no Felis model where env.py looks: the job was not started (``error`` says where)."""
    sqlstate: str | None = None
    """PostgreSQL's SQLSTATE of the error it failed with, if the server's."""
    blocker: Blocker | None = None
    """The last session seen holding a lock it waited for."""
    lock_attempts: int = 0
    """Failed for its lock, given up: how many attempts were made."""
    lock_seconds: float = 0.0
    """Failed for its lock, given up: how long it had tried."""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


@dataclass(frozen=True)
class Job:
    """One Alembic command for one schema (an ini section)."""

    section: str
    operation: Operation
    target: str
    start: str | None = None
    online: bool = True
    """Whether an upgrade or downgrade takes the online path (:mod:`bot.engine.online`); no revision opted out."""


StatementCallback = Callable[[int, str], None]
LockCallback = Callable[[int, LockNews], None]


def run_child(
    *,
    ini_path: Path,
    jobs: list[Job],
    database: DatabaseUrl | None,
    sdm_schemas: str,
    options: dict[str, str],
    limits: ChildLimits,
    stopping: threading.Event,
    on_statement: StatementCallback | None = None,
    application_name: str | None = None,
    on_phase: StatementCallback | None = None,
    on_lock: LockCallback | None = None,
    allow_rewrite: bool = False,
) -> list[ChildRun]:
    """Run the jobs in order in one child; a result per job (``started`` false past a failure).

    ``stopping`` is set when the bot stops for good (:attr:`bot.engine.service.Engine.stopping`): the child,
    if still running, is killed and its database sessions ended, so that its transaction rolls back and
    its locks are released.

    ``application_name`` names every database session of the child (:func:`run_name`), so that they can
    be found and ended, by this process past the time limit or by the next one after a crash.

    ``on_lock`` is told, per job, of each session seen blocking the run's lock (a watcher looks while the
    child runs) and of each retry after a lock not granted; its statements so far are then forgotten, as
    their transaction was rolled back.

    ``on_phase`` hears what an online run (:mod:`bot.engine.phased_run`) says of the phases it leaves for after
    its transaction, and does, by job. ``allow_rewrite``: a statement that rewrites a table holding rows goes on
    (``--allow-rewrite``); without it the run fails there and its transaction rolls back."""
    results = [ChildRun() for _ in jobs]
    application_name = application_name or run_name(secrets.token_hex(6))
    with model_directory(sdm_schemas) as model_dir:
        runnable = []
        for index, job in enumerate(jobs):
            model = model_file(model_dir, SchemaTree(ini_path, job.section).schema_name)
            if model.is_file():
                runnable.append(index)
            else:
                results[index] = ChildRun(started=True, error=no_model(model), model_missing=True)
        if not runnable:
            return results
        request = _request(ini_path, [jobs[index] for index in runnable], options, limits)
        request["allow_rewrite"] = allow_rewrite
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.engine.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ini_path.parent,
            env=_child_environment(database, model_dir, limits, application_name),
            text=True,
        )
        assert process.stdin
        assert process.stderr
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        stderr_lines: list[str] = []
        drain = threading.Thread(target=lambda: stderr_lines.extend(process.stderr or []), daemon=True)
        drain.start()
        follower = _Follower([results[index] for index in runnable], runnable, on_statement, on_lock, on_phase)
        events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        reader = threading.Thread(target=_read_events, args=(process, events), daemon=True)
        handler = threading.Thread(target=follower.follow, args=(events,), daemon=True)
        reader.start()
        handler.start()
        watched = on_lock is not None and any(jobs[index].operation in ONLINE for index in runnable)
        with _watching(database if watched else None, application_name, limits, events):
            _wait_for(reader, limits.run_timeout_seconds, stopping)
        stopped, shutting_down = reader.is_alive(), stopping.is_set()
        if stopped:
            process.kill()
            reader.join()
            if database is not None:
                end_sessions(database, application_name, connect_timeout=limits.connect_timeout_seconds)
        # Wait for the child to exit before closing its stdin: a closed stdin tells it to abandon the run.
        process.wait()
        process.stdin.close()
        drain.join()
        handler.join()
    if stopped:
        # The job under way when the run was stopped failed there, even if the child had not yet begun it.
        follower.current.started = True
        follower.current.timed_out = not shutting_down
        if shutting_down:
            follower.current.error = "stopped: the bot was shutting down, and the run was rolled back"
    follower.finish(process.returncode)
    redact = database.redact if database else (lambda text: text)
    for result in results:
        if result.error and not result.model_missing:
            result.error = redact(result.error)
    follower.current.log_tail = [redact(line.rstrip()) for line in stderr_lines[-_LOG_TAIL_LINES:]]
    return results


def _request(ini_path: Path, jobs: list[Job], options: dict[str, str], limits: ChildLimits) -> dict[str, Any]:
    """The child's first line: its jobs, their ``-x`` options, and how it retries a lock not granted."""
    retry = {
        "lock_timeout_seconds": postgres_seconds(limits.lock_timeout),
        "lock_retry_seconds": limits.lock_retry_seconds,
    }
    return {"ini": str(ini_path), "jobs": [job.__dict__ for job in jobs], "options": options, "retry": retry}


def _watching(
    database: DatabaseUrl | None,
    application_name: str,
    limits: ChildLimits,
    events: queue.SimpleQueue[dict[str, Any] | None],
) -> contextlib.AbstractContextManager[object]:
    """While the child runs, who blocks its sessions' locks, told among its events (none without a database)."""
    if database is None:
        return contextlib.nullcontext()
    return LockWatcher(
        database,
        application_name,
        lambda blocker: events.put({"event": "blocked", "blocker": blocker}),
        every=poll_seconds(postgres_seconds(limits.lock_timeout)),
        connect_timeout=limits.connect_timeout_seconds,
    )


def run_name(tag: str) -> str:
    """The ``application_name`` of a run's database sessions (PostgreSQL keeps 63 characters)."""
    return f"consdb-bot-run-{tag}"[:63]


def _read_events(process: subprocess.Popen[str], events: queue.SimpleQueue[dict[str, Any] | None]) -> None:
    """Read the child's events as they come, until it is done or its output ends; a None closes them."""
    assert process.stdout
    try:
        for line in process.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            events.put(message)
            if message.get("event") == "done":
                return
    finally:
        events.put(None)


def _wait_for(reader: threading.Thread, seconds: float, stopping: threading.Event) -> None:
    """Until the child is done, its time is up, or the bot stops its runs (``stopping``)."""
    deadline = time.monotonic() + seconds
    while reader.is_alive() and not stopping.is_set() and time.monotonic() < deadline:
        reader.join(timeout=min(STOP_CHECK_SECONDS, max(0.0, deadline - time.monotonic())))


class _Follower:
    """Reads the child's events and files them under the job they belong to."""

    def __init__(
        self,
        results: list[ChildRun],
        jobs: list[int],
        on_statement: StatementCallback | None,
        on_lock: LockCallback | None,
        on_phase: StatementCallback | None,
    ) -> None:
        self.results = results
        self.jobs = jobs
        """The index in the request of each job the child runs (those without a model are left out)."""
        self.on_statement = on_statement
        self.on_phase = on_phase
        self.on_lock = on_lock
        self.index = 0
        self.began = time.monotonic()

    @property
    def current(self) -> ChildRun:
        return self.results[self.index]

    def follow(self, events: queue.SimpleQueue[dict[str, Any] | None]) -> None:
        """File the events until they are closed; however long telling of a statement takes."""
        while (message := events.get()) is not None:
            self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("event")
        if kind == "job":
            self._close_current()
            self.index = message["index"]
            self.current.started = True
        elif kind == "statement":
            self.current.statements.append(message["sql"])
            if self.on_statement:
                self._tell(self.on_statement, message["sql"])
        elif kind == "phase":
            self.current.phases.append(message["text"])
            if self.on_phase:
                self._tell(self.on_phase, message["text"])
        elif kind == "sql":
            self.current.sql = message["text"]
        elif kind == "blocked":
            self.current.blocker = message["blocker"]
            if self.on_lock:
                self._tell(self.on_lock, LockWait(message["blocker"]))
        elif kind == "retry":
            self.current.statements = []
            if self.on_lock:
                self._tell(self.on_lock, LockRetry(message["attempt"], message["delay"]))
        elif kind == "failed":
            self.current.error = message["error"]
            self.current.sqlstate = message.get("sqlstate")
            self.current.lock_attempts = message.get("attempts", 0)
            self.current.lock_seconds = message.get("seconds", 0.0)

    def _tell(self, callback: Callable[[int, Any], None], news: Any) -> None:
        try:
            callback(self.jobs[self.index], news)
        except Exception:  # news that cannot be told must not stop the run being followed
            log.exception("reporting progress failed; the run goes on")

    def _close_current(self) -> None:
        now = time.monotonic()
        if self.current.started:
            self.current.seconds = now - self.began
        self.began = now

    def finish(self, returncode: int) -> None:
        self._close_current()
        current = self.current
        if returncode != 0 and current.error is None and not current.timed_out:
            current.started = True
            current.error = f"the migration process ended with exit code {returncode}"


def end_sessions(database: DatabaseUrl, application_name: str, *, connect_timeout: int, polls: int = 100) -> bool:
    """End a run's database sessions, and wait until they are gone: true once none is left.

    A killed client does not stop a statement already running in the server (one waiting on a lock
    waits on); until these sessions are gone their transaction is open, the schema is not back where
    it was and its locks are held, so nothing is settled or released before.
    """
    with connect(database, connect_timeout=connect_timeout) as connection:
        for _ in range(polls):
            row = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            ).fetchone()
            if not row or row[0] == 0:
                return True
            connection.execute("SELECT pg_sleep(0.1)")
    return False


def _child_environment(
    database: DatabaseUrl | None, model_dir: Path, limits: ChildLimits, application_name: str
) -> dict[str, str]:
    """The bot's environment less its secrets (libpq's own PG* variables stay), plus the run's settings."""
    environment = {
        key: value for key, value in os.environ.items() if key.startswith("PG") or not _SECRET_NAMES.search(key)
    }
    environment["SDM_SCHEMAS_DIR"] = str(model_dir)
    environment["PGAPPNAME"] = application_name
    environment["PGCONNECT_TIMEOUT"] = str(limits.connect_timeout_seconds)
    environment["PGOPTIONS"] = f"-c lock_timeout={limits.lock_timeout} -c statement_timeout={limits.statement_timeout}"
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_root(), os.environ.get("PYTHONPATH")]))
    if database is not None:
        environment["CONSDB_URL"] = database.sqlalchemy
    return environment


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def model_file(model_dir: Path, schema_name: str) -> Path:
    """Where env.py reads a schema's Felis model (``yml/<schema>.yaml``, as upstream's does), links resolved."""
    return (model_dir / "yml").resolve() / f"{schema_name}.yaml"


def no_model(path: Path) -> str:
    return f"no Felis model: {path} does not exist"


@contextmanager
def model_directory(sdm_schemas: str) -> Iterator[Path]:
    """An sdm_schemas-shaped folder (``yml/cdb_*.yaml``), as upstream env.py files expect one.

    A checkout is used as it is; the installed package is offered through a ``yml`` link.
    """
    if sdm_schemas != INSTALLED:
        yield Path(sdm_schemas).expanduser().resolve()
        return
    with tempfile.TemporaryDirectory(prefix="consdb-bot-sdm-") as folder:
        (Path(folder) / "yml").symlink_to(Path(str(resources.files("lsst.sdm.schemas"))), target_is_directory=True)
        yield Path(folder)
