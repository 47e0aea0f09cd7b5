"""Starts :mod:`bot.engine.child` for one Alembic command and follows it to the end.

The child gets an environment of its own: ``CONSDB_URL``, ``SDM_SCHEMAS_DIR`` and
``PGOPTIONS`` (lock and statement timeouts, applied to every connection env.py opens), and none
of the bot's own secrets. It has a hard time limit; past it the child is killed and PostgreSQL
rolls its transaction back. The limit is the child's: what the bot does with the child's news (tell
Slack, however slowly) happens on a thread of its own, and never holds up reading the child's output.
"""

from __future__ import annotations

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

from bot.config import INSTALLED
from bot.engine.database import DatabaseUrl, connect
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


StatementCallback = Callable[[int, str], None]


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
    allow_rewrite: bool = False,
) -> list[ChildRun]:
    """Run the jobs in order in one child; a result per job (``started`` false past a failure).

    ``stopping`` is set when the bot stops for good (:attr:`bot.engine.service.Engine.stopping`): the child,
    if still running, is killed and its database sessions ended, so that its transaction rolls back and
    its locks are released.

    ``application_name`` names every database session of the child (:func:`run_name`), so that they can
    be found and ended, by this process past the time limit or by the next one after a crash.

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
        request = {
            "ini": str(ini_path), "jobs": [jobs[index].__dict__ for index in runnable], "options": options,
            "allow_rewrite": allow_rewrite,
        }  # fmt: skip
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
        statement = (lambda job, sql: on_statement(runnable[job], sql)) if on_statement else None
        phase = (lambda job, text: on_phase(runnable[job], text)) if on_phase else None
        follower = _Follower([results[index] for index in runnable], statement, phase)
        events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        reader = threading.Thread(target=_read_events, args=(process, events), daemon=True)
        handler = threading.Thread(target=follower.follow, args=(events,), daemon=True)
        reader.start()
        handler.start()
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
        self, results: list[ChildRun], on_statement: StatementCallback | None, on_phase: StatementCallback | None
    ) -> None:
        self.results = results
        self.on_statement = on_statement
        self.on_phase = on_phase
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
            self._tell(self.on_statement, message["sql"])
        elif kind == "phase":
            self.current.phases.append(message["text"])
            self._tell(self.on_phase, message["text"])
        elif kind == "sql":
            self.current.sql = message["text"]
        elif kind == "failed":
            self.current.error = message["error"]

    def _tell(self, callback: StatementCallback | None, text: str) -> None:
        if callback is None:
            return
        try:
            callback(self.index, text)
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
