"""A pqserver stand-in: its schema API (``/consdb/schema/{instrument}[/{table}]``) over HTTP."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

from bot.sandbox.standins.local_server import LocalServer, QuietHandler


class FakePqServer(LocalServer):
    """``tables[instrument][table]`` is the list of columns pqserver reports."""

    def __init__(self, tables: dict[str, dict[str, list[str]]]) -> None:
        self.tables = tables
        super().__init__()

    def _answer(self, path: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] != ["consdb", "schema"] or len(parts) not in (3, 4) or parts[2] not in self.tables:
            return 404, {"detail": "Not Found"}
        instrument = self.tables[parts[2]]
        if len(parts) == 3:
            return 200, [f"cdb_{parts[2]}.{table}" for table in instrument]
        table = parts[3].removeprefix(f"cdb_{parts[2]}.")
        if table not in instrument:
            return 404, {"message": f"Unknown table: cdb_{parts[2]}.{table}"}
        return 200, {column: ["VARCHAR", None] for column in instrument[table]}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.reply(*fake._answer(self.path))

        return Handler
