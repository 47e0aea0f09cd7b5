"""`/consdb rollout` as Slack users see it, on a real Summit → USDF logical replica: the request with both
sides' ranges and the strictest approvals, each step told in its thread as it happens, the request
message updated with the outcome, and a replica that fails left paused with the ways on."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION
from bot.sandbox.standins.jira import JIRA_TOKEN, FakeJira
from bot.sandbox.standins.slack import Call, FakeSlack
from tests.conftest import EXTERNAL_TREE, Result
from tests.support.bot_process import BotProcess
from tests.support.replica import ReplicaPair, wait_for
from tests.support.slack_bot import APPROVER_1, APPROVER_2, DBA, SUMMIT_CHANNEL, posted_request, request_state
from tests.test_rollout import COLUMN_ADDED, FIRST, TREE, enabled, insert, versions


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.add_issue("OSW-123", "Add seeing to latiss.exposure")
        yield fake


@pytest.fixture
def rollout_bot(
    tmp_path: Path, replica: ReplicaPair, slack: FakeSlack, jira: FakeJira, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BotProcess]:
    """The bot with summit and usdf-prod on the replica pair, both at the tree's first revision, usdf-int a
    replica with no database URL here; usdf-prod needs two approvals, the Summit one."""
    monkeypatch.setenv("SUMMIT_DATABASE_URL", replica.summit_url)
    monkeypatch.setenv("USDF_PROD_DATABASE_URL", replica.usdf_url)
    monkeypatch.delenv("USDF_INT_DATABASE_URL", raising=False)
    monkeypatch.setenv("JIRA_URL", jira.url)
    monkeypatch.setenv("JIRA_TOKEN", JIRA_TOKEN)
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            db.execute("CREATE SCHEMA cdb")
            db.execute("CREATE TABLE cdb.cdb_latiss_version (version_num varchar(32) PRIMARY KEY)")
            db.execute("INSERT INTO cdb.cdb_latiss_version VALUES (%s)", (FIRST,))
    replicated = f"subscription: {SUBSCRIPTION}, publication: {PUBLICATION}"
    config = tmp_path / "consdb-bot.yaml"
    # A replica migration may wait on a test's lock for as long as the test needs.
    config.write_text(f"""
state_url: sqlite:///{tmp_path / "state.sqlite3"}
migrations: {{alembic_ini: {TREE / "alembic.ini"}, sdm_schemas: {EXTERNAL_TREE}, connect_timeout_seconds: 2, lock_timeout: 10min}}
schemas: [latiss]
slack: {{announce_channel: {SUMMIT_CHANNEL}}}
reports: {{daily_at: null, check_minutes: 0}}
jira: {{url: "${{JIRA_URL}}", project: OSW, timeout_seconds: 1, retry_seconds: 0.5}}
environments:
  summit:
    database_url: ${{SUMMIT_DATABASE_URL}}
    channel: {SUMMIT_CHANNEL}
    approvals: {{required: 1, approvers: [{APPROVER_1}]}}
  usdf-prod:
    database_url: ${{USDF_PROD_DATABASE_URL}}
    approvals: {{required: 2, approvers: [{APPROVER_1}, {APPROVER_2}, {DBA}]}}
    replica: {{of: summit, {replicated}, verify_seconds: 30}}
  usdf-int:
    database_url: ${{USDF_INT_DATABASE_URL}}
    replica: {{of: summit, {replicated}}}
""")
    with BotProcess(config, slack.url) as process:
        yield process


def request_rollout(bot: BotProcess, slack: FakeSlack) -> str:
    """Ask in the Summit's channel, as an approver of both sides; the request message's ts."""
    bot.command("rollout latiss --ticket OSW-123", user=APPROVER_1, channel=SUMMIT_CHANNEL)
    return posted_request(slack, 1).reply["ts"]


def approve(bot: BotProcess, user: str, ts: str, event_id: str) -> None:
    bot.reaction("white_check_mark", user=user, channel=SUMMIT_CHANNEL, ts=ts, event_id=event_id)


def thread(slack: FakeSlack, ts: str) -> str:
    """Everything posted in the request's thread so far (lines posted close together go as one message)."""
    return "\n".join(c.text for c in slack.calls("chat.postMessage") if c.args.get("thread_ts") == ts)


def thread_says(slack: FakeSlack, ts: str, containing: str) -> str:
    """Once the thread says it: the whole thread."""
    return slack.wait_for(lambda _calls: thread(slack, ts) if containing in thread(slack, ts) else None)


def blocks_of(call: Call) -> str:
    """What a message shows, as its blocks' JSON."""
    return json.dumps(call.args["blocks"], ensure_ascii=False)


def audit(consdb_bot: Callable[..., Result], config: Path) -> list[dict[str, object]]:
    return json.loads(consdb_bot("audit", "--json", "--config", str(config)).out)


@pytest.mark.slow
def test_the_request_names_both_sides_skips_usdf_int_and_needs_usdf_prods_two_approvals(
    rollout_bot, slack, replica, jira, consdb_bot
):
    ts = request_rollout(rollout_bot, slack)
    request = posted_request(slack, 1)
    assert request.text == "Rollout request #1: summit: requested"
    shown = blocks_of(request)
    assert f"• `summit latiss` {FIRST} → {COLUMN_ADDED}" in shown
    assert f"• `usdf-prod latiss` {FIRST} → {COLUMN_ADDED}" in shown
    assert "• `usdf-int` skipped: not configured here (set USDF_INT_DATABASE_URL)" in shown
    assert f"*Ticket* <{jira.url}/browse/OSW-123|OSW-123> Add seeing to latiss.exposure (In Progress)" in shown
    assert "Needs 2 more approvals of 2" in shown  # usdf-prod's, though the Summit needs one

    approve(rollout_bot, APPROVER_1, ts, "EvOwn")  # an approver, but the one who asked
    wait_for(
        "the requester's own approval noted as not counting",
        lambda: [r["summary"] for r in audit(consdb_bot, rollout_bot.config) if r["action"] == "ignored"],
        lambda ignored: ignored == ["added :white_check_mark: on #1, which does not count (the requester)"],
    )
    approve(rollout_bot, APPROVER_2, ts, "EvFirst")
    one = slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "chat.update" and "Needs 1 more" in blocks_of(c)), None)
    )
    assert one.text == "Rollout request #1: summit: requested"
    assert f"*Approved by* <@{APPROVER_2}>" in blocks_of(one)
    assert versions(replica.summit) == versions(replica.usdf) == [FIRST]
    assert enabled(replica)
    assert thread(slack, ts) == ""


@pytest.mark.slow
def test_approved_it_tells_each_step_as_it_happens_and_replicates_the_new_column(rollout_bot, slack, replica, jira):
    insert(replica, range(1, 3), seeing=False)
    ts = request_rollout(rollout_bot, slack)
    approve(rollout_bot, APPROVER_2, ts, "EvFirst")
    # While this lock is held, the replica's migration waits for it: the Summit is migrated and the
    # subscription paused, and rows the Summit writes then are written during the pause.
    holder = replica.usdf()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS SHARE MODE")
    try:
        for _ in range(2):  # Slack delivers the approving event again
            approve(rollout_bot, DBA, ts, "EvSecond")
        request_state(slack, 1, "running", kind="Rollout")
        so_far = thread_says(slack, ts, "publication updated")
        assert "replica migrated" not in so_far
        assert not enabled(replica)
        insert(replica, range(3, 5), seeing=True)
    finally:
        holder.rollback()
        holder.close()

    done = request_state(slack, 1, "succeeded", kind="Rollout")
    assert "*State* :large_green_circle: succeeded" in blocks_of(done)
    told = thread_says(slack, ts, "rollout of latiss from summit: done")
    for step in (
        ":double_vertical_bar: usdf-prod: subscription disabled (subscription usdf_exposurelog)",
        f":white_check_mark: summit: Summit migrated (latiss at {COLUMN_ADDED} (succeeded))",
        f":white_check_mark: summit: publication updated (publication {PUBLICATION}: added cdb_latiss.exposure_flexdata)",
        f":white_check_mark: usdf-prod: replica migrated (latiss at {COLUMN_ADDED} (succeeded))",
        ":white_check_mark: usdf-prod: subscription enabled and refreshed (subscription usdf_exposurelog)",
        ":white_check_mark: usdf-prod: replication verified (a marker row written at summit arrived in",
    ):
        assert len(re.findall(rf"^{re.escape(step)}.* \[\d+\.\d s\]$", told, re.MULTILINE)) == 1, step  # once, timed
    assert "usdf-int: skipped, not configured here (set USDF_INT_DATABASE_URL)" in told
    assert [c.text for c in slack.calls("chat.update") if c.text.endswith(": running")] == [
        "Rollout request #1: summit: running"
    ]
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]
    insert(replica, range(5, 7), seeing=True)
    expected = [(i, f"row {i}", None if i < 3 else i / 10) for i in range(1, 7)]
    replica.wait_at_usdf("SELECT id, note, seeing FROM cdb_latiss.exposure ORDER BY id", expected)

    rollout_bot.command("audit", user=APPROVER_1, channel=SUMMIT_CHANNEL)
    trail = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Audit trail"), None))
    for said in (
        "summit    requested        U0APPROVE1: rollout summit latiss, usdf-prod latiss, usdf-int requested",
        "usdf-prod subscription-disabled consdb-bot: subscription usdf_exposurelog disabled",
        "usdf-prod subscription-enabled consdb-bot: subscription usdf_exposurelog enabled",
        "summit    succeeded        consdb-bot: #1 rollout succeeded",
    ):
        assert blocks_of(trail).count(said) == 1, said
    thread_says(slack, ts, "Commented on OSW-123.")
    assert jira.bodies("OSW-123")[-1].startswith("(/) *Rollout at summit succeeded* (consdb-bot request #1)")


@pytest.mark.slow
def test_a_replica_that_fails_after_the_summit_stays_paused_and_the_thread_says_where_each_side_is_and_the_ways_on(
    rollout_bot, slack, replica, jira
):
    with replica.usdf() as usdf:  # in the way of the second revision at the replica alone
        usdf.execute("CREATE TABLE cdb_latiss.exposure_flexdata (id bigint PRIMARY KEY)")
    ts = request_rollout(rollout_bot, slack)
    approve(rollout_bot, APPROVER_2, ts, "EvFirst")
    approve(rollout_bot, DBA, ts, "EvSecond")

    failed = request_state(slack, 1, "failed", kind="Rollout")
    where = (
        f"summit: latiss at {COLUMN_ADDED} (succeeded)\n"
        f"usdf-prod: latiss at {FIRST} (failed)\n"
        "subscription usdf_exposurelog at usdf-prod stays disabled: the Summit has changes the replica cannot"
        " apply yet; the Summit's replication slot keeps every change meanwhile\n"
        f"Either finish it: `rollout latiss --to {COLUMN_ADDED} --ticket OSW-123` (migrates what is behind, then enables the"
        f" subscription), or take the Summit back: `rollout latiss --to {FIRST} --ticket OSW-123` (downgrades the"
        " Summit, then enables the subscription). Each is a request to approve."
    )
    assert f"*Outcome*: {where}".replace("\n", "\\n") in blocks_of(failed)
    told = thread_says(slack, ts, "where it stands:")
    assert re.search(
        rf"^:rotating_light: usdf-prod: replica migration failed; the subscription stays disabled"
        rf" \(latiss at {FIRST} \(failed\)\) \[\d+\.\d s\]$", told, re.MULTILINE,
    )  # fmt: skip
    assert "where it stands:\n" + "\n".join(f"  {line}" for line in where.splitlines()) in told
    assert told.count("Either finish it") == 1
    assert "subscription enabled" not in told
    assert versions(replica.summit) == [COLUMN_ADDED]
    assert versions(replica.usdf) == [FIRST]
    assert not enabled(replica)
    comments = wait_for("the ticket's comment", lambda: jira.bodies("OSW-123"), lambda bodies: len(bodies) > 0)
    assert comments[-1].count("Either finish it") == 1  # where each side is first, once

    rollout_bot.command("audit", user=APPROVER_1, channel=SUMMIT_CHANNEL)
    trail = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Audit trail"), None))
    table = trail.args["blocks"][1]["text"]["text"].strip("`").splitlines()
    failure = next(index for index, line in enumerate(table) if "consdb-bot: #1 rollout failed: summit: latiss" in line)
    # Where each side stands, under the record that says so: each record, and only a record, starts with its time.
    assert table[failure + 1] == " " * 20 + f"usdf-prod: latiss at {FIRST} (failed)"
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d | {20}\S", line) for line in table), table
