"""``consdb-bot serve`` when its own state database cannot be reached: one line naming it, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.sandbox.standins.local_server import free_port
from bot.sandbox.standins.slack import BOT_TOKEN
from tests.conftest import PASSWORD, REPO
from tests.support.bot_process import SIGNING_SECRET
from tests.support.silent_listener import SilentListener


@contextmanager
def nobody_listening() -> Iterator[int]:
    yield free_port()


@contextmanager
def silent_listener() -> Iterator[int]:
    with SilentListener() as listener:
        yield listener.port


@pytest.mark.parametrize(
    ("server", "secret_in_query"),
    [(nobody_listening, False), (silent_listener, False), (nobody_listening, True)],
    ids=["port-closed", "silent-proxy", "password-in-query"],
)
@pytest.mark.slow
def test_serve_without_its_state_database_says_so_in_one_line_and_exits_2(config: Path, slack, server, secret_in_query):
    with server() as port:
        url = (
            f"postgresql://consdb_bot@127.0.0.1:{port}/consdb_bot_state?password={PASSWORD}"
            if secret_in_query
            else f"postgresql://consdb_bot:{PASSWORD}@127.0.0.1:{port}/consdb_bot_state"
        )
        text = config.read_text().replace(next(line for line in config.read_text().splitlines()
                                               if line.startswith("state_url:")), f"state_url: {url}")  # fmt: skip
        config.write_text(text + "state_connect_timeout_seconds: 2\n")
        environ = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                   "SLACK_API_URL": slack.url}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "bot", "serve", "--port", str(free_port()), "--config", str(config)],
            cwd=REPO, env=environ, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    said = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2, said
    assert len(said) == 1, said
    shown = (
        f"postgresql://consdb_bot@127.0.0.1:{port}/consdb_bot_state?password=***"
        if secret_in_query
        else f"postgresql://consdb_bot:***@127.0.0.1:{port}/consdb_bot_state"
    )
    assert said[0].startswith(f"error: cannot reach the bot's state database at {shown} (")
    assert "check state_url" in said[0]
    assert PASSWORD not in said[0]
