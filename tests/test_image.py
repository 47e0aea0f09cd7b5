"""The image's entry point: the wheel built from this checkout, installed in a clean virtual environment
as deploy/Dockerfile installs it (the dependencies from requirements.lock, hashes checked, then the wheel
alone, and pip check finds nothing the lock left out), serves /healthz and reads the bundled tree and
model; and the sandbox starts from that clean install and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.sandbox.standins.slack import BOT_TOKEN, FakeSlack
from tests.conftest import REPO
from tests.support.bot_process import SIGNING_SECRET, free_port
from tests.support.clock import pause

pytestmark = pytest.mark.slow


def test_the_wheel_in_a_clean_environment_starts_and_answers_healthz(tmp_path: Path, new_database):
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)], check=True)
    (wheel,) = dist.glob("consdb_bot-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--no-compile"]
    subprocess.run([*pip, "--require-hashes", "-r", str(REPO / "requirements.lock")], check=True)
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "check"], check=True)
    config = tmp_path / "consdb-bot.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp_path / 'state.sqlite3'}\nschemas: [latiss]\n"
        "environments:\n  bts: {database_url: '${BTS_DATABASE_URL}', test_stand: true}\n"
    )
    environ = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")} | {
        "BTS_DATABASE_URL": new_database(),
        "CONSDB_BOT_CONFIG": str(config),
    }
    status = subprocess.run([str(venv / "bin" / "consdb-bot"), "status", "bts"], cwd=tmp_path, env=environ,
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert "latiss" in status.stdout
    port = free_port()
    with FakeSlack() as slack:
        serving = environ | {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
        }
        process = subprocess.Popen([str(venv / "bin" / "consdb-bot"), "serve", "--port", str(port)], cwd=tmp_path,
                                   env=serving, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            health = _wait_for_health(port, process)
        finally:
            process.terminate()
            assert process.wait(timeout=60) == 0
    assert health["status"] == "ok"
    assert health["environments"]["bts"]["database"] == "ok"

    sandbox = subprocess.Popen(
        [str(venv / "bin" / "consdb-bot"), "sandbox", "--port", str(free_port()), "--folder", str(tmp_path / "sandbox")],
        cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert sandbox.stdout is not None
    said = [sandbox.stdout.readline(), sandbox.stdout.readline()]
    try:
        assert "open http://" in said[-1], "".join(said)
        page = said[-1].split("open ", 1)[1].split()[0]
        with urllib.request.urlopen(page, timeout=10) as answer:
            assert "consdb-bot sandbox" in answer.read().decode()
    finally:
        sandbox.send_signal(signal.SIGINT)
        assert sandbox.wait(timeout=120) == 0
    assert "stopped; nothing is left running" in sandbox.stdout.read()


def _wait_for_health(port: int, process: subprocess.Popen[bytes]) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the bot exited at start-up"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                return json.loads(answer.read())
        except OSError:
            pause(0.1)
    raise AssertionError("the bot never answered /healthz")
