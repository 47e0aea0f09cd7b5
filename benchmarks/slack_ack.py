"""Acknowledgement latency: 50 slash commands sent at once to a running bot while a migration runs.

Slack gives a command 3 s to be acknowledged; the bot should answer in well under 100 ms. The bot
runs as ``consdb-bot serve`` against the Slack stand-in of the tests; the migration is held at a
lock the benchmark owns (the test tree's barrier revision), so it is running throughout.

Usage: ``.venv/bin/python benchmarks/slack_ack.py [--commands 50] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bot.sandbox.standins.slack import FakeSlack
from tests.support.bot_process import BotProcess

SERVER = os.environ.get("CONSDB_BOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TREE = Path(__file__).resolve().parents[1] / "tests" / "trees" / "consdb_style"
BARRIER = 4646
APPROVER = "U0APPROVE1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    database = f"consdb_bench_{secrets.token_hex(4)}"
    url = make_url(SERVER).set(database=database).render_as_string(hide_password=False)
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        with psycopg.connect(url, autocommit=True) as holder, tempfile.TemporaryDirectory() as folder:
            holder.execute("CREATE SCHEMA cdb")
            holder.execute("SELECT pg_advisory_lock(%s)", (BARRIER,))
            latencies = measure(Path(folder), url, holder, arguments.commands, arguments.rounds)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print("| measure | result |\n|---|---|")
    print(f"| commands acknowledged | {len(ordered)} ({arguments.rounds} rounds of {arguments.commands} at once) |")
    print(f"| p50 | {statistics.median(ordered) * 1000:.0f} ms |")
    print(f"| p99 | {p99 * 1000:.0f} ms |")
    print(f"| max | {ordered[-1] * 1000:.0f} ms |")


def measure(folder: Path, url: str, holder: psycopg.Connection, commands: int, rounds: int) -> list[float]:
    config = folder / "consdb-bot.yaml"
    config.write_text(f"""
state_url: sqlite:///{folder / "state.sqlite3"}
migrations: {{alembic_ini: {TREE / "alembic.ini"}, sdm_schemas: {TREE}}}
schemas: [latiss, startrackerwide]
environments:
  bts:
    database_url: {url}
    channel: C0BTS00001
    approvals: {{required: 1, approvers: [{APPROVER}]}}
""")
    with FakeSlack() as slack, BotProcess(config, slack.url) as bot:
        bot.command(f"migrate bts startrackerwide --options barrier={BARRIER}", channel="C0BTS00001")
        request = slack.wait_for(lambda calls: next((c for c in calls if "request #1:" in c.text), None))
        bot.reaction("white_check_mark", user=APPROVER, channel="C0BTS00001", ts=request.reply["ts"], event_id="Ev1")
        slack.wait_for(lambda calls: [c for c in calls if c.method == "chat.update" and c.text.endswith(": running")])
        latencies: list[float] = []
        with ThreadPoolExecutor(commands) as pool:
            list(pool.map(lambda _: timed_command(bot), range(commands)))  # warm-up: first imports and connections
            for _ in range(rounds):
                latencies += pool.map(lambda _: timed_command(bot), range(commands))
        holder.execute("SELECT pg_advisory_unlock(%s)", (BARRIER,))
        slack.wait_for(lambda calls: [c for c in calls if c.method == "chat.update" and c.text.endswith(": succeeded")])
    return latencies


def timed_command(bot: BotProcess) -> float:
    began = time.perf_counter()
    reply = bot.command("status bts")
    elapsed = time.perf_counter() - began
    assert reply.status == 200, reply
    return elapsed


if __name__ == "__main__":
    main()
