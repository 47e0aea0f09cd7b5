"""A Jira REST API (v2) stand-in that speaks HTTP as Jira does, for the real jira client.

It serves the calls the bot makes (``GET /rest/api/2/issue/KEY``, ``GET`` and ``POST
/rest/api/2/issue/KEY/comment``) and ``/rest/api/2/serverInfo``, with Jira's payloads and its error
bodies (``{"errorMessages": [...], "errors": {}}``): 401 without the right bearer token (or basic
auth, as Jira Cloud takes it), 404 for an unknown issue. Tests can make the next calls fail with a
status of their choice, or hold calls until they release them, as a slow Jira does: a held call is
carried out when released, as Jira carries out a request whose caller stopped waiting.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.sandbox.standins.local_server import LocalServer, QuietHandler

JIRA_TOKEN = "jira-test-token-4f1c"
JIRA_USER = "consdb-bot@lsst.org"
HELD_FOR_AT_MOST = 30


@dataclass
class JiraCall:
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    status: int = 0


class FakeJira(LocalServer):
    """Start with ``with FakeJira() as jira:``; ``jira.url`` is the server URL the client is given."""

    def __init__(self) -> None:
        self.issues: dict[str, dict[str, str]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[JiraCall] = []
        self._failures: list[tuple[str, int]] = []
        self._held = threading.Event()
        self._released = threading.Event()
        self._changed = threading.Condition()
        self._ids = itertools.count(10001)
        super().__init__()

    def add_issue(self, key: str, summary: str, status: str = "In Progress") -> None:
        self.issues[key] = {"id": str(next(self._ids)), "summary": summary, "status": status}
        self.comments[key] = []

    def fail_next(self, method: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` (GET, POST) with ``status``."""
        with self._changed:
            self._failures += [(method, status)] * times

    def hold(self) -> None:
        """Keep every call waiting until :meth:`release`."""
        self._released.clear()
        self._held.set()

    def release(self) -> None:
        self._held.clear()
        self._released.set()

    def bodies(self, key: str) -> list[str]:
        with self._changed:
            return [comment["body"] for comment in self.comments.get(key, [])]

    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 60) -> Any:
        """Block until ``predicate()`` is truthy (checked whenever a call is answered); return it."""
        with self._changed:
            result = self._changed.wait_for(predicate, timeout=timeout)
        if not result:
            seen = "\n".join(f"{call.method} {call.path} -> {call.status}" for call in self.calls)
            raise AssertionError("Jira never saw what the test waited for; it saw:\n" + seen)
        return result

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any], auth: str
    ) -> tuple[int, Any]:
        if not _authorized(auth):
            return 401, _errors("You are not authenticated. Authentication required to perform this operation.")
        failure = next((item for item in self._failures if item[0] == method), None)
        if failure is not None:
            self._failures.remove(failure)
            return failure[1], f"<html><body><h1>{failure[1]}</h1>Jira is not available</body></html>"
        parts = path.removeprefix("/rest/api/2/").split("/")
        if parts == ["serverInfo"]:
            return 200, {"baseUrl": self.url, "version": "9.12.15", "versionNumbers": [9, 12, 15],
                         "deploymentType": "Server", "serverTitle": "Rubin Jira"}  # fmt: skip
        if len(parts) < 2 or parts[0] != "issue":
            return 404, _errors(f"null for uri: {self.url}{path}")
        if parts[1].upper() not in self.issues:
            return 404, _errors("Issue does not exist or you do not have permission to see it.")
        return self._on_issue(method, parts[1].upper(), parts[2:], query, body)

    def _on_issue(
        self, method: str, key: str, rest: list[str], query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, Any]:
        if not rest and method == "GET":
            return 200, self._issue(key, query.get("fields", [""])[0])
        if rest == ["comment"] and method == "GET":
            comments = self.comments[key]
            return 200, {"startAt": 0, "maxResults": 5000, "total": len(comments), "comments": comments}
        if rest == ["comment"] and method == "POST" and str(body.get("body", "")).strip():
            comment = self._comment(key, str(body["body"]))
            self.comments[key].append(comment)
            return 201, comment
        if rest == ["comment"] and method == "POST":
            return 400, {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}}
        return 405, _errors("Method Not Allowed")

    def _issue(self, key: str, fields: str) -> dict[str, Any]:
        issue, base = self.issues[key], f"{self.url}/rest/api/2"
        status = {"self": f"{base}/status/3", "description": "", "name": issue["status"], "id": "3",
                  "statusCategory": {"self": f"{base}/statuscategory/4", "id": 4, "key": "indeterminate",
                                     "colorName": "yellow", "name": "In Progress"}}  # fmt: skip
        every = {"summary": issue["summary"], "status": status, "project": {"key": key.split("-", maxsplit=1)[0]}}
        wanted = [name for name in fields.split(",") if name] or list(every)
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue["id"], "self": f"{base}/issue/{issue['id']}", "key": key,
            "fields": {name: every[name] for name in wanted if name in every},
        }  # fmt: skip

    def _comment(self, key: str, body: str) -> dict[str, Any]:
        number = next(self._ids)
        author = {"name": "consdb-bot", "displayName": "ConsDB bot", "active": True}
        stamp = "2026-11-21T12:00:00.000+0000"
        return {
            "self": f"{self.url}/rest/api/2/issue/{self.issues[key]['id']}/comment/{number}", "id": str(number),
            "author": author, "body": body, "updateAuthor": author, "created": stamp, "updated": stamp,
        }  # fmt: skip

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if fake._held.is_set():
                    fake._released.wait(HELD_FOR_AT_MOST)
                parsed = urlparse(self.path)
                body = json.loads(raw) if raw else {}
                with fake._changed:
                    status, payload = fake._answer(
                        method, parsed.path, parse_qs(parsed.query), body, self.headers.get("Authorization", "")
                    )
                    fake.calls.append(JiraCall(method, parsed.path, body, status))
                    fake._changed.notify_all()
                try:
                    self.reply(status, payload)
                except (BrokenPipeError, ConnectionResetError):  # the client stopped waiting, as clients do
                    return

        return Handler


def _authorized(header: str) -> bool:
    basic = base64.b64encode(f"{JIRA_USER}:{JIRA_TOKEN}".encode()).decode()
    return header in (f"Bearer {JIRA_TOKEN}", f"Basic {basic}")


def _errors(message: str) -> dict[str, Any]:
    return {"errorMessages": [message], "errors": {}}
