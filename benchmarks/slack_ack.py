"""Acknowledgement latency: 100 slash commands sent at once to a running bot while a migration runs.

Slack gives a command 3 s to be acknowledged; the bot should answer within 100 ms. The bot runs as
``consdb-bot serve`` against the Slack stand-in of the tests; the migration is held at a lock the
benchmark owns (the test tree's barrier revision), so it is running throughout.

The commands are signed beforehand and sent by a client process of their own (asyncio, one
connection each): timed from the process that also runs the Slack stand-in (which takes the bot's
answers meanwhile) or from a hundred client threads, the client's own share of the one GIL was most
of what was measured.

Usage: ``.venv/bin/python benchmarks/slack_ack.py [--commands 100] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg

from benchmarks.databases import databases, percentile, url_of
from bot.sandbox.standins.slack import FakeSlack
from tests.support.bot_process import BotProcess, sign

TREE = Path(__file__).resolve().parents[1] / "tests" / "trees" / "consdb_style"
BARRIER = 4646
APPROVER = "U0APPROVE1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)  # the timing client: the bot's port
    arguments = parser.parse_args()
    if arguments.client:
        print(json.dumps(asyncio.run(send_bursts(arguments.client, json.load(sys.stdin)))))
        return
    with databases(1) as (database,), psycopg.connect(url_of(database), autocommit=True) as holder:
        holder.execute("CREATE SCHEMA cdb")
        holder.execute("SELECT pg_advisory_lock(%s)", (BARRIER,))
        with tempfile.TemporaryDirectory() as folder:
            latencies = measure(Path(folder), url_of(database), holder, arguments.commands, arguments.rounds)
    ordered = sorted(latencies)
    p99 = percentile(ordered, 0.99)
    print("| measure | result |\n|---|---|")
    print(f"| commands acknowledged | {len(ordered)} ({arguments.rounds} bursts of {arguments.commands} at once) |")
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
        # One warm-up burst (first imports and connections), then the measured ones; signed now, sent later.
        bursts = [[signed_command(bot, "status bts") for _ in range(commands)] for _ in range(rounds + 1)]
        timing = subprocess.run(
            [sys.executable, __file__, "--client", str(bot.port)], input=json.dumps(bursts), capture_output=True,
            text=True, check=True,
        )  # fmt: skip
        latencies = [seconds for burst in json.loads(timing.stdout)[1:] for seconds in burst]
        holder.execute("SELECT pg_advisory_unlock(%s)", (BARRIER,))
        slack.wait_for(lambda calls: [c for c in calls if c.method == "chat.update" and c.text.endswith(": succeeded")])
    return latencies


def signed_command(bot: BotProcess, text: str) -> str:
    """A slash command's whole HTTP request, signed as Slack signs it (each with its own trigger id)."""
    body = urlencode({
        "token": "legacy", "team_id": "T0RUBIN", "channel_id": "C0BTS00001", "user_id": "U0REQUEST1",
        "user_name": "vera", "command": "/consdb", "text": text, "response_url": bot.response_url,
        "trigger_id": secrets.token_hex(8),
    })  # fmt: skip
    signature = sign(body.encode(), timestamp=int(bot.now()))
    return (
        "POST /slack/events HTTP/1.1\r\nHost: consdb-bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {signature['X-Slack-Request-Timestamp']}\r\n"
        f"X-Slack-Signature: {signature['X-Slack-Signature']}\r\nConnection: close\r\n\r\n{body}"
    )


async def send_bursts(port: int, bursts: list[list[str]]) -> list[list[float]]:
    """Each burst's requests at once, one connection each; each one's time to its whole answer."""

    async def one(request: str) -> float:
        began = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request.encode())
        answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.0 200"), answer[:200]
        return time.perf_counter() - began

    return [list(await asyncio.gather(*(one(request) for request in burst))) for burst in bursts]


if __name__ == "__main__":
    main()
