"""Drift: how a live database differs from what its recorded revision says it should be.

The model at a revision is made, not guessed: the tree is replayed up to that revision in a
throwaway database (on ``migrations.scratch_url``, or beside the live one), reflected, and
compared with the live schema by Alembic's own autogenerate comparison. The views are compared
by their definitions. This works the same for any tree, at any revision.
"""

from __future__ import annotations

import logging
import secrets
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import sql
from sqlalchemy import MetaData, create_engine, pool, text
from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.exc import SAWarning

from bot.engine.database import DatabaseUrl, connect, first_line
from bot.engine.prepare import prepare_database
from bot.engine.tree import SchemaTree
from bot.errors import DatabaseUnreachable, Refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchemaDrift:
    environment: str
    schema: str
    revisions: tuple[str, ...]
    differences: list[str] = field(default_factory=list)
    detail: str = ""
    """Why it was not compared (empty: it was)."""
    failed: bool = False
    """Not compared because something is wrong (unreachable, a revision the scripts lack), not because there is
    nothing to compare (no revision recorded yet, not kept there) or no model to compare with."""


@contextmanager
def scratch_database(
    server: DatabaseUrl, trees: Sequence[SchemaTree], *, connect_timeout: int
) -> Iterator[DatabaseUrl]:
    """A new database on ``server``, prepared for ``trees`` as a ConsDB database is, dropped afterwards."""
    name = f"consdb_bot_scratch_{secrets.token_hex(6)}"
    with connect(server, connect_timeout=connect_timeout) as connection:
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as error:
            raise Refused(
                f"could not create a scratch database on {server}: {first_line(error)}",
                hint="Grant CREATEDB to the bot's database user,"
                " or set migrations.scratch_url to a server where it may.",
            ) from None
    scratch = server.with_database(name)
    try:
        prepare_database(scratch, trees, connect_timeout=connect_timeout)
        yield scratch
    finally:
        try:
            with connect(server, connect_timeout=connect_timeout) as connection:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except (psycopg.Error, DatabaseUnreachable):
            log.warning("could not drop the scratch database %s; drop it by hand", name)


def compare_schemas(live: DatabaseUrl, model: DatabaseUrl, tree: SchemaTree) -> list[str]:
    """Every difference of the live schema from the model schema, one readable line each."""
    model_engine = create_engine(model.sqlalchemy, poolclass=pool.NullPool)
    live_engine = create_engine(live.sqlalchemy, poolclass=pool.NullPool)
    # Types SQLAlchemy does not know (pg_sphere's, a tree's own) reflect alike on both sides: their
    # columns are still compared, their types are not, and that needs no warning.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Did not recognize type", category=SAWarning)
        return _compare(live_engine, model_engine, tree)


def _compare(live_engine: Engine, model_engine: Engine, tree: SchemaTree) -> list[str]:
    try:
        metadata = MetaData()
        with model_engine.connect() as connection:
            metadata.reflect(connection, schema=tree.schema_name)
            model_views = _views(connection, tree.schema_name)
        with live_engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, kind, _parents: kind != "schema" or name == tree.schema_name,
                    "compare_type": True,
                },
            )
            differences = [_describe(change) for change in _flatten(compare_metadata(context, metadata))]
            live_views = _views(connection, tree.schema_name)
    finally:
        model_engine.dispose()
        live_engine.dispose()
    for view in sorted(set(model_views) | set(live_views)):
        if view not in live_views:
            differences.append(f"view {view} is missing")
        elif view not in model_views:
            differences.append(f"view {view} is not in the model")
        elif live_views[view] != model_views[view]:
            differences.append(f"view {view} is defined differently")
    return differences


def _views(connection: Connection, schema_name: str) -> dict[str, str]:
    rows: Result[str, str] = connection.execute(
        text("SELECT viewname, definition FROM pg_views WHERE schemaname = :schema"), {"schema": schema_name}
    )
    return {name: " ".join(definition.split()) for name, definition in rows}


def _flatten(changes: list[Any]) -> Iterator[tuple[Any, ...]]:
    for change in changes:
        if isinstance(change, list):
            yield from change
        else:
            yield change


def _describe(change: tuple[Any, ...]) -> str:
    """Alembic's diff tuples, said from the live database's side ("missing" = the model has it)."""
    kind = change[0]
    action, _, thing = kind.partition("_")
    if thing == "table":
        name = change[1].name
        return f"table {name} is missing" if action == "add" else f"table {name} is not in the model"
    if thing == "column":
        table, column = change[2], change[3]
        where = f"column {table}.{column.name}"
        return f"{where} is missing" if action == "add" else f"{where} is not in the model"
    if action == "modify":
        table, column, old, new = change[2], change[3], change[5], change[6]
        return f"column {table}.{column}: {thing} is {old}, the model says {new}"
    item = change[1]
    table = getattr(getattr(item, "table", None), "name", None) or getattr(item, "parent", None)
    label = {"fk": "foreign key", "constraint": "constraint", "index": "index"}.get(thing, thing)
    name = getattr(item, "name", None) or "(unnamed)"
    columns = ", ".join(column.name for column in getattr(item, "columns", []))
    where = f"{label} {name} on {table} ({columns})"
    return f"{where} is missing" if action == "add" else f"{where} is not in the model"
