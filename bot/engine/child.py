"""Runs Alembic commands (jobs) in a process of its own, one after another, reporting as JSON lines.

Alembic's ``context`` and ``op`` are process-global and env.py reads the process environment,
so every command that executes env.py runs here, never inside the bot. The jobs of one request
(one per schema, each its own transaction) share the process, so Felis and Alembic load once;
the first failure stops the rest. The request is the first line of stdin; the bot keeps stdin
open for as long as it wants the run to go on, and if the bot dies the closed pipe ends the run
(PostgreSQL then rolls the open transaction back).

Events: ``{"event": "job", "index": N}`` as each job starts; ``{"event": "statement", "sql": ...}``
for each statement executed (Alembic's writes to the version table among them, which is how the
bot follows the revisions, whatever logging env.py sets up); ``{"event": "sql", "text": ...}`` in
offline mode; finally ``{"event": "done"}``, or ``{"event": "failed", "error": ..., "sqlstate": ...}``
for the job that failed (``sqlstate`` PostgreSQL's code of the error, null if it was not the server's).

A job whose lock is not granted in ``lock_timeout`` (SQLSTATE 55P03) has had its transaction rolled
back, so it is run again after a jittered backoff, for at most ``lock_retry_seconds`` from its first
such failure: ``{"event": "retry", "attempt": N, "delay": seconds}`` says so before the wait. The jobs
before it committed and are never run again. Given up, its ``failed`` event also carries ``attempts``
and ``seconds`` (since the job began).
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import threading
import time
import traceback
from argparse import Namespace
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.engine.locks import LOCK_NOT_AVAILABLE, ONLINE
from bot.engine.phased_run import PhasedRun
from bot.engine.tree import SchemaTree

ABANDONED_EXIT_CODE = 70
MOST_RETRY_DELAY = 10.0
"""The backoff stops doubling here: a lock freed is taken within this much."""
_emit_lock = threading.Lock()
# The protocol keeps the original stdout to itself; anything env.py prints goes to stderr instead.
_protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(**payload: Any) -> None:
    with _emit_lock:
        _protocol.write(json.dumps(payload) + "\n")
        _protocol.flush()


def _watch_parent() -> None:
    sys.stdin.read()
    os._exit(ABANDONED_EXIT_CODE)


class _Statements:
    """Every statement Alembic executes, as the online run rewrites it (when one is under way), reported."""

    online: PhasedRun | None = None

    def __call__(
        self, _conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        if self.online is not None:
            rewritten = self.online.before_execute(cursor, statement, parameters)
            if rewritten != statement and self.online.writes_version(statement):
                emit(event="statement", sql=statement)  # the revision's transactional part is done: say which
            statement = rewritten
        emit(event="statement", sql=statement)
        return statement, parameters

    def after(self, _conn: Any, cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool) -> None:
        """Once a statement ran: what the online run checks of it (a table it rewrote)."""
        if self.online is not None:
            self.online.after_execute(cursor)


_statements = _Statements()


def run(ini: str, job: dict[str, Any], options: dict[str, str], *, allow_rewrite: bool = False) -> None:
    buffer = io.StringIO()
    tree = SchemaTree(Path(ini), job["section"])
    config = tree.alembic_config(output_buffer=buffer, stdout=buffer)
    config.cmd_opts = Namespace(x=[f"{key}={value}" for key, value in options.items()])
    operation, target, start = job["operation"], job["target"], job.get("start")
    if operation in ("upgrade", "downgrade"):
        online = PhasedRun(
            os.environ["CONSDB_URL"], tree.version_table_schema, tree.version_table, emit, allow_rewrite=allow_rewrite
        )
        online.begin()  # an earlier run's phases are finished first, whatever this run is
        _statements.online = online if job.get("online", True) else None
        try:
            (command.upgrade if operation == "upgrade" else command.downgrade)(config, target)
        finally:
            _statements.online = None
        online.finish()
    elif operation == "stamp":
        command.stamp(config, target)
    elif operation in ("upgrade-sql", "downgrade-sql"):
        revision_range = f"{start}:{target}" if start else target
        apply = command.upgrade if operation == "upgrade-sql" else command.downgrade
        apply(config, revision_range, sql=True)
        emit(event="sql", text=buffer.getvalue())
    else:
        raise ValueError(f"unknown operation {operation!r}")


class LockNotGranted(Exception):
    """The job's lock was not granted on any attempt within ``lock_retry_seconds``."""

    def __init__(self, error: BaseException, attempts: int, seconds: float) -> None:
        super().__init__(_error_text(error))
        self.attempts = attempts
        self.seconds = seconds


def run_retrying_locks(
    ini: str, job: dict[str, Any], options: dict[str, str], retry: dict[str, float], *, allow_rewrite: bool = False
) -> None:
    """Run the job; while PostgreSQL refuses its lock (its transaction then rolled back), run it again after a
    jittered backoff, until ``lock_retry_seconds`` have passed since the first refusal.

    The wait after attempt N is drawn between half and all of ``lock_timeout * 2**N`` (at most
    :data:`MOST_RETRY_DELAY`): the writers queued behind the refused request get at least as long as they
    waited, and several migrations refused together do not come back in step.
    """
    began = time.monotonic()
    lock_timeout, budget = retry.get("lock_timeout_seconds", 0.0), retry.get("lock_retry_seconds", 0.0)
    first_refusal: float | None = None
    attempt = 1
    while True:
        try:
            run(ini, job, options, allow_rewrite=allow_rewrite)
            return
        except Exception as error:
            if job["operation"] not in ONLINE or sqlstate(error) != LOCK_NOT_AVAILABLE:
                raise
            now = time.monotonic()
            first_refusal = now if first_refusal is None else first_refusal
            delay = backoff(attempt, lock_timeout)
            if now + delay > first_refusal + budget:
                raise LockNotGranted(error, attempt, now - began) from error
        attempt += 1
        emit(event="retry", attempt=attempt, delay=round(delay, 3))
        threading.Event().wait(delay)  # not time.sleep: with libfaketime moving the wall clock, that fails


def backoff(attempt: int, lock_timeout: float) -> float:
    """How long to wait after failed attempt ``attempt`` (1, 2, ...), jittered."""
    ceiling = min(MOST_RETRY_DELAY, max(lock_timeout, 0.1) * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


def sqlstate(error: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of the error, found wherever env.py or SQLAlchemy wrapped the driver's error."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str):
            return code
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__]
    return None


def _error_text(error: BaseException) -> str:
    """One line for what failed; a bare key says nothing, so a lookup error also says where it failed."""
    message = str(error).strip()
    if not isinstance(error, LookupError):
        return message or type(error).__name__
    frame = traceback.extract_tb(error.__traceback__)[-1]
    place = os.path.relpath(frame.filename) if frame.filename.startswith(os.getcwd()) else frame.filename
    return f"{type(error).__name__} {message} in {place}, line {frame.lineno}"


def _given_up(error: BaseException) -> dict[str, float]:
    if isinstance(error, LockNotGranted):
        return {"attempts": error.attempts, "seconds": error.seconds}
    return {}


def main() -> None:
    request = json.loads(sys.stdin.readline())
    threading.Thread(target=_watch_parent, daemon=True).start()
    event.listen(Engine, "before_cursor_execute", _statements, retval=True)
    event.listen(Engine, "after_cursor_execute", _statements.after)
    for index, job in enumerate(request["jobs"]):
        emit(event="job", index=index)
        try:
            run_retrying_locks(
                request["ini"], job, request.get("options", {}), request.get("retry", {}),
                allow_rewrite=request.get("allow_rewrite", False),
            )  # fmt: skip
        except BaseException as error:  # report whatever env.py or a revision raised, then stop
            emit(event="failed", error=_error_text(error), sqlstate=sqlstate(error), **_given_up(error))
            os._exit(1)
    emit(event="done")


if __name__ == "__main__":
    main()
