"""The one dispatch: every command, from Slack or the terminal, is routed here to its service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from bot import grammar
from bot.application.results import (
    Actor,
    ApprovalNeeded,
    AuditTrail,
    BoardReport,
    BookingChange,
    BookingChanged,
    BookingList,
    ChangeDone,
    DataReport,
    DriftReport,
    Generated,
    HistoryReport,
    LogsReport,
    NothingToDo,
    PlanReport,
    ReplicaTablesReport,
    RequestOpened,
    Result,
    StatusReport,
    StepTicked,
    TapReport,
    TicketReport,
)
from bot.config import Environment, Settings
from bot.engine.rollout import summit_of
from bot.engine.service import Direction, Engine
from bot.errors import Refused, UsageError
from bot.services.board import BoardService
from bot.services.bookings import BookingService
from bot.services.changes import (
    ALL,
    ALLOWED_REWRITE,
    FORCED,
    ChangeService,
    Proposal,
    RequestView,
    change_label,
    check_prepare,
    check_proposal,
    check_restart,
    check_restart_all,
    check_rollout,
)
from bot.services.changes.data import check_data
from bot.services.replicas import replica_environments, replica_statuses, replica_tables
from bot.services.tap import check_tap
from bot.services.ticket_overview import ticket_overview
from bot.services.tickets import TicketService
from bot.store import Store

Change = grammar.Upgrade | grammar.Downgrade | grammar.Stamp | grammar.Restart | grammar.Prepare | grammar.Rollout


class Services(Protocol):
    """The services a surface's wiring provides (each built when first asked for)."""

    @property
    def store(self) -> Store: ...

    @property
    def tickets(self) -> TicketService: ...

    @property
    def bookings(self) -> BookingService: ...

    @property
    def changes(self) -> ChangeService: ...

    @property
    def boards(self) -> BoardService: ...


class Application:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        services: Services,
        *,
        clock: Callable[[], datetime],
        wait_behind: Callable[[RequestView], object] | None,
    ) -> None:
        """``wait_behind`` waits a while behind an open request, saying so (the terminal's ``--wait``);
        None where changes do not wait (Slack)."""
        self.settings = settings
        self.engine = engine
        self.services = services
        self.clock = clock
        self.wait_behind = wait_behind

    def run(self, command: grammar.Command, actor: Actor) -> Result:  # noqa: PLR0911, PLR0912 - one case each
        """Do what ``command`` asks for ``actor``, and say what came of it. Refusals are raised as the
        bot's errors (:class:`bot.errors.ConsdbBotError`), each with what to do instead."""
        settings, engine = self.settings, self.engine
        match command:
            case grammar.Status():
                environments, schemas = settings.environments_and_schemas(list(command.names))
                statuses = engine.status(environments, schemas)
                # The bot's state (when it disabled a subscription) is opened only when a replica is shown.
                shown = replica_environments(environments)
                services = self.services
                replicas = replica_statuses(settings, engine, services.store, statuses, shown, schemas) if shown else []
                return StatusReport(statuses, verbose=command.verbose, replicas=replicas)
            case grammar.History():
                schema = settings.schema_named(command.schema)
                return HistoryReport(schema, engine.history(schema), verbose=command.verbose)
            case grammar.Plan():
                env = settings.environment(command.environment)
                schemas = engine.schemas_at(env, command.schemas)
                plans = engine.plan(env, schemas, to=command.to, options=command.options)
                return PlanReport(env.key, plans, show_sql=command.sql)
            case grammar.Drift():
                env = settings.environment(command.environment)
                return DriftReport(env.key, engine.drift(env, engine.schemas_at(env, command.schemas)))
            case grammar.ReplicaTables():
                return ReplicaTablesReport(replica_tables(settings, engine, command.environment))
            case grammar.Audit():
                key = settings.environment(command.environment).key if command.environment else None
                return AuditTrail(key, self.services.store.audit_trail(environment=key, limit=command.limit))
            case grammar.Logs():
                from bot.clients.kube import hinfo_excerpt  # noqa: PLC0415 - the Kubernetes client loads when used

                env = settings.environment(command.environment)
                excerpt = hinfo_excerpt(
                    env, settings.kubernetes, command.instrument, since_seconds=command.since_seconds,
                    lines=command.lines, grep=command.grep,
                )  # fmt: skip
                return LogsReport(env.key, command.instrument, excerpt)
            case (
                grammar.Upgrade() | grammar.Downgrade() | grammar.Stamp() | grammar.Restart() | grammar.Prepare()
                | grammar.Rollout()
            ):  # fmt: skip
                return self._change(command, actor)
            case grammar.Bookings():
                key = settings.environment(command.environment).key if command.environment else None
                return BookingList(key, self.services.bookings.coming(command.environment), at=self.clock())
            case grammar.Book():
                view = self.services.bookings.book(
                    command.environment, command.when, command.seconds, actor.name, ticket=command.ticket,
                    note=command.note,
                )  # fmt: skip
                return BookingChanged(view, BookingChange.BOOKED)
            case grammar.Cancel():
                view = self.services.bookings.cancel(command.booking, actor.name, operator=actor.at_terminal)
                return BookingChanged(view, BookingChange.CANCELLED)
            case grammar.Extend():
                view = self.services.bookings.extend(
                    command.booking, command.seconds, actor.name, operator=actor.at_terminal
                )
                return BookingChanged(view, BookingChange.EXTENDED)
            case grammar.Generate():
                # The running bot never changes the tree it runs: from Slack, revisions are written to a copy.
                revisions = engine.generate(
                    command.message, settings.select_schemas(list(command.schemas)), sdm_schemas=command.sdm_schemas,
                    renames=command.renames, drop_and_add=command.drop_and_add, in_copy=not actor.at_terminal,
                )  # fmt: skip
                return Generated(command.message, revisions)
            case grammar.Ticket():
                services = self.services
                overview = ticket_overview(settings, services.store, services.tickets, command.key,
                                           boards=services.boards)  # fmt: skip
                return TicketReport(overview)
            case grammar.CheckData():
                checked = check_data(
                    settings, engine, self.services.store, command.environment, command.instrument,
                    since_seconds=command.since_seconds, at=self.clock(),
                )  # fmt: skip
                self.services.boards.checked_data(actor.name, checked)
                return DataReport(checked)
            case grammar.CheckTap():
                env = settings.environment(command.environment)
                report = TapReport(env.key, check_tap(settings, engine, env, command.schemas))
                schemas = [check.schema for check in report.checks]
                self.services.boards.checked_tap(actor.name, env.key, current=report.ok, schemas=schemas)
                return report
            case grammar.Board():
                return BoardReport(self.services.boards.board(command.key))
            case grammar.Done():
                return StepTicked(self.services.boards.tick(command.key, command.step, actor.name))
        raise UsageError(f"{type(command).__name__.lower()} is not answered here", usage="consdb-bot --help")

    def _change(self, command: Change, actor: Actor) -> Result:
        """In Slack, a request for approvers; in the terminal, run at once with ``--yes`` (the operator's
        approval), else what it would do. Both go through the one ChangeService."""
        changes = self.services.changes
        if not actor.at_terminal:
            return RequestOpened(self._propose(command, actor))
        notes = self._notes(command, actor)
        if not command.yes:
            return self._would(command, actor, notes)
        # Without a bot running, nothing else settles what a terminal that died left open.
        changes.expire_due()
        changes.recover_interrupted()
        wait = isinstance(command, grammar.Upgrade | grammar.Downgrade | grammar.Stamp) and command.wait
        if wait:
            self._behind_open_request(self._environment(command))
        if isinstance(command, grammar.Upgrade | grammar.Downgrade | grammar.Stamp):
            env, plans = check_proposal(
                self.settings, self.engine, self.services.store, Proposal.from_command(command, actor.name),
                with_sql=False,
            )  # fmt: skip
            if not plans:
                return NothingToDo(env.key)
        view = self._propose(command, actor, approved_here=True)
        try:
            return ChangeDone(changes.approve_here(view.id, actor.name, wait=wait), notes)
        except KeyboardInterrupt:  # Ctrl-C before the run: the request holds its environment no longer
            changes.settle_here(view.id)
            raise

    def _behind_open_request(self, env: Environment) -> None:
        """``--wait``: until the environment's open request (asked in Slack or another terminal) has ended."""
        if self.wait_behind is None:
            raise UsageError("--wait is for the terminal", usage="consdb-bot upgrade ENV [SCHEMA...] --wait --yes")
        store = self.services.store
        while (other := store.open_request(env.key)) is not None:
            self.wait_behind(self.services.changes.view(other))

    def _propose(self, command: Change, actor: Actor, *, approved_here: bool = False) -> RequestView:
        changes = self.services.changes
        if isinstance(command, grammar.Restart) and _every_environment(command):
            return changes.propose_restart_all(actor.name, command.ticket)
        if isinstance(command, grammar.Restart):
            return changes.propose_restart(command.environment, actor.name, command.ticket)
        if isinstance(command, grammar.Prepare):
            return changes.propose_prepare(command.environment, command.schemas, actor.name, command.ticket)
        if isinstance(command, grammar.Rollout):
            return changes.propose_rollout(self._rollout(command, actor))
        return changes.propose(Proposal.from_command(command, actor.name), approved_here=approved_here)

    def _would(self, command: Change, actor: Actor, notes: list[str]) -> Result:
        """What a terminal change without ``--yes`` would do, checked as it would be; nothing is stored."""
        store = self.services.store
        if isinstance(command, grammar.Restart) and _every_environment(command):
            plan = check_restart_all(self.settings, self.engine, store, command.ticket)
            restarts = ", ".join(f"{env.pqserver} at {env.key}" for env in plan.environments)
            would = f"roll deployment {restarts}, one at a time, after {change_label(plan.change)}"
            skipped = [f"{key}: not restarted, {why}" for key, why in plan.skipped.items()]
            return ApprovalNeeded("restart", plan.home.key, would, notes=[*notes, *skipped])
        if isinstance(command, grammar.Restart):
            from bot.clients.kube import pqserver_deployment  # noqa: PLC0415 - the Kubernetes client loads when used

            env = check_restart(self.settings, store, command.environment, command.ticket)
            would = f"roll deployment {pqserver_deployment(env)} at {env.key}"
            return ApprovalNeeded("restart", env.key, would, notes=notes)
        if isinstance(command, grammar.Prepare):
            env, _, missing = check_prepare(
                self.settings, self.engine, store, command.environment, command.schemas, command.ticket
            )
            return ApprovalNeeded("prepare", env.key, f"create {missing.text()} at {env.key}", notes=notes)
        if isinstance(command, grammar.Rollout):
            rollout = check_rollout(self.settings, self.engine, store, self._rollout(command, actor))
            sides = ", ".join([rollout.summit.key, *rollout.replicas])
            return ApprovalNeeded("rollout", rollout.summit.key, f"roll out at {sides}", rollout.plans, notes)
        proposal = Proposal.from_command(command, actor.name)
        env, checked = check_proposal(self.settings, self.engine, store, proposal, with_sql=False)
        schemas = [plan.schema for plan in checked]
        if not schemas:
            return NothingToDo(env.key)
        plans = self.engine.plan(env, schemas, to=proposal.target, direction=proposal.kind, options=proposal.options)
        return ApprovalNeeded(proposal.kind.value, env.key, f"{proposal.kind.value} {env.key}", plans, notes)

    def _notes(self, command: Change, actor: Actor) -> list[str]:
        """What Slack shows on a request and the terminal says beside: a ticket Jira could not check, a
        test stand someone else holds (or nobody), a stamp not checked against the model."""
        notes = []
        checked = self.services.tickets.check(command.ticket)
        if checked is not None and checked.unchecked:
            notes.append(f"{checked.key} was not checked in Jira: {checked.unchecked}")
        if not (isinstance(command, grammar.Restart) and _every_environment(command)):  # its request says them
            flag = self.services.bookings.standing(self._environment(command), actor.name)
            if flag:
                notes.append(flag)
        if isinstance(command, grammar.Stamp) and command.force:
            notes.append(f"{FORCED}: the live schema is not checked against the model")
        if isinstance(command, grammar.Upgrade | grammar.Downgrade | grammar.Rollout) and command.allow_rewrite:
            notes.append(f"{ALLOWED_REWRITE}: a statement may hold a table's writers back while it rewrites the table")
        return notes

    def _environment(self, command: Change) -> Environment:
        if isinstance(command, grammar.Rollout):
            return self._summit()
        return self.settings.environment(command.environment)

    def _summit(self) -> Environment:
        summit = summit_of(self.settings)
        if summit is None:
            raise Refused(
                "no environment is configured as a logical replica, so there is no Summit to roll out from",
                hint="A replica environment says so: replica: {of: summit, subscription: ..., publication: ...}.",
            )
        return summit

    def _rollout(self, command: grammar.Rollout, actor: Actor) -> Proposal:
        """A rollout is an upgrade at the Summit, asked for with its replicas."""
        return Proposal(Direction.UPGRADE, self._summit().key, list(command.schemas), command.to, actor.name,
                        command.ticket, allow_rewrite=command.allow_rewrite)  # fmt: skip


def _every_environment(command: grammar.Restart) -> bool:
    """``restart pqserver all``: every environment that has the latest change."""
    return command.environment.lower() == ALL
