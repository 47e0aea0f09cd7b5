"""What hinfo wrote: the exposures of one ConsDB schema observed since a moment, their ccdexposure rows,
and how many of them fill given columns. Read-only, under a statement timeout.

When was a row written? ConsDB's ``exposure`` table keeps no time of writing: its Felis model
(sdm_schemas ``cdb_*.yaml``, as the bundled and upstream trees create it) has ``day_obs`` and
``seq_num`` (the key, or unique beside ``exposure_id``), and the times of the observation itself:
``obs_start``, ``exp_midpt``, ``obs_end``. hinfo writes a row once the image's header is out, moments
after the exposure ends, so an exposure observed after a moment was written after it: ``obs_start`` is
that time, the start (an exposure under way during a migration counts with those after it). It is a
``timestamp`` without zone holding TAI (hinfo writes ``ObservationInfo.datetime_begin.tai.isot``), so
moments are compared in TAI, 37 s ahead of UTC since 2017. ``day_obs`` (the date twelve hours behind,
as Rubin counts nights) bounds the search too, so that the key's index finds the rows. A row whose
``obs_start`` hinfo could not work out (NULL, with an ``Unable to process column`` line in its log)
is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from bot.engine.database import DatabaseUrl, connect, first_line
from bot.errors import OperationFailed, Refused

TAI_MINUS_UTC = timedelta(seconds=37)
"""TAI is this far ahead of UTC (since the leap second of 2016-12-31; none is announced)."""
STATEMENT_TIMEOUT = "20s"
"""How long one read may take: a check, never a load on the database it looks at."""
EXPOSURE = "exposure"
CCDEXPOSURE = "ccdexposure"
WRITTEN_BY_HINFO = (EXPOSURE, CCDEXPOSURE)
"""The tables hinfo writes; the others (visit1, the quicklook tables) are filled by other services."""
NEEDED = ("obs_start", "day_obs", "seq_num", "exposure_id")
"""The exposure columns this reading needs: the time, the night and number that name an exposure, the id."""


@dataclass(frozen=True)
class Filled:
    """One column of a table hinfo writes: in how many of the rows read it is not NULL (None: the
    table has no such column now)."""

    table: str
    column: str
    filled: int | None


@dataclass(frozen=True)
class ExposuresRead:
    """The exposures observed since the moment asked, the first and last by day_obs/seq_num, their
    ccdexposure rows (None: the schema has no ccdexposure table) and each column's count."""

    exposures: int
    first: tuple[int, int] | None
    last: tuple[int, int] | None
    ccd_rows: int | None
    columns: list[Filled]


def day_obs(moment: datetime) -> int:
    """The night a moment belongs to, as ConsDB numbers it (``20261124``): the date twelve hours behind."""
    return int(f"{moment.astimezone(UTC) - timedelta(hours=12):%Y%m%d}")


def read_exposures(
    url: DatabaseUrl,
    schema_name: str,
    *,
    since: datetime,
    columns: dict[str, list[str]],
    place: str,
    connect_timeout: int,
) -> ExposuresRead:
    """The exposures of ``schema_name`` observed since ``since`` and, for each table hinfo writes, how
    many of their rows fill each of ``columns`` (table: names). One read-only transaction."""
    with connect(url, connect_timeout=connect_timeout, autocommit=False) as connection:
        connection.read_only = True
        try:
            connection.execute("SELECT set_config('statement_timeout', %s, true)", (STATEMENT_TIMEOUT,))
            present = _tables(connection, schema_name)
            _check_exposure(present, schema_name, place)
            bounds = {"since": (since.astimezone(UTC) + TAI_MINUS_UTC).replace(tzinfo=None),
                      "night": day_obs(since) - 1}  # fmt: skip
            exposure = sql.Identifier(schema_name, EXPOSURE)
            recent = sql.SQL("obs_start >= %(since)s AND day_obs >= %(night)s")
            counts = _counts(connection, schema_name, EXPOSURE, recent, bounds, present, columns)
            first, last = (
                _end(connection, exposure, recent, bounds, descending=descending) for descending in (False, True)
            )
            ccd_rows, ccd_columns = None, [Filled(CCDEXPOSURE, column, None) for column in columns.get(CCDEXPOSURE, [])]
            if CCDEXPOSURE in present:
                of_recent = sql.SQL("exposure_id IN (SELECT exposure_id FROM {} WHERE {})").format(exposure, recent)
                ccd_rows, ccd_columns = _counts(
                    connection, schema_name, CCDEXPOSURE, of_recent, bounds, present, columns
                )
        except psycopg.Error as error:
            raise OperationFailed(
                f"reading {schema_name}.{EXPOSURE} at {place} failed: {url.redact(first_line(error))}",
                hint=f"Each read here stops after {STATEMENT_TIMEOUT}: ask for a shorter --since, or look at the"
                " database's load.",
            ) from None
    exposures, exposure_columns = counts
    return ExposuresRead(exposures, first, last, ccd_rows, exposure_columns + ccd_columns)


def _tables(connection: psycopg.Connection, schema_name: str) -> dict[str, set[str]]:
    """The columns of the tables hinfo writes that the schema has (from the catalog: whatever may be read)."""
    rows = connection.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p') AND a.attnum > 0"
        " AND NOT a.attisdropped",
        (schema_name, list(WRITTEN_BY_HINFO)),
    ).fetchall()
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    return present


def _check_exposure(present: dict[str, set[str]], schema_name: str, place: str) -> None:
    if EXPOSURE not in present:
        raise Refused(
            f"{schema_name} at {place} has no {EXPOSURE} table, so nothing written by hinfo to check",
            hint="Name an instrument whose schema hinfo writes (latiss, lsstcam, ...), migrated there.",
        )
    lacking = [column for column in NEEDED if column not in present[EXPOSURE]]
    if lacking:
        raise Refused(
            f"{schema_name}.{EXPOSURE} at {place} has no {', '.join(lacking)}: when an exposure was observed"
            " cannot be told",
            hint="ConsDB's exposure tables have obs_start, day_obs, seq_num and exposure_id: is this schema ConsDB's?",
        )


def _counts(
    connection: psycopg.Connection,
    schema_name: str,
    table: str,
    where: sql.Composable,
    bounds: dict[str, Any],
    present: dict[str, set[str]],
    columns: dict[str, list[str]],
) -> tuple[int, list[Filled]]:
    """The rows of ``table`` that ``where`` picks, and how many fill each of its ``columns`` it has."""
    wanted = columns.get(table, [])
    there = [column for column in wanted if column in present[table]]
    counted = sql.SQL("").join(sql.SQL(", count({})").format(sql.Identifier(column)) for column in there)
    query = sql.SQL("SELECT count(*){} FROM {} WHERE {}").format(counted, sql.Identifier(schema_name, table), where)
    total, *filled = connection.execute(query, bounds).fetchone() or (0,)
    by_name = dict(zip(there, filled, strict=True))
    return total, [Filled(table, column, by_name.get(column)) for column in wanted]


def _end(
    connection: psycopg.Connection,
    table: sql.Identifier,
    where: sql.Composable,
    bounds: dict[str, Any],
    *,
    descending: bool,
) -> tuple[int, int] | None:
    """The first (or last) exposure ``where`` picks, as day_obs and seq_num."""
    order = sql.SQL("DESC" if descending else "ASC")
    row = connection.execute(
        sql.SQL("SELECT day_obs, seq_num FROM {} WHERE {} ORDER BY day_obs {order}, seq_num {order} LIMIT 1").format(
            table, where, order=order
        ),
        bounds,
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else None
