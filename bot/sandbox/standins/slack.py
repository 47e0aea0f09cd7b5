"""A Slack Web API stand-in that speaks HTTP as Slack does, for the real slack_sdk client.

It serves ``/api/<method>`` with Slack's envelope (``{"ok": true, ...}`` or ``{"ok": false,
"error": ...}``), checks the bearer token, records every call with its arguments (query, form and
JSON bodies merged), can answer 429 with ``Retry-After`` as Slack's rate limits do, or fail every
call as Slack does in an outage (HTTP 503, or ``fatal_error``), and serves the upload URLs that
``files.getUploadURLExternal`` hands out. Calls it refused are recorded apart from those it took.
Tests wait on what it recorded.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlparse

from bot.sandbox.standins.local_server import LocalServer, QuietHandler

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "U0CONSDBOT"
_T = TypeVar("_T")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    reply: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        return str(self.args.get("text", ""))


@dataclass
class SlackState:
    calls: list[Call] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    absent_from: set[str] = field(default_factory=set)
    uploads: dict[str, bytes] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    outage: tuple[int, str] | None = None
    """While Slack is down: the HTTP status and the error every call gets."""
    refused: list[Call] = field(default_factory=list)
    """Calls answered with a rate limit or an outage: Slack did not take them."""


class FakeSlack(LocalServer):
    """Start with ``with FakeSlack() as slack:``; ``slack.url`` is the Web API base URL."""

    def __init__(self) -> None:
        self.state = SlackState()
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        super().__init__()

    @property
    def url(self) -> str:
        return super().url + "/api/"

    def rate_limit(self, method: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``Retry-After: 1``."""
        self.state.rate_limited[method] = times

    def go_down(self, *, status: int = 503, error: str = "service_unavailable") -> None:
        """Fail every call from now on, as Slack does in an outage: HTTP ``status`` (503; or 200, with
        ``error`` such as ``fatal_error``), until :meth:`come_back`."""
        with self._changed:
            self.state.outage = (status, error)

    def come_back(self) -> None:
        with self._changed:
            self.state.outage = None

    def calls(self, method: str | None = None) -> list[Call]:
        with self._changed:
            return [call for call in self.state.calls if method is None or call.method == method]

    def refused(self, method: str | None = None) -> list[Call]:
        """Calls answered with a rate limit or an outage, which Slack did not take."""
        with self._changed:
            return [call for call in self.state.refused if method is None or call.method == method]

    def wait_for(
        self, predicate: Callable[[list[Call]], _T | None], *, timeout: float = 60, refused: bool = False
    ) -> _T:
        """Block until ``predicate(calls)`` is truthy (checked whenever a call arrives); return it.
        ``refused``: the calls Slack refused, instead of those it took."""
        with self._changed:
            seen = self.state.refused if refused else self.state.calls
            result = self._changed.wait_for(lambda: predicate(list(seen)), timeout=timeout)
        if not result:
            methods = [f"{call.method} {call.args.get('text', '')[:80]!r}" for call in seen]
            raise AssertionError("Slack never saw what the test waited for; it saw:\n" + "\n".join(methods))
        return result

    def _record(self, call: Call, *, refused: bool = False) -> None:
        with self._changed:
            (self.state.refused if refused else self.state.calls).append(call)
            self._changed.notify_all()

    def _refusal(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """The answer of a Slack that does not take this call now (down, or rate-limiting it), or None."""
        with self._changed:
            if self.state.outage is not None:
                status, error = self.state.outage
                answer: tuple[int, dict[str, Any], dict[str, str]] = (status, {"ok": False, "error": error}, {})
            elif self.state.rate_limited.get(method, 0) > 0:
                self.state.rate_limited[method] -= 1
                answer = (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            else:
                return None
        self._record(Call(method, args, answer[1]), refused=True)
        return answer

    def _answer(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        refusal = self._refusal(method, args)
        if refusal is not None:
            return refusal
        ts = f"1700000000.{next(self._ts):06d}"
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "auth.test": lambda: {"url": "https://consdb.slack.com/", "team": "Rubin", "user": "consdb-bot",
                                  "team_id": "T0RUBIN", "user_id": BOT_USER, "bot_id": "B0CONSDB"},
            "chat.postMessage": lambda: {"channel": args.get("channel"), "ts": ts,
                                         "message": {"text": args.get("text"), "ts": ts}},
            "chat.update": lambda: {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")},
            "chat.postEphemeral": lambda: {"message_ts": ts},
            "users.info": lambda: {"user": self._person(str(args.get("user")))},
            "chat.getPermalink": lambda: {"channel": args.get("channel"), "permalink": _permalink(args)},
            "usergroups.users.list": lambda: {"users": self.state.groups.get(str(args.get("usergroup")), [])},
            "files.getUploadURLExternal": lambda: {"upload_url": f"{self.url}upload/{ts}", "file_id": f"F{ts}"},
            "files.completeUploadExternal": lambda: {"files": [{"id": f["id"]} for f in _files(args)]},
        }  # fmt: skip
        if method not in answers:
            reply: dict[str, Any] = {"ok": False, "error": "unknown_method"}
        elif method.startswith("chat.post") and args.get("channel") in self.state.absent_from:
            reply = {"ok": False, "error": "not_in_channel"}
        elif method == "usergroups.users.list" and str(args.get("usergroup")) not in self.state.groups:
            reply = {"ok": False, "error": "no_such_subteam"}
        else:
            reply = {"ok": True, **answers[method]()}
        self._record(Call(method, args, reply))
        return 200, reply, {}

    def _person(self, user: str) -> dict[str, Any]:
        name = self.state.people.get(user, user)
        return {"id": user, "name": name.split()[0].lower(), "real_name": name,
                "profile": {"real_name": name, "display_name": name.split()[0]}}  # fmt: skip

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _serve(self, body: bytes) -> None:
                parsed = urlparse(self.path)
                name = parsed.path.removeprefix("/api/")
                refusal = fake._refusal(name, {}) if name.startswith(("upload/", "response")) else None
                if refusal is not None:  # the Web API's calls are refused below, with their arguments
                    self.reply(*refusal)
                    return
                if name.startswith("upload/"):
                    fake.state.uploads[name] = body
                    self.reply(200, {"ok": True}, {})
                    return
                if name == "response":  # a slash command's response_url: no token, a JSON body
                    fake._record(Call("response", json.loads(body)))
                    self.reply(200, "ok", {})
                    return
                if self.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
                    self.reply(200, {"ok": False, "error": "invalid_auth"}, {})
                    return
                args: dict[str, Any] = dict(parse_qsl(parsed.query))
                content_type = self.headers.get("Content-Type", "")
                if body and content_type.startswith("application/json"):
                    args.update(json.loads(body))
                elif body:
                    args.update(parse_qsl(body.decode()))
                self.reply(*fake._answer(name, args))

        return Handler


def _permalink(args: dict[str, Any]) -> str:
    return f"https://rubin-obs.slack.com/archives/{args.get('channel')}/p{str(args.get('message_ts')).replace('.', '')}"


def _files(args: dict[str, Any]) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = json.loads(args.get("files", "[]"))
    return files
