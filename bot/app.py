"""The Bolt app and the bot's process: HTTP (``/slack/events``, ``/healthz``, ``/metrics``) or Socket Mode.

The one module of ``bot/`` that knows slack_bolt: it builds the app, registers the handlers, and
serves. Acknowledgements stay fast because the handlers hand slow work to the context's pool.
"""

from __future__ import annotations

import json
import logging
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
from sqlalchemy import text

import handlers
from bot.context import Context
from bot.errors import ConfigError

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30

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
            return self.slack(environ, start_response)
        if path == "/healthz" and method == "GET":
            return self.health(start_response)
        if path == "/metrics" and method == "GET":
            return self.metrics(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    def health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.context.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            report, status = {"status": "ok", "state_database": "ok"}, "200 OK"
        except Exception as error:  # the health check reports any failure, it does not raise it
            report, status = {"status": "failing", "state_database": type(error).__name__}, "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(report).encode()]


def serve(context: Context, *, port: int, socket_mode: bool) -> None:
    """Run until interrupted: settle the past, sweep expiries, and answer Slack."""
    context.start()
    app = build_app(context, socket_mode=socket_mode)
    stop = threading.Event()
    threading.Thread(target=_sweep, args=(context, stop), daemon=True, name="sweeper").start()
    try:
        if socket_mode:
            SocketModeHandler(app, context.slack_settings.app_token).start()
        else:
            with make_server("", port, HttpSurface(app, context), server_class=_ThreadingServer,
                             handler_class=_QuietHandler) as server:  # fmt: skip
                log.info("consdb-bot listening on port %s", server.server_port)
                server.serve_forever()
    finally:
        stop.set()
        context.close()


def _sweep(context: Context, stop: threading.Event) -> None:
    """Now and then: expire requests nobody approved in time, settle runs whose runner is gone."""
    while not stop.wait(SWEEP_SECONDS):
        context.submit(context.changes.expire_due)
        context.submit(context.changes.recover_interrupted)
