"""Jira tickets as the thread of a migration, end to end: the running bot (and the terminal) with the real
jira client against the Jira stand-in, Slack's requests, threads and answers checked as Slack saw them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.standins.jira import JIRA_TOKEN, FakeJira
from bot.sandbox.standins.slack import FakeSlack
from tests.conftest import BUNDLED_SCHEMAS, write_config
from tests.support.bot_process import BotProcess
from tests.support.slack_bot import (
    APPROVER_1,
    BTS_CHANNEL,
    REQUESTER,
    ephemeral_to,
    posted_request,
    request_state,
)

SUMMARY = "Add the visit1 quicklook columns"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.add_issue("OSW-123", SUMMARY, status="In Progress")
        yield fake
        fake.release()
        assert all(call.path != "/rest/api/2/serverInfo" for call in fake.calls), "the bot asked Jira about itself"


@pytest.fixture
def jira_bot(
    config: Path, slack: FakeSlack, databases: dict[str, str], kube, jira: FakeJira, tmp_path: Path
) -> Iterator[BotProcess]:
    config.write_text(
        config.read_text() + "jira:\n  url: ${JIRA_URL}\n  project: OSW\n  timeout_seconds: 1\n  retry_seconds: 0.5\n"
    )
    slack.state.people.update({REQUESTER: "Vera Rubin", APPROVER_1: "Ada Approver"})
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig"), "JIRA_URL": jira.url, "JIRA_TOKEN": JIRA_TOKEN}
    with BotProcess(config, slack.url, environ=environ) as process:
        yield process
    assert JIRA_TOKEN not in process.output(), "the Jira token reached the bot's log"
    assert JIRA_TOKEN not in json.dumps([call.args for call in slack.calls()]), "the Jira token reached Slack"


def thread_line(slack: FakeSlack, ts: str, containing: str) -> str:
    return slack.wait_for(
        lambda calls: next((c.text for c in calls if c.args.get("thread_ts") == ts and containing in c.text), None)
    )


@pytest.mark.slow
def test_a_ticket_follows_the_change_booked_requested_migrated_and_summed_up(jira_bot, slack, jira):
    jira_bot.command("book bts now 2h osw-123 schema test", user=REQUESTER)
    booked = ephemeral_to(slack, REQUESTER, "of bts booked")
    assert "Jira: commented on OSW-123" in booked.text
    assert jira.bodies("OSW-123")[0].startswith("(i) *bts booked* ")
    assert jira.bodies("OSW-123")[0].endswith("by Vera Rubin (booking #1): schema test")

    jira_bot.command("migrate bts latiss --ticket osw-123", user=REQUESTER)
    request = posted_request(slack, 1)
    shown = json.dumps(request.args["blocks"], ensure_ascii=False)
    assert f"*Ticket* <{jira.url}/browse/OSW-123|OSW-123> {SUMMARY} (In Progress)" in shown

    ts = request.reply["ts"]
    jira_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvJira1")
    request_state(slack, 1, "succeeded")
    thread_line(slack, ts, "Commented on OSW-123.")
    comment = jira.bodies("OSW-123")[1]
    assert comment.splitlines() == [
        "(/) *Upgrade at bts succeeded* (consdb-bot request #1)",
        "* latiss: base → 05689cf3f8f0",
        "Now at: latiss {{05689cf3f8f0}}",
        "Requested by Vera Rubin; approved by Ada Approver.",
        f"[The request in Slack|https://rubin-obs.slack.com/archives/{BTS_CHANNEL}/p{ts.replace('.', '')}]",
    ]

    jira_bot.command("ticket OSW-123", user=REQUESTER)
    answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Ticket OSW-123"), None))
    summary = json.loads(json.dumps(answer.args["blocks"]))[-1]["text"]["text"]
    assert f"OSW-123  {SUMMARY}  (In Progress)" in summary
    assert "bts     succeeded    upgrade #1" in summary
    assert "summit  nothing yet" in summary
    assert "#1 bts " in summary
    assert "by Vera Rubin: schema test" in summary
    assert "Jira comments by the bot: 2 posted" in summary


@pytest.mark.slow
def test_an_unknown_ticket_is_refused_before_anyone_is_asked(jira_bot, slack, jira):
    jira_bot.command("migrate bts latiss --ticket OSW-999", user=REQUESTER)
    refusal = ephemeral_to(slack, REQUESTER, "there is no Jira ticket OSW-999")
    assert "it looks like OSW-123" in refusal.text
    jira_bot.command("book bts now 1h OSW-998", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "there is no Jira ticket OSW-998")
    assert not [c for c in slack.calls("chat.postMessage") if "request #" in c.text]
    assert jira.bodies("OSW-123") == []


@pytest.mark.slow
def test_when_jira_is_down_the_migration_goes_on_and_its_thread_says_the_comment_is_pending(jira_bot, slack, jira):
    jira_bot.command("book bts now 2h", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "of bts booked")
    jira.fail_next("GET", 503)
    jira_bot.command("migrate bts latiss --ticket OSW-123", user=REQUESTER)
    request = posted_request(slack, 1)
    shown = json.dumps(request.args["blocks"], ensure_ascii=False)
    assert "*Ticket* OSW-123 (not checked: Jira failed to answer (HTTP 503))" in shown

    jira.fail_next("POST", 503)
    ts = request.reply["ts"]
    jira_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvJira2")
    request_state(slack, 1, "succeeded")
    pending = thread_line(slack, ts, "The comment on OSW-123 is pending")
    assert "Jira failed to answer (HTTP 503)" in pending
    thread_line(slack, ts, "Commented on OSW-123 (on try 2)")
    assert len(jira.bodies("OSW-123")) == 1


def test_the_terminal_checks_the_ticket_and_comments_on_it(consdb_bot, bundled, jira, monkeypatch):
    monkeypatch.setenv("JIRA_URL", jira.url)
    monkeypatch.setenv("JIRA_TOKEN", JIRA_TOKEN)
    config = write_config(
        bundled, environments={"bts": "BTS_DATABASE_URL"}, schemas=BUNDLED_SCHEMAS,
        extra="jira:\n  url: ${JIRA_URL}\n  timeout_seconds: 1\n",
    )  # fmt: skip
    refused = consdb_bot("upgrade", "bts", "latiss", "--ticket", "OSW-404", "--yes", "--config", str(config))
    assert refused.code == 1
    assert "there is no Jira ticket OSW-404" in refused.err

    done = consdb_bot("upgrade", "bts", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(config))
    assert done.code == 0, done.text
    assert "Jira: commented on OSW-123" in done.err
    (comment,) = jira.bodies("OSW-123")
    # The comment a Slack request gets: the terminal's change is a request, approved with --yes.
    assert comment.startswith("(/) *Upgrade at bts succeeded* (consdb-bot request #1)")
    assert "Now at: latiss {{05689cf3f8f0}}" in comment
    assert "approved by " in comment

    overview = consdb_bot("ticket", "OSW-123", "--config", str(config))
    assert overview.code == 0, overview.text
    assert "bts  succeeded  upgrade #1" in overview.out
    assert "latiss base → 05689cf3f8f0, now at 05689cf3f8f0" in overview.out
    assert "Jira comments by the bot: 1 posted" in overview.out
    assert consdb_bot("ticket", "OSW-5", "--config", str(config)).code == 1
