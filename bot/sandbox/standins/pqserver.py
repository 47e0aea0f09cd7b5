"""A pqserver stand-in that answers as lsst-dm/consdb's pqserver does (``python/lsst/consdb/pqserver.py``
and ``handlers/``), at its paths and in its shapes, from a real database:

- ``GET /`` and ``GET /consdb/``: the application's metadata, with its ``instruments``;
- ``GET /consdb/schema``: the instruments, one per ``cdb_*`` schema;
- ``GET /consdb/schema/{instrument}``: its tables, as ``cdb_<instrument>.<table>``;
- ``GET /consdb/schema/{instrument}/{table}``: ``{column: [type, doc]}``, the table named with or without
  its schema;
- an unknown instrument or table: 404 with ``{"message": "Unknown ...", "value": ..., "valid": [...]}``;
  any other path: 404 ``{"detail": "Not Found"}``; a database error: 500 ``{"message": ...}``.

Like pqserver, it reads the instruments once and reflects an instrument's tables with SQLAlchemy the
first time it is asked, then keeps them: a column added afterwards is not listed until it is restarted
(:meth:`FakePqServer.restart`, which the Kubernetes stand-in calls when its deployment is rolled).
"""

from __future__ import annotations

import threading
import warnings
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlparse

import sqlalchemy
from sqlalchemy.exc import SAWarning, SQLAlchemyError

from bot.sandbox.standins.local_server import LocalServer, QuietHandler

PREFIX = "/consdb"
"""pqserver's ``url_prefix`` (its default)."""
OBS_TYPES = ["exposure", "visit1", "ccdexposure", "ccdvisit1"]
DTYPES = ["bool", "int", "float", "str"]
Table = dict[str, list[str | None]]
"""A table as pqserver describes it: ``{column: [type, doc]}``."""


class FakePqServer(LocalServer):
    """``with FakePqServer(database_url) as pq:`` serves the ``cdb_*`` schemas of that database."""

    def __init__(self, database_url: str) -> None:
        self._engine = sqlalchemy.create_engine(
            sqlalchemy.make_url(database_url).set(drivername="postgresql+psycopg"), poolclass=sqlalchemy.NullPool
        )
        self._lock = threading.Lock()
        self._instruments: list[str] | None = None
        self._tables: dict[str, dict[str, Table]] = {}
        self.restarts = 0
        super().__init__()

    def restart(self) -> None:
        """What a new pod does: forget what was read, and read it again when asked."""
        with self._lock:
            self._instruments, self._tables = None, {}
            self.restarts += 1

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._engine.dispose()

    def instruments(self) -> list[str]:
        with self._lock:
            if self._instruments is None:
                names = sqlalchemy.inspect(self._engine).get_schema_names()
                self._instruments = [name[4:] for name in names if name.startswith("cdb_")]
            return self._instruments

    def tables(self, instrument: str) -> dict[str, Table]:
        """The instrument's tables as pqserver reflected them, keyed ``cdb_<instrument>.<table>``."""
        with self._lock:
            if instrument not in self._tables:
                metadata = sqlalchemy.MetaData(schema=f"cdb_{instrument}")
                with warnings.catch_warnings():  # pg_sphere's types are unknown to SQLAlchemy, as at pqserver
                    warnings.simplefilter("ignore", SAWarning)
                    metadata.reflect(self._engine)
                self._tables[instrument] = {
                    name: {column.name: [str(column.type), column.doc] for column in table.columns}
                    for name, table in metadata.tables.items()
                }
            return self._tables[instrument]

    def _answer(self, path: str) -> tuple[int, Any]:
        parts = [unquote(part) for part in urlparse(path).path.strip("/").split("/") if part]
        if parts in ([], [PREFIX.strip("/")]):
            return 200, self._index()
        if parts[:2] != [PREFIX.strip("/"), "schema"] or len(parts) > 4:
            return 404, {"detail": "Not Found"}
        if len(parts) == 2:
            return 200, self.instruments()
        if parts[2].lower() not in self.instruments():
            return 404, {"message": "Unknown instrument", "valid": self.instruments(), "value": parts[2]}
        return self._schema(parts[2], parts[3] if len(parts) == 4 else None)

    def _schema(self, instrument: str, table: str | None) -> tuple[int, Any]:
        """An instrument's tables, or one table's columns, named as pqserver names them."""
        tables = self.tables(instrument.lower())
        if table is None:
            return 200, list(tables)
        name = (table if table.startswith(f"cdb_{instrument}.") else f"cdb_{instrument}.{table}").lower()
        if name not in tables:
            return 404, {"message": "Unknown table", "value": name} | ({"valid": list(tables)} if tables else {})
        return 200, tables[name]

    def _index(self) -> dict[str, Any]:
        return {
            "name": "pqserver", "version": "stand-in", "description": "A pqserver stand-in for consdb-bot",
            "repository_url": "https://github.com/lsst-dm/consdb", "documentation_url": "https://consdb.lsst.io",
            "instruments": self.instruments(), "obs_types": OBS_TYPES, "dtypes": DTYPES,
        }  # fmt: skip

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                try:
                    answer = fake._answer(self.path)
                except SQLAlchemyError as error:  # as pqserver's handler of SQLAlchemy's errors answers
                    answer = 500, {"message": str(error)}
                self.reply(*answer)

        return Handler
