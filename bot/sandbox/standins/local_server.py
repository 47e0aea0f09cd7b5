"""What every stand-in shares: an HTTP server on a free loopback port, in a thread, for a ``with`` block."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers JSON (or plain text for a ``str``)."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        text = isinstance(payload, str)
        data = payload.encode() if text else json.dumps(payload).encode()
        headers = {"Content-Type": "text/plain" if text else "application/json; charset=utf-8", **(headers or {})}
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class LocalServer:
    """Subclasses say how to answer in ``_handler_class``; ``url`` is where they listen."""

    def __init__(self, *, bound: socket.socket | None = None) -> None:
        """On a free port, or on ``bound``: a socket bound already (its port claimed before anything started),
        listened on from here."""
        if bound is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        else:
            self._server = ThreadingHTTPServer(bound.getsockname(), self._handler_class(), bind_and_activate=False)
            self._server.socket.close()
            self._server.socket = bound
            self._server.server_activate()
        # Polled every 50 ms for shutdown (the default 0.5 s held each test's teardown that long).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    """A port nothing listens on now, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
