"""Reactions: an approver's emoji on a request message approves or rejects it; removing it withdraws.

A reaction is counted in the reactions' own lane while Slack waits for the answer (a moment: Slack
allows 3 s). When the bot's state database cannot record it, Slack is answered 503, so that it
delivers the event again (three times, over some minutes), and the one who reacted is told.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import TimeoutError as StillCounting
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import TryAgainLater
from bot.logs import new_trace, traced
from bot.metrics import API_ERRORS
from bot.slack.context import Context

# Slack waits 3 s for an answer; past that it counts the delivery as failed.
ANSWER_WITHIN_SECONDS = 2.0
# Slack delivers an event again up to three times; the third retry is the last.
LAST_RETRY = 3


class ReactionHandlers:
    def __init__(self, context: Context) -> None:
        self.context = context

    def added(
        self, event: dict[str, Any], body: dict[str, Any], request: BoltRequest, client: WebClient
    ) -> BoltResponse | None:
        return self._hand_off(event, body, request, client, added=True)

    def removed(
        self, event: dict[str, Any], body: dict[str, Any], request: BoltRequest, client: WebClient
    ) -> BoltResponse | None:
        return self._hand_off(event, body, request, client, added=False)

    def _hand_off(
        self, event: dict[str, Any], body: dict[str, Any], request: BoltRequest, client: WebClient, *, added: bool
    ) -> BoltResponse | None:
        """Count the reaction, and answer Slack by whether it was recorded (None: 200)."""
        item = event.get("item", {})
        if item.get("type") != "message":
            return None
        stamped = str(event.get("event_ts") or body.get("event_time") or 0)
        with traced(new_trace()):
            counting = self.context.react(
                channel=item["channel"], message_ts=item["ts"], user=event["user"], reaction=event["reaction"],
                added=added, event_id=body["event_id"], event_ts=stamped,
            )  # fmt: skip
        try:
            counting.result(timeout=ANSWER_WITHIN_SECONDS)
        except StillCounting:  # Slack hears 200 and will not deliver it again: if it is lost, say so
            counting.add_done_callback(lambda done: self._tell_if_lost(done, client, event, added=added, last=True))
            return None
        except TryAgainLater as error:
            retry = request.headers.get("x-slack-retry-num", ["0"])[0]
            delivery = int(retry) if retry.isdigit() else 0
            if delivery == 0 or delivery >= LAST_RETRY:  # told on the first delivery and on the last
                self._tell_if_lost(counting, client, event, added=added, last=delivery >= LAST_RETRY)
            return BoltResponse(status=503, body=f"not counted: {error.message}; deliver it again")
        return None

    def _tell_if_lost(
        self, counting: Future[None], client: WebClient, event: dict[str, Any], *, added: bool, last: bool
    ) -> None:
        """Tell the one who reacted, where they reacted, that their reaction was not counted, and what to do."""
        error = counting.exception()
        if not isinstance(error, TryAgainLater):
            return
        what = f"Your :{event['reaction']}:" if added else f"Your removal of :{event['reaction']}:"
        if last:
            text = f":warning: {what} could not be counted: {error.message}. Do it again in a few minutes."
        else:
            text = (f":warning: {what} could not be counted yet: {error.message}. Slack sends it again over the next "
                    "few minutes, and the request shows it once it counts; if it does not, do it again.")  # fmt: skip
        try:
            client.chat_postEphemeral(channel=event["item"]["channel"], user=event["user"], text=text)
        except SlackApiError:
            API_ERRORS.labels("slack").inc()
