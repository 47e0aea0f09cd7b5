"""``consdb-bot sandbox`` claims its page's port and its folder before it starts anything: a taken port, or a
sandbox already running in the folder, is refused in a line, with exit status 1, and nothing is started or
touched. ``consdb-bot serve`` on a taken port says so too, and the sandbox then starts its bot again on
another port."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.errors import PortInUse
from bot.sandbox.claims import LOCK_NAME, FolderLock, claim_port
from bot.sandbox.run import start_bot
from bot.sandbox.standins.local_server import free_port
from bot.sandbox.standins.slack import BOT_TOKEN, FakeSlack
from tests.conftest import REPO
from tests.support.bot_process import SIGNING_SECRET

LEFT = {
    "state.sqlite3": b"the state of the sandbox running here",
    "bot.log": b"its log\n",
    "consdb-bot.yaml": b"x: 1\n",
}
"""Files of a sandbox in its folder."""


@contextmanager
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def sandbox(folder: Path, port: int, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``consdb-bot sandbox`` to its end, its temporary files (PostgreSQL's folders) under ``tmp``."""
    tmp.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--folder", str(folder)],
        cwd=REPO, env={**os.environ, "TMPDIR": str(tmp)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def left_in(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir()}


def killed_sandbox_lock(folder: Path) -> None:
    """The lock file of a sandbox that was killed (SIGKILL) while it held the folder."""
    with subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from bot.sandbox.claims import FolderLock\n"
         "with FolderLock(Path(sys.argv[1])).held('http://127.0.0.1:8000'):\n"
         "    print('held', flush=True); sys.stdin.read()", str(folder)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as holder:  # fmt: skip
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        holder.kill()
    assert json.loads((folder / LOCK_NAME).read_text())["pid"] == holder.pid


@pytest.mark.parametrize("before", ["no folder", "a killed sandbox's folder"])
def test_a_taken_port_is_refused_in_one_line_before_anything_starts(tmp_path: Path, before: str) -> None:
    folder = tmp_path / "sandbox"
    if before != "no folder":
        folder.mkdir()
        for name, content in LEFT.items():
            (folder / name).write_bytes(content)
        killed_sandbox_lock(folder)  # its lock blocks nothing: the port is what is refused
    was = left_in(folder) if folder.exists() else None
    with taken_port() as port:
        done = sandbox(folder, port, tmp_path / "tmp")
        said = re.fullmatch(rf"error: port {port} is in use; try --port (\d+)\n", done.stderr)
        assert said is not None, done.stderr
        with socket.socket() as probe:  # the port it names is free
            probe.bind(("127.0.0.1", int(said[1])))
    assert done.returncode == 1
    assert done.stdout == ""  # not even "starting PostgreSQL..."
    assert list((tmp_path / "tmp").iterdir()) == [], "no private PostgreSQL was made"
    assert (left_in(folder) if folder.exists() else None) == was


def test_a_second_sandbox_in_the_folder_is_refused_and_touches_nothing_of_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "sandbox"
    folder.mkdir()
    for name, content in LEFT.items():
        (folder / name).write_bytes(content)
    with FolderLock(folder).held("http://127.0.0.1:8000"):  # as the running sandbox holds it
        was = left_in(folder)
        with taken_port() as port:  # the first one's page: the folder is named first
            done = sandbox(folder, port, tmp_path / "tmp")
        assert left_in(folder) == was
    said = done.stderr.splitlines()
    assert done.returncode == 1
    assert said[0] == f"error: a sandbox is already running here (pid {os.getpid()}, http://127.0.0.1:8000)"
    assert said[1].startswith("Stop it (Ctrl-C where it runs), or give this one a folder of its own: --folder DIR.")
    assert len(said) == 2
    assert done.stdout == ""
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_lock_is_let_go_of_and_emptied_when_the_sandbox_ends(tmp_path: Path) -> None:
    folder = tmp_path / "sandbox"
    with FolderLock(folder).held("http://127.0.0.1:8000"):
        assert json.loads((folder / LOCK_NAME).read_text()) == {"pid": os.getpid(), "url": "http://127.0.0.1:8000"}
    assert (folder / LOCK_NAME).read_text() == ""
    FolderLock(folder).refuse_if_held()
    with FolderLock(folder).held("http://127.0.0.1:8001"):
        assert json.loads((folder / LOCK_NAME).read_text())["url"] == "http://127.0.0.1:8001"


def test_serve_on_a_taken_port_says_so_in_a_line_and_exits_1(
    config: Path, slack: FakeSlack, databases: dict[str, str]
) -> None:
    environ = {**os.environ, **databases, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": slack.url}  # fmt: skip
    with taken_port() as port:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "serve", "--port", str(port), "--config", str(config)],
            cwd=REPO, env=environ, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"error: port {port} is in use; try another --port"
    assert "Traceback" not in done.stderr


def test_the_sandbox_starts_its_bot_again_on_another_port_when_a_program_took_the_first(
    config: Path, slack: FakeSlack, databases: dict[str, str], tmp_path: Path
) -> None:
    environ = {**os.environ, **databases, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": slack.url}  # fmt: skip
    log = tmp_path / "bot.log"
    with taken_port() as taken, ExitStack() as stack:
        picked = iter([taken, free_port()])
        bot, port = start_bot(stack, config, environ, log, ports=lambda: next(picked))
        assert port != taken
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        assert bot.poll() is None
    assert bot.poll() is not None, "the bot stops with the sandbox"


def test_a_claimed_port_is_held_against_servers_that_reuse_addresses():
    """Python's HTTP server (and a second sandbox) bind with SO_REUSEADDR, which a merely bound port lets in."""
    claimed = claim_port(0)
    port = claimed.getsockname()[1]
    try:
        with pytest.raises(OSError, match="Address already in use"):
            ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
        with pytest.raises(PortInUse, match=f"port {port} is in use; try --port"):
            claim_port(port)
    finally:
        claimed.close()
