"""The Bolt app and the bot's process: HTTP (``/slack/events``, ``/healthz``, ``/metrics``) or Socket Mode.

The one module of ``bot/`` that knows slack_bolt: it builds the app, registers the handlers, and
serves. Acknowledgements stay fast because the handlers hand slow work to the context's pool.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import queue
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import make_wsgi_app
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError

import handlers
from bot.errors import ConfigError
from bot.slack.context import Acknowledging, Context

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30
STOP_POLL_SECONDS = 0.2
# Threads that answer HTTP, started with the server; a client that stalls holds one for at most
# READ_TIMEOUT_SECONDS (the socket's timeout).
HTTP_THREADS = 32
READ_TIMEOUT_SECONDS = 10
# Slack signs each request with the time it was sent; one more than five minutes away is refused, as
# Slack's own verifier (and Bolt's) refuses it.
SIGNATURE_WINDOW_SECONDS = 300
TIMESTAMP = re.compile(r"[0-9]{1,15}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

StartResponse = Callable[..., Any]


def build_app(context: Context, *, socket_mode: bool = False) -> App:
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
    handlers.register(app, context)
    return app


class _PooledServer(WSGIServer):
    """A WSGI server whose connections are answered by a fixed set of threads started with it.

    socketserver's ThreadingMixIn starts a thread per connection, and every start waits its turn for
    the GIL: a burst of 100 Slack requests spent 130 ms in the accept loop alone (p99 of a request that
    did nothing). The threads here are started once; a burst queues and is answered at once.
    """

    # socketserver's default backlog is 5: a burst of Slack requests would be reset, not queued.
    request_queue_size = 128

    def __init__(self, port: int, *, acknowledging: Acknowledging) -> None:
        """``acknowledging`` counts the connections taken and not yet answered (slow work waits on it)."""
        self.acknowledging = acknowledging
        super().__init__(("", port), _QuietHandler)

    def server_activate(self) -> None:
        super().server_activate()
        self._connections: queue.SimpleQueue[tuple[socket.socket, Any] | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._answer_connections, daemon=True, name=f"http-{number}")
            for number in range(HTTP_THREADS)
        ]
        for thread in self._threads:
            thread.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.acknowledging.begin()
        self._connections.put((request, client_address))

    def _answer_connections(self) -> None:
        while (connection := self._connections.get()) is not None:
            request, address = connection
            try:
                self.finish_request(request, address)
            except OSError as error:  # a client that went away, or stalled past the timeout
                log.debug("connection from %s ended: %s", address, error)
            except Exception:
                log.exception("answering %s failed", address)
            finally:
                self.shutdown_request(request)
                self.acknowledging.end()

    def server_close(self) -> None:
        super().server_close()
        for _ in self._threads:
            self._connections.put(None)


class _QuietHandler(WSGIRequestHandler):
    timeout = READ_TIMEOUT_SECONDS
    # wsgiref writes the status line, the headers and the body apart: buffered, an answer is one send.
    wbufsize = -1

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)


class HttpSurface:
    """One WSGI application: Slack's events (HTTP mode), the health check, the metrics.

    A request to ``/slack/events`` is judged on its headers before its body is read: one longer than
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
        except Exception:  # logged as the bot logs (JSON, no secrets), not printed by wsgiref
            log.exception("answering %s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            return [b"internal error\n"]

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and method == "POST" and self.slack is not None:
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
            return self.metrics(environ, start_response)
        return _plain(start_response, "404 Not Found", "not found")

    def _slack_events(
        self, slack: SlackRequestHandler, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        try:
            body = self._verified_body(environ)
        except _Refused as refused:
            return _plain(start_response, refused.status, refused.reason)
        return slack({**environ, "wsgi.input": io.BytesIO(body)}, start_response)

    def _verified_body(self, environ: dict[str, Any]) -> bytes:
        """The body of a request Slack signed; :class:`_Refused` for any other, read as little as can be."""
        declared = environ.get("CONTENT_LENGTH") or "0"
        if not declared.isascii() or not declared.isdigit():
            raise _Refused("400 Bad Request", "Content-Length is not a number of bytes")
        length = int(declared)
        if length > self.max_body_bytes:
            raise _Refused("413 Content Too Large", f"a request body may be at most {self.max_body_bytes} bytes")
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not (
            TIMESTAMP.fullmatch(timestamp)
            and SIGNATURE.fullmatch(signature)
            and abs(time.time() - int(timestamp)) <= SIGNATURE_WINDOW_SECONDS
        ):
            raise _Refused("401 Unauthorized", "no valid Slack signature")
        try:
            body = environ["wsgi.input"].read(length)
        except TimeoutError:
            raise _Refused("408 Request Timeout", "the body did not arrive in time") from None
        if len(body) != length:
            raise _Refused("400 Bad Request", "the body is shorter than its Content-Length")
        if not self._signed(body, timestamp, signature):
            raise _Refused("401 Unauthorized", "no valid Slack signature")
        return body

    def _signed(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's ``v0`` signature: HMAC-SHA256 of ``v0:timestamp:body`` with the signing secret."""
        if self.signing_secret is None:
            return False
        expected = hmac.new(self.signing_secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
        return hmac.compare_digest(f"v0={expected.hexdigest()}".encode(), signature.encode())


class _Refused(Exception):
    """A request to ``/slack/events`` that is answered here, with ``status``, and never reaches Bolt."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode() + b"\n"]


def serve(context: Context, *, port: int, socket_mode: bool, stop_seconds: float) -> None:
    """Run until SIGTERM (or Ctrl-C): settle the past, sweep expiries, answer Slack, then stop cleanly.

    HTTP always serves ``/healthz`` and ``/metrics`` (and in HTTP mode Slack's ``/slack/events``); in
    Socket Mode the bot also keeps a connection to Slack. On SIGTERM it takes no new work, gives the
    changes under way ``stop_seconds`` to finish, stops the rest (rolled back, recorded as
    interrupted, locks released), and lets go of the scheduler's leadership.
    """
    context.start()
    context.health.refresh()
    app = build_app(context, socket_mode=socket_mode)
    stop = threading.Event()
    # The handler only notes the signal: it runs in the main thread at any point, where taking a lock
    # (as Event.set does) could deadlock; the main thread looks at the note every STOP_POLL_SECONDS.
    signalled: list[int] = []
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda number, _frame: signalled.append(number))
    threading.Thread(target=_sweep, args=(context, stop), daemon=True, name="sweeper").start()
    server = _PooledServer(port, acknowledging=context.acknowledging)
    server.set_app(HttpSurface(context, None if socket_mode else SlackRequestHandler(app)))
    threading.Thread(target=server.serve_forever, daemon=True, name="http").start()
    connection = SocketModeHandler(app, context.slack_settings.app_token) if socket_mode else None
    try:
        if connection is not None:
            connection.connect()
        log.info(
            "consdb-bot listening on port %s%s", server.server_port, " and over Socket Mode" if socket_mode else ""
        )
        while not signalled:
            stop.wait(STOP_POLL_SECONDS)  # not time.sleep: libfaketime, which the tests use, breaks it
        log.info("stopping: no new work; changes under way get %g s to finish", stop_seconds)
    finally:
        stop.set()
        context.health.stopping.set()
        if connection is not None:
            connection.close()
        context.drain(stop_seconds)
        server.shutdown()
        server.server_close()
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
