"""Slack's door under hostile input and faults: oversized and malformed requests, replays, an approval
that arrives while the state database is down, and approvals behind a crowd of slow commands. Each
test drives the running bot over HTTP as Slack (or a stranger) would."""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest

from bot.config import load_settings
from bot.sandbox.standins.jira import JIRA_TOKEN, FakeJira
from bot.slack.app import HttpSurface
from bot.slack.context import Context, SlackSettings
from tests.conftest import close_database, libpq
from tests.support.bot_process import SIGNING_SECRET, BotProcess, Reply, sign
from tests.support.slack_bot import (
    APPROVER_1,
    APPROVER_2,
    BTS_CHANNEL,
    DBA,
    REQUESTER,
    ephemeral_to,
    hold_bts,
    posted_request,
    request_state,
    revisions,
)

FORM = "application/x-www-form-urlencoded"
TRIGGERS = itertools.count(1)


def raw_exchange(bot: BotProcess, head: bytes, body: bytes = b"") -> bytes:
    """Send a request's head (and only ``body`` of what it promises), return the status line the bot
    answers: an answer to a request whose body was never sent is an answer given without reading it."""
    with socket.create_connection(("127.0.0.1", bot.port), timeout=20) as connection:
        connection.sendall(head + body)
        return connection.makefile("rb").readline()


def command_body(bot: BotProcess, text: str) -> bytes:
    """A slash command's body as Slack sends it (its trigger id is new each time)."""
    return urlencode({
        "token": "legacy", "team_id": "T0RUBIN", "channel_id": BTS_CHANNEL, "user_id": REQUESTER,
        "user_name": "vera", "command": "/consdb", "text": text, "response_url": bot.response_url,
        "trigger_id": f"{next(TRIGGERS)}.1",
    }).encode()  # fmt: skip


@pytest.mark.slow
def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(bot, slack):
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: consdb-bot\r\nContent-Type: application/json\r\n"
        b"Content-Length: 400000000\r\n\r\n"
    )
    assert raw_exchange(bot, head, b'{"type": "event_callback", "event": {' + b" " * 4000).split()[1] == b"413"
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: consdb-bot\r\nContent-Type: {FORM}\r\nContent-Length: 2000000\r\n"
        f"X-Slack-Request-Timestamp: {int(bot.now())}\r\nX-Slack-Signature: v0={'0' * 64}\r\n\r\n"
    ).encode()
    assert raw_exchange(bot, head).split()[1] == b"413"
    assert bot.get("/healthz").status == 200
    assert slack.calls("chat.postMessage") == []


@pytest.mark.slow
def test_an_unsigned_or_stale_request_is_refused_with_401_without_reading_its_body(bot, slack):
    unsigned = b"POST /slack/events HTTP/1.1\r\nHost: consdb-bot\r\nContent-Type: application/json\r\n"
    assert raw_exchange(bot, unsigned + b"Content-Length: 500000\r\n\r\n").split()[1] == b"401"
    stale = sign(b"x" * 500000, timestamp=int(bot.now()) - 600)
    head = (
        unsigned
        + (
            f"Content-Length: 500000\r\nX-Slack-Request-Timestamp: {stale['X-Slack-Request-Timestamp']}\r\n"
            f"X-Slack-Signature: {stale['X-Slack-Signature']}\r\n\r\n"
        ).encode()
    )
    assert raw_exchange(bot, head).split()[1] == b"401"
    assert slack.calls("chat.postMessage") == []


@pytest.mark.slow
def test_the_body_limit_is_configurable(config, slack, databases):
    text = config.read_text().replace(f"slack: {{announce_channel: {BTS_CHANNEL}}}",
                                      f"slack: {{announce_channel: {BTS_CHANNEL}, max_body_bytes: 2048}}")  # fmt: skip
    config.write_text(text)
    with BotProcess(config, slack.url, environ=databases) as bot:
        long = command_body(bot, "status bts " + "latiss " * 400)
        refused = bot.post(long, {"Content-Type": FORM, **sign(long, timestamp=int(bot.now()))})
        short = command_body(bot, "status bts")
        taken = bot.post(short, {"Content-Type": FORM, **sign(short, timestamp=int(bot.now()))})
    assert (refused.status, taken.status) == (413, 200)
    assert "2048 bytes" in refused.body


def test_in_socket_mode_slack_events_are_not_taken_over_http(config):
    """Socket Mode verifies nothing (Slack's events come over the socket), so its HTTP port, which serves
    /healthz and /metrics to the cluster, must not take events: a forged approval would count."""
    settings = load_settings(config, environ={})
    socket_mode = SlackSettings.from_environment({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
                                                 socket_mode=True)  # fmt: skip
    surface = HttpSurface(Context(settings, socket_mode), None)
    event = json.dumps({"type": "event_callback", "event_id": "EvForged", "event": {"type": "reaction_added"}})
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "CONTENT_LENGTH": str(len(event)),
               "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(event.encode())}  # fmt: skip
    setup_testing_defaults(environ)
    answered: list[str] = []
    surface(environ, lambda status, _headers, *_: answered.append(status))
    assert answered == ["404 Not Found"]


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [("abc", None), ("1e9", None), ("", None), ("17000000000000000000000000", None), (None, "v0=\u00e9t\u00e9"),
     (None, "v1=" + "0" * 64), (None, "")],
)  # fmt: skip
@pytest.mark.slow
def test_a_malformed_timestamp_or_signature_is_refused_with_401_and_no_traceback(bot, slack, timestamp, signature):
    body = command_body(bot, "status bts")
    stamp = str(int(bot.now())) if timestamp is None else timestamp
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature if signature is not None else _signature(body, stamp),
    }
    reply = bot.post(body, {"Content-Type": FORM, **headers})
    assert reply.status == 401
    output = bot.output()
    assert "Traceback" not in output
    assert slack.calls("chat.postMessage") == []


def _signature(body: bytes, stamp: str) -> str:
    """Slack's signature of ``body`` at ``stamp``, whatever ``stamp`` is."""
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()


@pytest.mark.slow
def test_a_replayed_slash_command_is_ignored(bot, slack):
    hold_bts(bot, slack)
    body = command_body(bot, "migrate bts startrackerwide")
    headers = {"Content-Type": FORM, **sign(body, timestamp=int(bot.now()))}
    assert bot.post(body, headers).status == 200
    ts = posted_request(slack, 1).reply["ts"]
    bot.reaction("x", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvReject")
    request_state(slack, 1, "rejected")

    replayed = bot.post(body, headers)
    assert (replayed.status, replayed.body) == (200, "")
    bot.command("migrate bts latiss")
    second = posted_request(slack, 2)
    assert "latiss" in json.dumps(second.args["blocks"])
    assert "startrackerwide" not in json.dumps(second.args["blocks"])


# An approval while the state database is down ------------------------------------------------------


@pytest.fixture
def postgres_state(new_database, config: Path) -> str:
    """The bot's state in a PostgreSQL database of its own (as in production), which the test can close."""
    url = new_database().replace("postgresql://", "postgresql+psycopg://")
    text = config.read_text()
    config.write_text("\n".join(f"state_url: {url}" if line.startswith("state_url:") else line
                                for line in text.splitlines()) + "\n")  # fmt: skip
    return url


def deliver(bot: BotProcess, payload: bytes, *, retry: int = 0) -> Reply:
    """One delivery of an event, as Slack makes it: signed when sent, numbered when it is a retry."""
    headers = {"Content-Type": "application/json", **sign(payload, timestamp=int(bot.now()))}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"}
    return bot.post(payload, headers)


@pytest.mark.slow
def test_an_approval_the_state_database_cannot_record_is_refused_told_and_counted_once_when_slack_retries(
    config, postgres_state, server_url, slack, databases, kube, tmp_path
):
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ) as bot:
        hold_bts(bot, slack)
        bot.command("migrate bts startrackerwide", user=REQUESTER)
        ts = posted_request(slack, 1).reply["ts"]
        ephemeral_to(slack, REQUESTER, "Request #1 is posted")  # the command's work is done
        approval = json.dumps({
            "token": "legacy", "team_id": "T0RUBIN", "api_app_id": "A0CONSDB", "type": "event_callback",
            "event_id": "EvLost", "event_time": int(bot.now()),
            "event": {"type": "reaction_added", "user": APPROVER_1, "reaction": "white_check_mark",
                      "item": {"type": "message", "channel": BTS_CHANNEL, "ts": ts}, "event_ts": f"{bot.now():.6f}"},
        }).encode()  # fmt: skip

        close_database(server_url, postgres_state, closed=True)
        try:
            refused = deliver(bot, approval)
            told = ephemeral_to(slack, APPROVER_1, "could not be counted yet")
        finally:
            close_database(server_url, postgres_state, closed=False)
        assert refused.status == 503
        assert told.args["channel"] == BTS_CHANNEL
        assert "Slack sends it again" in told.text

        assert deliver(bot, approval, retry=1).status == 200
        request_state(slack, 1, "succeeded")
        assert deliver(bot, approval, retry=2).status == 200
    assert revisions(databases["BTS_DATABASE_URL"], "startrackerwide") != []
    assert len([c for c in slack.calls("chat.update") if c.text.endswith(": running")]) == 1
    with psycopg.connect(libpq(postgres_state)) as state:
        approvals = state.execute(
            "SELECT count(*) FROM audit_records WHERE action = 'approved' AND actor = %s", (APPROVER_1,)
        ).fetchone()
    assert approvals == (1,)


@pytest.mark.slow
def test_an_approval_from_a_user_group_slack_does_not_list_is_told_not_taken_for_a_strangers(
    config, slack, databases, kube, tmp_path
):
    config.write_text(config.read_text().replace(
        f"approvals: {{required: 1, approvers: [{APPROVER_1}, {APPROVER_2}]}}",
        f"approvals: {{required: 1, approvers: [{APPROVER_1}], usergroup: S0DBA}}",
    ))  # fmt: skip
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ) as bot:
        hold_bts(bot, slack)
        bot.command("migrate bts startrackerwide", user=REQUESTER)
        ts = posted_request(slack, 1).reply["ts"]
        slack.rate_limit("usergroups.users.list", 4)  # the call and the client's three retries
        bot.reaction("white_check_mark", user=DBA, channel=BTS_CHANNEL, ts=ts, event_id="EvUnlisted")
        told = ephemeral_to(slack, DBA, "could not be counted")
        assert "Slack did not list the members of user group S0DBA (ratelimited)" in told.text
        assert not [c for c in slack.calls("chat.update") if c.text.endswith(": running")]

        bot.reaction("white_check_mark", user=DBA, channel=BTS_CHANNEL, ts=ts, event_id="EvListed")
        request_state(slack, 1, "succeeded")


# Approvals behind slow commands ---------------------------------------------------------------------


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.add_issue("OSW-123", "Add the visit1 quicklook columns")
        yield fake
        fake.release()


@pytest.mark.slow
def test_an_approval_starts_its_run_while_slow_commands_hold_every_worker(
    config, slack, databases, kube, jira, tmp_path
):
    config.write_text(config.read_text() + "jira:\n  url: ${JIRA_URL}\n  project: OSW\n  timeout_seconds: 120\n")
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig"), "JIRA_URL": jira.url, "JIRA_TOKEN": JIRA_TOKEN}
    with BotProcess(config, slack.url, environ=environ) as bot:
        hold_bts(bot, slack)
        bot.command("migrate bts startrackerwide", user=REQUESTER)
        ts = posted_request(slack, 1).reply["ts"]
        jira.hold()
        for _ in range(4):  # more than the bot's workers for answers: each waits for Jira
            assert bot.command("ticket OSW-123").status == 200
        bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvBehind")
        request_state(slack, 1, "succeeded")
        answered_by_jira = list(jira.calls)
        jira.release()
    assert answered_by_jira == [], "the run waited for the slow commands"
