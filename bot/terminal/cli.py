"""The operator's terminal: ``consdb-bot COMMAND ...`` (also ``python -m bot``).

Exit status: 0 done, 1 the operation failed or was refused, 2 the command line (or the
configuration) is wrong.
"""

from __future__ import annotations

import functools
import getpass
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from bot import grammar
from bot.clients.jira import JiraDesk
from bot.config import Environment, Settings, config_path, load_settings, require
from bot.engine.service import Engine, Progress
from bot.errors import ConsdbBotError, Refused
from bot.render.jira_comments import terminal_comment
from bot.render.results import change_text, prepare_text, restart_text
from bot.render.text import (
    audit_text,
    booking_text,
    bookings_text,
    drift_text,
    error_text,
    excerpt_text,
    generated_text,
    history_text,
    plan_text,
    status_text,
    ticket_text,
    to_json,
)
from bot.services.changes import FORCED, Proposal, check_prepare, check_proposal, check_restart, forced_detail
from bot.services.ticket_overview import ticket_overview
from bot.services.tickets import TicketService
from bot.store import Store, now


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(sys.argv[1:] if argv is None else list(argv), out=sys.stdout, err=sys.stderr))


def run(argv: list[str], *, out: TextIO, err: TextIO) -> int:
    try:
        invocation = grammar.parse(argv)
    except grammar.HelpRequested as shown:
        out.write(shown.text)
        return 0
    except ConsdbBotError as error:
        err.write(error_text(error) + "\n")
        return error.exit_code
    try:
        if isinstance(invocation.command, grammar.Sandbox):  # it writes a configuration of its own
            from bot.sandbox.run import run_sandbox  # noqa: PLC0415 - the stand-ins load only for the sandbox

            run_sandbox(port=invocation.command.port, folder=Path(invocation.command.folder).resolve(), out=out)
            return 0
        settings = load_settings(config_path(invocation.config))
        return _Terminal(settings, invocation, out, err).dispatch()
    except ConsdbBotError as error:
        err.write(error_text(error) + "\n")
        return error.exit_code


class _Terminal:
    def __init__(self, settings: Settings, invocation: grammar.Invocation, out: TextIO, err: TextIO) -> None:
        self.settings = settings
        self.engine = Engine(settings)
        self.invocation = invocation
        self.out = out
        self.err = err

    @property
    def actor(self) -> str:
        return f"{getpass.getuser()}@{socket.gethostname()} (terminal)"

    def answer(self, result: Any, render: Callable[[], str]) -> None:
        text = to_json(result) if self.invocation.json else render()
        self.out.write(text + "\n")

    def progress(self, event: Progress) -> None:
        self.say(f"{event.schema}: {event.text}")

    def dispatch(self) -> int:
        command = self.invocation.command
        match command:
            case grammar.Status():
                environments, schemas = self.settings.environments_and_schemas(list(command.names))
                statuses = self.engine.status(environments, schemas)
                self.answer(statuses, lambda: status_text(statuses, verbose=command.verbose))
            case grammar.History():
                schema = self.settings.schema_named(command.schema)
                entries = self.engine.history(schema)
                self.answer(entries, lambda: history_text(schema, entries, verbose=command.verbose))
            case grammar.Plan():
                env = self.settings.environment(command.environment)
                schemas = self.engine.schemas_at(env, command.schemas)
                plans = self.engine.plan(env, schemas, to=command.to, options=command.options)
                self.answer(plans, lambda: plan_text(plans, show_sql=command.sql))
            case grammar.Drift():
                env = self.settings.environment(command.environment)
                drifts = self.engine.drift(env, self.engine.schemas_at(env, command.schemas))
                self.answer(drifts, lambda: drift_text(drifts))
                return 1 if any(drift.differences or drift.detail for drift in drifts) else 0
            case grammar.Audit():
                env = self.settings.environment(command.environment).key if command.environment else None
                records = self.store.audit_trail(environment=env, limit=command.limit)
                self.answer(records, lambda: audit_text(records))
            case grammar.Logs():
                from bot.clients.kube import hinfo_excerpt  # noqa: PLC0415 - the client loads only when used

                env = self.settings.environment(command.environment)
                excerpt = hinfo_excerpt(
                    env,
                    self.settings.kubernetes,
                    command.instrument,
                    since_seconds=command.since_seconds,
                    lines=command.lines,
                    grep=command.grep,
                )
                self.answer(excerpt, lambda: excerpt_text(excerpt))
            case grammar.Restart():
                return self._restart(command)
            case grammar.Upgrade() | grammar.Downgrade() | grammar.Stamp() | grammar.Prepare():
                return self._prepare(command) if isinstance(command, grammar.Prepare) else self._change(command)
            case grammar.Book() | grammar.Bookings() | grammar.Cancel() | grammar.Extend():
                self._bookings(command)
            case grammar.Generate():
                results = self.engine.generate(
                    command.message, self.settings.select_schemas(list(command.schemas)),
                    sdm_schemas=command.sdm_schemas, renames=command.renames, drop_and_add=command.drop_and_add,
                )  # fmt: skip
                self.answer(results, lambda: generated_text(results))
            case grammar.Ticket():
                overview = ticket_overview(self.settings, self.store, self.tickets, command.key)
                self.answer(overview, lambda: ticket_text(overview))
            case grammar.Serve():
                from bot.logs import configure  # noqa: PLC0415
                from bot.slack.app import serve  # noqa: PLC0415 - Slack's libraries load only for the bot itself
                from bot.slack.context import Context, SlackSettings  # noqa: PLC0415

                slack = SlackSettings.from_environment(os.environ, socket_mode=command.socket_mode)
                configure(os.environ)
                serve(Context(self.settings, slack), port=command.port, socket_mode=command.socket_mode,
                      stop_seconds=command.stop_seconds)  # fmt: skip
        return 0

    @functools.cached_property
    def store(self) -> Store:
        store = Store(
            require(self.settings.state_url, purpose="the bot's state"), clock=now,
            connect_timeout=self.settings.state_connect_timeout_seconds,
        )  # fmt: skip
        store.upgrade()
        return store

    @functools.cached_property
    def tickets(self) -> TicketService:
        """Jira as this shell reaches it (JIRA_TOKEN); without a token, comments wait for the bot."""
        return TicketService(
            self.settings, self.store, JiraDesk.from_environment(self.settings.jira, os.environ), clock=now
        )

    def _check_ticket(self, tickets: TicketService, key: str | None) -> None:
        """Refuse an unknown ticket, as Slack does; say so when Jira could not tell."""
        checked = tickets.check(key)
        if checked is not None and checked.unchecked:
            self.err.write(f"note: {checked.key} was not checked in Jira: {checked.unchecked}\n")

    def _finished(
        self, store: Store, *, kind: str, env: Environment, ok: bool, reached: dict[str, list[str]], ticket: str | None,
        summary: str, detail: str, forced: bool = False,
    ) -> None:  # fmt: skip
        """Audit a change made here, and comment on its ticket."""
        state = "succeeded" if ok else "failed"
        record = store.audit(
            actor=self.actor, action=state, environment=env.key, summary=summary,
            detail={"kind": kind, "reached": reached, "ticket": ticket} | forced_detail(forced), ticket=ticket,
        )  # fmt: skip
        if ticket:
            body = terminal_comment(
                kind=kind, environment=env.key, ok=ok, reached=reached, actor=self.actor, detail="" if ok else detail
            )
            self.err.write(f"Jira: {self.tickets.owe(ticket, f'audit-{record}', body)}\n")

    def _restart(self, command: grammar.Restart) -> int:
        from bot.clients.kube import Cluster, pqserver_deployment  # noqa: PLC0415 - the client loads only when used

        store = self.store
        env = check_restart(self.settings, store, command.environment, command.ticket)
        self._check_ticket(self.tickets, command.ticket)
        self._note_booking(env, store)
        deployment = pqserver_deployment(env)
        if not command.yes:
            raise Refused(
                f"nothing was restarted: this would roll deployment {deployment} at {env.key}",
                hint="Add --yes to restart it.",
            )
        result = Cluster(env, self.settings.kubernetes).restart(deployment, on_progress=self.say)
        self.answer(result, lambda: restart_text(result))
        self._finished(
            store, kind="restart", env=env, ok=result.ok, reached={}, ticket=command.ticket,
            summary=f"pqserver restart from the terminal: {result.message}", detail=restart_text(result),
        )  # fmt: skip
        return 0 if result.ok else 1

    def _prepare(self, command: grammar.Prepare) -> int:
        store = self.store
        env, schemas, missing = check_prepare(
            self.settings, self.engine, store, command.environment, command.schemas, command.ticket
        )
        self._check_ticket(self.tickets, command.ticket)
        self._note_booking(env, store)
        if not command.yes:
            raise Refused(
                f"nothing was created: this would create {missing.text()} at {env.key}", hint="Add --yes to create it."
            )
        result = self.engine.prepare(env, schemas)
        self.answer(result, lambda: prepare_text(result))
        self._finished(
            store, kind="prepare", env=env, ok=True, reached={}, ticket=command.ticket,
            summary=f"prepare from the terminal: {prepare_text(result)}", detail="",
        )  # fmt: skip
        return 0

    def _bookings(self, command: grammar.Book | grammar.Bookings | grammar.Cancel | grammar.Extend) -> None:
        """Bookings from the terminal: the operator may change anyone's; the running bot announces them."""
        from bot.services.bookings import BookingService  # noqa: PLC0415 - APScheduler loads only when used
        from bot.services.scheduler import Scheduler  # noqa: PLC0415

        scheduler = Scheduler(self.store, poll_seconds=self.settings.scheduler.poll_seconds)
        scheduler.open()
        service = BookingService(self.settings, scheduler.store, scheduler, tickets=self.tickets, clock=now)
        try:
            match command:
                case grammar.Bookings():
                    views = service.coming(command.environment)
                    self.answer(views, lambda: bookings_text(views, at=now()))
                    return
                case grammar.Book():
                    view = service.book(command.environment, command.when, command.seconds, self.actor,
                                        ticket=command.ticket, note=command.note)  # fmt: skip
                    done = "booked (the bot announces it in Slack)"
                case grammar.Cancel():
                    view, done = service.cancel(command.booking, self.actor, operator=True), "cancelled"
                case grammar.Extend():
                    view = service.extend(command.booking, command.seconds, self.actor, operator=True)
                    done = "extended"
            self.answer(view, lambda: booking_text(view, done=done))
        finally:
            scheduler.close()

    def _note_booking(self, env: Environment, store: Store) -> None:
        """What Slack would flag in the request (a test stand someone else holds, or nobody), as a note."""
        from bot.services.bookings import BookingService  # noqa: PLC0415 - APScheduler loads only when used
        from bot.services.scheduler import Scheduler  # noqa: PLC0415

        bookings = BookingService(self.settings, store, Scheduler(store, poll_seconds=1), clock=now)
        flag = bookings.standing(env, self.actor)
        if flag:
            self.err.write(f"note: {flag}\n")

    def say(self, line: str) -> None:
        if not self.invocation.json:
            self.out.write(f"  {line}\n")
            self.out.flush()

    def _change(self, command: grammar.Upgrade | grammar.Downgrade | grammar.Stamp) -> int:
        proposal = Proposal.from_command(command, self.actor)
        store = self.store
        env, checked = check_proposal(self.settings, self.engine, store, proposal, with_sql=False)
        self._check_ticket(self.tickets, proposal.ticket)
        self._note_booking(env, store)
        schemas = [plan.schema for plan in checked]
        if not schemas:
            self.out.write(f"nothing to do at {env.key}: every schema asked for is already there\n")
            return 0
        if not command.yes:
            plans = self.engine.plan(
                env, schemas, to=proposal.target, direction=proposal.kind, options=proposal.options
            )
            self.answer(plans, lambda: plan_text(plans))
            raise Refused(
                "nothing was changed: changes from the terminal need --yes", hint="Read the plan above, then add --yes."
            )
        if proposal.force:
            self.err.write(f"note: {FORCED}: the live schema is not checked against the model\n")
        result = self.engine.change(
            env, schemas, direction=proposal.kind, to=proposal.target, options=proposal.options, actor=self.actor,
            wait=command.wait, on_progress=self.progress, force=proposal.force,
        )  # fmt: skip
        self.answer(result, lambda: change_text(result))
        reached = {outcome.schema: list(outcome.recorded_after) for outcome in result.outcomes}
        state = "succeeded" if result.ok else "failed"
        forced = f" ({FORCED})" if proposal.force else ""
        self._finished(store, kind=result.direction.value, env=env, ok=result.ok, reached=reached,
                       ticket=proposal.ticket, summary=f"{result.direction.value} from the terminal {state}{forced}",
                       detail=change_text(result), forced=proposal.force)  # fmt: skip
        return 0 if result.ok else 1
