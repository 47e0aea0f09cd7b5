"""TAP's columns of a schema against the Felis model's: ``TAP_SCHEMA.columns`` as Felis writes it, and as a
TAP_SCHEMA database holds it.

The model's rows are Felis' own: its loader (what ``felis load-tap-schema`` runs), run dry, so that what is
compared is exactly what Felis would write for the model, VOTable datatype and arraysize included. TAP's rows
are read from the ``columns`` table of a TAP_SCHEMA database, in a read-only transaction under a statement
timeout; every identifier goes through :mod:`psycopg.sql`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from bot.config import Tap
from bot.engine.database import DatabaseUrl, connect, first_line
from bot.errors import Refused

COMPARED = (
    "datatype", "arraysize", "xtype", "unit", "ucd", "utype", "description", "principal", "std", "indexed",
    "column_index",
)  # fmt: skip
"""What Felis sets of a column in ``TAP_SCHEMA.columns`` and is compared (``size`` is ``arraysize`` again)."""
Value = str | int | None
WHOLE = ("principal", "std", "indexed", "column_index")
"""The attributes that are whole numbers, however a TAP service writes them."""


@dataclass(frozen=True)
class TapColumn:
    """One row of ``TAP_SCHEMA.columns``: the table without its schema, the column, and what TAP says of it."""

    table: str
    column: str
    datatype: str | None = None
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None
    principal: int | None = None
    std: int | None = None
    indexed: int | None = None
    column_index: int | None = None

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> TapColumn:
        """A row as Felis writes it or a database returns it; ``table_name`` is ``schema.table``. An empty
        text is no text, as TAP services show both."""
        values: dict[str, Value] = {}
        for item in fields(cls)[2:]:
            value = row.get(item.name)
            text = None if value is None else str(int(value) if isinstance(value, bool) else value).strip()
            values[item.name] = _whole(text) if item.name in WHOLE else text or None
        table = str(row["table_name"]).partition(".")[2] or str(row["table_name"])
        return cls(table, str(row["column_name"]), **values)  # type: ignore[arg-type]


def _whole(text: str | None) -> int | str | None:
    """A whole number as one; anything else as it was written, so that it shows as a change."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class ColumnChange:
    """An attribute of a column that TAP states otherwise than the model."""

    column: str
    attribute: str
    tap: Value
    model: Value


@dataclass(frozen=True)
class TapDifferences:
    """What TAP lacks of the model, what it has beyond it, and what it says otherwise. A table missing (or
    extra) as a whole is told once, with its number of columns, and its columns are not listed."""

    model_columns: int
    tap_columns: int
    missing_tables: dict[str, int]
    extra_tables: dict[str, int]
    missing: list[str]
    extra: list[str]
    changed: list[ColumnChange]

    @property
    def none(self) -> bool:
        return not (self.missing_tables or self.extra_tables or self.missing or self.extra or self.changed)


def model_columns(path: Path, *, force_unbounded_arraysize: bool) -> tuple[str, list[TapColumn]]:
    """The Felis model's schema name (TAP's name for it) and the ``columns`` rows Felis writes for it."""
    # Imported here: Felis costs every other command start-up time.
    from felis.datamodel import BaseObject, Schema  # noqa: PLC0415
    from felis.db.database_context import create_database_context  # noqa: PLC0415
    from felis.tap_schema import DataLoader, TableManager  # noqa: PLC0415

    context = {"id_generation": True, "force_unbounded_arraysize": force_unbounded_arraysize}
    try:
        with path.open() as stream:
            schema: Schema[BaseObject] = Schema.model_validate(yaml.safe_load(stream), context=context)
    except (OSError, yaml.YAMLError, ValueError) as error:
        raise Refused(
            f"Felis does not read {path}: {first_line(error)}", hint="Check the model with `felis validate`."
        ) from None
    url = "postgresql+psycopg://"
    manager = TableManager(engine_url=url)
    columns = manager["columns"]
    with create_database_context(url, manager.metadata, dry_run=True) as dry:
        loader = DataLoader(schema, manager, dry, dry_run=True)
        loader.load()
    rows = [insert.compile().params for insert in loader.inserts if insert.table is columns]
    return schema.name, [TapColumn.from_row(row) for row in rows]


def served_columns(
    url: DatabaseUrl, tap: Tap, schema_names: Sequence[str], *, connect_timeout: int, key: str
) -> dict[str, list[TapColumn]]:
    """Each schema's rows of the TAP_SCHEMA database's ``columns`` table (none: TAP has no such schema);
    ``key`` is where ``tap`` is in the configuration, for the hints."""
    table = sql.Identifier(tap.schema_name, f"columns{tap.tables_postfix}")
    query = sql.SQL(
        "SELECT table_name, column_name, {} FROM {} WHERE split_part(table_name, '.', 1) = ANY(%s)"
        " ORDER BY table_name, column_index NULLS LAST, column_name"
    ).format(sql.SQL(", ").join(sql.Identifier(name) for name in COMPARED), table)
    shown = f"{tap.schema_name}.columns{tap.tables_postfix}"
    with connect(url, connect_timeout=connect_timeout, autocommit=False) as connection:
        try:
            with connection.transaction():
                connection.execute("SET TRANSACTION READ ONLY")
                timeout = sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(tap.statement_timeout))
                connection.execute(timeout)
                cursor = connection.cursor(row_factory=psycopg.rows.dict_row)
                rows = cursor.execute(query, (list(schema_names),)).fetchall()
        except psycopg.errors.UndefinedTable:
            raise Refused(
                f"{url} has no table {shown}",
                hint=f"Set {key}.schema_name (and tables_postfix) to where Felis loaded TAP_SCHEMA"
                " (felis load-tap-schema --tap-schema-name, --tap-tables-postfix).",
            ) from None
        except psycopg.errors.UndefinedColumn as error:
            raise Refused(
                f"{shown} at {url} is not a TAP_SCHEMA table as Felis writes one: {url.redact(first_line(error))}",
                hint=f"Point {key}.schema_url and schema_name at the TAP_SCHEMA database Felis loads.",
            ) from None
        except psycopg.errors.QueryCanceled:
            raise Refused(
                f"reading {shown} at {url} took longer than {tap.statement_timeout}",
                hint=f"Try again; if it stays slow, raise {key}.statement_timeout.",
            ) from None
        except psycopg.Error as error:
            raise Refused(f"could not read {shown} at {url}: {url.redact(first_line(error))}") from None
    found: dict[str, list[TapColumn]] = {name: [] for name in schema_names}
    for row in rows:
        found[str(row["table_name"]).split(".", 1)[0]].append(TapColumn.from_row(row))
    return found


def compare(model: Iterable[TapColumn], served: Iterable[TapColumn], *, names_only: bool = False) -> TapDifferences:
    """TAP's rows against the model's, in the model's order; ``names_only`` compares which columns there are."""
    wanted = {column.name: column for column in model}
    have = {column.name: column for column in served}
    model_tables = _tables(wanted.values())
    tap_tables = _tables(have.values())
    missing_tables = {table: count for table, count in model_tables.items() if table not in tap_tables}
    extra_tables = {table: count for table, count in tap_tables.items() if table not in model_tables}
    missing = [name for name, column in wanted.items() if name not in have and column.table not in missing_tables]
    extra = [name for name, column in have.items() if name not in wanted and column.table not in extra_tables]
    changed = [
        ColumnChange(name, attribute, getattr(have[name], attribute), getattr(column, attribute))
        for name, column in wanted.items()
        if name in have and not names_only
        for attribute in COMPARED
        if getattr(have[name], attribute) != getattr(column, attribute)
    ]
    return TapDifferences(len(wanted), len(have), missing_tables, extra_tables, missing, sorted(extra), changed)


def _tables(columns: Iterable[TapColumn]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for column in columns:
        counts[column.table] = counts.get(column.table, 0) + 1
    return counts
