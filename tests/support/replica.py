"""A real Summit → USDF logical replica on this machine: two private PostgreSQL servers, made as the
sandbox makes its own (``bot/sandbox/replica.py``: its settings, names and ``replicate``), one
publishing, one subscribing.

The servers last the session; each test gets a fresh database on each, the publication ``usdfpub``
at the summit (publishing ``cdb_latiss.exposure``), the subscription ``usdf_exposurelog`` at usdf,
both ends caught up, and everything dropped after (the subscription first, so its slot goes).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.sandbox.postgres import PrivatePostgres
from bot.sandbox.replica import SUBSCRIPTION, publisher_settings, replicate, subscriber_settings

EXPOSURE = ("cdb_latiss", "exposure")
"""The table the publication starts with, at both ends: ``(id bigint primary key, note text)``."""
SUMMIT_SETTINGS = publisher_settings(slots=20)
USDF_SETTINGS = subscriber_settings(workers=8, retry_interval="200ms")
"""The servers outlast each test's pair, with room for more slots and workers than the sandbox's one pair;
a worker that stopped on an error, or a table waiting for its copy, is tried again after 200 ms
(PostgreSQL's 5 s would only make the tests slower)."""
WAIT_SECONDS = 60
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T], done: Callable[[T], bool], *, seconds: float = WAIT_SECONDS) -> T:
    """Ask ``probe`` until ``done`` holds of its answer, or fail after ``seconds`` with the last answer."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while True:
        answer = probe()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s; last seen: {answer!r}")
        pause.wait(0.05)  # not time.sleep: libfaketime breaks it


@dataclass
class ReplicaServers:
    summit: PrivatePostgres
    usdf: PrivatePostgres


@contextmanager
def replica_servers() -> Iterator[ReplicaServers]:
    """Both servers, started; stopped and their folders removed after. Raises ConfigError if this
    machine has no PostgreSQL server programs."""
    summit = _started(PrivatePostgres(SUMMIT_SETTINGS))
    try:
        usdf = _started(PrivatePostgres(USDF_SETTINGS))
        try:
            yield ReplicaServers(summit, usdf)
        finally:
            usdf.__exit__(None, None, None)
    finally:
        summit.__exit__(None, None, None)


def _started(server: PrivatePostgres) -> PrivatePostgres:
    """The server, started; if it does not start, nothing of it is left behind."""
    try:
        return server.__enter__()
    except BaseException:
        server.__exit__(None, None, None)
        raise


@dataclass
class ReplicaPair:
    """One test's two databases, the summit's publishing to usdf's."""

    servers: ReplicaServers
    summit_database: str
    usdf_database: str
    password: str | None = None

    @property
    def summit_url(self) -> str:
        """The summit database's URL (with the test password, which trust ignores)."""
        return self._url(self.servers.summit, self.summit_database)

    @property
    def usdf_url(self) -> str:
        return self._url(self.servers.usdf, self.usdf_database)

    def _url(self, server: PrivatePostgres, database: str) -> str:
        url = make_url(server.url(database))
        return url.set(password=self.password).render_as_string(hide_password=False) if self.password else str(url)

    def summit(self) -> psycopg.Connection:
        """An autocommit connection to the summit database."""
        return psycopg.connect(self.servers.summit.url(self.summit_database), autocommit=True)

    def usdf(self) -> psycopg.Connection:
        return psycopg.connect(self.servers.usdf.url(self.usdf_database), autocommit=True)

    def on_both(self, statement: sql.Composed, params: tuple[Any, ...] = ()) -> None:
        """Run DDL at both ends: logical replication carries rows, not schema changes."""
        for connect in (self.summit, self.usdf):
            with connect() as connection:
                connection.execute(statement, params)

    def create_table(self, schema: str, name: str) -> None:
        """``schema.name (id bigint primary key, note text)`` at both ends, not published."""
        self.on_both(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        self.on_both(sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY, note text)").format(sql.Identifier(schema, name)))

    def at_usdf(self, query: sql.Composed | str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.usdf() as connection:
            return connection.execute(query, params).fetchall()

    def wait_at_usdf(
        self, query: sql.Composed | str, expected: list[tuple[Any, ...]], *, seconds: float = WAIT_SECONDS
    ) -> None:
        """Poll ``query`` at usdf until it returns ``expected``."""
        wait_for(
            f"usdf to return {expected!r}", lambda: self.at_usdf(query), lambda rows: rows == expected, seconds=seconds
        )

    def subscription_workers(self) -> list[int]:
        """The pids of the subscription's workers now running at usdf."""
        rows = self.at_usdf(
            "SELECT pid FROM pg_stat_subscription WHERE subname = %s AND pid IS NOT NULL", (SUBSCRIPTION,)
        )
        return [pid for (pid,) in rows]

    def wait_until_stopped(self) -> None:
        """Until no worker of the subscription runs at usdf (after DISABLE, they stop soon, not at once)."""
        wait_for("the subscription's workers to stop", self.subscription_workers, lambda pids: not pids)

    def wait_until_replicating(self) -> None:
        """Until the apply worker runs and every subscribed table has had its first copy."""
        wait_for(
            "the subscription to run with every table ready",
            lambda: (
                self.at_usdf(
                    "SELECT count(*) FROM pg_stat_subscription WHERE subname = %s AND relid IS NULL AND pid IS NOT NULL",
                    (SUBSCRIPTION,),
                ),
                self.at_usdf(
                    "SELECT r.srrelid::regclass::text, r.srsubstate FROM pg_subscription_rel r"
                    " JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = %s AND r.srsubstate <> 'r'",
                    (SUBSCRIPTION,),
                ),
            ),
            lambda seen: seen == ([(1,)], []),
        )


@contextmanager
def replica_pair(servers: ReplicaServers, *, password: str | None = None) -> Iterator[ReplicaPair]:
    """A fresh database on each server, published and subscribed, caught up; all dropped after."""
    tag = secrets.token_hex(5)
    pair = ReplicaPair(servers, f"summit_{tag}", f"usdf_{tag}", password)
    servers.summit.create_database(pair.summit_database)
    try:
        servers.usdf.create_database(pair.usdf_database)
        try:
            pair.create_table(*EXPOSURE)
            replicate(servers.summit, pair.summit_url, pair.usdf_url)  # its only ConsDB table: EXPOSURE
            pair.wait_until_replicating()
            yield pair
        finally:
            _drop_subscription(pair)
            _drop_database(servers.usdf, pair.usdf_database)
    finally:
        _drop_slots(servers.summit, pair.summit_database)
        _drop_database(servers.summit, pair.summit_database)


def _drop_subscription(pair: ReplicaPair) -> None:
    """DROP SUBSCRIPTION, which drops its slot at the summit too; if the summit cannot be asked (a
    test stopped it, or the slot is held), the subscription is dropped alone and the slot after."""
    subscription = sql.Identifier(SUBSCRIPTION)
    try:
        with pair.usdf() as usdf:
            usdf.execute(sql.SQL("DROP SUBSCRIPTION IF EXISTS {}").format(subscription))
    except psycopg.Error:
        with pair.usdf() as usdf:
            if usdf.execute("SELECT FROM pg_subscription WHERE subname = %s", (SUBSCRIPTION,)).fetchone():
                usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(subscription))
                usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} SET (slot_name = NONE)").format(subscription))
                usdf.execute(sql.SQL("DROP SUBSCRIPTION {}").format(subscription))


def _drop_slots(server: PrivatePostgres, database: str) -> None:
    """Every replication slot left in ``database``: a database with one cannot be dropped, and a slot
    left behind would stop the next test's subscription from making its own."""
    with psycopg.connect(server.url(), autocommit=True) as connection:

        def left() -> list[tuple[str, int | None]]:
            query = "SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = %s"
            return connection.execute(query, (database,)).fetchall()

        def drop_them() -> list[tuple[str, int | None]]:
            for name, pid in left():
                if pid is not None:
                    connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    continue
                try:
                    connection.execute("SELECT pg_drop_replication_slot(%s)", (name,))
                except psycopg.errors.ObjectInUse:
                    continue  # taken again meanwhile: the next round ends it
            return left()

        wait_for(f"the replication slots in {database} to be dropped", drop_them, lambda slots: not slots)


def _drop_database(server: PrivatePostgres, database: str) -> None:
    with psycopg.connect(server.url(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
