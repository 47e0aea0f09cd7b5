"""The bot's words: counts that agree with their number, a legend that ends where it ends, one way of
saying an environment is not configured, and people named rather than shown as Slack ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Slack
from bot.engine.drift import SchemaDrift
from bot.engine.status import SchemaStatus, State
from bot.render import blocks
from bot.render.text import audit_text, board_lines, drift_text, status_text
from bot.services.board import Board, NextCommand, Step, StepState, Ticker
from bot.services.bookings import Announcement, BookingEvent, BookingView
from bot.services.changes import RequestView
from bot.services.tickets import TicketCheck
from bot.store.models import AuditRecord, RequestState
from bot.words import plural
from tests.conftest import EXAMPLE_CONFIG

AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
GRACE = "U0GRACE001"
PEOPLE = {GRACE: "Grace Hopper"}


@pytest.mark.parametrize(
    ("count", "word", "said"),
    [
        (1, "table", "1 table"),
        (2, "table", "2 tables"),
        (0, "approval", "0 approvals"),
        (1, "more approval", "1 more approval"),
        (2, "more approval", "2 more approvals"),
        (1, "error or warning line", "1 error or warning line"),
        (2, "error or warning line", "2 error or warning lines"),
        (2, "try", "2 tries"),
        (2, "index", "2 indexes"),
        (1.0, "minute", "1 minute"),
        (15.0, "minute", "15 minutes"),
        (2.5, "minute", "2.5 minutes"),
    ],
)
def test_a_count_and_its_word_agree(count, word, said):
    assert plural(count, word) == said


def test_messages_count_one_and_two_with_real_plurals():
    one = SchemaDrift("bts", "latiss", ("05689cf3f8f0",), differences=["exposure.a: missing"])
    two = SchemaDrift("bts", "lsstcam", ("05689cf3f8f0",), differences=["exposure.a: missing", "exposure.b: missing"])
    assert [line for line in drift_text([one, two]).splitlines() if line.startswith("bts/")] == [
        "bts/latiss: 1 difference from 05689cf3f8f0",
        "bts/lsstcam: 2 differences from 05689cf3f8f0",
    ]
    request = RequestView(
        id=1, kind="upgrade", environment="summit", environment_title="summit", requester=GRACE,
        state=RequestState.REQUESTED, ticket=None, ranges={"latiss": "a → b"}, warnings=[], required=2,
        approvers=[], rejecters=[], expires_at=AT,
    )  # fmt: skip
    needs = json.dumps(blocks.request_message(request, Slack())["blocks"])
    assert "Needs 2 more approvals of 2" in needs
    approved_once = RequestView(**{**request.__dict__, "approvers": ["U0ADA00001"]})
    assert "Needs 1 more approval of 2" in json.dumps(blocks.request_message(approved_once, Slack())["blocks"])


def legend(statuses: list[SchemaStatus]) -> str:
    shown = blocks.status_blocks(statuses)
    return shown[-1]["elements"][0]["text"]


def test_the_status_legend_ends_with_its_last_word_and_says_not_configured_once():
    head = SchemaStatus("bts", "latiss", State.HEAD, current=("05689cf3f8f0",), behind=0)
    alone = legend([head])
    assert alone == "`head` at head · `-N` revisions behind"
    unset = SchemaStatus(
        "summit", "latiss", State.NOT_CONFIGURED, detail="not configured here (set SUMMIT_DATABASE_URL)"
    )
    noted = legend([head, unset])
    assert noted == "`head` at head · `-N` revisions behind · summit: not configured here (set SUMMIT_DATABASE_URL)"
    assert not noted.rstrip().endswith("·")
    assert status_text([unset]).splitlines()[-1].split(None, 2) == [
        "summit", "(all)", "not configured here (set SUMMIT_DATABASE_URL)"
    ]  # fmt: skip


def test_status_json_has_no_count_behind_where_it_is_not_known(consdb_bot, new_database, monkeypatch):
    monkeypatch.setenv("BTS_DATABASE_URL", new_database())
    for variable in ("TTS", "SUMMIT", "USDF_DEV", "USDF_INT", "USDF_PROD"):
        monkeypatch.delenv(f"{variable}_DATABASE_URL", raising=False)
    result = consdb_bot("status", "--json", "--config", str(EXAMPLE_CONFIG))
    assert result.code == 0, result.text
    rows = {(row["environment"], row["schema"]): row for row in json.loads(result.out)}
    assert rows["summit", "latiss"]["state"] == "not-configured"
    assert rows["summit", "latiss"]["behind"] is None
    assert rows["summit", "latiss"]["summary"] == "not configured here (set SUMMIT_DATABASE_URL)"
    assert rows["bts", "latiss"]["behind"] == 2  # empty: every revision to go
    assert rows["bts", "efd_latiss"]["behind"] is None  # not kept there


def test_audit_and_board_name_people_each_surface_its_own_way():
    record = AuditRecord(
        at=AT, actor=GRACE, action="approved", environment="bts", summary=f"approve given on #2 by {GRACE}"
    )
    slack = audit_text([record], who=lambda user: PEOPLE.get(user, user))
    assert slack.endswith("approved         Grace Hopper: approve given on #2 by Grace Hopper")
    terminal = audit_text([record], who=lambda user: f"{PEOPLE[user]} ({user})" if user in PEOPLE else user)
    assert terminal.endswith(f"Grace Hopper ({GRACE}): approve given on #2 by Grace Hopper ({GRACE})")
    assert audit_text([record]).endswith(f"{GRACE}: approve given on #2 by {GRACE}"), "no one to name them: ids"

    step = Step("de-approval", "sdm_schemas PR approved by DE", Ticker.PERSON, StepState.DONE, who=GRACE, at=AT)
    board = Board(
        TicketCheck("OSW-1", unchecked="no Jira here"), [], "UTC", [step], blockers=[f"bts is booked by {GRACE}"],
        next=NextCommand("migrate bts --ticket OSW-1", change=True),
    )  # fmt: skip
    lines = board_lines(board, who=lambda user: f"{PEOPLE[user]} ({user})")
    assert lines[1].endswith(f"sdm_schemas PR approved by DE: Grace Hopper ({GRACE}), Tue 2026-12-01 14:00 +00")
    assert f"Blocked: bts is booked by Grace Hopper ({GRACE})" in lines


def test_a_booking_reminder_counts_its_minutes():
    view = BookingView(
        id=3, environment="bts", environment_title="bts", timezone="UTC", booker=GRACE, starts_at=AT,
        ends_at=AT + timedelta(hours=1), ticket=None, note="",
    )  # fmt: skip
    for minutes, said in ((1.0, "starts in 1 minute,"), (15.0, "starts in 15 minutes,")):
        news = Announcement(BookingEvent.REMINDER, view, ["C0BTS00001"], AT, reminder_minutes=minutes)
        assert said in blocks.booking_announcement(news)["text"]
