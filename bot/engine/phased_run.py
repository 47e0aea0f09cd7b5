"""One schema's online run, inside the child process: the rules of :mod:`bot.engine.online` applied to the
statements Alembic executes, then the phases after its transaction commits, then the version table moved.

The shadow version table and the table of phases (``<version table>_pending`` and ``_phases``) are made in
the run's transaction at its first statement that leaves it, so that they are committed with its work or not
at all; a run that has nothing to leave its transaction runs exactly as Alembic runs it.

An ``ALTER TABLE`` that makes PostgreSQL rewrite a table holding rows (a volatile default such as
``clock_timestamp()``, a type change that is not binary-coercible) holds its writers back for as long as the
rewrite takes. Whether it did is exact only once it ran (the table's ``relfilenode`` changed): then, unless the
run allows it (``--allow-rewrite``), the run fails and its transaction rolls back. The lint says it before.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.engine.online import (
    Phase,
    PhaseKind,
    altered_table,
    created_table,
    mentions,
    rewrite,
    table_key,
    unquoted,
)

Emit = Callable[..., None]
_SHOWN_STATEMENT = 160
"""How much of a refused statement the error shows."""


class RewriteRefused(RuntimeError):
    """A statement rewrote a table holding rows, and the run was not asked to allow it."""


@dataclass(frozen=True)
class _Watched:
    """A table an ``ALTER TABLE`` is about to change, as it was just before."""

    table: str
    statement: str
    relfilenode: int
    size: str
    """Rows (an estimate) and size on disk, as the messages say them."""


class PhasedRun:
    """Rewrites the run's statements (:meth:`before_execute`), then does what they left (:meth:`finish`)."""

    def __init__(
        self, url: str, version_schema: str, version_table: str, emit: Emit, *, allow_rewrite: bool = False
    ) -> None:
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.version_schema = version_schema
        self.version = sql.Identifier(version_schema, version_table)
        self.pending = sql.Identifier(version_schema, f"{version_table}_pending")
        self.phases = sql.Identifier(version_schema, f"{version_table}_phases")
        self.emit = emit
        self._version_name = re.compile(
            rf'"?{re.escape(version_schema)}"?\."?{re.escape(version_table)}"?(?![\w"])', re.IGNORECASE
        )
        self.existing: set[str] = set()
        self.start: list[str] = []
        self.left: list[Phase] = []
        self.originals: dict[str, str] = {}
        self.active = False
        self.rewriting = False
        self.allow_rewrite = allow_rewrite
        self.watched: _Watched | None = None
        self.online = True
        """False where a publication would carry the run's own tables to a subscriber that has none."""
        self.escaped = False
        self.positions = 0

    def begin(self) -> None:
        """Before Alembic: finish what an earlier run left, then note the tables that hold rows and where the
        version table stands."""
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            if self._unfinished(connection):
                self.emit(event="phase", text="an earlier run left phases undone: finishing them first")
                self._run_phases(connection)
            self.existing = {  # ordinary tables: a partitioned one cannot have an index built concurrently
                f"{schema}.{table}"
                for schema, table in connection.execute(
                    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind = 'r'"
                ).fetchall()
            }
            published = _publishing(connection, self.version_schema)
            if published:
                self.online = False
                self.emit(
                    event="phase",
                    text=f"publication {published} publishes every table of {self.version.as_string(connection)}'s"
                    " schema, so this run keeps its work in its one transaction, as Alembic runs it",
                )
            if _exists(connection, self.version):
                read = connection.execute(sql.SQL("SELECT version_num FROM {}").format(self.version))
                self.start = [row[0] for row in read]
        self.rewriting = True

    def before_execute(self, cursor: Any, statement: str, parameters: Any) -> str:
        """The statement as the transaction runs it. SQLAlchemy doubles each ``%`` of a statement it executes with
        parameters (psycopg makes it one again): what is kept to run later without parameters is taken back."""
        if not self.rewriting:
            return statement
        self.escaped = parameters is not None
        executed = self._rewritten(cursor, statement) if self.online else statement
        self._watch(cursor, executed)
        return executed

    def after_execute(self, cursor: Any) -> None:
        """After a watched ``ALTER TABLE``: a table it rewrote is refused, unless the run allows it."""
        watched, self.watched = self.watched, None
        if watched is None:
            return
        relfilenode, _ = _relation(cursor, watched.table)
        if relfilenode == watched.relfilenode:
            return
        if not self.allow_rewrite:
            shown = " ".join(watched.statement.split())
            shown = shown if len(shown) <= _SHOWN_STATEMENT else shown[: _SHOWN_STATEMENT - 1] + "…"
            raise RewriteRefused(
                f"`{shown}` rewrote {unquoted(watched.table)} ({watched.size}) under an exclusive lock, which holds"
                " its writers back until it is done: refused. Ask again with --allow-rewrite, or add the column"
                " without a default and fill it in batches"
            )
        self.emit(
            event="phase",
            text=f"rewrote {unquoted(watched.table)} ({watched.size}) under an exclusive lock, as allowed",
        )

    def _watch(self, cursor: Any, statement: str) -> None:
        """Note the table of an ``ALTER TABLE`` that holds rows (it has pages on disk) as it is before it runs."""
        self.watched = None
        table = altered_table(statement)
        if table is None or table_key(table) not in self.existing:
            return
        relfilenode, size = _relation(cursor, table)
        if relfilenode is not None and size:
            self.watched = _Watched(table, statement, relfilenode, size)

    def _rewritten(self, cursor: Any, statement: str) -> str:
        for phase in [phase for phase in self.left if mentions(statement, phase)]:  # needed now: done here
            cursor.execute(self.originals.pop(phase.name) if phase.kind is PhaseKind.INDEX else phase.statement)
            cursor.execute(sql.SQL("DELETE FROM {} WHERE name = %s").format(self.phases), (phase.name,))
            self.left.remove(phase)
            self.emit(event="phase", text=f"{phase.text}: done in the transaction, as a later statement needs it")
        if self.active and self.writes_version(statement):
            return self._version_name.sub(self.pending.as_string(cursor.connection), statement)
        made = created_table(statement)
        if made:
            self.existing.discard(made)
        rewritten = rewrite(statement, self.existing)
        if rewritten.phase is None:
            return statement
        if not self.active:
            self._activate(cursor)
        phase = replace(rewritten.phase, statement=self._unescaped(rewritten.phase.statement))
        self.left.append(phase)
        self.positions += 1
        if phase.kind is PhaseKind.INDEX:
            self.originals[phase.name] = self._unescaped(statement)
        cursor.execute(
            sql.SQL("INSERT INTO {} (position, kind, schema_name, name, table_name, statement) VALUES"
                    " (%s, %s, %s, %s, %s, %s)").format(self.phases),
            (self.positions, phase.kind.value, phase.schema, phase.name, phase.table, phase.statement),
        )  # fmt: skip
        self.emit(event="phase", text=f"{phase.text}: left for after the transaction")
        return rewritten.statement

    def _unescaped(self, statement: str) -> str:
        """A statement as psycopg runs it without parameters: each ``%`` SQLAlchemy doubled made one again."""
        return statement.replace("%%", "%") if self.escaped else statement

    def writes_version(self, statement: str) -> bool:
        return self._version_name.match(_target_of(statement)) is not None

    def _activate(self, cursor: Any) -> None:
        """The first statement that leaves the transaction: the version table goes back to where the run
        started (what it reached so far moves to the shadow table), and its writes go to the shadow table."""
        version, pending, phases = self.version, self.pending, self.phases
        cursor.execute(sql.SQL("CREATE TABLE {} (version_num varchar(32) NOT NULL)").format(pending))
        cursor.execute(sql.SQL("INSERT INTO {} (version_num) SELECT version_num FROM {}").format(pending, version))
        cursor.execute(sql.SQL("SELECT version_num FROM {}").format(version))
        if sorted(row[0] for row in cursor.fetchall()) != sorted(self.start):  # earlier revisions of the run moved it
            cursor.execute(sql.SQL("DELETE FROM {}").format(version))
            for revision in self.start:
                cursor.execute(sql.SQL("INSERT INTO {} (version_num) VALUES (%s)").format(version), (revision,))
        cursor.execute(
            sql.SQL("CREATE TABLE {} (position integer PRIMARY KEY, kind text NOT NULL, schema_name text NOT NULL,"
                    " name text NOT NULL, table_name text NOT NULL, statement text NOT NULL,"
                    " done boolean NOT NULL DEFAULT false)").format(phases)
        )  # fmt: skip
        self.active = True

    def finish(self) -> None:
        """After Alembic's transaction committed: each phase, then the version table."""
        self.rewriting = False
        if not self.active:
            return
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            self._run_phases(connection)

    def _unfinished(self, connection: psycopg.Connection) -> bool:
        return _exists(connection, self.phases)

    def _run_phases(self, connection: psycopg.Connection) -> None:
        """Every phase not yet done, in order, each recorded done as it ends; then the version table moved and
        the run's own tables dropped, in one short transaction."""
        connection.execute("SET lock_timeout = 0")  # these locks hold back no writer: waiting is harmless
        rows = connection.execute(
            sql.SQL("SELECT position, kind, schema_name, name, table_name, statement FROM {} WHERE NOT done"
                    " ORDER BY position").format(self.phases)
        ).fetchall()  # fmt: skip
        for position, kind, schema, name, table, statement in rows:
            phase = Phase(PhaseKind(kind), schema, name, table, statement)
            began = time.monotonic()
            if phase.kind is PhaseKind.INDEX:
                self._build(connection, phase)
            else:
                self._execute(connection, phase.statement)
            connection.execute(
                sql.SQL("UPDATE {} SET done = true WHERE position = %s").format(self.phases), (position,)
            )
            self.emit(event="phase", text=f"{phase.text}: done ({time.monotonic() - began:.1f} s)")
        with connection.transaction():
            self._execute(connection, sql.SQL("DELETE FROM {}").format(self.version))
            self._execute(
                connection, sql.SQL("INSERT INTO {} (version_num) SELECT version_num FROM {}").format(
                    self.version, self.pending),
            )  # fmt: skip
            self._execute(connection, sql.SQL("DROP TABLE {}, {}").format(self.pending, self.phases))
        self.emit(event="phase", text="every phase done: the version table moved")

    def _build(self, connection: psycopg.Connection, phase: Phase) -> None:
        """Build an index concurrently; an INVALID one a failed build left is dropped first. Done only when a
        valid index of that name is on the table."""
        index = sql.Identifier(phase.schema, phase.name)
        if _index_valid(connection, phase) is False:
            self._execute(connection, sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(index))
        self._execute(connection, phase.statement)
        if not _index_valid(connection, phase):
            raise RuntimeError(
                f"index {phase.name} was not built on {phase.table}: another relation of that name is in the way"
            )

    def _execute(self, connection: psycopg.Connection, statement: str | sql.Composable) -> None:
        """Run one statement, and report it as the child reports every statement it runs."""
        text = statement if isinstance(statement, str) else statement.as_string(connection)
        self.emit(event="statement", sql=text)
        connection.execute(text)


def _relation(cursor: Any, table: str) -> tuple[int | None, str]:
    """A table's ``relfilenode`` (it changes when PostgreSQL rewrites the table), and what it holds as the messages
    say it ("" when it has no page on disk: no row to hold a writer back for), read on the run's own connection."""
    with cursor.connection.cursor() as own:
        row = own.execute(
            "SELECT c.relfilenode, c.reltuples, pg_relation_size(c.oid), pg_size_pretty(pg_relation_size(c.oid))"
            " FROM pg_class c WHERE c.oid = to_regclass(%s)",
            (table,),
        ).fetchone()
    if row is None:
        return None, ""
    relfilenode, rows, size, pretty = row
    if not size:
        return relfilenode, ""
    counted = f"about {int(rows):,} rows" if rows >= 0 else "rows not yet counted by ANALYZE"
    return relfilenode, f"{counted}, {pretty}"


def _target_of(statement: str) -> str:
    """The table a version table write names, from its first words on (``INSERT INTO x``, ``UPDATE x``, ...)."""
    match = re.match(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\S+)", statement, re.IGNORECASE)
    return match.group(1) if match else ""


def _index_valid(connection: psycopg.Connection, phase: Phase) -> bool | None:
    """Whether the phase's index is valid; None if there is no index of that name on its table."""
    row = connection.execute(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE n.nspname = %s AND c.relname = %s AND t.relname = %s",
        (phase.schema, phase.name, table_key(phase.table).partition(".")[2]),
    ).fetchone()
    return None if row is None else bool(row[0])


def _publishing(connection: psycopg.Connection, schema: str) -> str | None:
    """A publication that would publish a table made beside the version table: ``FOR ALL TABLES``, or (PostgreSQL
    15 and later) ``FOR TABLES IN SCHEMA`` of its schema. Its name, or None."""
    found = connection.execute("SELECT pubname FROM pg_publication WHERE puballtables ORDER BY 1 LIMIT 1").fetchone()
    if found is None and _exists(connection, sql.Identifier("pg_catalog", "pg_publication_namespace")):
        found = connection.execute(
            "SELECT p.pubname FROM pg_publication p JOIN pg_publication_namespace pn ON pn.pnpubid = p.oid"
            " JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE n.nspname = %s ORDER BY 1 LIMIT 1",
            (schema,),
        ).fetchone()
    return found[0] if found else None


def _exists(connection: psycopg.Connection, table: sql.Identifier) -> bool:
    found = connection.execute("SELECT to_regclass(%s)", (table.as_string(connection),)).fetchone()
    return found is not None and found[0] is not None
