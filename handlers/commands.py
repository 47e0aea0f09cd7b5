"""``/consdb ...``: acknowledged at once (usage errors and help right in the acknowledgement), the
work handed to the bot's own pool and answered in the channel (refusals to the one who typed).

Slow work stays off Bolt's listener threads, so that acknowledgements never queue behind it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import grammar
from bot.errors import ConsdbBotError, UsageError
from bot.logs import new_trace, traced
from bot.metrics import API_ERRORS, COMMANDS
from bot.render import blocks
from bot.render.text import (
    audit_text,
    booking_text,
    drift_text,
    excerpt_text,
    generated_text,
    history_text,
    plan_text,
    status_text,
    ticket_text,
)
from bot.services.bookings import BookingView
from bot.services.changes import Proposal, RequestView
from bot.services.ticket_overview import ticket_overview
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
        channel, user = command["channel_id"], command["user_id"]
        try:
            self._answer(invocation.command, channel=channel, user=user, client=client)
        except ConsdbBotError as error:
            _tell(client, command, blocks.error_message(error))
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            reason = error.response.get("error", "unknown_error")
            hint = (
                " Invite me first: `/invite @consdb-bot`." if reason in ("not_in_channel", "channel_not_found") else ""
            )
            _tell(client, command, blocks.said(f":warning: I could not answer here ({reason}).{hint}"))
        except Exception as error:
            log.exception("answering %r failed", command.get("text"))
            _tell(client, command, blocks.said(f":warning: I failed while answering ({type(error).__name__}); "
                                                   "the operators will find why in my log."))  # fmt: skip

    def _answer(self, command: grammar.Command, *, channel: str, user: str, client: WebClient) -> None:
        settings, engine = self.context.settings, self.context.engine
        match command:
            case grammar.Status():
                environments, schemas = settings.environments_and_schemas(list(command.names))
                statuses = engine.status(environments, schemas)
                table = status_text(statuses, verbose=True) if command.verbose else blocks.status_matrix(statuses)
                if command.verbose or blocks.too_long(table):
                    self._post_text(client, channel, "ConsDB status", table)
                else:
                    payload = blocks.message("ConsDB status", blocks.status_blocks(statuses))
                    client.chat_postMessage(channel=channel, **payload)
            case grammar.History():
                schema = settings.schema_named(command.schema)
                history = history_text(schema, engine.history(schema), verbose=command.verbose)
                self._post_text(client, channel, f"History of {schema}", history)
            case grammar.Plan():
                env = settings.environment(command.environment)
                plans = engine.plan(
                    env, engine.schemas_at(env, command.schemas), to=command.to, options=command.options
                )
                self._post_text(client, channel, f"Plan for {env.key}", plan_text(plans, show_sql=command.sql))
            case grammar.Drift():
                env = settings.environment(command.environment)
                drifts = engine.drift(env, engine.schemas_at(env, command.schemas))
                self._post_text(client, channel, f"Drift at {env.key}", drift_text(drifts))
            case grammar.Audit():
                env = settings.environment(command.environment).key if command.environment else None
                records = self.context.store.audit_trail(environment=env, limit=command.limit)
                self._post_text(client, channel, "Audit trail", audit_text(records))
            case grammar.Logs():
                env = settings.environment(command.environment)
                excerpt = self.context.logs(
                    env, command.instrument, since_seconds=command.since_seconds, lines=command.lines,
                    grep=command.grep,
                )  # fmt: skip
                self._post_text(client, channel, f"hinfo {command.instrument} at {env.key}", excerpt_text(excerpt))
            case grammar.Restart() | grammar.Prepare() | grammar.Upgrade() | grammar.Downgrade() | grammar.Stamp():
                self._confirm(client, channel, user, self._propose(command, user))
            case grammar.Generate():
                self._generate(command, channel=channel, client=client)
            case grammar.Ticket():
                overview = ticket_overview(settings, self.context.store, self.context.tickets, command.key)
                self._post_text(client, channel, f"Ticket {command.key}", ticket_text(overview))
            case grammar.Bookings() | grammar.Book() | grammar.Cancel() | grammar.Extend():
                self._bookings(command, channel=channel, user=user, client=client)

    def _bookings(
        self, command: grammar.Bookings | grammar.Book | grammar.Cancel | grammar.Extend, *, channel: str, user: str,
        client: WebClient,
    ) -> None:  # fmt: skip
        settings = self.context.settings
        match command:
            case grammar.Bookings():
                views = self.context.bookings.coming(command.environment)
                where = f"at {settings.environment(command.environment).key}" if command.environment else "anywhere"
                client.chat_postMessage(channel=channel, **blocks.bookings_message(views, where=where))
            case grammar.Book():
                booked = self.context.bookings.book(
                    command.environment, command.when, command.seconds, user, ticket=command.ticket, note=command.note
                )
                self._done(client, channel, user, booked, "booked; the channels hear of it now, before it starts,"
                           " at its start and at its end")  # fmt: skip
            case grammar.Cancel():
                self._done(client, channel, user, self.context.bookings.cancel(command.booking, user), "cancelled")
            case grammar.Extend():
                extended = self.context.bookings.extend(command.booking, command.seconds, user)
                self._done(client, channel, user, extended, "extended")

    def _propose(
        self,
        command: grammar.Restart | grammar.Prepare | grammar.Upgrade | grammar.Downgrade | grammar.Stamp,
        user: str,
    ) -> RequestView:
        if isinstance(command, grammar.Restart):
            return self.context.changes.propose_restart(command.environment, user, command.ticket)
        if isinstance(command, grammar.Prepare):
            return self.context.changes.propose_prepare(command.environment, command.schemas, user, command.ticket)
        return self.context.changes.propose(Proposal.from_command(command, user))

    def _generate(self, command: grammar.Generate, *, channel: str, client: WebClient) -> None:
        """The new revisions as files in the thread of a summary; the bot's own tree stays as it is."""
        settings = self.context.settings
        results = self.context.engine.generate(
            command.message, settings.select_schemas(list(command.schemas)), sdm_schemas=command.sdm_schemas,
            renames=command.renames, drop_and_add=command.drop_and_add, in_copy=True,
        )  # fmt: skip
        title = f"Generated migrations: {command.message}"
        summary = generated_text(results)
        payload = blocks.message(blocks.escape(title), blocks.preformatted(summary))
        posted = client.chat_postMessage(channel=channel, **payload)
        for result in results:
            if result.path is not None:
                client.files_upload_v2(
                    channel=channel, thread_ts=posted["ts"], content=result.text, filename=result.path.name,
                    title=f"{result.schema}: {result.path}",
                )  # fmt: skip

    def _done(self, client: WebClient, channel: str, user: str, view: BookingView, done: str) -> None:
        """What happened to a booking, for the one who typed (the channels hear it from the scheduler)."""
        text = blocks.shown(booking_text(view, done=done))
        client.chat_postEphemeral(channel=channel, user=user, text=f":white_check_mark: {text}")

    def _confirm(self, client: WebClient, channel: str, user: str, view: RequestView) -> None:
        """Where the request is, when it is not where the command was typed."""
        if view.channel != channel:
            client.chat_postEphemeral(
                channel=channel, user=user, text=f"Request #{view.id} is posted in <#{view.channel}>."
            )

    def _post_text(self, client: WebClient, channel: str, title: str, text: str) -> None:
        """A text answer in the channel; as a file when it is too long for a message."""
        if blocks.too_long(text):
            client.files_upload_v2(
                channel=channel, content=text, filename=f"{title.lower().replace(' ', '-')}.txt", title=title
            )
        else:
            client.chat_postMessage(channel=channel, **blocks.text_message(title, text))


def _ignore_replay(command: dict[str, Any]) -> None:
    log.warning("a replayed %s %r from %s was ignored", PROG, command.get("text"), command.get("user_id"))


def _tell(client: WebClient, command: dict[str, Any], payload: dict[str, Any]) -> None:
    """Say something to the one who typed: privately in the channel, or through the command's response URL
    when the bot cannot post there."""
    try:
        client.chat_postEphemeral(channel=command["channel_id"], user=command["user_id"], **payload)
    except SlackApiError:
        API_ERRORS.labels("slack").inc()
        WebhookClient(command["response_url"]).send(response_type="ephemeral", **payload)


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
