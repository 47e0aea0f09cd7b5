"""The bot as Slack drives it: signed slash commands and events into a running ``consdb-bot serve``,
Web API calls out to the Slack stand-in, databases checked in PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from bot.sandbox.standins.slack import BOT_TOKEN
from tests.conftest import REPO, libpq
from tests.support.bot_process import BotProcess, sign
from tests.support.slack_bot import (
    APPROVER_1,
    APPROVER_2,
    BTS_CHANNEL,
    DBA,
    REQUESTER,
    STRANGER,
    SUMMIT_CHANNEL,
    ephemeral_to,
    hold_bts,
    posted_request,
    request_state,
    revisions,
)


@pytest.mark.slow
def test_migrate_approved_by_an_approver_runs_once_and_reports_in_the_thread(bot, slack, databases):
    hold_bts(bot, slack)
    ack = bot.command("migrate bts latiss", user=REQUESTER)
    assert ack.status == 200
    assert ack.json()["response_type"] == "ephemeral"
    request = posted_request(slack, 1)
    assert request.args["channel"] == BTS_CHANNEL
    assert f"<@{REQUESTER}>" in json.dumps(request.args["blocks"], ensure_ascii=False)
    assert "`latiss` base → 05689cf3f8f0" in json.dumps(request.args["blocks"], ensure_ascii=False)
    assert "index-not-concurrent" not in json.dumps(request.args["blocks"], ensure_ascii=False)  # new tables

    ts = request.reply["ts"]
    for _ in range(3):
        assert (
            bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="Ev0001").status
            == 200
        )
    request_state(slack, 1, "succeeded")
    assert 'consdb_bot_change_requests_total{state="succeeded"} 1.0' in bot.get("/metrics").body
    thread = slack.wait_for(
        lambda calls: [c for c in calls if c.args.get("thread_ts") == ts and "Next steps" in c.text] and
        [c.text for c in calls if c.args.get("thread_ts") == ts]
    )  # fmt: skip
    assert "latiss: base → 8ebb60eda79d  Create cdb_latiss as in sdm_schemas 30.2026.2800" in thread
    assert "latiss: 8ebb60eda79d → 05689cf3f8f0  sdm_schemas 30.2026.4300" in thread
    assert revisions(databases["BTS_DATABASE_URL"], "latiss") == ["05689cf3f8f0"]
    assert len([c for c in slack.calls("chat.update") if c.text.endswith(": running")]) == 1
    next_steps = next(text for text in thread if "Next steps" in text)
    assert "3. Then migrate the Summit, and USDF after it." in next_steps  # no replica of the Summit here


@pytest.mark.slow
def test_reactions_that_do_not_count_are_not_answered(bot, slack, databases):
    bot.command("migrate bts startrackerwide", user=REQUESTER, channel=BTS_CHANNEL)
    ts = posted_request(slack, 1).reply["ts"]
    bot.reaction("white_check_mark", user=REQUESTER, channel=BTS_CHANNEL, ts=ts, event_id="EvOwn")
    bot.reaction("white_check_mark", user=STRANGER, channel=BTS_CHANNEL, ts=ts, event_id="EvStranger")
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts="1.000001", event_id="EvElsewhere")
    bot.reaction("x", user=APPROVER_2, channel=BTS_CHANNEL, ts=ts, event_id="EvReject")
    request_state(slack, 1, "rejected")
    assert slack.calls("chat.postEphemeral") == []
    assert [c.text.rsplit(": ", 1)[-1] for c in slack.calls("chat.update")] == ["rejected"]
    assert revisions(databases["BTS_DATABASE_URL"], "startrackerwide") == []


@pytest.mark.slow
def test_two_migrate_requests_at_once_the_second_is_refused_naming_the_first(bot, slack):
    with ThreadPoolExecutor(2) as pool:
        acks = list(pool.map(lambda user: bot.command("migrate bts", user=user), [REQUESTER, APPROVER_2]))
    assert all(ack.status == 200 for ack in acks)
    refusal = slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "chat.postEphemeral" and "already has a change" in c.text), None
        )
    )
    assert "request #1" in refusal.text
    assert "One change at a time per environment" in refusal.text
    posted_request(slack, 1)  # the refusal may come before the request it names is posted
    assert len([c for c in slack.calls("chat.postMessage") if "request #" in c.text]) == 1


@pytest.mark.slow
def test_summit_needs_a_ticket_and_bts_first_then_two_approvals_one_from_the_user_group(bot, slack, databases):
    hold_bts(bot, slack)
    bot.command("migrate summit latiss", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "summit changes need a Jira ticket")
    bot.command("migrate summit latiss --ticket OSW-123", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "summit: latiss must first reach 05689cf3f8f0 at bts, which is 2 revisions behind")

    bot.command("migrate base latiss", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvBts")
    request_state(slack, 1, "succeeded")

    bot.command("migrate summit latiss --ticket OSW-123", user=REQUESTER)
    summit = posted_request(slack, 2)
    assert summit.args["channel"] == SUMMIT_CHANNEL
    ts = summit.reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=SUMMIT_CHANNEL, ts=ts, event_id="EvSummit1")
    slack.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.update" and "Needs 1 more" in json.dumps(c.args)]
    )
    bot.reaction("white_check_mark", user=DBA, channel=SUMMIT_CHANNEL, ts=ts, event_id="EvSummit2")
    request_state(slack, 2, "succeeded")
    assert revisions(databases["SUMMIT_DATABASE_URL"], "latiss") == ["05689cf3f8f0"]
    assert slack.calls("usergroups.users.list")[0].args["usergroup"] == "S0DBA"


@pytest.fixture
def usdf_bot(config, slack, databases, kube, tmp_path, new_database) -> Iterator[BotProcess]:
    """The bot with USDF production too: proven at the Summit first, or at BTS for a schema the Summit
    does not keep (startrackerwide here)."""
    usdf_prod = f"""    schemas: [latiss, lsstcam]
  usdf-prod:
    database_url: ${{USDF_PROD_DATABASE_URL}}
    channel: {BTS_CHANNEL}
    approvals: {{required: 1, approvers: [{APPROVER_1}]}}
    requires_tested_on: [summit, bts]
"""
    config.write_text(
        config.read_text().replace("    requires_tested_on: bts\n", f"    requires_tested_on: bts\n{usdf_prod}")
    )
    environ = {**databases, "USDF_PROD_DATABASE_URL": new_database(), "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ) as process:
        yield process


@pytest.mark.slow
def test_usdf_prod_is_refused_until_the_first_listed_environment_keeping_the_schema_has_the_target(usdf_bot, slack):
    usdf_bot.command("migrate usdf-prod latiss", user=REQUESTER)
    refusal = ephemeral_to(slack, REQUESTER, "usdf-prod: latiss must first reach 05689cf3f8f0 at summit")
    assert "which is 2 revisions behind it (at base)" in refusal.text
    assert "Run `migrate summit latiss --to 05689cf3f8f0` first." in refusal.text
    usdf_bot.command("migrate usdf-prod startrackerwide", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "usdf-prod: startrackerwide must first reach 2c2567f48db5 at bts")
    usdf_bot.command("migrate summit startrackerwide --ticket OSW-1", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "summit does not keep startrackerwide")

    hold_bts(usdf_bot, slack)
    usdf_bot.command("migrate base startrackerwide", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    usdf_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvBts")
    request_state(slack, 1, "succeeded")
    usdf_bot.command("migrate usdf-prod startrackerwide", user=REQUESTER)
    assert posted_request(slack, 2).args["channel"] == BTS_CHANNEL

    usdf_bot.command("status summit")
    answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "ConsDB status"), None))
    table = json.dumps(answer.args["blocks"])
    assert "startrackerwide  not kept here" in table
    assert "latiss           empty -2" in table


@pytest.fixture
def replicated_bot(config, slack, databases, kube, tmp_path, new_database) -> Iterator[BotProcess]:
    """The bot with usdf-prod a logical replica of the Summit that follows latiss (not lsstcam), its
    database configured here."""
    usdf_prod = """    schemas: [latiss, lsstcam]
  usdf-prod:
    database_url: ${USDF_PROD_DATABASE_URL}
    schemas: [latiss]
    replica: {of: summit, subscription: usdf_exposurelog, publication: usdfpub}
"""
    config.write_text(
        config.read_text().replace("    requires_tested_on: bts\n", f"    requires_tested_on: bts\n{usdf_prod}")
    )
    environ = {**databases, "USDF_PROD_DATABASE_URL": new_database(), "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ) as process:
        yield process


@pytest.mark.slow
def test_after_a_test_stand_the_next_steps_roll_out_what_a_replica_of_the_summit_follows(replicated_bot, slack):
    hold_bts(replicated_bot, slack)
    replicated_bot.command("migrate bts latiss lsstcam", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    replicated_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvBts")
    request_state(slack, 1, "succeeded")
    next_steps = slack.wait_for(
        lambda calls: next((c.text for c in calls if c.args.get("thread_ts") == ts and "Next steps" in c.text), None)
    )
    assert (
        "3. Then migrate summit with its replicas (usdf-prod) as one rollout: `/consdb rollout latiss --ticket TICKET`;"
        " its other schemas alone: `/consdb migrate summit lsstcam --ticket TICKET`." in next_steps
    )
    assert "migrate the Summit, and USDF" not in next_steps

    replicated_bot.command("migrate summit latiss --ticket OSW-1", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "summit has logical replicas here (usdf-prod) that follow latiss")


@pytest.mark.slow
def test_status_is_a_table_of_environments_by_schemas(bot, slack):
    bot.command("status")
    answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "ConsDB status"), None))
    table = json.dumps(answer.args["blocks"])
    assert "schema           bts       summit" in table
    assert "latiss           empty -2  empty -2" in table


@pytest.mark.slow
def test_usage_errors_and_help_answer_in_the_acknowledgement(bot, slack):
    usage = bot.command("migrate")
    assert usage.json()["response_type"] == "ephemeral"
    assert "the following arguments are required: ENV" in usage.body
    assert "/consdb migrate" in usage.body
    assert "--yes and --wait are for the terminal" in bot.command("migrate bts --yes").body
    assert "unrecognized arguments: --json" in bot.command("status --json").body
    assert "/consdb status summit latiss lsstcam -v" in bot.command("help status").body
    assert slack.calls("chat.postMessage") == []


@pytest.mark.slow
def test_unknown_names_are_answered_with_the_nearest_and_terminal_commands_as_such(bot, slack):
    assert "unknown command 'migrat' (did you mean migrate?)" in bot.command("migrat bts").json()["text"]
    assert "unknown command 'stauts' (did you mean status?)" in bot.command("help stauts").json()["text"]
    terminal = bot.command("init").json()["text"]
    assert "init is for the terminal, not Slack: `consdb-bot init` writes a starting configuration file" in terminal
    hostile = bot.command("<!channel>").json()["text"]
    assert "unknown command '&lt;!channel&gt;'" in hostile
    assert "<!channel>" not in hostile
    bot.command("status bst", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "unknown environment or schema 'bst' (did you mean bts?)")
    bot.command("drift bst", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "unknown environment 'bst' (did you mean bts?)")
    assert slack.calls("chat.postMessage") == []


@pytest.mark.slow
def test_two_hundred_malformed_command_lines_each_get_usage(bot, slack):
    words = ["status", "plan", "migrate", "downgrade", "stamp", "history", "drift", "audit", "--to", "--sql",
             "--ticket", "osw", "--options", "=", "--limit", "0", "'", '"', "-", "--", "@", "ü", "--yes", "x" * 40]  # fmt: skip
    generator = random.Random(3)
    lines = [" ".join(generator.choice(words) for _ in range(generator.randint(1, 5))) for _ in range(200)]
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(bot.command, lines))
    assert all(reply.status == 200 for reply in replies)
    answers = [reply.json()["text"] for reply in replies]
    assert sum(":warning:" in answer or "usage:" in answer for answer in answers) > 150
    assert bot.get("/healthz").status == 200


@pytest.mark.slow
def test_forged_and_stale_requests_are_refused(bot, slack):
    body = b"command=%2Fconsdb&text=status&user_id=U1&channel_id=C1"
    forged = bot.post(
        body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret="not-the-secret")}
    )
    stale = bot.post(
        body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, timestamp=int(time.time()) - 600)}
    )
    assert (forged.status, stale.status) == (401, 401)
    assert slack.calls("chat.postMessage") == []


@pytest.mark.slow
def test_rate_limited_web_api_calls_are_retried(bot, slack):
    slack.rate_limit("chat.postMessage", times=1)
    bot.command("status bts")
    slack.wait_for(lambda calls: next((c for c in calls if c.text == "ConsDB status"), None))


@pytest.mark.slow
def test_long_plans_go_as_a_file(bot, slack):
    bot.command("plan bts --sql")
    slack.wait_for(lambda calls: [c for c in calls if c.method == "files.completeUploadExternal"])
    content = b"".join(slack.state.uploads.values()).decode(errors="replace")
    assert "CREATE TABLE cdb_lsstcam.exposure" in content


@pytest.mark.slow
def test_audit_trail_and_ticket_name_people_in_slack_and_name_and_id_in_the_terminal(
    bot, slack, config, consdb_bot, monkeypatch
):
    slack.state.people[REQUESTER] = "Grace Hopper"
    bot.command("migrate summit latiss", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "need a Jira ticket")
    bot.command("book bts now 2h OSW-9", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "of bts booked")
    bot.command("audit")
    answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Audit trail"), None))
    trail = answer.args["blocks"][1]["text"]["text"]
    assert "refused          Grace Hopper: " in trail  # in a code block Slack shows no mention as a name
    assert "booked           Grace Hopper: booked bts #1" in trail
    assert REQUESTER not in trail
    bot.command("ticket OSW-9")
    ticket = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Ticket OSW-9"), None))
    assert "by Grace Hopper" in json.dumps(ticket.args["blocks"])
    assert REQUESTER not in json.dumps(ticket.args["blocks"])

    # The terminal asks Slack too where it has the bot's token (as in the bot's pod), and shows both.
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    named = consdb_bot("audit", "--config", str(config)).out
    assert f"Grace Hopper ({REQUESTER}): booked bts #1" in named
    assert f"by Grace Hopper ({REQUESTER})" in consdb_bot("ticket", "OSW-9", "--config", str(config)).out
    monkeypatch.delenv("SLACK_BOT_TOKEN")  # without it, the id alone
    assert f"{REQUESTER}: booked bts #1" in consdb_bot("audit", "--config", str(config)).out


@pytest.mark.slow
def test_a_restart_mid_run_is_reported_as_interrupted(config, slack, databases, tmp_path):
    barrier = 4545
    with psycopg.connect(libpq(databases["BTS_DATABASE_URL"]), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (barrier,))
        first = BotProcess(config, slack.url, environ=databases).start()
        hold_bts(first, slack)
        first.command("migrate bts latiss")
        ts = posted_request(slack, 1).reply["ts"]
        first.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvRun")
        request_state(slack, 1, "running")
        first.stop(kill=True)
        holder.execute("SELECT pg_advisory_unlock(%s)", (barrier,))
    with BotProcess(config, slack.url, environ=databases):
        note = slack.wait_for(
            lambda calls: next(
                (c for c in calls if c.args.get("thread_ts") == ts and "The bot stopped" in c.text), None
            )
        )
    assert "latiss now records" in note.text
    request_state(slack, 1, "interrupted")


@pytest.mark.slow
def test_missing_slack_settings_exit_2_naming_them(config):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_")}
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--config", str(config)], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET are not set" in done.stderr
    socket_mode = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--socket-mode", "--config", str(config)], cwd=REPO,
        env={**environment, "SLACK_BOT_TOKEN": BOT_TOKEN}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert socket_mode.returncode == 2
    assert "SLACK_APP_TOKEN is not set" in socket_mode.stderr


@pytest.mark.slow
def test_health_and_metrics(bot):
    health = json.loads(bot.get("/healthz").body)
    assert (health["status"], health["state_database"], health["scheduler"]) == ("ok", "ok", "leader")
    assert {key: value["database"] for key, value in health["environments"].items()} == {"bts": "ok", "summit": "ok"}
    bot.command("status bts")
    assert 'consdb_bot_commands_total{command="status"} 1.0' in bot.get("/metrics").body


@pytest.mark.slow
def test_a_command_from_a_channel_without_the_bot_is_answered_through_the_response_url(bot, slack):
    slack.state.absent_from.add("C0ELSEWHERE")
    bot.command("status bts", channel="C0ELSEWHERE")
    answer = slack.wait_for(lambda calls: next((c for c in calls if c.method == "response"), None))
    assert "not_in_channel" in answer.args["text"]
    assert "/invite @consdb-bot" in answer.args["text"]
    assert answer.args["response_type"] == "ephemeral"


@pytest.mark.slow
def test_restart_pqserver_is_approved_like_a_migration_and_reported_in_its_thread(bot, slack, kube):
    hold_bts(bot, slack)
    bot.command("restart pqserver bts", user=REQUESTER, channel=BTS_CHANNEL)
    request = posted_request(slack, 1)
    assert request.text == "Restart request #1: bts: requested"
    assert kube.state.deployments["consdb-pq"].restarted_at is None
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=request.reply["ts"], event_id="EvR")
    request_state(slack, 1, "succeeded", kind="Restart")
    ts = request.reply["ts"]
    slack.wait_for(lambda calls: [c for c in calls if c.args.get("thread_ts") == ts and "restarted in" in c.text])
    thread = [c.text for c in slack.calls() if c.args.get("thread_ts") == ts]
    assert any(text.endswith("] 1 of 2 new replicas have been updated") for text in thread)
    assert kube.state.deployments["consdb-pq"].restarted_at is not None


@pytest.mark.slow
def test_the_restart_reaction_on_a_finished_migration_restarts_pqserver(bot, slack, kube):
    hold_bts(bot, slack)
    bot.command("migrate bts startrackerwide", user=REQUESTER, channel=BTS_CHANNEL)
    migration = posted_request(slack, 1)
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=migration.reply["ts"], event_id="EvM")
    request_state(slack, 1, "succeeded")
    bot.reaction(
        "arrows_counterclockwise", user=APPROVER_2, channel=BTS_CHANNEL, ts=migration.reply["ts"], event_id="EvRR"
    )
    restart = request_state(slack, 2, "succeeded", kind="Restart")
    assert kube.state.deployments["consdb-pq"].restarted_at is not None
    ts = posted_request(slack, 2).reply["ts"]
    assert restart.args["ts"] == ts
    slack.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.args.get("thread_ts") == ts
            and "pqserver at bts agrees with the database on every table of cdb_startrackerwide" in c.text
        ]
    )


@pytest.mark.slow
def test_after_a_test_stand_migration_the_thread_says_what_hinfo_did(bot, slack, kube):
    hold_bts(bot, slack)
    bot.command("migrate bts latiss", user=REQUESTER, channel=BTS_CHANNEL)
    ts = posted_request(slack, 1).reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvH")
    verdict = slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.args.get("thread_ts") == ts and c.text.startswith("hinfo latiss")), None
        )
    )
    assert "50 exposures committed (the last 20261121/49); no errors or warnings." in verdict.text


@pytest.mark.slow
def test_the_hinfo_watch_outlives_a_restart_of_the_bot(config, slack, databases, kube, tmp_path):
    """The watch is a job in the state database: a bot stopped before it is due does not lose it."""
    config.write_text(config.read_text().replace("hinfo_watch_minutes: 0.005", "hinfo_watch_minutes: 10"))
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    migrated_at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    with BotProcess(config, slack.url, environ=environ, clock_at=migrated_at) as first:
        hold_bts(first, slack)
        first.command("migrate bts latiss", user=REQUESTER, channel=BTS_CHANNEL)
        ts = posted_request(slack, 1).reply["ts"]
        first.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvW")
        request_state(slack, 1, "succeeded")
    assert not [c for c in slack.calls() if c.args.get("thread_ts") == ts and c.text.startswith("hinfo latiss")]

    with BotProcess(config, slack.url, environ=environ, clock_at=migrated_at + timedelta(minutes=11)):
        verdict = slack.wait_for(
            lambda calls: next(
                (c for c in calls if c.args.get("thread_ts") == ts and c.text.startswith("hinfo latiss")), None
            )
        )
    assert verdict.text.startswith("hinfo latiss, 11 min after the migration")  # late, and saying so
    assert "50 exposures committed (the last 20261121/49); no errors or warnings." in verdict.text


@pytest.mark.slow
def test_a_change_at_a_test_stand_booked_by_someone_else_is_flagged_and_needs_one_more_approval(bot, slack):
    hold_bts(bot, slack, user=REQUESTER)
    bot.command("restart pqserver bts", user=APPROVER_2, channel=BTS_CHANNEL)
    request = json.dumps(posted_request(slack, 1).args["blocks"])
    assert f"bts is booked by <@{REQUESTER}> until" in request
    assert "this needs one more approval than usual" in request
    assert "Needs 2 more approvals of 2" in request


@pytest.mark.slow
def test_hinfo_excerpt_in_slack(bot, slack, kube):
    bot.command("logs hinfo latiss bts --lines 10", channel=BTS_CHANNEL)
    answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "hinfo latiss at bts"), None))
    text = json.dumps(answer.args["blocks"])
    assert "10 exposures committed to exposure and ccdexposure, the last 20261121/49" in text
