"""A Slack Web API stand-in that speaks HTTP as Slack does, for the real slack_sdk client.

It serves ``/api/<method>`` with Slack's envelope (``{"ok": true, ...}`` or ``{"ok": false,
"error": ...}``), checks the bearer token, records every call with its arguments (query, form and
JSON bodies merged), can answer 429 with ``Retry-After`` as Slack's rate limits do, or fail every
call as Slack does in an outage (HTTP 503, or ``fatal_error``), and serves the upload URLs that
``files.getUploadURLExternal`` hands out. Calls it refused are recorded apart from those it took.
Tests wait on what it recorded.

``views.publish`` checks the view as Slack does (``invalid_arguments``, with what is wrong in
``response_metadata.messages``; ``view_too_large``) and keeps each person's Home tab: the last view
published for them. A message posted or updated with blocks Slack would refuse gets ``invalid_blocks``,
with what is wrong the same way.
"""

from __future__ import annotations

import itertools
import json
import re
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
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each person's Home tab: the view last published for them."""


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

    def home_of(self, user: str) -> dict[str, Any] | None:
        """The Home tab ``user`` sees: the view last published for them, or None."""
        with self._changed:
            return self.state.homes.get(user)

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
            "views.publish": lambda: {"view": self._publish(args, ts)},
        }  # fmt: skip
        if method not in answers:
            reply: dict[str, Any] = {"ok": False, "error": "unknown_method"}
        elif (wrong := blocks_refusal(method, args)) is not None:
            reply = {"ok": False, **wrong}
        elif method.startswith("chat.post") and args.get("channel") in self.state.absent_from:
            reply = {"ok": False, "error": "not_in_channel"}
        elif method == "usergroups.users.list" and str(args.get("usergroup")) not in self.state.groups:
            reply = {"ok": False, "error": "no_such_subteam"}
        else:
            reply = {"ok": True, **answers[method]()}
        self._record(Call(method, args, reply))
        return 200, reply, {}

    def _publish(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        """Keep the view as the person's Home, and answer with it as Slack does (with its id and hash)."""
        view = _view_of(args)
        published = {"id": f"V{ts.replace('.', '')}", "team_id": "T0RUBIN", "app_id": "A0CONSDB",
                     "bot_id": "B0CONSDB", "hash": ts, **view}  # fmt: skip
        with self._changed:
            self.state.homes[str(args["user_id"])] = published
        return published

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
                authorization = self.headers.get("Authorization")
                if authorization != f"Bearer {BOT_TOKEN}":  # Slack: no token at all, or one it does not know
                    self.reply(200, {"ok": False, "error": "invalid_auth" if authorization else "not_authed"}, {})
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


MOST_VIEW_BLOCKS = 100
MOST_MESSAGE_BLOCKS = 50
MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
MOST_VIEW_BYTES = 250_000
BLOCK_TYPES = frozenset({"actions", "context", "divider", "file", "header", "image", "input", "markdown", "rich_text",
                         "section", "video"})  # fmt: skip
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def view_refusal(args: dict[str, Any]) -> dict[str, Any] | None:
    """What Slack answers a ``views.publish`` it refuses (its ``error`` and ``response_metadata``), or None."""
    if len(json.dumps(args.get("view", ""))) > MOST_VIEW_BYTES:
        return {"error": "view_too_large"}
    problems = _publish_problems(args)
    if not problems:
        return None
    return {"error": "invalid_arguments", "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}


def blocks_refusal(method: str, args: dict[str, Any]) -> dict[str, Any] | None:
    """What Slack answers a call whose view or message blocks it refuses, or None."""
    if method == "views.publish":
        return view_refusal(args)
    return message_refusal(args) if method in MESSAGE_METHODS else None


def message_refusal(args: dict[str, Any]) -> dict[str, Any] | None:
    """What Slack answers a message (posted or updated) whose blocks it refuses, or None."""
    if "blocks" not in args:
        return None
    try:
        shown = _blocks_of(args)
    except ValueError:
        return {"error": "invalid_blocks_format"}
    if not isinstance(shown, list):
        return {"error": "invalid_blocks_format"}
    problems = (
        [f"no more than {MOST_MESSAGE_BLOCKS} items allowed [json-pointer:/blocks]"]
        if len(shown) > MOST_MESSAGE_BLOCKS
        else []
    )
    for index, block in enumerate(shown):
        problems += [f"{said} [json-pointer:/blocks/{index}{where}]" for where, said in _block_problems(block)]
    if not problems:
        return None
    return {"error": "invalid_blocks", "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}


def _blocks_of(args: dict[str, Any]) -> Any:
    """A message's blocks as sent: a list in a JSON body, or JSON-encoded in a form."""
    shown = args.get("blocks")
    return json.loads(shown) if isinstance(shown, str) else shown


def _publish_problems(args: dict[str, Any]) -> list[str]:
    problems = []
    user = args.get("user_id")
    if not user:
        problems.append("missing required field: user_id")
    elif not _USER_ID.fullmatch(str(user)):
        problems.append("invalid `user_id`")
    if "view" not in args:
        return [*problems, "missing required field: view"]
    try:
        view = _view_of(args)
    except ValueError:
        return [*problems, "failed to parse the view as JSON [json-pointer:/view]"]
    if not isinstance(view, dict):
        return [*problems, "must be an object [json-pointer:/view]"]
    if view.get("type") != "home":
        problems.append("must be 'home' [json-pointer:/view/type]")
    shown = view.get("blocks")
    if not isinstance(shown, list):
        return [*problems, "missing required field: blocks [json-pointer:/view]"]
    if len(shown) > MOST_VIEW_BLOCKS:
        problems.append(f"no more than {MOST_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]")
    for index, block in enumerate(shown):
        problems += [f"{said} [json-pointer:/view/blocks/{index}{where}]" for where, said in _block_problems(block)]
    return problems


def _view_of(args: dict[str, Any]) -> Any:
    """The view as sent: an object in a JSON body, or JSON-encoded in a form."""
    view = args.get("view")
    return json.loads(view) if isinstance(view, str) else view


def _block_problems(block: Any) -> list[tuple[str, str]]:
    """What Slack finds wrong in a block of the kinds the bot draws, each with where in it."""
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        return [("/type", "unsupported type")]
    problems = _length_problems(block, "block_id", "", limit=255)
    checks = {
        "header": _header_problems, "section": _section_problems, "context": _context_problems,
        "actions": _actions_problems,
    }  # fmt: skip
    check = checks.get(block["type"])
    return problems + (check(block) if check else [])


def _length_problems(item: dict[str, Any], key: str, where: str, *, limit: int) -> list[tuple[str, str]]:
    """An optional string field of at most ``limit`` characters."""
    if key not in item:
        return []
    value = item[key]
    if not isinstance(value, str) or not value:
        return [(f"{where}/{key}", "must be more than 0 characters")]
    if len(value) > limit:
        return [(f"{where}/{key}", f"must be less than {limit + 1} characters")]
    return []


ELEMENT_TYPES = frozenset({"button", "checkboxes", "datepicker", "datetimepicker", "multi_static_select",
                           "overflow", "radio_buttons", "static_select", "timepicker", "users_select"})  # fmt: skip
STYLES = frozenset({"primary", "danger"})


def _actions_problems(block: dict[str, Any]) -> list[tuple[str, str]]:
    """An actions block: 1 to 25 interactive elements, each action_id once; buttons checked in full."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
        return [("/elements", "must have from 1 to 25 items")]
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, element in enumerate(elements):
        where = f"/elements/{index}"
        if not isinstance(element, dict) or element.get("type") not in ELEMENT_TYPES:
            problems.append((f"{where}/type", "unsupported type"))
            continue
        action_id = element.get("action_id")
        if isinstance(action_id, str) and action_id in seen:
            problems.append((f"{where}/action_id", "duplicate action_id in the block"))
        seen.add(str(action_id))
        if element["type"] == "button":
            problems += _button_problems(element, where)
    return problems


def _button_problems(button: dict[str, Any], where: str) -> list[tuple[str, str]]:
    problems = _text_problems(button.get("text"), f"{where}/text", limit=75, plain=True)
    problems += _length_problems(button, "action_id", where, limit=255)
    problems += _length_problems(button, "value", where, limit=2000)
    problems += _length_problems(button, "url", where, limit=3000)
    if "style" in button and button["style"] not in STYLES:
        problems.append((f"{where}/style", "must be primary or danger"))
    if "confirm" in button:
        problems += _confirm_problems(button["confirm"], f"{where}/confirm")
    return problems


def _confirm_problems(confirm: Any, where: str) -> list[tuple[str, str]]:
    """A confirmation dialog: a title, a text, and the words of its two buttons."""
    if not isinstance(confirm, dict):
        return [(where, "must be an object")]
    problems = _text_problems(confirm.get("title"), f"{where}/title", limit=100, plain=True)
    problems += _text_problems(confirm.get("text"), f"{where}/text", limit=300)
    problems += _text_problems(confirm.get("confirm"), f"{where}/confirm", limit=30, plain=True)
    problems += _text_problems(confirm.get("deny"), f"{where}/deny", limit=30, plain=True)
    if "style" in confirm and confirm["style"] not in STYLES:
        problems.append((f"{where}/style", "must be primary or danger"))
    return problems


def _header_problems(block: dict[str, Any]) -> list[tuple[str, str]]:
    return _text_problems(block.get("text"), "/text", limit=150, plain=True)


def _section_problems(block: dict[str, Any]) -> list[tuple[str, str]]:
    if "text" not in block and "fields" not in block:
        return [("", "must provide either text or fields")]
    problems = _text_problems(block["text"], "/text", limit=3000) if "text" in block else []
    fields = block.get("fields", [])
    if not isinstance(fields, list) or len(fields) > 10:
        return [*problems, ("/fields", "no more than 10 items allowed")]
    for index, item in enumerate(fields):
        problems += _text_problems(item, f"/fields/{index}", limit=2000)
    return problems


def _context_problems(block: dict[str, Any]) -> list[tuple[str, str]]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
        return [("/elements", "must have from 1 to 10 items")]
    return [problem for index, element in enumerate(elements) if not _image(element)
            for problem in _text_problems(element, f"/elements/{index}", limit=3000)]  # fmt: skip


def _image(element: Any) -> bool:
    return isinstance(element, dict) and element.get("type") == "image"


def _text_problems(text: Any, where: str, *, limit: int, plain: bool = False) -> list[tuple[str, str]]:
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if not isinstance(text, dict) or text.get("type") not in kinds:
        return [(f"{where}/type", f"must be {' or '.join(kinds)}")]
    body = text.get("text")
    if not isinstance(body, str) or not body:
        return [(f"{where}/text", "must be more than 0 characters")]
    if len(body) > limit:
        return [(f"{where}/text", f"must be less than {limit + 1} characters")]
    return []
