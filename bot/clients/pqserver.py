"""Does pqserver serve what the database has? Asked after every restart, through pqserver's own schema API
(lsst-dm/consdb, ``python/lsst/consdb/handlers/external.py``), below its ``url_prefix`` ``/consdb``:

``GET {url}/consdb/schema/{instrument}`` lists an instrument's tables (``cdb_<instrument>.<table>``),
``GET {url}/consdb/schema/{instrument}/{table}`` a table's columns (``{column: [type, doc]}``); an unknown
instrument or table is a 404 whose ``message`` says which (``Unknown instrument``, ``Unknown table``).
pqserver reflects an instrument's tables once, when first asked: one that was not restarted after a
migration does not list its columns.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.config import Environment

PREFIX = "/consdb"
"""pqserver's ``url_prefix``, added to ``pqserver_url``."""
Columns = dict[str, dict[str, dict[str, str]]]
"""Per PostgreSQL schema, per table, each column with its type: what the database has."""
Wanted = dict[str, list[str] | None]
"""Per instrument, the tables to compare (bare names); None: every table, the database's and pqserver's."""


class Seen(StrEnum):
    """What the check found."""

    NOT_ASKED = "not asked"
    """No ``pqserver_url`` here: nothing was asked."""
    COMPARED = "compared"
    """Each table was compared (:attr:`SchemaCheck.tables`)."""
    NOTHING = "nothing to compare"
    """The change touched no table pqserver serves (an ``efd_*`` schema only), or none exists."""
    NO_ANSWER = "no answer"
    UNREADABLE = "database unreadable"
    """The database's columns could not be read (``detail`` says why)."""
    FAILED = "failed"
    """The check itself failed in the bot (``detail`` names the error)."""


class Unknown(StrEnum):
    """What pqserver does not know of a table the database has."""

    NOTHING = ""
    TABLE = "table"
    INSTRUMENT = "instrument"


@dataclass(frozen=True)
class TableCheck:
    """One table, pqserver against the database."""

    table: str
    """``cdb_<instrument>.<table>``."""
    lacks: dict[str, str] = field(default_factory=dict)
    """The columns the database has and pqserver does not list, with the database's types."""
    extra: dict[str, str] = field(default_factory=dict)
    """The columns pqserver lists and the database does not have, with pqserver's types."""
    unknown: Unknown = Unknown.NOTHING
    """pqserver does not know the table, or its whole instrument."""
    gone: bool = False
    """pqserver lists a table the database does not have."""
    columns: int = 0
    """The columns both have."""

    @property
    def agrees(self) -> bool:
        return not (self.lacks or self.extra or self.unknown or self.gone)


@dataclass(frozen=True)
class SchemaCheck:
    """pqserver's columns against the database's for the tables a change touched, or why it could not say."""

    environment: str
    seen: Seen
    tables: list[TableCheck] = field(default_factory=list)
    change: str = ""
    """What chose the tables: the change (``#4 upgrade latiss``); empty when none is recorded (every table)."""
    whole: list[str] = field(default_factory=list)
    """The schemas compared table by table in full (``cdb_latiss``): the change added no column to them."""
    detail: str = ""
    """NO_ANSWER, UNREADABLE: why; FAILED: the error's name."""

    @property
    def worrying(self) -> bool:
        """Whether someone should look at pqserver."""
        if self.seen is Seen.COMPARED:
            return not all(table.agrees for table in self.tables)
        return self.seen in (Seen.NO_ANSWER, Seen.UNREADABLE, Seen.FAILED)


class PqServer:
    """pqserver's schema API at one base URL."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.base = url.rstrip("/") + PREFIX
        self.timeout = timeout

    def tables(self, instrument: str) -> list[str] | None:
        """The instrument's tables as bare names; None when pqserver does not know the instrument."""
        status, body = self._get(f"/schema/{_quoted(instrument)}")
        if status == 404:
            return None
        return [str(name).removeprefix(f"cdb_{instrument}.") for name in body]

    def columns(self, instrument: str, table: str) -> dict[str, str] | Unknown:
        """The table's columns with their types, or what pqserver does not know (the table, or its instrument)."""
        status, body = self._get(f"/schema/{_quoted(instrument)}/{_quoted(table)}")
        if status == 404:
            instrument_unknown = isinstance(body, dict) and body.get("message") == "Unknown instrument"
            return Unknown.INSTRUMENT if instrument_unknown else Unknown.TABLE
        return {str(column): str(described[0]) for column, described in body.items()}

    def _get(self, path: str) -> tuple[int, Any]:
        """The answer's status and JSON; 404 is an answer, any other error status raises."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=self.timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            try:
                return 404, json.loads(error.read())
            except ValueError:
                return 404, None


def check_served(env: Environment, wanted: Wanted, database: Columns, *, change: str, timeout: float) -> SchemaCheck:
    """pqserver's columns against the database's, for each table ``wanted`` names, or why it could not say."""
    if not env.pqserver_url:
        return SchemaCheck(env.key, Seen.NOT_ASKED, change=change)
    server = PqServer(env.pqserver_url, timeout=timeout)
    try:
        tables = [
            check for instrument, names in wanted.items()
            for check in _instrument(server, instrument, names, database.get(f"cdb_{instrument}", {}))
        ]  # fmt: skip
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, TypeError, AttributeError) as error:
        return SchemaCheck(env.key, Seen.NO_ANSWER, change=change, detail=_reason(error))
    whole = [f"cdb_{instrument}" for instrument, names in wanted.items() if names is None]
    return SchemaCheck(env.key, Seen.COMPARED if tables else Seen.NOTHING, tables, change=change, whole=whole)


def _instrument(
    server: PqServer, instrument: str, names: list[str] | None, database: dict[str, dict[str, str]]
) -> list[TableCheck]:
    if names is None:
        served = server.tables(instrument)
        names = sorted(set(database) | set(served or []))
    checks = [_table(server, instrument, name, database.get(name)) for name in names]
    return [check for check in checks if check is not None]


def _table(server: PqServer, instrument: str, table: str, database: dict[str, str] | None) -> TableCheck | None:
    """None when neither has the table (a change's table dropped since)."""
    name = f"cdb_{instrument}.{table}"
    served = server.columns(instrument, table)
    if isinstance(served, Unknown):
        return None if database is None else TableCheck(name, unknown=served)
    if database is None:
        return TableCheck(name, gone=True)
    return TableCheck(
        name,
        lacks={column: kind for column, kind in database.items() if column not in served},
        extra={column: kind for column, kind in served.items() if column not in database},
        columns=len(set(database) & set(served)),
    )


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, ValueError | TypeError | AttributeError):
        return f"an answer not in pqserver's shape ({type(error).__name__})"
    return str(getattr(error, "reason", error))


def _quoted(name: str) -> str:
    return urllib.parse.quote(name, safe="")
