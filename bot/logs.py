"""The bot's logs: one JSON object a line (python-json-logger), each with the trace of the Slack request
it serves, and never a secret.

A trace (``slack-1a2b3c4d``) is made for each slash command and each event. It follows the work into
the bot's pools, is kept with the change request the command made (its Slack message shows it), is
taken up again by the run when the request is approved, and goes into every audit record written
meanwhile: one id finds the request, its thread, its audit records and its log lines.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import URL

TRACE: ContextVar[str | None] = ContextVar("consdb_bot_trace", default=None)
SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|DATABASE_URL|STATE_URL|_DSN$", re.IGNORECASE)
HIDDEN = "***"


def shown_url(url: URL) -> str:
    """A database URL as people may read it: its password, in the user part or in the query
    (``?password=``, which libpq takes too), as ``***``."""
    if "password" not in url.query:
        return url.render_as_string(hide_password=True)
    placeholder = f"hidden{secrets.token_hex(8)}"  # a word the URL keeps as it is, unlike *** (%2A%2A%2A)
    shown = url.update_query_dict({"password": placeholder}).render_as_string(hide_password=True)
    return shown.replace(placeholder, HIDDEN)


def new_trace() -> str:
    return f"slack-{secrets.token_hex(4)}"


@contextmanager
def traced(trace: str | None) -> Iterator[None]:
    """Work done in this block carries ``trace``."""
    token = TRACE.set(trace)
    try:
        yield
    finally:
        TRACE.reset(token)


class _TraceAndNoSecrets(logging.Filter):
    """Adds the trace; takes out of the message and traceback every value of a secret variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__()
        self.secrets = sorted(
            (value for name, value in environ.items() if SECRET_NAMES.search(name) and len(value) >= 6),
            key=len, reverse=True,
        )  # fmt: skip

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace = TRACE.get()
        record.msg, record.args = self._hidden(record.getMessage()), None
        if record.exc_info:
            record.exception = self._hidden(logging.Formatter().formatException(record.exc_info))
            record.exc_info, record.exc_text = None, None
        return True

    def _hidden(self, text: str) -> str:
        for value in self.secrets:
            text = text.replace(value, HIDDEN)
        return text


def configure(environ: Mapping[str, str]) -> None:
    """JSON lines on stderr, at INFO, for the bot's process (the terminal keeps Python's plain warnings)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_TraceAndNoSecrets(environ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
