"""Online migrations: what a revision does to a table that already holds rows, done without stopping writers.

A schema's revisions run in one transaction, as Alembic runs them. Two kinds of statement would hold a lock
that blocks writers for as long as a big table takes to read, so they leave that transaction for phases of
their own after it commits (as squawk's rules advise, and as pgroll and Reshape do):

- ``CREATE INDEX`` on a table that existed before the run is built ``CONCURRENTLY`` (an index on a table the
  run creates is built in the transaction: the table is empty);
- ``ADD CONSTRAINT ... FOREIGN KEY`` on such a table is added ``NOT VALID`` in the transaction, and
  ``VALIDATE CONSTRAINT`` checks the rows in a phase of its own, which writers do not wait for.

The version table moves only once every phase has succeeded. Until then the run's writes to it go to a
shadow table beside it (``<version table>_pending``, the same shape, so Alembic's statements run unchanged)
and the phases still to do are rows of ``<version table>_phases``; both are made in the run's transaction,
so they exist exactly when its work is committed and its phases are not all done, and both are dropped
in the last phase, which moves the version table. A run that stops between (a failed index build, a
crash) leaves them, and says so; the next upgrade finishes them before anything else.

This module is the rules, as pure functions over SQL text, so that the plan (``plan --sql``) shows the very
phases the run takes; the child process (:mod:`bot.engine.child`) applies them to the statements Alembic
executes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_QUALIFIED = rf"(?P<table>{_NAME}(?:\.{_NAME})?)"
_CREATE_INDEX = re.compile(
    rf"^\s*CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY\b)(?!IF\s+NOT\s+EXISTS\b)(?P<name>{_NAME})\s+ON\s+"
    rf"(?:ONLY\s+)?{_QUALIFIED}(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ADD_FOREIGN_KEY = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?{_QUALIFIED}\s+ADD\s+CONSTRAINT\s+(?P<name>{_NAME})\s+FOREIGN\s+KEY\b"
    rf"(?P<rest>.*?)(?P<not_valid>\s+NOT\s+VALID)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CHANGES_TABLE = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_QUALIFIED}\s+(?:RENAME\b|DROP\b|ALTER\s+(?:COLUMN\s+)?\S+\s+(?:SET\s+DATA\s+)?TYPE\b)",
    re.IGNORECASE,
)
_DROP_TABLE = re.compile(
    r"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<tables>[^;]+?)(?:\s+(?:CASCADE|RESTRICT))?\s*;?\s*$", re.I
)
_CREATE_TABLE = re.compile(rf"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_QUALIFIED}", re.IGNORECASE)
_ALTER_TABLE = re.compile(rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_QUALIFIED}", re.IGNORECASE)


_OPTED_OUT = re.compile(r"^consdb_bot_online\s*(?::\s*bool\s*)?=\s*False\b", re.MULTILINE)


def opts_out(source: str) -> bool:
    """Whether a revision's script asks to run as Alembic runs it, in one transaction with nothing left for
    after: a module-level ``consdb_bot_online = False`` (for a revision whose statements must all commit
    together, or that builds its indexes its own way)."""
    return _OPTED_OUT.search(source) is not None


class PhaseKind(StrEnum):
    INDEX = "index"
    VALIDATE = "validate"


@dataclass(frozen=True)
class Phase:
    """One statement taken out of the transaction: run after it commits, on its own."""

    kind: PhaseKind
    schema: str
    """Where the index or the table is (an unqualified name: ``public``)."""
    name: str
    """The index, or the constraint, unquoted."""
    table: str
    """The table, as the statement names it."""
    statement: str
    """What the phase runs: ``CREATE INDEX CONCURRENTLY IF NOT EXISTS ...`` or ``ALTER TABLE ... VALIDATE``."""

    @property
    def text(self) -> str:
        """What the thread and ``status`` say of it."""
        if self.kind is PhaseKind.INDEX:
            return f"index {self.name} on {unquoted(self.table)} (built concurrently)"
        return f"foreign key {self.name} of {unquoted(self.table)} (validated)"


@dataclass(frozen=True)
class Rewritten:
    """A statement as the transaction runs it, and the phase it leaves for after (None: it runs as it is)."""

    statement: str
    phase: Phase | None = None


def rewrite(statement: str, existing: set[str]) -> Rewritten:
    """``statement`` as an online run executes it in the transaction; ``existing``: the tables (``schema.table``,
    unquoted, lower case for unquoted names) that held rows before the run, the only ones whose statements leave
    the transaction. Text that holds several statements (an ``op.execute`` of a script) runs as it is."""
    if not _single(statement):
        return Rewritten(statement)
    index = _CREATE_INDEX.match(statement)
    if index and table_key(index["table"]) in existing:
        unique = "UNIQUE " if index["unique"] else ""
        later = f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {index['name']} ON {index['table']}{index['rest']}"
        schema = table_key(index["table"]).partition(".")[0]
        phase = Phase(PhaseKind.INDEX, schema, unquoted(index["name"]), index["table"], later.rstrip().rstrip(";"))
        return Rewritten("SELECT 1", phase)
    key = _ADD_FOREIGN_KEY.match(statement)
    if key and not key["not_valid"] and table_key(key["table"]) in existing:
        body = statement.rstrip().rstrip(";")
        validate = f"ALTER TABLE {key['table']} VALIDATE CONSTRAINT {key['name']}"
        schema = table_key(key["table"]).partition(".")[0]
        return Rewritten(
            f"{body} NOT VALID", Phase(PhaseKind.VALIDATE, schema, unquoted(key["name"]), key["table"], validate)
        )
    return Rewritten(statement)


def created_table(statement: str) -> str | None:
    """The table a ``CREATE TABLE`` makes (its key, as :func:`table_key`), or None."""
    match = _CREATE_TABLE.match(statement)
    return table_key(match["table"]) if match else None


def altered_table(statement: str) -> str | None:
    """The table an ``ALTER TABLE`` changes, as the statement names it, or None."""
    match = _ALTER_TABLE.match(statement)
    return match["table"] if match else None


def mentions(statement: str, phase: Phase) -> bool:
    """Whether a later statement of the run needs what a phase will do, or takes away what it works on, so that
    the phase cannot wait for the commit: it names the index or the constraint; it drops or renames the table,
    or a column or constraint of it; it refers to the table in a foreign key or an ``ON CONFLICT`` (which need
    a unique index now)."""
    if re.search(rf"\b{re.escape(phase.name)}\b", statement):
        return True
    table = table_key(phase.table)
    changed = _CHANGES_TABLE.match(statement)
    if changed and table_key(changed["table"]) == table:
        return True
    dropped = _DROP_TABLE.match(statement)
    if dropped and table in {table_key(name) for name in re.split(r"\s*,\s*", dropped["tables"].strip())}:
        return True
    named = re.search(rf"\b(?:REFERENCES|INSERT\s+INTO)\s+{_QUALIFIED}", statement, re.IGNORECASE)
    return bool(named and table_key(named["table"]) == table and (
        "REFERENCES" in named.group(0).upper() or re.search(r"\bON\s+CONFLICT\b", statement, re.IGNORECASE)
    ))  # fmt: skip


def _single(statement: str) -> bool:
    """One statement (a trailing ``;`` aside): no ``;`` outside quotes and comments."""
    text = re.sub(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/", "", statement, flags=re.DOTALL)
    return ";" not in text.strip().rstrip(";")


def unquoted(name: str) -> str:
    """A name as PostgreSQL keeps it: quoted parts as written, the others folded to lower case."""
    parts = re.findall(r'"([^"]+)"|([^."]+)', name)
    return ".".join(quoted or plain.lower() for quoted, plain in parts)


def table_key(name: str) -> str:
    """``schema.table`` as PostgreSQL keeps them; an unqualified name is in ``public``."""
    key = unquoted(name)
    return key if "." in key else f"public.{key}"


def phased_sql(sql_text: str, version_table: str) -> str:
    """Offline SQL (Alembic's ``--sql``) as an online run takes it: the transaction, with what leaves it and its
    writes to ``version_table`` (``schema.table``) going to the shadow table, then each phase, then the version
    table's move. Tables the SQL creates are empty; every other table is taken to hold rows. SQL with nothing
    to leave the transaction is returned as it is: it runs as it is."""
    statements = [part for part in sql_text.split(";\n") if part.strip()]
    kept: list[str] = []
    phases: list[Phase] = []
    created: set[str] = set()
    for statement in statements:
        body = "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--")).strip()
        new = created_table(body)
        if new:
            created.add(new)
        named = _CREATE_INDEX.match(body) or _ADD_FOREIGN_KEY.match(body)
        rewritten = rewrite(body, {table_key(named["table"])} - created) if named else Rewritten(body)
        if rewritten.phase is None:
            kept.append(statement)
            continue
        phases.append(rewritten.phase)
        if rewritten.statement != "SELECT 1":
            kept.append(statement.replace(body, rewritten.statement))
    if not phases:
        return sql_text
    version = re.compile(rf"\b{re.escape(version_table)}\b(?!_)")
    lines = [
        "-- Phase 1, one transaction: the revisions, less what would lock writers out of a table holding rows;",
        f"-- their moves of {version_table} go to {version_table}_pending until every phase is done.",
    ]
    lines += [version.sub(f"{version_table}_pending", statement).rstrip() + ";" for statement in kept]
    for number, phase in enumerate(phases, 2):
        lines += ["", f"-- Phase {number}, outside the transaction: {phase.text}", phase.statement + ";"]
    last = len(phases) + 2
    lines += [
        "",
        f"-- Phase {last}, one transaction: {version_table} moves to where {version_table}_pending is, and the",
        f"-- run's own tables go ({version_table}_pending, {version_table}_phases).",
    ]
    return "\n".join(lines) + "\n"
