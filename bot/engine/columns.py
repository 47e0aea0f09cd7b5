"""A database's tables and columns as ``information_schema`` lists them: what pqserver should serve after
a restart. Read-only, under a statement timeout, one short connection."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from bot.engine.database import DatabaseUrl, connect, first_line
from bot.errors import OperationFailed

READ_TIMEOUT = "15s"
"""The statement timeout of the read: a catalogue query, which a busy server still answers at once."""

Columns = dict[str, dict[str, dict[str, str]]]
"""Per PostgreSQL schema, per table, each column with its type, in the table's order."""


def table_columns(url: DatabaseUrl, schema_names: Sequence[str], *, place: str, connect_timeout: int) -> Columns:
    """Every ordinary and partitioned table of these schemas with its columns (views are left out, as pqserver
    leaves them out); a schema the database lacks is absent."""
    found: Columns = {}
    try:
        with connect(url, connect_timeout=connect_timeout, application_name="consdb-bot pqserver check") as db:
            db.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            db.execute(f"SET statement_timeout = '{READ_TIMEOUT}'")
            rows = db.execute(
                "SELECT c.table_schema, c.table_name, c.column_name, c.data_type"
                " FROM information_schema.columns c JOIN information_schema.tables t"
                " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
                " WHERE t.table_type = 'BASE TABLE' AND c.table_schema = ANY(%s)"
                " ORDER BY c.table_schema, c.table_name, c.ordinal_position",
                (list(schema_names),),
            ).fetchall()
    except psycopg.Error as error:
        raise OperationFailed(
            f"could not read the columns at {place}: {url.redact(first_line(error))}",
            hint="See that server's log, then try again.",
        ) from None
    for schema, table, column, data_type in rows:
        found.setdefault(schema, {}).setdefault(table, {})[column] = data_type
    return found
