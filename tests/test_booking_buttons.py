"""The buttons of a booking's announcement (Cancel, Extend 1h), clicked as Slack sends clicks: signed
``block_actions`` into a running ``consdb-bot serve``; what the bot says back, in the Slack stand-in.
Last, the stand-in refuses malformed buttons as Slack does."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.render.blocks import booking_buttons
from bot.sandbox.standins.kubernetes import FakeKube
from bot.sandbox.standins.slack import Call, FakeSlack, message_refusal
from bot.services.bookings import BookingView
from bot.store import Store, aware
from tests.support.bot_process import BotProcess
from tests.support.clock import START, Clock
from tests.support.slack_bot import APPROVER_1, BTS_CHANNEL, REQUESTER, STRANGER, ephemeral_to

NOON = START
"""Where the bot's clock is set when a test needs time to pass (it is stopped, and started again later)."""


def announcement(slack: FakeSlack, mark: str, booking: int) -> dict[str, Any]:
    """A booking's announcement of one kind, as the channel shows it (its channel, ts, text and blocks)."""
    call: Call = slack.wait_for(
        lambda calls: next(
            (
                c
                for c in calls
                if c.method == "chat.postMessage" and c.text.startswith(mark) and f"#{booking}" in c.text
            ),
            None,
        )
    )
    return {"channel": call.args["channel"], "ts": call.reply["ts"], "text": call.text, "blocks": _blocks(call)}


def redrawn(slack: FakeSlack, message: dict[str, Any], containing: str) -> dict[str, Any]:
    """The message as the bot updated it, once the update says ``containing``."""
    call: Call = slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "chat.update" and c.args["ts"] == message["ts"]
             and containing in json.dumps(_blocks(c))), None,
        )
    )  # fmt: skip
    return {**message, "text": call.text, "blocks": _blocks(call)}


def _blocks(call: Call) -> list[dict[str, Any]]:
    shown = call.args.get("blocks") or []
    return json.loads(shown) if isinstance(shown, str) else shown


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The message's buttons by action_id."""
    return {e["action_id"]: e for block in message["blocks"] if block["type"] == "actions" for e in block["elements"]}


def ends_at(tmp_path: Path, booking: int) -> Any:
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}", clock=Clock())
    found = store.booking(booking)
    assert found is not None
    return aware(found.ends_at)


@pytest.mark.slow
def test_the_booker_cancels_from_the_announcement_which_then_offers_nothing(bot: BotProcess, slack: FakeSlack) -> None:
    bot.command("book bts now 2h", user=REQUESTER)
    booked = announcement(slack, ":calendar:", 1)
    offered = buttons(booked)
    assert offered["booking_extend"]["text"]["text"].endswith("Extend 1h")
    assert offered["booking_cancel"]["text"]["text"].endswith("Cancel")
    assert offered["booking_cancel"]["style"] == "danger"
    assert offered["booking_cancel"]["confirm"]["title"]["text"] == "Cancel booking #1?"
    assert {button["value"] for button in offered.values()} == {"1"}

    bot.click(booked, "booking_extend", user=REQUESTER, action_ts="1.000001")
    extended = announcement(slack, ":heavy_plus_sign:", 1)
    assert set(buttons(extended)) == {"booking_extend", "booking_cancel"}

    assert bot.click(booked, "booking_cancel", user=REQUESTER, action_ts="1.000002").status == 200
    ephemeral_to(slack, REQUESTER, "booking #1 of bts cancelled")  # as `/consdb cancel 1` answers
    after = redrawn(slack, booked, f"Cancelled by <@{REQUESTER}>")
    assert buttons(after) == {}
    assert after["text"] == booked["text"]  # the announcement itself stays as it was
    assert f"was cancelled by <@{REQUESTER}>" in announcement(slack, ":wastebasket:", 1)["text"]
    assert buttons(redrawn(slack, extended, f"Cancelled by <@{REQUESTER}>")) == {}  # every one of its announcements

    bot.command("audit bts", user=REQUESTER)
    audit = slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "chat.postMessage" and c.text == "Audit trail"), None)
    )
    assert re.search(rf"cancelled\s+{REQUESTER}: cancelled booking #1", json.dumps(_blocks(audit)))


@pytest.mark.slow
def test_the_announcements_of_a_booking_that_ended_offer_nothing(
    config: Path, slack: FakeSlack, databases: dict[str, str], kube: FakeKube, tmp_path: Path
) -> None:
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ, clock_at=NOON) as bot:
        bot.command("book bts now 1h", user=REQUESTER)
        booked = announcement(slack, ":calendar:", 1)
    with BotProcess(config, slack.url, environ=environ, clock_at=NOON + timedelta(hours=1, minutes=1)) as bot:
        announcement(slack, ":checkered_flag:", 1)  # the end, posted late as the bot was not running
        assert buttons(redrawn(slack, booked, "Booking #1 has ended")) == {}
        bot.click(booked, "booking_extend", user=REQUESTER, action_ts="5.000001")
        ephemeral_to(slack, REQUESTER, "booking #1 has ended already")


@pytest.mark.slow
def test_an_old_announcement_of_a_cancelled_booking_says_so_and_drops_its_buttons(
    bot: BotProcess, slack: FakeSlack
) -> None:
    bot.command("book bts now 2h", user=REQUESTER)
    booked = announcement(slack, ":calendar:", 1)
    bot.command("cancel 1", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "booking #1 of bts cancelled")

    bot.click(booked, "booking_extend", user=APPROVER_1, action_ts="2.000001")
    ephemeral_to(slack, APPROVER_1, "booking #1 was cancelled already")
    assert buttons(redrawn(slack, booked, f"Cancelled by <@{REQUESTER}>")) == {}


@pytest.mark.slow
def test_an_approver_extends_by_an_hour_once_and_a_stranger_changes_nothing(
    bot: BotProcess, slack: FakeSlack, tmp_path: Path
) -> None:
    bot.command("book bts now 2h", user=REQUESTER)
    booked = announcement(slack, ":calendar:", 1)
    booked_until = ends_at(tmp_path, 1)

    bot.click(booked, "booking_extend", user=STRANGER, action_ts="3.000001")
    ephemeral_to(slack, STRANGER, f"only <@{REQUESTER}>, who booked #1, or an approver of bts can extend it")
    bot.click(booked, "booking_cancel", user=STRANGER, action_ts="3.000002")
    ephemeral_to(slack, STRANGER, f"only <@{REQUESTER}>, who booked #1, or an approver of bts can cancel it")
    assert ends_at(tmp_path, 1) == booked_until
    assert not [call for call in slack.calls("chat.update") if call.args["ts"] == booked["ts"]]

    assert bot.click(booked, "booking_extend", user=APPROVER_1, action_ts="4.000001").status == 200
    ephemeral_to(slack, APPROVER_1, "booking #1 of bts extended")
    after = redrawn(slack, booked, f"Extended by 1h by <@{APPROVER_1}>")
    assert set(buttons(after)) == {"booking_extend", "booking_cancel"}  # it stands: extend again, or cancel
    assert f"extended by 1h by <@{APPROVER_1}>" in announcement(slack, ":heavy_plus_sign:", 1)["text"]
    assert ends_at(tmp_path, 1) == booked_until + timedelta(hours=1)

    printed = bot.printed
    assert bot.click(booked, "booking_extend", user=APPROVER_1, action_ts="4.000001").status == 200  # Slack again
    bot.wait_for_output(lambda line: "was delivered again; done once" in line, after=printed)
    assert ends_at(tmp_path, 1) == booked_until + timedelta(hours=1)
    assert len([c for c in slack.calls("chat.postEphemeral") if "booking #1 of bts extended" in c.text]) == 1


VIEW = BookingView(
    id=7, environment="bts", environment_title="Base Test Stand", timezone="UTC", booker=REQUESTER,
    starts_at=START, ends_at=START + timedelta(hours=2), ticket=None, note="",
)  # fmt: skip


def posted(block: dict[str, Any]) -> dict[str, Any] | None:
    return message_refusal({"channel": BTS_CHANNEL, "text": "x", "blocks": json.dumps([block])})


def test_the_slack_stand_in_takes_the_booking_buttons_and_refuses_what_slack_refuses() -> None:
    block = booking_buttons(VIEW)
    assert posted(block) is None
    extend, cancel = block["elements"]
    assert posted({**block, "elements": [{k: v for k, v in extend.items() if k != "value"}]}) is None  # value optional

    too_long = posted({**block, "elements": [{**extend, "text": {"type": "plain_text", "text": "x" * 76}}]})
    assert too_long == {
        "error": "invalid_blocks",
        "response_metadata": {"messages": ["[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"]},
    }  # fmt: skip
    said = posted({**block, "elements": [{**extend, "action_id": "a" * 256}]})
    assert said is not None
    assert said["response_metadata"]["messages"] == [
        "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"
    ]
    assert posted({**block, "elements": [extend, {**cancel, "action_id": extend["action_id"]}]}) is not None
    assert posted({**block, "elements": [{**cancel, "style": "red"}]}) is not None
    assert posted({**block, "elements": [{**cancel, "confirm": {**cancel["confirm"], "deny": None}}]}) is not None
    assert posted({**block, "elements": []}) is not None
    assert posted({**block, "elements": [{**extend, "text": {"type": "mrkdwn", "text": "*Extend*"}}]}) is not None
