"""A TAP service stand-in: IVOA TAP's sync endpoint for ``TAP_SCHEMA.columns``, served from a TAP_SCHEMA
database (as Felis loads it), answered as CADC's TAP answers: a redirect to the result, a TABLEDATA VOTable.

It understands the one query the bot asks (its columns, ``table_name LIKE 'schema.%'`` terms joined by OR)
and answers any other with a VOTable whose ``QUERY_STATUS`` is ``ERROR``, as a TAP service does.
"""

from __future__ import annotations

import itertools
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any
from xml.etree import ElementTree

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.sandbox.standins.local_server import LocalServer, QuietHandler

VOTABLE = "http://www.ivoa.net/xml/VOTable/v1.3"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_QUERY = re.compile(
    rf"SELECT (?P<columns>{_NAME}(?:, {_NAME})*) FROM TAP_SCHEMA\.columns"
    rf" WHERE (?P<where>table_name LIKE '{_NAME}\.%'(?: OR table_name LIKE '{_NAME}\.%')*)",
    re.IGNORECASE,
)
_INTEGERS = {"principal", "std", "indexed", "column_index", "size"}


def load_tap_schema(
    url: str, *models: dict[str, Any], schema_name: str = "tap_schema", unbounded: bool = False
) -> None:
    """Make a TAP_SCHEMA database as the TAP service's is made: Felis' own tables, then its loader for each model
    (``felis init-tap-schema``, then ``felis load-tap-schema --unique-keys``, with
    ``--force-unbounded-arraysize`` when ``unbounded``). ``url``: the database, any PostgreSQL URL."""
    from felis.datamodel import BaseObject, Schema  # noqa: PLC0415 (slow to import: only when loading)
    from felis.db.database_context import create_database_context  # noqa: PLC0415
    from felis.tap_schema import DataLoader, TableManager  # noqa: PLC0415

    engine_url = make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    manager = TableManager(engine_url=engine_url, schema_name=schema_name)
    reading = {"id_generation": True, "force_unbounded_arraysize": unbounded}
    with create_database_context(engine_url, manager.metadata) as database:
        manager.initialize_database(database)
        for model in models:
            schema: Schema[BaseObject] = Schema.model_validate(model, context=reading)
            DataLoader(schema, manager, database, unique_keys=True).load()


class FakeTap(LocalServer):
    """Answers from the ``columns`` table of ``schema_name`` in the database at ``url`` (a libpq URL);
    with ``token``, only requests that carry it as a bearer token."""

    def __init__(self, url: str, *, schema_name: str = "tap_schema", token: str | None = None) -> None:
        self.database = url
        self.schema_name = schema_name
        self.token = token
        self.queries: list[str] = []
        self._results: dict[str, bytes] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__()

    def _sync(self, form: dict[str, str]) -> bytes:
        """The VOTable answering a sync request's parameters."""
        query = form.get("QUERY", "")
        self.queries.append(query)
        if form.get("LANG", "").upper() != "ADQL":
            return _error(f"LANG must be ADQL, not {form.get('LANG')!r}")
        match = _QUERY.fullmatch(query.strip())
        if match is None:
            return _error(f"this stand-in answers only the bot's TAP_SCHEMA.columns query, not: {query}")
        columns = match["columns"].split(", ")
        schemas = re.findall(rf"LIKE '({_NAME})\.%'", match["where"])
        statement = sql.SQL("SELECT {} FROM {} WHERE split_part(table_name, '.', 1) = ANY(%s) ORDER BY 1, 2").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(self.schema_name, "columns")
        )
        try:
            with psycopg.connect(self.database) as connection:
                rows = connection.execute(statement, (schemas,)).fetchall()
        except psycopg.Error as error:
            return _error(str(error).splitlines()[0])
        return _votable(columns, rows)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                if not self._allowed():
                    return
                path = urllib.parse.urlsplit(self.path).path
                if path.rstrip("/") != "/sync":
                    self.reply(404, "not found")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                with fake._lock:
                    number = str(next(fake._numbers))
                    fake._results[number] = fake._sync(form)
                self.reply(303, "", {"Location": f"{fake.url}/results/{number}"})

            def do_GET(self) -> None:
                if not self._allowed():
                    return
                number = urllib.parse.urlsplit(self.path).path.removeprefix("/results/")
                with fake._lock:
                    result = fake._results.get(number)
                if result is None:
                    self.reply(404, "not found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-votable+xml")
                self.send_header("Content-Length", str(len(result)))
                self.end_headers()
                self.wfile.write(result)

            def _allowed(self) -> bool:
                if fake.token and self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self.reply(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
                    return False
                return True

        return Handler


def _document(status: str, reason: str = "") -> tuple[ElementTree.Element, ElementTree.Element]:
    ElementTree.register_namespace("", VOTABLE)
    root = ElementTree.Element(f"{{{VOTABLE}}}VOTABLE", version="1.3")
    resource = ElementTree.SubElement(root, f"{{{VOTABLE}}}RESOURCE", type="results")
    info = ElementTree.SubElement(resource, f"{{{VOTABLE}}}INFO", name="QUERY_STATUS", value=status)
    info.text = reason or None
    return root, resource


def _written(root: ElementTree.Element) -> bytes:
    written: bytes = ElementTree.tostring(root, xml_declaration=True, encoding="utf-8")
    return written


def _error(reason: str) -> bytes:
    root, _ = _document("ERROR", reason)
    return _written(root)


def _votable(columns: list[str], rows: list[tuple[object, ...]]) -> bytes:
    root, resource = _document("OK")
    table = ElementTree.SubElement(resource, f"{{{VOTABLE}}}TABLE")
    for column in columns:
        kind = {"datatype": "int"} if column in _INTEGERS else {"datatype": "char", "arraysize": "*"}
        ElementTree.SubElement(table, f"{{{VOTABLE}}}FIELD", {"name": column, **kind})
    data = ElementTree.SubElement(ElementTree.SubElement(table, f"{{{VOTABLE}}}DATA"), f"{{{VOTABLE}}}TABLEDATA")
    for row in rows:
        tr = ElementTree.SubElement(data, f"{{{VOTABLE}}}TR")
        for value in row:
            ElementTree.SubElement(tr, f"{{{VOTABLE}}}TD").text = None if value is None else str(value)
    return _written(root)
