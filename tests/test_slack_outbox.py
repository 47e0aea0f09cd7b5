"""What the bot tells Slack while Slack is slow or down: the running bot against the Slack stand-in.

Progress goes to a request's thread from a queue of its own, so that a Slack that rate-limits the
bot never holds up (or times out) a run; outcomes are kept in the state database until Slack takes
them, so that a request's message and thread end up saying how it ended, once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.sandbox.standins.slack import BOT_TOKEN, Call, FakeSlack
from bot.services.changes import RequestView
from bot.slack.notifier import MOST_QUEUED_LINES, ThreadWriter
from bot.store.models import RequestState
from tests.support.bot_process import BotProcess
from tests.support.clock import START, pause
from tests.support.slack_bot import (
    APPROVER_1,
    BTS_CHANNEL,
    REQUESTER,
    ephemeral_to,
    hold_bts,
    posted_request,
    request_state,
    revisions,
)

FIRST = "latiss: base → 8ebb60eda79d"
SECOND = "latiss: 8ebb60eda79d → 05689cf3f8f0"
HEAD = "05689cf3f8f0"


@pytest.fixture
def outbox_config(config: Path) -> Path:
    """The bot's configuration, with a short run limit and Slack retried every half second."""
    text = config.read_text()
    text = text.replace(
        "migrations: {connect_timeout_seconds: 2}", "migrations: {connect_timeout_seconds: 2, run_timeout_seconds: 8}"
    )
    text = text.replace(
        f"slack: {{announce_channel: {BTS_CHANNEL}}}", f"slack: {{announce_channel: {BTS_CHANNEL}, retry_seconds: 0.5}}"
    )
    config.write_text(text)
    return config


@pytest.fixture
def outbox_bot(
    outbox_config: Path, slack: FakeSlack, databases: dict[str, str], kube, tmp_path: Path
) -> Iterator[BotProcess]:
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(outbox_config, slack.url, environ=environ) as process:
        yield process


def recorded_state(state_file: Path, request: int) -> str:
    """The request's state as the bot recorded it, once it has ended (read from its SQLite state)."""
    for _ in range(1200):
        with sqlite3.connect(state_file) as connection:
            row = connection.execute("SELECT state FROM change_requests WHERE id = ?", (request,)).fetchone()
        if row and row[0] not in ("requested", "approved", "running"):
            return str(row[0])
        pause(0.05)
    raise AssertionError(f"request #{request} never ended")


def thread(calls: list[Call], ts: str) -> list[str]:
    return [call.text for call in calls if call.method == "chat.postMessage" and call.args.get("thread_ts") == ts]


def approve(bot: BotProcess, slack: FakeSlack) -> str:
    """Book BTS, ask for latiss at head, and return the request message's ts (not yet approved)."""
    hold_bts(bot, slack)
    bot.command("migrate bts latiss", user=REQUESTER)
    ts = str(posted_request(slack, 1).reply["ts"])
    ephemeral_to(slack, REQUESTER, "Request #1 is posted")
    return ts


@pytest.mark.slow
def test_a_run_goes_on_at_its_own_pace_while_slack_rate_limits_its_thread(outbox_bot, slack, databases, tmp_path):
    ts = approve(outbox_bot, slack)
    slack.rate_limit("chat.postMessage", times=10_000)
    outbox_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvSlow")

    # Every post is refused with 429 + Retry-After, yet the run ends within its 8 s limit, as it would alone.
    assert recorded_state(tmp_path / "state.sqlite3", 1) == "succeeded"
    assert revisions(databases["BTS_DATABASE_URL"], "latiss") == [HEAD]
    # The bot keeps trying: once a try carries both lines, Slack lets it through.
    slack.wait_for(lambda calls: [line for line in thread(calls, ts) if FIRST in line and SECOND in line], refused=True)
    slack.rate_limit("chat.postMessage", times=0)

    request_state(slack, 1, "succeeded")
    posts = slack.wait_for(lambda calls: [c for c in thread(calls, ts) if "Next steps" in c] and thread(calls, ts))
    progress = [post for post in posts if FIRST in post or SECOND in post]
    assert len(progress) == 1, "the lines that piled up go as one message"
    assert progress[0].index(FIRST) < progress[0].index(SECOND)
    assert posts.index(progress[0]) == 0, "progress comes before the outcome"
    assert "Next steps" in posts[-1]


@pytest.mark.slow
def test_slack_down_through_a_whole_run_then_back_shows_the_outcome_once(outbox_bot, slack, databases, tmp_path):
    ts = approve(outbox_bot, slack)
    slack.go_down(status=503, error="service_unavailable")
    outbox_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvDown")

    assert recorded_state(tmp_path / "state.sqlite3", 1) == "succeeded"
    assert revisions(databases["BTS_DATABASE_URL"], "latiss") == [HEAD]
    slack.wait_for(lambda calls: [line for line in thread(calls, ts) if SECOND in line], refused=True)
    slack.come_back()

    request_state(slack, 1, "succeeded")
    posts = slack.wait_for(lambda calls: [c for c in thread(calls, ts) if "Next steps" in c] and thread(calls, ts))
    outcomes = [post for post in posts if "upgrade at bts" in post]
    assert len(outcomes) == 1, posts
    progress = [post for post in posts if FIRST in post or SECOND in post]
    assert posts.index(progress[-1]) < posts.index(outcomes[0]) < len(posts) - 1, "lines, outcome, next steps"
    assert len([c for c in slack.calls("chat.update") if c.text == "Upgrade request #1: bts: succeeded"]) == 1


@pytest.mark.slow
def test_an_outcome_slack_did_not_take_is_delivered_by_the_next_process(
    outbox_config, slack, databases, kube, tmp_path
):
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(outbox_config, slack.url, environ=environ) as first:
        ts = approve(first, slack)
        slack.go_down(status=200, error="fatal_error")
        first.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvGone")
        assert recorded_state(tmp_path / "state.sqlite3", 1) == "succeeded"
    slack.come_back()
    with BotProcess(outbox_config, slack.url, environ=environ):
        request_state(slack, 1, "succeeded")
        posts = slack.wait_for(lambda calls: [c for c in thread(calls, ts) if "Next steps" in c] and thread(calls, ts))
    assert len([post for post in posts if "upgrade at bts" in post]) == 1, posts
    assert "Next steps" in posts[-1]


def test_lines_that_pile_up_past_the_bound_are_counted_and_said_to_be_left_out(slack):
    view = RequestView(
        id=7, kind="upgrade", environment="bts", environment_title="Base Test Stand", requester=REQUESTER,
        state=RequestState.RUNNING, ticket=None, ranges={}, warnings=[], required=1, approvers=[], rejecters=[],
        expires_at=START, channel=BTS_CHANNEL, message_ts="1700000000.000001",
    )  # fmt: skip
    writer = ThreadWriter(WebClient(token=BOT_TOKEN, base_url=slack.url), deliver=lambda _request: None)
    slack.go_down()
    lines = [f"line {number}" for number in range(MOST_QUEUED_LINES + 5)]
    for line in lines:
        writer.line(view, line)
    slack.wait_for(lambda calls: calls, refused=True)
    slack.come_back()
    try:
        posts = slack.wait_for(
            lambda calls: [c for c in calls if "left out" in c.text] and thread(calls, view.message_ts)
        )
    finally:
        writer.close(5)
    assert "\n".join(posts).splitlines() == [
        *lines[:MOST_QUEUED_LINES],
        "(5 more lines left out: Slack did not take them fast enough)",
    ]
    assert len(posts) < 10, "lines go many to a message"
