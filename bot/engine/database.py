"""The ConsDB databases as the engine sees them: version tables, locks, and safe error text.

Reads go straight to PostgreSQL with psycopg, one short connection per database, so that
status never runs env.py. Nothing here ever puts a password into a message.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.engine.online import Phase, PhaseKind
from bot.errors import ConfigError, DatabaseUnreachable, Refused
from bot.logs import shown_url

LOCK_NAMESPACE = zlib.crc32(b"consdb-bot") & 0x7FFFFFFF


@dataclass(frozen=True)
class DatabaseUrl:
    """A database URL that knows how to print itself without its password."""

    url: URL

    @classmethod
    def parse(cls, text: str, *, key: str) -> DatabaseUrl:
        try:
            url = make_url(text)
        except ArgumentError:
            raise ConfigError(
                f"{key} is not a database URL",
                hint="Write it as postgresql://USER@HOST:PORT/DATABASE (the password from the environment).",
            ) from None
        if not url.drivername.startswith("postgresql"):
            raise ConfigError(f"{key} must be a PostgreSQL URL, not {url.drivername}")
        return cls(url)

    @property
    def sqlalchemy(self) -> str:
        """For SQLAlchemy, and so for env.py: always the psycopg 3 driver."""
        return self.url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)

    @property
    def libpq(self) -> str:
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def secret(self) -> str | None:
        password = self.url.password if isinstance(self.url.password, str) else self.url.query.get("password")
        return password if isinstance(password, str) and password else None

    def redact(self, text: str) -> str:
        """``text`` with this URL's password, as typed or percent-encoded, replaced by ``***``."""
        if not self.secret:
            return text
        for form in (self.secret, quote(self.secret, safe=""), quote_plus(self.secret)):
            text = text.replace(form, "***")
        return text

    def __str__(self) -> str:
        return shown_url(self.url.set(drivername="postgresql"))

    def with_database(self, name: str) -> DatabaseUrl:
        return DatabaseUrl(self.url.set(database=name))


def connect(
    url: DatabaseUrl,
    *,
    connect_timeout: int,
    application_name: str = "consdb-bot",
    autocommit: bool = True,
) -> psycopg.Connection:
    try:
        return psycopg.connect(
            url.libpq,
            connect_timeout=connect_timeout,
            application_name=application_name,
            autocommit=autocommit,
        )
    except psycopg.Error as error:
        raise DatabaseUnreachable(
            f"cannot reach {url}: {url.redact(first_line(error))}",
            hint="Check that the server is up and the URL, user and password in the environment are right.",
        ) from None


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@dataclass(frozen=True)
class VersionTable:
    schema_name: str
    table_schema: str
    table: str


@dataclass(frozen=True)
class Unfinished:
    """An online run's transaction committed, and some of its phases are not done: the revisions it reaches
    once they are, and what each phase left does."""

    reaching: tuple[str, ...]
    phases: tuple[str, ...]

    def text(self, finish: str) -> str:
        """What to say of it, ``finish`` being the command that finishes it."""
        undone = "; ".join(self.phases) or "the version table's move"
        reaching = ", ".join(revision[:12] for revision in self.reaching) or "base"
        return (
            f"an online run to {reaching} committed its transaction; not yet done: {undone}."
            f" The version table moves once they are: `{finish}` finishes it"
        )


@dataclass(frozen=True)
class RecordedVersion:
    """What one schema's version table says, or that there is none."""

    schema_tables: int
    table_exists: bool
    revisions: tuple[str, ...]
    unfinished: Unfinished | None = None
    """What an online run committed and left undone: the version table waits for it."""

    @property
    def unversioned(self) -> bool:
        """Tables that no recorded revision accounts for: made without Alembic, or stamped to base."""
        return self.schema_tables > 0 and not self.revisions


def read_versions(connection: psycopg.Connection, tables: Sequence[VersionTable]) -> list[RecordedVersion]:
    """Every requested version table of one database, in two round trips (three when an online run left
    phases undone)."""
    rows = connection.execute(
        "SELECT t.schema_name,"
        " (SELECT count(*) FROM pg_tables p WHERE p.schemaname = t.schema_name),"
        " to_regclass(t.qualified) IS NOT NULL, to_regclass(t.phases) IS NOT NULL"
        " FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(schema_name, qualified, phases)",
        (
            [table.schema_name for table in tables],
            [_qualified(table).as_string(connection) for table in tables],
            [_beside(table, "phases").as_string(connection) for table in tables],
        ),
    ).fetchall()
    present = {schema_name: (count, exists, phased) for schema_name, count, exists, phased in rows}
    existing = [table for table in tables if present[table.schema_name][1]]
    revisions: dict[str, tuple[str, ...]] = {}
    if existing:
        union = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT %s AS schema_name, version_num FROM {}").format(_qualified(table)) for table in existing
        )
        for schema_name, version in connection.execute(union, [table.schema_name for table in existing]):
            revisions[schema_name] = (*revisions.get(schema_name, ()), version)
    return [
        RecordedVersion(
            schema_tables=present[table.schema_name][0],
            table_exists=present[table.schema_name][1],
            revisions=tuple(sorted(revisions.get(table.schema_name, ()))),
            unfinished=_unfinished(connection, table) if present[table.schema_name][2] else None,
        )
        for table in tables
    ]


def _unfinished(connection: psycopg.Connection, table: VersionTable) -> Unfinished:
    """What an online run of this schema committed and left undone (:mod:`bot.engine.phased_run`)."""
    reaching = connection.execute(sql.SQL("SELECT version_num FROM {}").format(_beside(table, "pending"))).fetchall()
    phases = connection.execute(
        sql.SQL("SELECT kind, schema_name, name, table_name, statement FROM {} WHERE NOT done ORDER BY position")
        .format(_beside(table, "phases"))
    ).fetchall()  # fmt: skip
    return Unfinished(
        tuple(sorted(row[0] for row in reaching)),
        tuple(Phase(PhaseKind(kind), schema, name, table_name, statement).text
              for kind, schema, name, table_name, statement in phases),
    )  # fmt: skip


def _beside(table: VersionTable, suffix: str) -> sql.Identifier:
    """An online run's own table beside the version table (``_pending``, ``_phases``)."""
    return sql.Identifier(table.table_schema, f"{table.table}_{suffix}")


def _qualified(table: VersionTable) -> sql.Identifier:
    """The version table's name, quoted whatever the tree's ini calls it."""
    return sql.Identifier(table.table_schema, table.table)


def lock_key(schema_name: str) -> tuple[int, int]:
    return LOCK_NAMESPACE, zlib.crc32(schema_name.encode()) & 0x7FFFFFFF


@contextmanager
def schema_locks(
    url: DatabaseUrl,
    schema_names: Sequence[str],
    *,
    holder: str,
    place: str,
    connect_timeout: int,
    wait: bool,
) -> Iterator[psycopg.Connection]:
    """Hold a session advisory lock per schema for as long as the block runs.

    A second runner is refused, told who holds the lock; with ``wait`` it queues instead. The
    locks live on this connection: if the bot dies, PostgreSQL releases them.
    """
    connection = connect(url, connect_timeout=connect_timeout, application_name=holder[:63])
    try:
        for schema_name in sorted(schema_names):
            key = lock_key(schema_name)
            if wait:
                connection.execute("SELECT pg_advisory_lock(%s, %s)", key)
                continue
            row = connection.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
            if not (row and row[0]):
                raise Refused(
                    f"{schema_name} at {place} is being changed by {lock_holder(connection, key)}",
                    hint="Wait for that run to finish (see `status`), or add --wait to queue behind it.",
                )
        yield connection
    finally:
        connection.close()


def lock_holder(connection: psycopg.Connection, key: tuple[int, int]) -> str:
    row = connection.execute(
        "SELECT a.application_name, a.usename, a.client_addr::text, a.backend_start"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.granted",
        key,
    ).fetchone()
    if row is None:
        return "another session (it has just finished; try again)"
    application, user, address, since = row
    origin = f"database user {user} from {address or 'local socket'}"
    return f"{application or 'a session'} ({origin}, since {since:%Y-%m-%d %H:%M:%S %Z})"
