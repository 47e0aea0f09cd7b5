"""Hostile input through the running bot, on PostgreSQL state: what someone typed is shown as text in
every Slack message that carries it (never obeyed as Slack markup), and values too big for the bot get
usage with an example, in Slack and in the terminal, never a crash."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Slack
from bot.errors import Refused, UsageError
from bot.render import blocks
from bot.sandbox.standins.kubernetes import FakeKube
from bot.sandbox.standins.slack import Call, FakeSlack
from bot.services.bookings import Announcement, BookingEvent, BookingView
from bot.services.changes import RequestView
from bot.services.reports import DailyReport, EnvironmentHealth
from bot.store.models import RequestState
from tests.support.bot_process import BotProcess
from tests.support.slack_bot import APPROVER_1, BTS_CHANNEL, REQUESTER, ephemeral_to, hold_bts

HOSTILE = "<!channel> & <https://evil|Approve here>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;https://evil|Approve here&gt;"
RAW_MARKUP = ("<!channel>", "<https://evil")

TOO_BIG = [
    "audit --limit 99999999999999999999999",
    "cancel 99999999999999999999",
    "book bts 9999-12-31 23:59 1d",
    "extend 1 999999999999d",
    "migrate " + "b" * 3000,
    "book bts now 1h 'a\x00b'",
    "book bts now 1h OSW-" + "1" * 60,
    "migrate bts --ticket OSW-" + "1" * 60,
]
"""Issue 15's values too big for the bot, as typed in Slack."""


STARTS = datetime(2026, 11, 24, 12, tzinfo=UTC)
BOOKING = BookingView(
    id=3, environment="bts", environment_title="Base Test Stand", timezone="America/Santiago", booker=REQUESTER,
    starts_at=STARTS, ends_at=STARTS + timedelta(hours=2), ticket="OSW-123", note=HOSTILE,
)  # fmt: skip
REQUEST = RequestView(
    id=7, kind="upgrade", environment="bts", environment_title="bts", requester=REQUESTER,
    state=RequestState.FAILED, ticket=None, ranges={"latiss": "base → 8ebb60eda79d"}, warnings=[], required=1,
    approvers=[APPROVER_1], rejecters=[], expires_at=STARTS, options={"view_readers": HOSTILE},
    note=f"role {HOSTILE} does not exist",
)  # fmt: skip


@pytest.mark.parametrize(
    "render",
    [
        lambda: blocks.booking_announcement(Announcement(BookingEvent.BOOKED, BOOKING, [BTS_CHANNEL], STARTS)),
        lambda: blocks.booking_announcement(Announcement(BookingEvent.REMINDER, BOOKING, [BTS_CHANNEL], STARTS)),
        lambda: blocks.booking_announcement(Announcement(BookingEvent.STARTED, BOOKING, [BTS_CHANNEL], STARTS)),
        lambda: blocks.bookings_message([BOOKING], where="anywhere"),
        lambda: blocks.report_message(DailyReport(EnvironmentHealth("bts", "bts", [], []), "2026-11-24", [BOOKING], [BTS_CHANNEL])),
        lambda: blocks.request_message(REQUEST, Slack()),
        lambda: blocks.error_message(UsageError(f"{HOSTILE!r} is wrong", usage=f"usage: {HOSTILE}", hint=HOSTILE)),
        lambda: blocks.progress_message(f"latiss: {HOSTILE}"),
        lambda: blocks.outcome_message(f"latiss: FAILED: {HOSTILE}"),
        lambda: blocks.said(f"note: {HOSTILE}"),
        lambda: blocks.text_message(f"Audit {HOSTILE}", f"refused: {HOSTILE}"),
        lambda: blocks.acknowledgement("/consdb", f"book bts now 1h '{HOSTILE}'"),
        lambda: blocks.help_message(HOSTILE),
    ],
    ids=["booked", "reminder", "started", "bookings", "report", "request", "error", "progress", "outcome", "said",
         "text", "acknowledgement", "help"],
)  # fmt: skip
def test_every_renderer_shows_what_was_typed_as_text(render: Callable[[], dict[str, Any]]):
    rendered = json.dumps(render(), ensure_ascii=False)
    assert ESCAPED in rendered
    assert not any(markup in rendered for markup in RAW_MARKUP)


def test_the_bots_own_markup_survives_the_escaping():
    request = json.dumps(blocks.request_message(REQUEST, Slack()), ensure_ascii=False)
    assert f"<@{REQUESTER}>" in request
    assert f"<@{APPROVER_1}>" in request
    refusal = blocks.error_message(Refused("could not post the request in #C0SUMMIT01: not_in_channel"))
    assert "in <#C0SUMMIT01>: not_in_channel" in refusal["text"]
    announced = blocks.booking_announcement(Announcement(BookingEvent.BOOKED, BOOKING, [BTS_CHANNEL], STARTS))
    assert f"booked by <@{REQUESTER}>" in announced["text"]
    assert "<!date^" in announced["text"]


@pytest.mark.parametrize("cut", range(2975, 3001))
def test_a_long_message_is_cut_before_half_an_entity_or_a_link(cut: int):
    text = blocks.section("x" * cut + f"<@{REQUESTER}> " + blocks.escape("&" * 50))["text"]["text"]
    assert len(text) <= blocks.TEXT_LIMIT
    assert text.endswith("…")
    assert not re.search(r"&[a-z]*…$|<[^>]*…$", text)


def postgresql(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture
def pg_bot(
    config: Path, slack: FakeSlack, databases: dict[str, str], kube: FakeKube, tmp_path: Path, new_database
) -> Iterator[BotProcess]:
    """The bot of the suite's Slack tests, keeping its state in PostgreSQL (as in production), where a
    value too long for its column is an error, not stored anyway as SQLite would."""
    state = postgresql(new_database())
    config.write_text(re.sub(r"^state_url: .*$", f"state_url: {state}", config.read_text(), flags=re.MULTILINE))
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ) as process:
        yield process


def shown(call: Call) -> str:
    """What Slack would render of a message: its text and its blocks."""
    return json.dumps([call.args.get("text", ""), call.args.get("blocks", [])], ensure_ascii=False)


def messages(slack: FakeSlack) -> list[Call]:
    return [call for call in slack.calls() if call.method.startswith("chat.")]


def assert_never_raw(slack: FakeSlack) -> None:
    for call in messages(slack):
        for markup in RAW_MARKUP:
            assert markup not in shown(call), f"{call.method} posted {markup} raw: {shown(call)[:400]}"


def carrying(slack: FakeSlack, escaped: str) -> list[Call]:
    return [call for call in messages(slack) if escaped in shown(call)]


@pytest.mark.slow
def test_a_booking_note_is_shown_escaped_in_every_message_that_carries_it(pg_bot, slack):
    ack = pg_bot.command(f"book bts now 2h OSW-123 '{HOSTILE}'", user=REQUESTER)
    assert ESCAPED in ack.json()["text"]
    assert not any(markup in ack.body for markup in RAW_MARKUP)

    booked = ephemeral_to(slack, REQUESTER, "of bts booked")
    announced = slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "chat.postMessage" and ":calendar:" in c.text), None)
    )
    pg_bot.command("bookings", user=REQUESTER)
    listed = slack.wait_for(lambda calls: next((c for c in calls if c.text.startswith("Bookings anywhere")), None))
    pg_bot.command("ticket OSW-123", user=REQUESTER)
    overview = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Ticket OSW-123"), None))

    assert ESCAPED in booked.text
    assert ESCAPED in announced.text
    assert ESCAPED in json.dumps(announced.args["blocks"], ensure_ascii=False)
    assert ESCAPED in json.dumps(listed.args["blocks"], ensure_ascii=False)
    assert ESCAPED in json.dumps(overview.args["blocks"], ensure_ascii=False)
    assert_never_raw(slack)


@pytest.mark.slow
def test_an_option_value_is_shown_escaped_in_the_request_its_thread_and_the_audit(pg_bot, slack):
    hold_bts(pg_bot, slack)
    ack = pg_bot.command(f"migrate bts latiss --options 'view_readers={HOSTILE}'", user=REQUESTER)
    assert ESCAPED in ack.json()["text"]

    answer = slack.wait_for(
        lambda calls: next(
            (c for c in calls if (c.method == "chat.postMessage" and "request #1:" in c.text)
             or (c.method == "chat.postEphemeral" and c.args.get("user") == REQUESTER and ":warning:" in c.text)),
            None,
        )
    )  # fmt: skip
    if answer.method == "chat.postMessage":  # posted: approved, it runs, and its thread tells how it went
        assert ESCAPED in json.dumps(answer.args["blocks"], ensure_ascii=False)
        pg_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=answer.reply["ts"], event_id="Ev1")
        slack.wait_for(
            lambda calls: [
                c for c in calls if c.method == "chat.update" and re.search(r": (succeeded|failed)$", c.text)
            ]
        )
        assert len(carrying(slack, ESCAPED)) >= 3, "the request, its update and the acknowledgement's echo"
    pg_bot.command("audit", user=REQUESTER)
    slack.wait_for(lambda calls: next((c for c in calls if c.text == "Audit trail"), None))
    assert carrying(slack, ESCAPED), "the request or its refusal shows the value, escaped"
    assert_never_raw(slack)


@pytest.mark.slow
def test_errors_that_repeat_what_was_typed_show_it_escaped(pg_bot, slack):
    for typed in (f"bookings '{HOSTILE}'", f"book bts '{HOSTILE}' 1h", f"help '{HOSTILE}'"):
        answer = pg_bot.command(typed, user=REQUESTER).json()
        assert ":warning:" in answer["text"], typed
        assert "&lt;!channel&gt;" in answer["text"], typed
        assert not any(markup in json.dumps(answer, ensure_ascii=False) for markup in RAW_MARKUP), typed


@pytest.mark.slow
def test_values_too_big_get_usage_with_an_example_and_values_at_the_bounds_work(pg_bot, slack):
    biggest = f"book bts now 1h ABCDEFGHIJKLMNOPQRST-123456789 {'n' * 500}"
    pg_bot.command(biggest, user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "booking #1 of bts booked")

    wrong = {}
    for typed in TOO_BIG:
        answer = pg_bot.command(typed, user=REQUESTER).json()["text"]
        if not ("usage: /consdb" in answer and "For example: /consdb" in answer):
            wrong[typed[:60]] = answer[:200]
    assert wrong == {}, "each of these should have been answered with usage and an example"

    pg_bot.command("audit --limit 1000", user=REQUESTER)
    pg_bot.command("cancel 2147483647", user=REQUESTER)
    pg_bot.command("extend 1 365d", user=REQUESTER)
    slack.wait_for(lambda calls: next((c for c in calls if c.text == "Audit trail"), None))
    ephemeral_to(slack, REQUESTER, "there is no booking #2147483647")
    ephemeral_to(slack, REQUESTER, "the whole booking may last 7d at most")
    assert not [call for call in messages(slack) if "I failed" in call.text]


@pytest.fixture
def pg_config(tmp_path: Path, new_database, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BTS_DATABASE_URL", new_database())
    path = tmp_path / "consdb-bot.yaml"
    path.write_text(f"""
state_url: {postgresql(new_database())}
schemas: [latiss]
environments:
  bts:
    test_stand: true
    database_url: ${{BTS_DATABASE_URL}}
    approvals: {{required: 1, approvers: [U0APPROVE1]}}
""")
    return path


@pytest.mark.parametrize(
    "words",
    [
        ["audit", "--limit", "99999999999999999999999"],
        ["cancel", "99999999999999999999"],
        ["book", "bts", "9999-12-31", "23:59", "1d"],
        ["extend", "1", "999999999999d"],
        ["upgrade", "b" * 3000, "--yes"],
        ["book", "bts", "now", "1h", "a\x00b"],
        ["book", "bts", "now", "1h", "OSW-" + "1" * 60],
        ["upgrade", "bts", "--ticket", "OSW-" + "1" * 60, "--yes"],
    ],
    ids=["limit", "cancel", "year-9999", "extend", "long-environment", "nul", "long-ticket", "long-ticket-option"],
)
def test_the_terminal_answers_values_too_big_with_usage_and_exit_2(consdb_bot, pg_config, words):
    result = consdb_bot(*words, "--config", str(pg_config))
    assert result.code == 2, result.text
    assert "usage: consdb-bot" in result.err
    assert "For example: consdb-bot" in result.err
    assert len(result.err) < 1500, "the error repeats a bounded part of what was typed"
