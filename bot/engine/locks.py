"""Who holds the lock a migration waits for, found while it waits, and what its thread says of it.

A migration's DDL asks for its lock (ACCESS EXCLUSIVE for an ``ALTER TABLE``) behind whoever holds a
conflicting one, such as an analyst's long SELECT, and every writer of the table then queues behind that
request. So a migration waits at most ``lock_timeout``, and is tried again later (:mod:`bot.engine.child`).
Meanwhile a watcher on a short connection of the bot's own looks, four times per ``lock_timeout``, whether a
session of the run (its ``application_name``) waits for a lock; only then does it ask PostgreSQL who
blocks it (``pg_blocking_pids``, which briefly takes the lock manager's locks, so it is not asked idly),
and names that session: its pid, its query (one line, cut short, passwords taken out) and since when.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from zoneinfo import ZoneInfo

import psycopg

from bot.engine.database import DatabaseUrl, connect
from bot.errors import ConsdbBotError
from bot.logs import HIDDEN
from bot.when import seconds_clock
from bot.words import plural

log = logging.getLogger(__name__)
LOCK_NOT_AVAILABLE = "55P03"
"""PostgreSQL's SQLSTATE for a lock not granted (``canceling statement due to lock timeout``, or NOWAIT)."""
ONLINE = ("upgrade", "downgrade", "stamp")
"""The operations that run in the database, and so take locks (the others write SQL)."""
QUERY_SHOWN = 80
"""The characters of a blocking session's query that are shown: enough to know it, not its literals."""
RETRIES_TOLD = 8
"""Each retry of the first attempts is told; after them, one in this many (about once a minute)."""
_READ_TIMEOUT = "2s"
_URL_PASSWORD = re.compile(r"(//[^/:@\s]*:)[^@\s]+@")
_PASSWORD_LITERAL = re.compile(r"(password\s*=?\s*)('[^']*'?|\S+)", re.IGNORECASE)

_WAITING = "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'"
_BLOCKERS = """
SELECT holder.pid, waited.locktype, waited.relation::regclass::text, holder.query_start, holder.state,
       left(holder.query, 1000), count(*) OVER (), now()
FROM pg_locks AS waited
CROSS JOIN LATERAL unnest(pg_blocking_pids(waited.pid)) AS blocking(pid)
JOIN pg_stat_activity AS holder ON holder.pid = blocking.pid
WHERE waited.pid = ANY(%s) AND NOT waited.granted
ORDER BY holder.xact_start NULLS LAST, holder.pid
LIMIT 1
"""


@dataclass(frozen=True)
class Blocker:
    """A session that holds (or is queued before the run for) the lock a session of the run waits for."""

    pid: int
    relation: str | None
    """The table (``cdb_lsstcam.exposure``) whose lock is waited for; None for another kind of lock."""
    locktype: str
    """``pg_locks.locktype`` of the lock waited for (``relation``, ``advisory``, ``transactionid``...)."""
    query: str
    """Its query as shown (:func:`shown_query`); empty when the bot's database user may not read it."""
    started: datetime | None
    """When that query started (for a session idle in its transaction: its last query)."""
    idle: bool
    """Idle in its transaction: what blocks is the transaction, not a query running."""
    others: int
    """How many other sessions block the run too."""
    seen: datetime
    """The server's time when it was seen."""

    @property
    def lock(self) -> str:
        """The lock waited for: ``a lock on cdb_lsstcam.exposure``, ``an advisory lock``."""
        if self.relation:
            return f"a lock on {self.relation}"
        return f"{'an' if self.locktype[:1] in tuple('aeiou') else 'a'} {self.locktype} lock"

    @property
    def key(self) -> tuple[int, datetime | None]:
        """The same holder, seen again: told once."""
        return self.pid, self.started


@dataclass(frozen=True)
class LockWait:
    """A session of the run waits for a lock that ``blocker`` holds."""

    blocker: Blocker


@dataclass(frozen=True)
class LockRetry:
    """The schema's lock was not granted in ``lock_timeout``, its transaction rolled back: it is tried again,
    as attempt ``attempt``, in ``delay`` seconds."""

    attempt: int
    delay: float


LockNews = LockWait | LockRetry


def shown_query(text: str | None, redact: Callable[[str], str]) -> str:
    """A query as the thread may show it: one line, no password (of the database's URL, of any URL, or after
    ``PASSWORD``), at most :data:`QUERY_SHOWN` characters, no backticks (it is shown between them)."""
    if not text or text.startswith("<insufficient privilege>"):
        return ""
    line = " ".join(redact(text).split()).replace("`", "'")
    line = _PASSWORD_LITERAL.sub(rf"\1{HIDDEN}", _URL_PASSWORD.sub(rf"\1{HIDDEN}@", line))
    return line if len(line) <= QUERY_SHOWN else line[: QUERY_SHOWN - 1] + "…"


def blocker_of(connection: psycopg.Connection, application_name: str, redact: Callable[[str], str]) -> Blocker | None:
    """Who blocks a session named ``application_name`` that waits for a lock, if one does."""
    waiting = [row[0] for row in connection.execute(_WAITING, (application_name,))]
    if not waiting:
        return None
    row = connection.execute(_BLOCKERS, (waiting,)).fetchone()
    if row is None:
        return None
    pid, locktype, relation, started, state, query, count, now = row
    idle = state == "idle in transaction"
    return Blocker(pid, relation, locktype, shown_query(query, redact), started, idle, count - 1, now)


def poll_seconds(lock_timeout: float) -> float:
    """How often the watcher looks: four times per ``lock_timeout`` (at most 20 times a second), so that a wait
    is seen before it ends."""
    return min(1.0, max(0.05, lock_timeout / 4)) if lock_timeout > 0 else 1.0


class LockWatcher:
    """While the block runs, tells ``report`` of each blocker of the run's sessions it sees (often the same).

    A watcher that cannot connect or read says so in the log and stops: the run never depends on it.
    """

    def __init__(
        self,
        database: DatabaseUrl,
        application_name: str,
        report: Callable[[Blocker], None],
        *,
        every: float,
        connect_timeout: int,
    ) -> None:
        self.database = database
        self.application_name = application_name
        self.report = report
        self.every = every
        self.connect_timeout = connect_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="lock-watcher", daemon=True)

    def __enter__(self) -> LockWatcher:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        try:
            with connect(self.database, connect_timeout=self.connect_timeout) as connection:
                connection.execute(f"SET statement_timeout = '{_READ_TIMEOUT}'")
                while not self._stop.wait(self.every):
                    blocker = blocker_of(connection, self.application_name, self.database.redact)
                    if blocker is not None:
                        self.report(blocker)
        except (psycopg.Error, ConsdbBotError) as error:
            log.warning("the run's lock waits cannot be watched: %s", type(error).__name__)


def waiting_text(blocker: Blocker, zone: ZoneInfo) -> str:
    """``waiting for a lock on cdb_lsstcam.exposure held by pid 4242 (query started 12:01:03 UTC, `SELECT ...`)``."""
    others = f" and {plural(blocker.others, 'other session')}" if blocker.others else ""
    return f"waiting for {blocker.lock} held by pid {blocker.pid}{others} ({_doing(blocker, zone)})"


def retry_text(retry: LockRetry, lock_timeout: str) -> str:
    """``lock not granted in 200ms, rolled back: retrying in 0.4 s (attempt 2)``."""
    return f"lock not granted in {lock_timeout}, rolled back: retrying in {retry.delay:.1f} s (attempt {retry.attempt})"


def told(retry: LockRetry) -> bool:
    """Whether the thread is told of this retry: every one of the first, then one in :data:`RETRIES_TOLD`."""
    return retry.attempt <= RETRIES_TOLD or retry.attempt % RETRIES_TOLD == 0


def gave_up_text(blocker: Blocker | None, *, attempts: int, seconds: float, lock_timeout: str, zone: ZoneInfo) -> str:
    """Why a migration stopped trying for its lock, who held it, and what to do."""
    tried = f"gave up after {_duration(seconds)} ({_attempts(attempts)}, each waiting {lock_timeout} for its lock)"
    more = "or raise migrations.lock_retry_seconds"
    if blocker is None:
        return (
            f"{tried}: a lock was not granted; run it when the sessions holding locks on its tables are done"
            f" (pg_locks and pg_stat_activity name them), {more}"
        )
    others = f" (and {plural(blocker.others, 'other session')})" if blocker.others else ""
    ends = "that session's transaction ends" if blocker.idle else "that query ends"
    return (
        f"{tried}: {blocker.lock} was held by pid {blocker.pid}{others} ({_doing(blocker, zone)});"
        f" run it when {ends}, {more}"
    )


def _doing(blocker: Blocker, zone: ZoneInfo) -> str:
    """What the blocking session is doing: its query, since when."""
    query = f"`{blocker.query}`" if blocker.query else "its query not readable by the bot's database user"
    if blocker.started is None:
        return query
    since = seconds_clock(blocker.started, zone, day_of=blocker.seen)
    if blocker.idle:
        return f"idle in transaction, its last query started {since}, {query}"
    return f"query started {since}, {query}"


def _attempts(count: int) -> str:
    return f"{count} attempt" + ("" if count == 1 else "s")


def _duration(seconds: float) -> str:
    """``2 s``, ``5 min``, ``5 min 2 s``."""
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")
