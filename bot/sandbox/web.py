"""The sandbox's web page: a Slack channel on localhost.

The page shows what the bot posted to the Slack stand-in (messages, updates, threads, files, and the
messages only one user sees) and the bot's Home tab as the stand-in keeps it for each person, and is a
real client of the bot: it signs its slash commands, reaction events and ``app_home_opened`` events with
the sandbox's signing secret, in the browser, and sends them to ``/slack/events`` here, which passes them
to the bot unchanged, as Slack would. Reactions are kept here, as Slack keeps them, so that every user
sees them.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.sandbox.guide import guide
from bot.sandbox.standins.local_server import LocalServer, QuietHandler
from bot.sandbox.standins.slack import BOT_USER, FakeSlack

FORWARDED = ("Content-Type", "X-Slack-Signature", "X-Slack-Request-Timestamp")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class Channel:
    id: str
    name: str


class SandboxPage(LocalServer):
    """Start with ``with SandboxPage(...) as page:``; ``page.url`` is the page."""

    def __init__(
        self, slack: FakeSlack, bot_url: str, *, signing_secret: str, people: list[Person], channels: list[Channel],
        bound: socket.socket | None = None,
    ) -> None:  # fmt: skip
        self.slack = slack
        self.bot_url = bot_url.rstrip("/")
        self.signing_secret = signing_secret
        self.people = people
        self.channels = channels
        self.reactions: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._lock = threading.Lock()
        super().__init__(bound=bound)

    def session(self) -> dict[str, Any]:
        """What the page needs to act as Slack: who may type, where, how to sign, and the welcome it opens with."""
        return {
            "people": [person.__dict__ for person in self.people],
            "channels": [channel.__dict__ for channel in self.channels],
            "signing_secret": self.signing_secret,
            "response_url": f"{self.slack.url}response",
            "bot_user": BOT_USER,
            "guide": guide(),
        }

    def messages(self) -> list[dict[str, Any]]:
        """What the bot posted, as a Slack client shows it: updates applied, files with their content."""
        shown: dict[tuple[str, str], dict[str, Any]] = {}
        order: list[tuple[str, str]] = []
        for call in self.slack.calls():
            message = self._message(call)
            if call.method == "chat.update":
                key = (str(call.args.get("channel")), str(call.args.get("ts")))
                if key in shown:
                    shown[key] |= {"text": call.args.get("text", ""), "blocks": _blocks(call.args), "edited": True}
            elif message is not None:
                key = (message["channel"], message["ts"])
                shown[key] = message
                order.append(key)
        with self._lock:
            for key in order:
                shown[key]["reactions"] = {name: sorted(users) for name, users in self.reactions.get(key, {}).items()}
        return [shown[key] for key in order]

    def react(self, person: str, channel: str, ts: str, name: str, *, added: bool) -> None:
        with self._lock:
            users = self.reactions.setdefault((channel, ts), {}).setdefault(name, set())
            (users.add if added else users.discard)(person)

    def _message(self, call: Any) -> dict[str, Any] | None:
        base = {"user": BOT_USER, "text": call.args.get("text", ""), "blocks": _blocks(call.args), "at": call.at}
        if call.method == "chat.postMessage" and call.reply.get("ok"):
            thread = call.args.get("thread_ts")
            return base | {"channel": call.args["channel"], "ts": call.reply["ts"], "thread_ts": thread}
        if call.method == "chat.postEphemeral" and call.reply.get("ok"):
            return base | {"channel": call.args["channel"], "ts": call.reply["message_ts"], "only": call.args["user"]}
        if call.method == "response":  # said through a command's response URL, to the one who typed
            return base | {"channel": "", "ts": f"response-{call.at}", "only": "*"}
        if call.method == "files.completeUploadExternal" and call.reply.get("ok"):
            files = json.loads(call.args.get("files", "[]"))
            content = "".join(self.slack.state.uploads.get(f"upload/{item['id'][1:]}", b"").decode() for item in files)
            title = ", ".join(str(item.get("title", "file")) for item in files)
            where = {
                "channel": call.args.get("channel_id"),
                "ts": f"file-{call.at}",
                "thread_ts": call.args.get("thread_ts"),
            }
            return base | where | {"file": {"title": title, "content": content}}
        return None

    def forward(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """A signed request from the page, to the bot, unchanged."""
        request = urllib.request.Request(f"{self.bot_url}/slack/events", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read(), answer.headers.get("Content-Type", "text/plain")
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Content-Type", "text/plain")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        page = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if self.path == "/":
                    html = resources.files("bot.sandbox").joinpath("page.html").read_text()
                    self.reply(200, html, {"Content-Type": "text/html; charset=utf-8"})
                elif self.path == "/api/session":
                    self.reply(200, page.session())
                elif self.path == "/api/messages":
                    self.reply(200, page.messages())
                elif self.path.startswith("/api/home?"):
                    user = parse_qs(urlparse(self.path).query).get("user", [""])[0]
                    self.reply(200, {"view": page.slack.home_of(user)})
                else:
                    self.reply(404, "not found")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/slack/events":
                    headers = {name: self.headers[name] for name in FORWARDED if self.headers.get(name)}
                    status, answer, kind = page.forward(body, headers)
                    self.reply(status, answer.decode(), {"Content-Type": kind})
                elif self.path == "/api/reactions":
                    change = json.loads(body)
                    page.react(change["user"], change["channel"], change["ts"], change["name"], added=change["added"])
                    self.reply(200, {"ok": True})
                else:
                    self.reply(404, "not found")

        return Handler


def _blocks(args: dict[str, Any]) -> list[Any]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks
