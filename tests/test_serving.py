"""The bot as a service: what /healthz and /metrics say, its JSON log lines and their trace, and how it
stops on SIGTERM with a migration under way."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import psycopg
import pytest

from bot.engine.database import lock_key
from bot.sandbox.standins.slack import BOT_TOKEN, FakeSlack
from tests.conftest import PASSWORD, libpq
from tests.support.bot_process import SIGNING_SECRET, BotProcess
from tests.support.clock import pause
from tests.support.slack_bot import (
    APPROVER_1,
    BTS_CHANNEL,
    REQUESTER,
    hold_bts,
    posted_request,
    request_state,
    revisions,
)

FIRST_LATISS = "8ebb60eda79d"


def test_healthz_reports_the_state_database_leadership_and_each_environments_database(config, slack, databases):
    unreachable = {**databases, "SUMMIT_DATABASE_URL": f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/consdb"}
    with BotProcess(config, slack.url, environ=unreachable) as bot:
        reply = bot.get("/healthz")
        health = json.loads(reply.body)
    assert reply.status == 200
    assert (health["status"], health["state_database"], health["scheduler"]) == ("ok", "ok", "leader")
    assert health["environments"]["bts"]["database"] == "ok"
    assert health["environments"]["summit"]["database"].startswith(
        "unreachable: cannot reach postgresql://postgres:***@"
    )
    assert PASSWORD not in reply.body


@pytest.mark.slow
def test_metrics_count_commands_approvals_changes_their_durations_and_api_errors(bot, slack):
    slack.state.absent_from.add("C0ELSEWHERE")
    bot.command("status bts", channel="C0ELSEWHERE")
    slack.wait_for(lambda calls: [c for c in calls if c.method == "response"])
    hold_bts(bot, slack)
    bot.command("migrate bts startrackerwide", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvMetrics")
    request_state(slack, 1, "succeeded")
    metrics = bot.get("/metrics").body
    assert 'consdb_bot_commands_total{command="status"} 1.0' in metrics
    assert 'consdb_bot_approvals_total{action="given",verdict="approve"} 1.0' in metrics
    assert 'consdb_bot_changes_total{kind="upgrade",outcome="succeeded"} 1.0' in metrics
    assert 'consdb_bot_change_seconds_count{kind="upgrade"} 1.0' in metrics
    slack_errors = re.search(r'^consdb_bot_api_errors_total\{api="slack"\} ([0-9.]+)$', metrics, re.MULTILINE)
    assert slack_errors is not None
    assert float(slack_errors.group(1)) >= 1  # not_in_channel, said to the one who typed through the response URL


@pytest.mark.slow
def test_log_lines_are_json_with_the_trace_that_ties_a_request_its_thread_and_its_audit_records(
    bot, slack, config, databases, consdb_bot, monkeypatch
):
    hold_bts(bot, slack)
    bot.command("migrate bts startrackerwide", user=REQUESTER)
    request = posted_request(slack, 1)
    shown = json.dumps(request.args["blocks"])
    trace = shown.split("Trace `", 1)[1].split("`", 1)[0]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=request.reply["ts"], event_id="EvLog")
    request_state(slack, 1, "succeeded")
    lines = [json.loads(line) for line in bot.output().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    traced = [line["message"] for line in lines if line.get("trace") == trace]
    assert "/consdb upgrade from U0REQUEST1 in C0CONSDB01" in traced
    assert "request #1 runs: upgrade at bts" in traced
    for secret in (BOT_TOKEN, SIGNING_SECRET, PASSWORD):
        assert secret not in json.dumps(lines)
    for name, url in databases.items():
        monkeypatch.setenv(name, url)
    audit = json.loads(consdb_bot("audit", "--json", "--config", str(config)).out)
    assert {record["action"] for record in audit if record["detail"].get("trace") == trace} >= {
        "requested", "approved", "succeeded"
    }  # fmt: skip


def blocked_migration(config: Path, slack: FakeSlack, databases: dict[str, str], consdb_bot, monkeypatch, **bot_args):
    """A bot with latiss's second revision under way and waiting: the test holds a lock on a table it indexes."""
    for name, url in databases.items():
        monkeypatch.setenv(name, url)
    assert consdb_bot("upgrade", "bts", "latiss", "--to", FIRST_LATISS, "--yes", "--config", str(config)).code == 0
    bot = BotProcess(config, slack.url, environ=databases, **bot_args).start()
    hold_bts(bot, slack)
    bot.command("migrate bts latiss", user=REQUESTER)
    ts = posted_request(slack, 2).reply["ts"]  # request #1 was the terminal's upgrade
    holder = psycopg.connect(libpq(databases["BTS_DATABASE_URL"]))
    holder.execute("LOCK TABLE cdb_latiss.ccdexposure_camera IN ROW EXCLUSIVE MODE")
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvStop")
    request_state(slack, 2, "running")
    return bot, holder, ts


def wait_until_stopping(bot: BotProcess) -> None:
    """Until the bot says it is stopping (it answers /healthz to the end)."""
    deadline = time.monotonic() + 30
    while json.loads(bot.get("/healthz").body)["status"] != "stopping":
        assert time.monotonic() < deadline, "the bot never said it was stopping"
        pause(0.05)


@pytest.mark.slow
def test_sigterm_lets_the_migration_under_way_finish_and_takes_no_new_work(
    config, slack, databases, consdb_bot, monkeypatch
):
    bot, holder, _ts = blocked_migration(config, slack, databases, consdb_bot, monkeypatch)
    try:
        bot.terminate()
        wait_until_stopping(bot)
        assert bot.command("status bts").status == 503
        holder.rollback()
        assert bot.process.wait(timeout=60) == 0
    finally:
        holder.close()
        bot.stop(kill=True)
    request_state(slack, 2, "succeeded")
    assert revisions(databases["BTS_DATABASE_URL"], "latiss") == ["05689cf3f8f0"]


@pytest.mark.slow
def test_sigterm_stops_a_migration_that_outlasts_its_time_rolls_it_back_and_records_it_interrupted(
    config, slack, databases, consdb_bot, monkeypatch
):
    bot, holder, ts = blocked_migration(config, slack, databases, consdb_bot, monkeypatch, args=("--stop-seconds", "1"))
    try:
        bot.terminate()
        assert bot.process.wait(timeout=60) == 0
    finally:
        holder.rollback()
        holder.close()
        bot.stop(kill=True)
    request_state(slack, 2, "interrupted")
    note = slack.wait_for(
        lambda calls: next((c for c in calls if c.args.get("thread_ts") == ts and "The bot stopped" in c.text), None)
    )
    assert f"latiss now records {FIRST_LATISS}" in note.text
    assert revisions(databases["BTS_DATABASE_URL"], "latiss") == [FIRST_LATISS]
    with psycopg.connect(libpq(databases["BTS_DATABASE_URL"]), autocommit=True) as connection:
        namespace, key = lock_key("cdb_latiss")
        taken = connection.execute("SELECT pg_try_advisory_lock(%s, %s)", (namespace, key)).fetchone()
    assert taken == (True,), "the schema's lock was not released"
