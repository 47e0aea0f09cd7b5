"""The Bolt app and the bot's process: HTTP (``/slack/events``, ``/healthz``, ``/metrics``) or Socket Mode.

The one module of ``bot/`` that knows slack_bolt: it builds the app, registers the listeners it is given, and
serves. Acknowledgements stay fast because the handlers hand slow work to the context's pool.

HTTP is served by waitress, in this process: the bot's state (the context, its pools, the scheduler's
leadership, the changes under way) lives in the one process, and a pre-forking server such as
gunicorn would build a context in each worker, each leading, draining and stopping on its own.
waitress reads requests in one loop and answers them on a fixed set of threads: a client that sends
slowly holds a connection, not a thread.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import io
import json
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import make_wsgi_app
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.utilities import Error, RequestEntityTooLarge

from bot.errors import ConfigError, PortInUse
from bot.slack.context import Acknowledging, Context

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30
STOP_POLL_SECONDS = 0.2
# Threads that answer HTTP, started with the server. A connection silent this long, between requests
# or in the middle of one, is closed (looked at every second).
HTTP_THREADS = 32
READ_TIMEOUT_SECONDS = 10
# Requests being answered when the server stops get this long to be.
ANSWER_SECONDS = 5
# Slack signs each request with the time it was sent; one more than five minutes away is refused, as
# Slack's own verifier (and Bolt's) refuses it.
SIGNATURE_WINDOW_SECONDS = 300
TIMESTAMP = re.compile(r"[0-9]{1,15}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

StartResponse = Callable[..., Any]


Listeners = Callable[[App, Context], None]
"""Registers the Slack listeners on an app (``handlers.register``): given by whoever serves, so that
this package never imports the listeners, which import it."""


def build_app(context: Context, listeners: Listeners, *, socket_mode: bool = False) -> App:
    slack = context.slack_settings
    try:
        app = App(
            signing_secret=slack.signing_secret,
            client=context.slack,
            request_verification_enabled=not socket_mode,
            # Every listener only parses, acknowledges and hands off to the context's pool, so it may
            # run in the request's own thread: no executor hop, no polling for the acknowledgement.
            process_before_response=True,
        )
    except BoltError as error:
        raise ConfigError(f"Slack refused the bot token: {error}", hint="Check SLACK_BOT_TOKEN.") from None
    listeners(app, context)
    return app


class HttpSurface:
    """One WSGI application: Slack's events (HTTP mode), the health check, the metrics.

    A request to ``/slack/events`` is judged on its headers before its body is read
    (:meth:`refusal`, which the server asks as soon as the headers are in): one longer than
    ``slack.max_body_bytes`` gets 413, one without a well-formed, fresh signature 401. Only then is the
    body read (it is that small) and its signature checked, so a stranger can neither make the bot hold
    a large body nor make it fail on a header it cannot parse.
    """

    def __init__(self, context: Context, slack: SlackRequestHandler | None) -> None:
        """``slack`` is None in Socket Mode: Slack's events come over the socket, never over HTTP."""
        self.slack = slack
        self.metrics = make_wsgi_app()
        self.context = context
        secret = context.slack_settings.signing_secret
        self.signing_secret = secret.encode() if secret else None
        self.max_body_bytes = context.settings.slack.max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._route(environ, start_response)
        except Exception:  # logged as the bot logs (JSON, no secrets), not by the server
            log.exception("answering %s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            return [b"internal error\n"]

    def takes_events(self, method: str, path: str) -> bool:
        return path == "/slack/events" and method == "POST" and self.slack is not None

    def refusal(self, declared: str, timestamp: str, signature: str) -> Refusal | None:
        """Why a request to ``/slack/events`` is refused from its headers alone (its Content-Length,
        ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``), or None when its body may be read."""
        if not declared.isascii() or not declared.isdigit():
            return Refusal(400, "Bad Request", "Content-Length is not a number of bytes")
        if int(declared) > self.max_body_bytes:
            return Refusal(413, "Content Too Large", f"a request body may be at most {self.max_body_bytes} bytes")
        if not (
            TIMESTAMP.fullmatch(timestamp)
            and SIGNATURE.fullmatch(signature)
            and abs(time.time() - int(timestamp)) <= SIGNATURE_WINDOW_SECONDS
        ):
            return Refusal(401, "Unauthorized", "no valid Slack signature")
        return None

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if self.slack is not None and self.takes_events(method, path):
            if self.context.health.stopping.is_set():  # Slack tries again, and reaches the next process
                return _plain(start_response, "503 Service Unavailable", "stopping")
            return self._slack_events(self.slack, environ, start_response)
        if path == "/healthz" and method == "GET":
            code, report = self.context.health.report()
            start_response(
                f"{code} {'OK' if code == 200 else 'Service Unavailable'}", [("Content-Type", "application/json")]
            )
            return [json.dumps(report).encode()]
        if path == "/metrics" and method == "GET":
            served: Iterable[bytes] = self.metrics(environ, start_response)
            return served
        return _plain(start_response, "404 Not Found", "not found")

    def _slack_events(
        self, slack: SlackRequestHandler, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Judged again on its headers (the application stands on its own), then on its body's signature."""
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        declared = environ.get("CONTENT_LENGTH") or "0"
        refused = self.refusal(declared, timestamp, signature)
        if refused is not None:
            return _plain(start_response, refused.status, refused.text)
        body = environ["wsgi.input"].read(int(declared))
        if not self._signed(body, timestamp, signature):
            return _plain(start_response, "401 Unauthorized", "no valid Slack signature")
        return slack({**environ, "wsgi.input": io.BytesIO(body)}, start_response)

    def _signed(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's ``v0`` signature: HMAC-SHA256 of ``v0:timestamp:body`` with the signing secret."""
        if self.signing_secret is None:
            return False
        expected = hmac.new(self.signing_secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
        return hmac.compare_digest(f"v0={expected.hexdigest()}".encode(), signature.encode())


class Refusal(Error):
    """A request to ``/slack/events`` answered from its headers, with ``code``, never reaching Bolt; as a
    waitress error, the server answers it without reading the body, and closes the connection."""

    def __init__(self, code: int, reason: str, text: str) -> None:
        super().__init__(text)
        self.code, self.reason, self.text = code, reason, text

    @property
    def status(self) -> str:
        return f"{self.code} {self.reason}"

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        return self.status, [("Content-Type", "text/plain; charset=utf-8")], self.text.encode() + b"\n"


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode() + b"\n"]


class _Head(HTTPRequestParser):
    """waitress's request parser, asking the surface about a request to ``/slack/events`` as soon as its
    headers are in: a refusal completes the request there, its body unread."""

    def __init__(self, adj: Adjustments, surface: HttpSurface) -> None:
        super().__init__(adj)
        self.surface = surface
        self.judged = False

    def received(self, data: bytes) -> int:
        consumed: int = super().received(data)
        if self.headers_finished and not self.judged:
            self.judged = True
            # waitress refuses a declared length over its own limit (the same) in words of its own.
            if (self.error is None or isinstance(self.error, RequestEntityTooLarge)) and self.surface.takes_events(
                self.command, self.path
            ):
                self._judge()
        return consumed

    def _judge(self) -> None:
        headers = self.headers
        refused = self.surface.refusal(
            "0" if self.chunked else headers.get("CONTENT_LENGTH", "0"),
            headers.get("X_SLACK_REQUEST_TIMESTAMP", ""),
            headers.get("X_SLACK_SIGNATURE", ""),
        )
        if refused is not None:
            self.error, self.completed, self.expect_continue = refused, True, False


class _Channel(HTTPChannel):
    """A connection: its requests parsed by :class:`_Head`, each counted as acknowledging until answered."""

    server: _Server

    def parser_class(self, adj: Adjustments) -> HTTPRequestParser:  # waitress calls self.parser_class(adj)
        return _Head(adj, self.server.surface)

    def service(self) -> None:
        try:
            super().service()
        finally:
            self.server.acknowledging.end()

    def cancel(self) -> None:
        """A request taken and never answered: the server stopped first."""
        super().cancel()
        self.server.acknowledging.end()


class _Server(TcpWSGIServer):
    """waitress on one port, whose requests count as acknowledging from when they are read until answered
    (slow work waits for there to be none)."""

    channel_class = _Channel

    def __init__(self, surface: HttpSurface, acknowledging: Acknowledging, **adjustments: Any) -> None:
        self.surface = surface
        self.acknowledging = acknowledging
        super().__init__(surface, **adjustments)

    def add_task(self, task: Any) -> None:
        self.acknowledging.begin()
        super().add_task(task)


class _Http:
    """The HTTP server: its loop in a thread of its own, stopped in order (no new connection, the
    requests under way answered, then every connection closed)."""

    def __init__(self, surface: HttpSurface, *, port: int, acknowledging: Acknowledging) -> None:
        try:
            self.server = _Server(
                surface, acknowledging, host="0.0.0.0", port=port, threads=HTTP_THREADS,
                # waitress refuses a length of at least this; /slack/events is judged before it (_Head).
                max_request_body_size=surface.max_body_bytes + 1,
                channel_timeout=READ_TIMEOUT_SECONDS, cleanup_interval=1, ident="consdb-bot",
            )  # fmt: skip
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise PortInUse(port) from None
        self.port = int(self.server.effective_port)
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="http")

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        connections = self.server._map
        while not self._ended.is_set():
            wasyncore.loop(timeout=1, map=connections, use_poll=True, count=1)
        wasyncore.loop(timeout=0, map=connections, use_poll=True, count=1)  # sends the last answers
        wasyncore.close_all(connections)

    def stop(self) -> None:
        self.server.accepting = False
        self.server.task_dispatcher.shutdown(timeout=ANSWER_SECONDS)
        self._ended.set()
        self.server.pull_trigger()
        self._thread.join()


def serve(context: Context, listeners: Listeners, *, port: int, socket_mode: bool, stop_seconds: float) -> None:
    """Run until SIGTERM (or Ctrl-C): settle the past, sweep expiries, answer Slack, then stop cleanly.

    HTTP always serves ``/healthz`` and ``/metrics`` (and in HTTP mode Slack's ``/slack/events``); in
    Socket Mode the bot also keeps a connection to Slack. On SIGTERM it takes no new work, gives the
    changes under way ``stop_seconds`` to finish, stops the rest (rolled back, recorded as
    interrupted, locks released), and lets go of the scheduler's leadership.
    """
    context.start()
    context.health.refresh()
    app = build_app(context, listeners, socket_mode=socket_mode)
    stop = threading.Event()
    # The handler only notes the signal: it runs in the main thread at any point, where taking a lock
    # (as Event.set does) could deadlock; the main thread looks at the note every STOP_POLL_SECONDS.
    signalled: list[int] = []
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda number, _frame: signalled.append(number))
    threading.Thread(target=_sweep, args=(context, stop), daemon=True, name="sweeper").start()
    surface = HttpSurface(context, None if socket_mode else SlackRequestHandler(app))
    http = _Http(surface, port=port, acknowledging=context.acknowledging)
    http.start()
    connection = SocketModeHandler(app, context.slack_settings.app_token) if socket_mode else None
    try:
        if connection is not None:
            connection.connect()
        log.info("consdb-bot listening on port %s%s", http.port, " and over Socket Mode" if socket_mode else "")
        while not signalled:
            stop.wait(STOP_POLL_SECONDS)  # not time.sleep: libfaketime, which the tests use, breaks it
        log.info("stopping: no new work; changes under way get %g s to finish", stop_seconds)
    finally:
        stop.set()
        context.health.stopping.set()
        if connection is not None:
            connection.close()
        context.drain(stop_seconds)
        http.stop()
        context.close()
        log.info("stopped")


def _sweep(context: Context, stop: threading.Event) -> None:
    """Now and then: see whether the environments' databases answer, expire requests nobody approved in
    time, settle runs whose runner is gone."""
    while not stop.wait(SWEEP_SECONDS):
        context.submit(context.health.refresh)
        context.submit(context.changes.expire_due)
        context.submit(context.changes.recover_interrupted)
        context.submit(context.replays.forget_old)
