"""The buttons of a booking's announcement (Cancel, Extend 1h): Slack's ``block_actions``.

Acknowledged at once (Slack waits 3 s), then run as the command each stands for (``cancel BOOKING``,
``extend BOOKING 1h``) typed by the one who clicked: the same rules (the booker or an approver of the
test stand), the same private answer, the same announcement in the channels, the same audit. The
announcement clicked on is then redrawn with what became of the booking, and loses its buttons once
the booking is cancelled or over. A click Slack delivers twice (same person, button, message and
``action_ts``) is done once, in this process and in any other sharing the state database.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import grammar
from bot.application import Result
from bot.application.results import BookingChange, BookingChanged
from bot.logs import new_trace, traced
from bot.metrics import API_ERRORS
from bot.render import blocks
from bot.slack.context import Context
from handlers.commands import Asker, CommandHandlers

log = logging.getLogger(__name__)
ACTIONS = (blocks.CANCEL_ACTION, blocks.EXTEND_ACTION)


@dataclass(frozen=True)
class Click:
    """One click on a booking's button, as Slack tells of it."""

    action: str
    booking: int
    asker: Asker
    message_ts: str
    message: dict[str, Any]
    """The announcement as the one who clicked saw it (its ``text`` and ``blocks``)."""
    key: str
    """The same for every delivery of this click, and for no other."""

    @property
    def command(self) -> grammar.Command:
        if self.action == blocks.CANCEL_ACTION:
            return grammar.Cancel(self.booking)
        return grammar.Extend(self.booking, blocks.EXTEND_SECONDS)


class ButtonHandlers:
    def __init__(self, context: Context, commands: CommandHandlers) -> None:
        self.context = context
        self.commands = commands

    def clicked(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient, request: BoltRequest
    ) -> None:
        ack()
        signature = request.headers.get("x-slack-signature", [""])[0]
        click = parse_click(body, action, signature=signature)
        if click is None:
            log.warning("a click on %r that names no booking was ignored", action.get("action_id"))
            return
        if not self.context.replays.first_here(click.key):
            _ignore_again(click)
            return
        with traced(new_trace()):
            self.context.submit(self.work, click, client)

    def work(self, click: Click, client: WebClient) -> None:
        """Do what the button stands for, then redraw the announcement clicked on."""
        if not self.context.replays.first_anywhere(click.key):
            _ignore_again(click)
            return
        log.info("%s on booking #%s by %s in %s", click.action, click.booking, click.asker.user, click.asker.channel)
        result = self.commands.answer(click.command, click.asker, client)
        self._redraw(click, result, client)

    def _redraw(self, click: Click, result: Result | None, client: WebClient) -> None:
        """The announcement, with what became of the booking: after a change made, or when it is over
        (a click on an old announcement); a refusal of a booking that stands leaves it as it was."""
        bookings = self.context.services.bookings
        view = bookings.find(click.booking)
        over = view is not None and bookings.over(view)
        if view is None or (result is None and not over):
            return
        extended = isinstance(result, BookingChanged) and result.change is BookingChange.EXTENDED
        note = blocks.booking_note(
            view, extended_by=click.asker.user if extended else None, seconds=blocks.EXTEND_SECONDS
        )
        redrawn = blocks.redrawn_announcement(click.message, view, note, standing=not over)
        try:
            client.chat_update(channel=click.asker.channel, ts=click.message_ts, **redrawn)
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            log.warning("could not redraw booking #%s's announcement: %s", click.booking,
                        error.response.get("error", "unknown error"))  # fmt: skip


def parse_click(body: dict[str, Any], action: dict[str, Any], *, signature: str) -> Click | None:
    """The click in a ``block_actions`` payload; None when it names no booking or no message."""
    value, container = str(action.get("value", "")), body.get("container") or {}
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = container.get("message_ts")
    if not (value.isascii() and value.isdigit() and user and channel and message_ts):
        return None
    # Slack stamps each click (action_ts); the request's signature stands in where it does not.
    seen = "|".join([str(user), str(channel), str(message_ts), str(action.get("action_id")), value,
                     str(action.get("action_ts") or signature)])  # fmt: skip
    return Click(
        action=str(action.get("action_id")), booking=int(value),
        asker=Asker(user=str(user), channel=str(channel), response_url=str(body.get("response_url", ""))),
        message_ts=str(message_ts), message=body.get("message") or {},
        key=hashlib.sha256(seen.encode()).hexdigest(),
    )  # fmt: skip


def _ignore_again(click: Click) -> None:
    log.warning("%s on booking #%s by %s was delivered again; done once", click.action, click.booking, click.asker.user)
