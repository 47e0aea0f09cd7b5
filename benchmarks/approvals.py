"""Approval to start: how long an approved change waits to start while a burst of slow reads is answered.

Each round posts a change request (an upgrade of startrackerwide at BTS, then its downgrade, in turn),
sends 50 ``/consdb plan bts --sql`` at once (each runs Alembic's offline mode in a child process per
schema and lints the SQL: seconds of work for the bot's two answering workers), and right after them
the approver's reaction. Measured: from sending the reaction to Slack's stand-in receiving the
request's ": running" update. Before reactions had a lane of their own, the approval waited for the
50 plans to be answered.

Usage: ``.venv/bin/python benchmarks/approvals.py [--plans 50] [--rounds 6]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.databases import databases, percentile, url_of
from bot.sandbox.standins.slack import Call, FakeSlack
from tests.support.bot_process import BotProcess

CHANNEL = "C0BTS00001"
APPROVER = "U0APPROVE1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=6)
    arguments = parser.parse_args()
    with databases(1) as (database,), tempfile.TemporaryDirectory() as folder:
        waits = measure(Path(folder), url_of(database), arguments.plans, arguments.rounds)
    ordered = sorted(waits)
    p99 = percentile(ordered, 0.99)
    print("| measure | result |\n|---|---|")
    print(f"| approvals | {len(ordered)} (each behind {arguments.plans} `plan bts --sql` sent at once) |")
    print(f"| approval to start, p50 | {statistics.median(ordered) * 1000:.0f} ms |")
    print(f"| approval to start, p99 | {p99 * 1000:.0f} ms |")
    print(f"| approval to start, max | {ordered[-1] * 1000:.0f} ms |")


def measure(folder: Path, url: str, plans: int, rounds: int) -> list[float]:
    config = folder / "consdb-bot.yaml"
    config.write_text(f"""
state_url: sqlite:///{folder / "state.sqlite3"}
schemas: [latiss, lsstcam, startrackerwide]
environments:
  bts:
    database_url: {url}
    channel: {CHANNEL}
    approvals: {{required: 1, approvers: [{APPROVER}]}}
""")
    waits: list[float] = []
    with FakeSlack() as slack, BotProcess(config, slack.url) as bot, ThreadPoolExecutor(plans) as pool:
        for number in range(1, rounds + 1):
            bot.command("migrate bts startrackerwide" if number % 2 else "downgrade bts startrackerwide base")
            ts = slack.wait_for(lambda calls, n=number: next((c for c in calls if f"request #{n}:" in c.text), None))
            answered = len(answers(slack))
            replies = pool.map(lambda _: bot.command("plan bts --sql"), range(plans))
            assert all(reply.status == 200 for reply in replies)
            sent = time.time()
            bot.reaction("white_check_mark", user=APPROVER, channel=CHANNEL, ts=ts.reply["ts"], event_id=f"Ev{number}")
            waits.append(update(slack, number, "running").at - sent)
            update(slack, number, "succeeded")
            slack.wait_for(lambda _calls, before=answered: len(answers(slack)) >= before + plans, timeout=900)
            print(f"round {number}: approval to start {waits[-1] * 1000:.0f} ms", flush=True)
    return waits


def update(slack: FakeSlack, number: int, state: str) -> Call:
    """The update of request ``number``'s message to ``state``, once Slack's stand-in has it."""
    return slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "chat.update" and f"request #{number}:" in c.text
             and c.text.endswith(f": {state}")), None,
        ),
        timeout=600,
    )  # fmt: skip


def answers(slack: FakeSlack) -> list[Call]:
    """The plans answered so far (each goes as a file, or a message when it is short)."""
    return [c for c in slack.calls() if c.method == "files.completeUploadExternal" or c.text == "Plan for bts"]


if __name__ == "__main__":
    main()
