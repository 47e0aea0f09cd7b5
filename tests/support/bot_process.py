"""The bot as Slack sees it: ``consdb-bot serve`` in a process of its own, and signed requests to it.

Requests are signed as Slack signs them (``v0=`` HMAC-SHA256 of ``v0:timestamp:body`` with the
signing secret), so they go through the app's real verification.

``clock_at`` sets the bot's clock: the process runs under libfaketime (Debian's ``faketime``) with
its wall clock moved to that moment, then going on at the normal pace; its children share the
offset. Requests are signed on that clock, as Slack's would be on a bot whose clock is right.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.standins.local_server import free_port
from bot.sandbox.standins.slack import BOT_TOKEN
from tests.support.clock import pause

SIGNING_SECRET = "test-signing-secret"
REPO = Path(__file__).resolve().parents[2]
FAKETIME_LIBRARIES = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
_FAKETIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def suite_offset() -> float:
    """Seconds by which libfaketime already moves the suite's own clock (``faketime -f '+365d' pytest``).

    libfaketime moves a child's clock from the real one, not from its parent's: a bot started at a
    moment of the test's clock needs this added to its offset.
    """
    if "faketime" not in os.environ.get("LD_PRELOAD", ""):
        return 0.0
    spec = os.environ.get("FAKETIME", "").strip()
    match = re.fullmatch(r"([+-]\d+(?:\.\d+)?)([smhdy]?)", spec)
    if match is None:
        raise AssertionError(f"run the suite under a relative FAKETIME such as '+365d', not {spec!r}")
    return float(match[1]) * _FAKETIME_UNITS[match[2]]


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def sign(body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


class BotProcess:
    """``consdb-bot serve --port N`` with the given configuration, against the given Slack."""

    def __init__(
        self, config: Path, slack_url: str, *, environ: dict[str, str] | None = None, clock_at: datetime | None = None,
        args: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        self.port = free_port()
        self.offset = 0.0 if clock_at is None else clock_at.timestamp() - time.time()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environ = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_url,
            **(environ or {}),
            **(self._faked_clock() if clock_at is not None else {}),
        }
        self.config = config
        self.response_url = f"{slack_url}response"
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._triggers = itertools.count(1)
        self._reader: threading.Thread | None = None

    def _faked_clock(self) -> dict[str, str]:
        if not FAKETIME_LIBRARIES:
            raise AssertionError(
                "these tests move the bot's clock with libfaketime: install Debian's faketime package"
                " (apt-get install faketime; .ci/run does)"
            )
        return {
            "LD_PRELOAD": str(FAKETIME_LIBRARIES[0]),
            "FAKETIME": f"{self.offset + suite_offset():+.3f}",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "TZ": "UTC",
        }

    def now(self) -> float:
        """The bot's clock, as a Unix time."""
        return time.time() + self.offset

    def start(self) -> BotProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port), "--config", str(self.config), *self.args],
            cwd=REPO, env=self.environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        output = self.process.stdout
        assert output is not None  # stdout=PIPE
        # Read all along: a bot whose log fills the pipe would stop at its next line.
        self._reader = threading.Thread(target=lambda: self._lines.extend(output), daemon=True)
        self._reader.start()
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        """Until ``/healthz`` answers: the readiness the deployment probes too."""
        assert self.process is not None
        for _ in range(300):
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited at start-up:\n{self.output()}")
            try:
                if self.get("/healthz").status == 200:
                    return
            except OSError:
                pass
            pause(0.05)
        raise AssertionError("the bot never answered /healthz")

    def output(self) -> str:
        """Everything the bot printed, once it has stopped (it is stopped if it has not)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.stop()
        if self._reader is not None:
            self._reader.join()
        return "".join(self._lines)

    @property
    def printed(self) -> int:
        """How many lines the bot has printed so far."""
        return len(self._lines)

    def wait_for_output(self, predicate: Callable[[str], bool], *, after: int = 0, timeout: float = 60) -> str:
        """Until the bot prints a line (past the first ``after``) for which ``predicate`` holds; returns it.
        Looked at every 50 ms: the bot's output is read by a thread of its own."""
        deadline = time.monotonic() + timeout
        looked = after
        while time.monotonic() < deadline:
            lines = self._lines[:]
            found = next((line for line in lines[looked:] if predicate(line)), None)
            if found is not None:
                return found
            looked = max(looked, len(lines))
            pause(0.05)
        raise AssertionError("the bot never printed what the test waited for; it printed:\n" + "".join(self._lines))

    def terminate(self) -> None:
        """SIGTERM, as Kubernetes stops a pod; the bot then stops in its own time."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def stop(self, *, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=60)

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def get(self, path: str) -> Reply:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return Reply(response.status, response.read().decode())

    def post(self, body: bytes, headers: dict[str, str]) -> Reply:
        request = urllib.request.Request(self.url + "/slack/events", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode())

    def command(self, text: str, *, user: str = "U0REQUEST1", channel: str = "C0CONSDB01", **signing: Any) -> Reply:
        body = urlencode({
            "token": "legacy", "team_id": "T0RUBIN", "channel_id": channel, "user_id": user, "user_name": user.lower(),
            "command": "/consdb", "text": text, "response_url": self.response_url,
            "trigger_id": f"{next(self._triggers)}.{self.port}",  # Slack's is new each time: no two bodies alike
        }).encode()  # fmt: skip
        signing.setdefault("timestamp", int(self.now()))
        return self.post(body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, **signing)})

    def click(self, message: dict[str, Any], action_id: str, *, user: str, action_ts: str) -> Reply:
        """A click on a button of ``message`` (its ``channel``, ``ts``, ``text`` and ``blocks``), as Slack sends
        it: ``block_actions``, form-encoded as ``payload=JSON``; ``action_ts`` tells one click from another."""
        block, button = next(
            (block, element) for block in message["blocks"] if block["type"] == "actions"
            for element in block["elements"] if element.get("action_id") == action_id
        )  # fmt: skip
        payload = {
            "type": "block_actions", "token": "legacy", "api_app_id": "A0CONSDB",
            "trigger_id": f"{next(self._triggers)}.{self.port}", "team": {"id": "T0RUBIN", "domain": "rubin"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0RUBIN"},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"],
                          "is_ephemeral": False},
            "channel": {"id": message["channel"], "name": "consdb"},
            "message": {"type": "message", "ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
            "response_url": self.response_url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": block.get("block_id", ""),
                         "text": button["text"], "value": button.get("value", ""), "action_ts": action_ts}],
        }  # fmt: skip
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(
            body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, timestamp=int(self.now()))}
        )

    def event(self, event: dict[str, Any], *, event_id: str) -> Reply:
        body = json.dumps({
            "token": "legacy", "team_id": "T0RUBIN", "api_app_id": "A0CONSDB", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()), "event": event,
        }).encode()  # fmt: skip
        return self.post(body, {"Content-Type": "application/json", **sign(body, timestamp=int(self.now()))})

    def reaction(self, name: str, *, user: str, channel: str, ts: str, event_id: str, added: bool = True) -> Reply:
        return self.event(
            {"type": "reaction_added" if added else "reaction_removed", "user": user, "reaction": name,
             "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": str(time.time())},
            event_id=event_id,
        )  # fmt: skip
