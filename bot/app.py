"""The Bolt app and the bot's process: HTTP (``/slack/events``, ``/healthz``, ``/metrics``) or Socket Mode.

The one module of ``bot/`` that knows slack_bolt: it builds the app, registers the handlers, and
serves. Acknowledgements stay fast because the handlers hand slow work to the context's pool.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError

import handlers
from bot.context import Context
from bot.errors import ConfigError

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30
STOP_POLL_SECONDS = 0.2

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


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of Slack requests would be reset, not queued.
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)


class HttpSurface:
    """One WSGI application: Slack's events, the health check, the metrics."""

    def __init__(self, app: App, context: Context) -> None:
        self.slack = SlackRequestHandler(app)
        self.metrics = make_wsgi_app()
        self.context = context

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and method == "POST":
            if self.context.health.stopping.is_set():  # Slack tries again, and reaches the next process
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"stopping\n"]
            return self.slack(environ, start_response)
        if path == "/healthz" and method == "GET":
            code, report = self.context.health.report()
            start_response(
                f"{code} {'OK' if code == 200 else 'Service Unavailable'}", [("Content-Type", "application/json")]
            )
            return [json.dumps(report).encode()]
        if path == "/metrics" and method == "GET":
            return self.metrics(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]


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
    server = make_server(
        "", port, HttpSurface(app, context), server_class=_ThreadingServer, handler_class=_QuietHandler
    )
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
