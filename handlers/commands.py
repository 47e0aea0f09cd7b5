"""``/consdb ...``: acknowledged at once (usage errors and help right in the acknowledgement), the
work handed to the bot's own pool and answered in the channel (refusals to the one who typed).

Slow work stays off Bolt's listener threads, so that acknowledgements never queue behind it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import grammar
from bot.application import Actor, Result, Surface
from bot.errors import ConsdbBotError, UsageError
from bot.logs import new_trace, traced
from bot.metrics import API_ERRORS, COMMANDS
from bot.render import blocks
from bot.render.slack import answer as slack_answer
from bot.slack.context import Context

log = logging.getLogger(__name__)
PROG = "/consdb"


class CommandHandlers:
    def __init__(self, context: Context) -> None:
        self.context = context

    def acknowledge(self, ack: Any, command: dict[str, Any], client: WebClient, request: BoltRequest) -> None:
        try:
            invocation = _parse(command.get("text", ""))
        except grammar.HelpRequested as shown:
            ack(response_type="ephemeral", **blocks.help_message(shown.text))
            return
        except UsageError as error:
            ack(response_type="ephemeral", **blocks.error_message(error))
            return
        signature = request.headers.get("x-slack-signature", [""])[0]  # none over Socket Mode
        if signature and not self.context.replays.first_here(signature):
            _ignore_replay(command)
            ack()
            return
        name = type(invocation.command).__name__.lower()
        COMMANDS.labels(name).inc()
        ack(response_type="ephemeral", **blocks.acknowledgement(PROG, command.get("text", "")))
        with traced(new_trace()):
            self.context.submit(self.work, invocation, command, client, signature=signature)

    def work(
        self, invocation: grammar.Invocation, command: dict[str, Any], client: WebClient, *, signature: str
    ) -> None:
        """Answer a command; nothing for a replay that another replica acknowledged first."""
        if signature and not self.context.replays.first_anywhere(signature):
            _ignore_replay(command)
            return
        log.info(
            "%s %s from %s in %s",
            PROG, type(invocation.command).__name__.lower(), command.get("user_id"), command.get("channel_id"),
        )  # fmt: skip
        asker = Asker(user=command["user_id"], channel=command["channel_id"], response_url=command["response_url"])
        self.answer(invocation.command, asker, client)

    def answer(self, command: grammar.Command, asker: Asker, client: WebClient) -> Result | None:
        """Run a command (typed, or a button standing for one) and post its answer; refusals and failures
        go to the one who asked, privately, and give None."""
        try:
            return self._answer(command, asker, client)
        except ConsdbBotError as error:
            tell(client, asker, blocks.error_message(error))
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            reason = error.response.get("error", "unknown_error")
            hint = (
                " Invite me first: `/invite @consdb-bot`." if reason in ("not_in_channel", "channel_not_found") else ""
            )
            tell(client, asker, blocks.said(f":warning: I could not answer here ({reason}).{hint}"))
        except Exception as error:
            log.exception("answering %r failed", command)
            tell(client, asker, blocks.said(f":warning: I failed while answering ({type(error).__name__}); "
                                            "the operators will find why in my log."))  # fmt: skip
        return None

    def _answer(self, command: grammar.Command, asker: Asker, client: WebClient) -> Result:
        """Run the command through the application, and post what its Slack renderer makes of the result."""
        channel, user = asker.channel, asker.user
        result = self.context.application.run(command, Actor(user, Surface.SLACK))
        reply = slack_answer(result, channel=channel, person=self.context.directory.person)
        if reply.private is not None:
            client.chat_postEphemeral(channel=channel, user=user, text=reply.private)
        if reply.upload is not None:
            upload = reply.upload
            client.files_upload_v2(channel=channel, content=upload.content, filename=upload.filename,
                                   title=upload.title)  # fmt: skip
        if reply.message is not None:
            posted = client.chat_postMessage(channel=channel, **reply.message)
            for upload in reply.thread_files:
                client.files_upload_v2(
                    channel=channel, thread_ts=posted["ts"], content=upload.content, filename=upload.filename,
                    title=upload.title,
                )  # fmt: skip
        return result


def _ignore_replay(command: dict[str, Any]) -> None:
    log.warning("a replayed %s %r from %s was ignored", PROG, command.get("text"), command.get("user_id"))


@dataclass(frozen=True)
class Asker:
    """Who asked, in which channel, and the URL that answers them when the bot cannot post there."""

    user: str
    channel: str
    response_url: str


def tell(client: WebClient, asker: Asker, payload: dict[str, Any]) -> None:
    """Say something to the one who asked: privately in the channel, or through the response URL when the
    bot cannot post there."""
    try:
        client.chat_postEphemeral(channel=asker.channel, user=asker.user, **payload)
    except SlackApiError:
        API_ERRORS.labels("slack").inc()
        WebhookClient(asker.response_url).send(response_type="ephemeral", **payload)


def _parse(text: str) -> grammar.Invocation:
    invocation = grammar.parse(grammar.split_words(text), prog=PROG)
    command = invocation.command
    if getattr(command, "yes", False) or getattr(command, "wait", False):
        raise UsageError(
            "--yes and --wait are for the terminal",
            usage=f"{PROG} migrate ENV [SCHEMA...] [--to REV] [--ticket TICKET]",
            hint="In Slack a change is approved by an approver's reaction on the request.",
        )
    return invocation
