"""A logical replica as the engine sees it: the subscription at the replica, the publication and its
slot at the publisher, and the steps of a schema change that pauses and resumes it.

The Summit publishes the ConsDB tables (publication ``usdfpub``); USDF subscribes (subscription
``usdf_exposurelog``). A schema change disables the subscription, migrates both sides, adds the new
tables to the publication, enables the subscription, refreshes it and checks with a marker row that
changes arrive again. Every name reaches SQL quoted; no message carries a password.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from bot.config import Replica
from bot.engine.database import DatabaseUrl, connect, first_line
from bot.errors import OperationFailed, Refused
from bot.words import plural

log = logging.getLogger(__name__)

STATS_VERSION = 150000
"""``pg_stat_subscription_stats`` (apply and sync error counts) exists from PostgreSQL 15."""
NOT_READY = {"i": "initialising", "d": "copying", "f": "copied", "s": "synchronised, catching up"}
"""``pg_subscription_rel.srsubstate`` of a table the subscription has not finished taking up."""
HARMFUL_WAL_STATUS = {"unreserved": "about to lose WAL it needs", "lost": "has lost WAL it needed"}


@dataclass(frozen=True, order=True)
class Table:
    """A table by schema and name, as a publication lists it."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


MARKER = Table("cdb", "replication_marker")
"""The bot's own table, one row per subscription, that proves changes arrive.

``cdb`` holds ConsDB's Alembic version tables, so it exists at both ends where the bot migrates, and
no ConsDB model (whose schemas are ``cdb_*`` and ``efd_*``) describes it."""


@dataclass(frozen=True)
class ReplicaLink:
    """Both ends of one logical replica: where the publication is, and where the subscription is.

    ``publisher_place`` and ``subscriber_place`` name them in messages (environment keys)."""

    publisher: DatabaseUrl
    subscriber: DatabaseUrl
    publication: str
    subscription: str
    publisher_place: str = "the publisher"
    subscriber_place: str = "the replica"
    connect_timeout: int = 5

    @classmethod
    def configured(
        cls,
        replica: Replica,
        *,
        publisher: DatabaseUrl,
        subscriber: DatabaseUrl,
        subscriber_place: str,
        connect_timeout: int,
    ) -> ReplicaLink:
        """The link of an environment whose configuration has ``replica: {of, subscription, publication}``."""
        return cls(
            publisher=publisher,
            subscriber=subscriber,
            publication=replica.publication,
            subscription=replica.subscription,
            publisher_place=replica.of,
            subscriber_place=subscriber_place,
            connect_timeout=connect_timeout,
        )

    def redact(self, text: str) -> str:
        return self.subscriber.redact(self.publisher.redact(text))


@dataclass(frozen=True)
class Worker:
    """The subscription's apply worker, as ``pg_stat_subscription`` shows it at the replica."""

    pid: int
    received_lsn: str | None
    last_message_at: datetime | None
    latest_end_lsn: str | None
    latest_end_time: datetime | None


@dataclass(frozen=True)
class Subscription:
    """A subscription at the replica: whether it is enabled, its worker, and its error counts.

    ``apply_errors`` and ``sync_errors`` count since ``stats_reset`` (None before PostgreSQL 15)."""

    name: str
    enabled: bool
    slot_name: str | None
    publications: tuple[str, ...]
    worker: Worker | None
    tables: tuple[Table, ...]
    not_ready: tuple[tuple[Table, str], ...]
    apply_errors: int | None
    sync_errors: int | None
    stats_reset: datetime | None


@dataclass(frozen=True)
class Slot:
    """The subscription's replication slot at the publisher.

    ``retained_bytes`` is the WAL the publisher keeps for it (current LSN minus ``restart_lsn``);
    ``lag_bytes`` what the replica has yet to confirm (current LSN minus ``confirmed_flush_lsn``)."""

    name: str
    active: bool
    wal_status: str | None
    retained_bytes: int | None
    lag_bytes: int | None
    replay_lag: timedelta | None


@dataclass(frozen=True)
class ReplicaHealth:
    """Both ends read together: what ``status`` shows and what a rollout checks before it starts."""

    subscription: Subscription
    slot: Slot | None

    def problems(self) -> list[str]:
        """What stops changes arriving now, in words; empty when replication runs."""
        name = self.subscription.name
        problems = []
        if not self.subscription.enabled:
            problems.append(f"subscription {name} is disabled")
        elif self.subscription.worker is None:
            problems.append(f"subscription {name} is enabled but its worker is not running")
        problems += [f"{table} is not replicating yet ({state})" for table, state in self.subscription.not_ready]
        if self.subscription.slot_name is None:
            problems.append(f"subscription {name} has no replication slot")
        elif self.slot is None:
            problems.append(f"the publisher has no replication slot {self.subscription.slot_name}")
        else:
            if self.subscription.enabled and not self.slot.active:
                problems.append(f"replication slot {self.slot.name} is not active")
            if self.slot.wal_status in HARMFUL_WAL_STATUS:
                problems.append(f"replication slot {self.slot.name} {HARMFUL_WAL_STATUS[self.slot.wal_status]}")
        return problems

    @property
    def healthy(self) -> bool:
        return not self.problems()


@dataclass(frozen=True)
class Verification:
    """A marker row arrived: how long it took, and both ends as they were when it had."""

    token: str
    seconds: float
    health: ReplicaHealth
    apply_errors: int | None
    """Apply errors the replica counted while the marker travelled (None before PostgreSQL 15)."""


class ReplicationStalled(OperationFailed):
    """The marker did not arrive in time; ``health`` says what each end looked like then."""

    def __init__(self, message: str, *, hint: str, health: ReplicaHealth) -> None:
        super().__init__(message, hint=hint)
        self.health = health


@contextmanager
def _session(link: ReplicaLink, url: DatabaseUrl, place: str, doing: str) -> Iterator[psycopg.Connection]:
    """A short autocommit connection (REFRESH PUBLICATION refuses a transaction block) whose errors
    become the bot's, passwords out."""
    connection = connect(url, connect_timeout=link.connect_timeout, application_name="consdb-bot replication")
    try:
        yield connection
    except psycopg.errors.InsufficientPrivilege as error:
        raise Refused(
            f"the database user at {place} may not {doing}: {link.redact(first_line(error))}",
            hint="Changing a subscription needs its owner, a publication its owner (or a superuser): "
            "give the bot's database user that role there. Nothing was changed.",
        ) from None
    except psycopg.Error as error:
        raise OperationFailed(
            f"could not {doing} at {place}: {link.redact(first_line(error))}",
            hint="That statement was rolled back; see the server's log there, then try again.",
        ) from None
    finally:
        connection.close()


def _subscription_row(connection: psycopg.Connection, link: ReplicaLink) -> tuple[int, bool, str | None, list[str]]:
    """The subscription's oid, enabled, slot name and publications, in this database; refused if none."""
    row = connection.execute(
        "SELECT s.oid, s.subenabled, s.subslotname, s.subpublications"
        " FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid"
        " WHERE d.datname = current_database() AND s.subname = %s",
        (link.subscription,),
    ).fetchone()
    if row is None:
        raise Refused(
            f"there is no subscription {link.subscription} in the database at {link.subscriber_place}",
            hint=f"Correct environments.{link.subscriber_place}.replica.subscription, "
            "or create the subscription as the replica runbook says.",
        )
    return int(row[0]), bool(row[1]), row[2], list(row[3])


def _all_tables(connection: psycopg.Connection, link: ReplicaLink) -> bool:
    """Whether the publication is FOR ALL TABLES; refused if there is no such publication."""
    row = connection.execute(
        "SELECT puballtables FROM pg_publication WHERE pubname = %s", (link.publication,)
    ).fetchone()
    if row is None:
        raise Refused(
            f"there is no publication {link.publication} in the database at {link.publisher_place}",
            hint="Correct the replica's publication in the configuration, "
            "or create the publication as the replica runbook says.",
        )
    return bool(row[0])


def read_subscription(link: ReplicaLink) -> Subscription:
    """The subscription at the replica: enabled, its apply worker, its tables and its error counts."""
    with _session(link, link.subscriber, link.subscriber_place, "read the subscription") as connection:
        oid, enabled, slot_name, publications = _subscription_row(connection, link)
        worker_row = connection.execute(
            "SELECT pid, received_lsn::text, last_msg_receipt_time, latest_end_lsn::text, latest_end_time"
            " FROM pg_stat_subscription WHERE subid = %s AND relid IS NULL AND pid IS NOT NULL",
            (oid,),
        ).fetchone()
        tables = connection.execute(
            "SELECT n.nspname, c.relname, r.srsubstate FROM pg_subscription_rel r"
            " JOIN pg_class c ON c.oid = r.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE r.srsubid = %s ORDER BY 1, 2",
            (oid,),
        ).fetchall()
        stats: tuple[int | None, int | None, datetime | None] = (None, None, None)
        if connection.info.server_version >= STATS_VERSION:
            row = connection.execute(
                "SELECT apply_error_count, sync_error_count, stats_reset FROM pg_stat_subscription_stats"
                " WHERE subid = %s",
                (oid,),
            ).fetchone()
            stats = (int(row[0]), int(row[1]), row[2]) if row else (0, 0, None)
    return Subscription(
        name=link.subscription,
        enabled=enabled,
        slot_name=slot_name,
        publications=tuple(publications),
        worker=Worker(*worker_row) if worker_row else None,
        tables=tuple(Table(schema, name) for schema, name, _ in tables),
        not_ready=tuple(
            (Table(schema, name), NOT_READY.get(state, state)) for schema, name, state in tables if state != "r"
        ),
        apply_errors=stats[0],
        sync_errors=stats[1],
        stats_reset=stats[2],
    )


def read_slot(link: ReplicaLink, slot_name: str) -> Slot | None:
    """The replication slot at the publisher, with the WAL it retains and the replica's lag; None if
    there is none."""
    with _session(link, link.publisher, link.publisher_place, "read the replication slot") as connection:
        row = connection.execute(
            "SELECT s.slot_name, s.active, s.wal_status,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,"
            " r.replay_lag"
            " FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid"
            " WHERE s.slot_name = %s",
            (slot_name,),
        ).fetchone()
    return Slot(*row) if row else None


def read_health(link: ReplicaLink) -> ReplicaHealth:
    """The subscription at the replica and its slot at the publisher."""
    subscription = read_subscription(link)
    slot = read_slot(link, subscription.slot_name) if subscription.slot_name else None
    return ReplicaHealth(subscription, slot)


def disable_subscription(link: ReplicaLink, *, stop_seconds: float = 30, poll_seconds: float = 0.1) -> None:
    """``ALTER SUBSCRIPTION ... DISABLE``, then wait until its workers have stopped: from then on
    nothing is applied at the replica, and the publisher's slot keeps every change for later.

    Disabling a disabled subscription does nothing, so a resumed rollout may do it again."""
    statement = sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(sql.Identifier(link.subscription))
    with _session(link, link.subscriber, link.subscriber_place, f"disable subscription {link.subscription}") as db:
        oid = _subscription_row(db, link)[0]
        db.execute(statement)
        log.info("subscription %s at %s disabled", link.subscription, link.subscriber_place)

        def workers() -> list[int]:
            query = "SELECT pid FROM pg_stat_subscription WHERE subid = %s AND pid IS NOT NULL"
            return [pid for (pid,) in db.execute(query, (oid,))]

        if not _poll(lambda: not workers(), seconds=stop_seconds, every=poll_seconds):
            pids = ", ".join(map(str, workers()))
            raise OperationFailed(
                f"subscription {link.subscription} at {link.subscriber_place} is disabled, but its worker"
                f" (pid {pids}) still runs after {stop_seconds:g} s",
                hint="Do not migrate yet: it may still apply changes. "
                "See that server's log, and disable the subscription again.",
            )


def enable_subscription(link: ReplicaLink) -> None:
    """``ALTER SUBSCRIPTION ... ENABLE``: its worker starts and takes up from where the slot stopped."""
    statement = sql.SQL("ALTER SUBSCRIPTION {} ENABLE").format(sql.Identifier(link.subscription))
    with _session(link, link.subscriber, link.subscriber_place, f"enable subscription {link.subscription}") as db:
        _subscription_row(db, link)
        db.execute(statement)
    log.info("subscription %s at %s enabled", link.subscription, link.subscriber_place)


def refresh_publication(link: ReplicaLink, *, copy_data: bool = True) -> None:
    """``ALTER SUBSCRIPTION ... REFRESH PUBLICATION``: the replica takes up tables the publication has
    gained (copying their rows first, with ``copy_data``) and lets go of those it lost.

    PostgreSQL allows it only on an enabled subscription, outside a transaction block."""
    statement = sql.SQL("ALTER SUBSCRIPTION {} REFRESH PUBLICATION WITH (copy_data = {})").format(
        sql.Identifier(link.subscription), sql.SQL("true" if copy_data else "false")
    )
    doing = f"refresh subscription {link.subscription}"
    with _session(link, link.subscriber, link.subscriber_place, doing) as db:
        if not _subscription_row(db, link)[1]:
            raise Refused(
                f"subscription {link.subscription} at {link.subscriber_place} is disabled,"
                " and PostgreSQL refreshes only an enabled subscription",
                hint="Enable it first (the rollout's order: enable, then refresh).",
            )
        db.execute(statement)
    log.info("subscription %s at %s refreshed", link.subscription, link.subscriber_place)


def publication_tables(link: ReplicaLink) -> list[Table]:
    """The tables the publication publishes (``pg_publication_tables``), sorted."""
    with _session(link, link.publisher, link.publisher_place, f"read publication {link.publication}") as db:
        _all_tables(db, link)
        rows = db.execute(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s ORDER BY 1, 2",
            (link.publication,),
        ).fetchall()
    return [Table(schema, name) for schema, name in rows]


def publisher_tables(link: ReplicaLink, schemas: Iterable[str]) -> list[Table]:
    """The tables in these schemas at the publisher (``pg_tables``), sorted: what the publication
    should cover."""
    with _session(link, link.publisher, link.publisher_place, "read the tables") as db:
        rows = db.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2",
            (sorted(set(schemas)),),
        ).fetchall()
    return [Table(schema, name) for schema, name in rows]


def add_to_publication(link: ReplicaLink, tables: Iterable[Table]) -> list[Table]:
    """``ALTER PUBLICATION ... ADD TABLE`` for those of ``tables`` it does not publish yet, in one
    statement (all or none); returns them. A FOR ALL TABLES publication already has them all."""
    wanted = sorted(set(tables))
    doing = f"add tables to publication {link.publication}"
    with _session(link, link.publisher, link.publisher_place, doing) as db, db.transaction():
        if _all_tables(db, link) or not wanted:
            return []
        missing = _absent(db, wanted)
        if missing:
            raise Refused(
                f"{', '.join(map(str, missing))} does not exist at {link.publisher_place},"
                f" so publication {link.publication} cannot publish it",
                hint=f"Migrate {link.publisher_place} first: a table joins the publication after the migration"
                " that creates it.",
            )
        added = [table for table in wanted if table not in _published(db, link)]
        if added:
            db.execute(
                sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(
                    sql.Identifier(link.publication), sql.SQL(", ").join(table.identifier for table in added)
                )
            )
    log.info("publication %s at %s: added %s", link.publication, link.publisher_place, ", ".join(map(str, added)))
    return added


def drop_from_publication(link: ReplicaLink, tables: Iterable[Table]) -> list[Table]:
    """``ALTER PUBLICATION ... DROP TABLE`` for those of ``tables`` it publishes, in one statement;
    returns them. (A table that is dropped leaves every publication by itself, a FOR ALL TABLES one too.)"""
    wanted = sorted(set(tables))
    doing = f"drop tables from publication {link.publication}"
    with _session(link, link.publisher, link.publisher_place, doing) as db, db.transaction():
        if _all_tables(db, link):
            gone = _absent(db, wanted)
            if all(table in gone for table in wanted):
                return []
            raise Refused(
                f"publication {link.publication} at {link.publisher_place} publishes all tables:"
                " one cannot be taken out of it",
                hint="Leave the table in, or drop the table itself.",
            )
        dropped = [table for table in wanted if table in _published(db, link)]
        if dropped:
            db.execute(
                sql.SQL("ALTER PUBLICATION {} DROP TABLE {}").format(
                    sql.Identifier(link.publication), sql.SQL(", ").join(table.identifier for table in dropped)
                )
            )
    log.info("publication %s at %s: dropped %s", link.publication, link.publisher_place, ", ".join(map(str, dropped)))
    return dropped


def _published(connection: psycopg.Connection, link: ReplicaLink) -> set[Table]:
    rows = connection.execute(
        "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s", (link.publication,)
    )
    return {Table(schema, name) for schema, name in rows}


def _absent(connection: psycopg.Connection, tables: list[Table]) -> list[Table]:
    rows = connection.execute(
        "SELECT t.s, t.n FROM unnest(%s::text[], %s::text[]) AS t(s, n)"
        " WHERE NOT EXISTS (SELECT FROM pg_tables p WHERE p.schemaname = t.s AND p.tablename = t.n)",
        ([table.schema for table in tables], [table.name for table in tables]),
    )
    return [Table(schema, name) for schema, name in rows]


def _make_marker(connection: psycopg.Connection) -> None:
    """The marker table, made if missing. An existing schema or table is left as it is: PostgreSQL checks
    the right to create a schema before it looks whether one exists, and a comment needs the owner."""
    schema, table = connection.execute(
        "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s),"
        " EXISTS (SELECT FROM pg_tables WHERE schemaname = %s AND tablename = %s)",
        (MARKER.schema, MARKER.schema, MARKER.name),
    ).fetchone() or (False, False)
    if not schema:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(MARKER.schema)))
    if not table:
        connection.execute(
            sql.SQL(
                "CREATE TABLE {} (subscription text PRIMARY KEY, token text NOT NULL,"
                " written_at timestamptz NOT NULL DEFAULT now())"
            ).format(MARKER.identifier)
        )
        connection.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(
                MARKER.identifier,
                sql.Literal(
                    "consdb-bot's proof that logical replication applies changes: one row per subscription,"
                    " rewritten at each check. Safe to truncate."
                ),
            )
        )


def prepare_marker(link: ReplicaLink) -> bool:
    """Make the marker table at both ends and add it to the publication; returns whether the
    subscription has yet to take it up, which the next ``refresh_publication`` does.

    Until then the replica's copy is emptied, so that the refresh's first copy of the publisher's
    rows cannot collide with rows left from an earlier subscription."""
    with (
        _session(link, link.publisher, link.publisher_place, f"make the marker table {MARKER}") as db,
        db.transaction(),
    ):
        _make_marker(db)
    add_to_publication(link, [MARKER])
    with _session(link, link.subscriber, link.subscriber_place, f"make the marker table {MARKER}") as db:
        oid = _subscription_row(db, link)[0]
        with db.transaction():
            _make_marker(db)
            subscribed = db.execute(
                "SELECT FROM pg_subscription_rel WHERE srsubid = %s AND srrelid = to_regclass(%s)",
                (oid, MARKER.identifier.as_string(db)),
            ).fetchone()
            if subscribed is None:
                db.execute(sql.SQL("TRUNCATE {}").format(MARKER.identifier))
    return subscribed is None


def verify_replication(link: ReplicaLink, *, timeout_seconds: float, poll_seconds: float = 0.2) -> Verification:
    """Write a marker row at the publisher and wait for it at the replica, all within ``timeout_seconds``.

    The replica applies the publisher's transactions in commit order and stops at the first it cannot
    apply, so a marker written after a migration arrives only if every change before it, new columns
    included, was applied. That holds once the marker table is ready at the replica (its first copy
    done), so the marker is written only then."""
    before = read_subscription(link)
    if not before.enabled:
        raise Refused(
            f"subscription {link.subscription} at {link.subscriber_place} is disabled: no change can arrive",
            hint="Enable it (and refresh it) before checking that replication runs.",
        )
    if MARKER not in before.tables:
        raise Refused(
            f"subscription {link.subscription} does not replicate the marker table {MARKER} yet",
            hint="Prepare the marker (it joins the publication), then refresh the subscription.",
        )
    token = secrets.token_hex(8)
    began = time.monotonic()
    with _session(link, link.subscriber, link.subscriber_place, f"read the marker row in {MARKER}") as replica:
        marker = MARKER.identifier.as_string(replica)

        def ready() -> bool:
            row = replica.execute(
                "SELECT r.srsubstate FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid"
                " JOIN pg_database d ON d.oid = s.subdbid WHERE d.datname = current_database()"
                " AND s.subname = %s AND r.srrelid = to_regclass(%s)",
                (link.subscription, marker),
            ).fetchone()
            return row == ("r",)

        def arrived() -> bool:
            query = sql.SQL("SELECT token FROM {} WHERE subscription = %s").format(MARKER.identifier)
            return replica.execute(query, (link.subscription,)).fetchone() == (token,)

        # Until its first copy is done the marker table takes rows from that copy, not in commit order.
        came = _poll(ready, seconds=timeout_seconds, every=poll_seconds)
        if came:
            with _session(link, link.publisher, link.publisher_place, f"write a marker row into {MARKER}") as db:
                db.execute(
                    sql.SQL(
                        "INSERT INTO {} (subscription, token) VALUES (%s, %s)"
                        " ON CONFLICT (subscription) DO UPDATE SET token = EXCLUDED.token, written_at = now()"
                    ).format(MARKER.identifier),
                    (link.subscription, token),
                )
            left = max(0.0, timeout_seconds - (time.monotonic() - began))
            came = _poll(arrived, seconds=left, every=poll_seconds)
    seconds = time.monotonic() - began
    health = read_health(link)
    if not came:
        raise ReplicationStalled(
            f"a marker row written at {link.publisher_place} did not arrive at {link.subscriber_place}"
            f" within {timeout_seconds:g} s",
            hint=_stalled_hint(health, before),
            health=health,
        )
    errors = before.apply_errors
    after = health.subscription.apply_errors
    log.info("marker arrived at %s in %.2f s", link.subscriber_place, seconds)
    return Verification(
        token=token,
        seconds=seconds,
        health=health,
        apply_errors=None if errors is None or after is None else after - errors,
    )


def _stalled_hint(health: ReplicaHealth, before: Subscription) -> str:
    """What the two ends say about why nothing arrives, and what to do."""
    said = health.problems()
    now, then = health.subscription.apply_errors, before.apply_errors
    if now is not None and then is not None and now > then:
        said.append(
            f"the replica failed to apply a change {plural(now - then, 'time')} meanwhile, most often for a column or"
            " table the publisher has and the replica lacks: migrate the replica to the same revisions"
            " (its server log names the table)"
        )
    return _sentence("; ".join(said)) or (
        "The worker runs but has not applied it yet: see the lag in `status` and the replica's server log."
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("." if text else "")


def _poll(done: Callable[[], bool], *, seconds: float, every: float) -> bool:
    """Whether ``done`` became true before ``seconds`` passed, asking every ``every`` seconds."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while True:
        if done():
            return True
        if time.monotonic() >= deadline:
            return False
        pause.wait(min(every, max(0.0, deadline - time.monotonic())))  # not time.sleep: libfaketime breaks it
