"""The bot's few calls to Jira, through the jira client: look a ticket up, comment on it, list its comments.

The client is made once per process, without fetching the server's info (a start never waits on
Jira), with timeouts, and without the client's own retries: a comment Jira did not take is kept and
tried again by :mod:`bot.services.tickets`, which answers at once meanwhile.

Jira's errors are turned into :class:`TicketUnknown` (no such ticket) or :class:`JiraUnavailable`
(Jira down, slow, or refusing the token), worded here from the status code alone: the client's own
error text carries the request's headers, token included, so it is never logged or shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import requests
from jira import JIRA, JIRAError

from bot.config import Jira
from bot.errors import Refused
from bot.metrics import API_ERRORS

T = TypeVar("T")
FIELDS = "summary,status"


@dataclass(frozen=True)
class Ticket:
    key: str
    summary: str
    status: str
    url: str


class TicketUnknown(Refused):
    """Jira says there is no such ticket (or the bot may not see it)."""


class JiraUnavailable(Exception):
    """Jira did not do what was asked; ``reason`` says why in words fit for a user, without secrets.
    ``permanent`` when asking again would not help (Jira refused the request itself)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class JiraDesk:
    """One Jira server, reached with one token."""

    def __init__(self, url: str, token: str, *, user: str | None = None, timeout_seconds: float) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._user = user
        self.timeout_seconds = timeout_seconds
        self._client: JIRA | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, jira: Jira, environ: Mapping[str, str]) -> JiraDesk | None:
        """The desk the configuration and ``JIRA_TOKEN`` (and ``JIRA_USER``, for Jira Cloud) describe;
        None when there is no token, or no URL."""
        token = environ.get("JIRA_TOKEN")
        if not token or not isinstance(jira.url, str) or not jira.url:
            return None
        return cls(jira.url, token, user=environ.get("JIRA_USER") or None, timeout_seconds=jira.timeout_seconds)

    def browse_url(self, key: str) -> str:
        return f"{self.url}/browse/{key}"

    def find(self, key: str) -> Ticket:
        issue = self._call(lambda client: client.issue(key, fields=FIELDS), key=key)
        return Ticket(issue.key, str(issue.fields.summary), str(issue.fields.status.name), self.browse_url(issue.key))

    def comment(self, key: str, body: str) -> None:
        self._call(lambda client: client.add_comment(key, body), key=key)

    def has_comment(self, key: str, body: str) -> bool:
        """Whether the ticket holds this comment already (one the bot sent, whose answer never came)."""
        comments = self._call(lambda client: client.comments(key), key=key)
        return any(str(comment.body).strip() == body.strip() for comment in comments)

    def _call(self, call: Callable[[JIRA], T], *, key: str) -> T:
        try:
            return call(self._connected())
        except JIRAError as error:
            API_ERRORS.labels("jira").inc()
            raise _translated(error, key) from None
        except requests.Timeout:
            API_ERRORS.labels("jira").inc()
            raise JiraUnavailable(f"Jira did not answer within {self.timeout_seconds:g} s") from None
        except requests.RequestException as error:
            API_ERRORS.labels("jira").inc()
            raise JiraUnavailable(f"Jira could not be reached ({type(error).__name__})") from None

    def _connected(self) -> JIRA:
        with self._lock:
            if self._client is None:
                auth = {"basic_auth": (self._user, self._token)} if self._user else {"token_auth": self._token}
                self._client = JIRA(
                    server=self.url, get_server_info=False, max_retries=0, timeout=self.timeout_seconds,
                    options={"rest_api_version": "2"}, **auth,
                )  # fmt: skip
            return self._client


def _translated(error: JIRAError, key: str) -> Exception:
    status = error.status_code
    if status == 404:
        return TicketUnknown(f"there is no Jira ticket {key}, or the bot may not see it")
    if status in (401, 403):
        return JiraUnavailable(f"Jira refused the bot's token (HTTP {status}); an operator should check JIRA_TOKEN")
    if status == 429:
        return JiraUnavailable("Jira asked the bot to slow down (HTTP 429)")
    if status is not None and status >= 500:
        return JiraUnavailable(f"Jira failed to answer (HTTP {status})")
    return JiraUnavailable(f"Jira did not take the call (HTTP {status})", permanent=True)
