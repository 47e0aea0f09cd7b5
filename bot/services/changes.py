"""Change requests: the approval policy and the state machine, from request to outcome.

A request is bound, when asked for, to the environment, the schemas, the from and to revisions
and a digest of the planned SQL; that, and only that, runs once approved. Every move of a request
is a compare-and-set in the store, so a request runs once however often an approving reaction is
delivered. The service tells the world through a :class:`ChangeNotifier`; it knows nothing of Slack.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import IntegrityError

from bot import grammar
from bot.config import Environment, Settings
from bot.engine.prepare import Needs, PrepareResult
from bot.engine.runner import run_name
from bot.engine.service import ChangeResult, Direction, Engine, Progress, SchemaPlan, revision_argument
from bot.engine.status import SchemaStatus, State
from bot.engine.tree import revisions_text, short
from bot.errors import ConsdbBotError, Refused, StateUnavailable, TryAgainLater
from bot.logs import TRACE, traced
from bot.metrics import APPROVALS, CHANGE_SECONDS, CHANGES, REQUESTS
from bot.render.text import result_text
from bot.services.scheduler import Scheduler
from bot.services.tickets import TicketCheck
from bot.store import UNREACHABLE, Store, aware, expired, silent_for
from bot.store.models import ChangeRequest, RequestState

if TYPE_CHECKING:
    from bot.clients.kube import LogExcerpt, RestartResult

    RequestResult = ChangeResult | RestartResult | PrepareResult
    """How a request's run ended, whatever it ran."""

Restarter = Callable[[Environment, str, Callable[[str], None]], "RestartResult"]
"""Restarts a deployment of an environment, telling progress lines as it goes."""

APPROVE = "approve"
REJECT = "reject"
RESTART = "restart"
PREPARE = "prepare"
CHANGES_OF_SCHEMAS = {direction.value for direction in Direction}
"""Request kinds that run Alembic: their plan binds each schema's start and target revisions."""
RUNNER = f"{socket.gethostname()}:{os.getpid()}"
FORCED = "the check against the model was overridden with --force"
HEARTBEAT_SECONDS = 10
STALE_SECONDS = 60
HINFO_WATCH_TASK = "hinfo-watch"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestView:
    """Everything there is to show of a request, for whoever renders it."""

    id: int
    kind: str
    environment: str
    environment_title: str
    requester: str
    state: RequestState
    ticket: str | None
    ranges: dict[str, str]
    warnings: list[str]
    required: int
    approvers: list[str]
    rejecters: list[str]
    expires_at: datetime
    channel: str | None = None
    message_ts: str | None = None
    outcome: dict[str, object] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def forced(self) -> bool:
        """A stamp whose check against the model was overridden (``--force``)."""
        return bool(self.outcome.get("forced"))

    @property
    def booking_flag(self) -> str | None:
        """Why this request needs one more approval than usual: a test stand not booked by its requester."""
        flag = self.outcome.get("booking")
        return str(flag) if flag else None

    @property
    def ticket_check(self) -> TicketCheck | None:
        """The ticket as Jira showed it when the request was made (or why it could not be checked)."""
        if not self.ticket:
            return None
        return TicketCheck.from_dict({"key": self.ticket, **dict(self.outcome.get("ticket") or {})})

    @property
    def still_needed(self) -> int:
        return max(0, self.required - len(self.approvers))


class ChangeNotifier(Protocol):
    """Where a request shows itself (Slack in production, a list in tests)."""

    def posted(self, request: RequestView) -> tuple[str, str]:
        """Show a new request; returns where it is (channel, message id)."""

    def updated(self, request: RequestView) -> None:
        """Show the request again as it now stands (approvals, state, outcome)."""

    def progress(self, request: RequestView, line: str) -> None:
        """One line of news while it runs."""

    def finished(self, request: RequestView, result: RequestResult | None, *, note: str) -> None:
        """How it ended, with what comes next."""


class RequestTickets(Protocol):
    """What requests need of Jira tickets (tickets.TicketService is it): declared here, so no cycle with tickets."""

    def check(self, key: str | None) -> TicketCheck | None:
        """The named ticket as Jira has it; refuses one Jira does not have."""

    def request_finished(self, view: RequestView, detail: str) -> None:
        """Comment on the request's ticket how it ended."""


@dataclass(frozen=True)
class Proposal:
    """A change someone asks for, from Slack or the terminal."""

    kind: Direction
    environment: str
    schemas: list[str]
    target: str | None
    requester: str
    ticket: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    force: bool = False
    """A stamp not verified against the model (``--force``)."""

    @classmethod
    def from_command(cls, command: grammar.Upgrade | grammar.Downgrade | grammar.Stamp, requester: str) -> Proposal:
        if isinstance(command, grammar.Upgrade):
            return cls(Direction.UPGRADE, command.environment, list(command.schemas), command.to, requester,
                       command.ticket, command.options)  # fmt: skip
        if isinstance(command, grammar.Downgrade):
            return cls(Direction.DOWNGRADE, command.environment, [command.schema], command.revision, requester,
                       command.ticket, command.options)  # fmt: skip
        return cls(Direction.STAMP, command.environment, [command.schema], command.revision, requester, command.ticket,
                   force=command.force)  # fmt: skip


class ChangeService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: Store,
        notifier: ChangeNotifier,
        *,
        scheduler: Scheduler,
        group_members: Callable[[str], set[str]] = lambda _group: set(),
        clock: Callable[[], datetime],
        launch: Callable[[Callable[[], None]], object] = lambda run: run(),
        restart: Restarter | None = None,
        verify: Callable[[Environment, dict[str, dict[str, list[str]]]], str] | None = None,
        watch: Callable[[Environment, str, int], LogExcerpt] | None = None,
        standing: Callable[[Environment, str], str | None] = lambda _env, _requester: None,
        tickets: RequestTickets | None = None,
    ) -> None:
        """``launch`` starts an approved run: at once by default; the bot gives it a pool of its own.
        ``standing`` says why a change by a requester needs one more approval (a test stand booked by
        someone else, or by nobody), or None. ``tickets`` checks the ticket a request names, and
        comments on it how the request ended. ``scheduler`` keeps the hinfo watches after test-stand
        migrations, so that a restart does not lose them."""
        self.settings = settings
        self.engine = engine
        self.store = store
        self.notifier = notifier
        self.scheduler = scheduler
        self.group_members = group_members
        self.clock = clock
        self.launch = launch
        self.restart = restart
        self.verify = verify
        self.watch = watch
        self.standing = standing
        self.tickets = tickets
        self._active: set[int] = set()
        self._started: dict[int, float] = {}
        # Slack may deliver a reaction on a request before its message id is stored: reactions wait
        # until a request being posted is on record.
        self._posting = threading.Lock()

    def register(self) -> None:
        """The hinfo watch, run by whichever process leads the scheduler when it is due."""
        self.scheduler.register(HINFO_WATCH_TASK, self.watch_hinfo)

    def approvers_of(self, env: Environment, kind: str) -> set[str]:
        policy = env.restart_policy if kind == RESTART else env.approvals
        return set(policy.approvers) | (self.group_members(policy.usergroup) if policy.usergroup else set())

    def propose(self, proposal: Proposal) -> RequestView:
        """Check, plan, store and post a request; a refusal is audited and raised."""
        try:
            env, plans = self._checked(proposal)
            ticket = self._ticket(proposal.ticket)
            flag = self.standing(env, proposal.requester)
        except ConsdbBotError as error:
            self.store.audit(
                actor=proposal.requester, action="refused", environment=proposal.environment,
                summary=f"{proposal.kind.value} refused: {error.message}", detail=dataclasses.asdict(proposal),
            )  # fmt: skip
            raise
        request = ChangeRequest(
            kind=proposal.kind.value,
            environment=env.key,
            schemas=[plan.schema for plan in plans],
            target=proposal.target,
            binding={plan.schema: plan.binding for plan in plans},
            options=proposal.options,
            ticket=proposal.ticket,
            requester=proposal.requester,
            required_approvals=env.approvals.required + (1 if flag else 0),
            state=RequestState.REQUESTED,
            created_at=self.clock(),
            expires_at=self.clock() + timedelta(minutes=env.approvals.expiry_minutes),
            outcome={
                "ranges": {plan.schema: plan.range_text for plan in plans},
                "warnings": _warnings(plans),
                "booking": flag,
                "ticket": ticket,
                "trace": TRACE.get(),
                "forced": proposal.force,
            },
        )
        return self._open(request, env)

    def propose_restart(
        self,
        environment: str,
        requester: str,
        ticket: str | None = None,
        *,
        approved: tuple[str, str] | None = None,
        expect: dict[str, dict[str, list[str]]] | None = None,
    ) -> RequestView:
        """Ask for a rollout restart of the environment's pqserver; ``approved`` is a first (user, event_ts),
        ``expect`` the columns pqserver should list afterwards."""
        env = check_restart(self.settings, self.store, environment, ticket)
        policy = env.restart_policy
        checked = self._ticket(ticket)
        flag = self.standing(env, requester)
        request = ChangeRequest(
            kind=RESTART,
            environment=env.key,
            schemas=[],
            target=env.pqserver,
            binding={"deployment": env.pqserver, "expect": expect or {}},
            options={},
            ticket=ticket,
            requester=requester,
            required_approvals=policy.required + (1 if flag else 0),
            state=RequestState.REQUESTED,
            created_at=self.clock(),
            expires_at=self.clock() + timedelta(minutes=policy.expiry_minutes),
            outcome={
                "ranges": {"pqserver": f"rollout restart of deployment {env.pqserver}"},
                "warnings": [],
                "booking": flag,
                "ticket": checked,
                "trace": TRACE.get(),
            },
        )
        view = self._open(request, env)
        if approved:
            user, event_ts = approved
            self._count(request, user, self.settings.slack.approve_reaction, APPROVE, added=True, event_ts=event_ts)
        return view

    def propose_prepare(
        self, environment: str, schemas: Sequence[str], requester: str, ticket: str | None = None
    ) -> RequestView:
        """Ask to create what the environment's database lacks before these schemas' first revision."""
        try:
            env, selected, missing = check_prepare(self.settings, self.engine, self.store, environment, schemas, ticket)
            checked = self._ticket(ticket)
            flag = self.standing(env, requester)
        except ConsdbBotError as error:
            self.store.audit(
                actor=requester, action="refused", environment=environment,
                summary=f"prepare refused: {error.message}", detail={"schemas": list(schemas), "ticket": ticket},
            )  # fmt: skip
            raise
        request = ChangeRequest(
            kind=PREPARE,
            environment=env.key,
            schemas=selected,
            target=None,
            binding={"create": dataclasses.asdict(missing)},
            options={},
            ticket=ticket,
            requester=requester,
            required_approvals=env.approvals.required + (1 if flag else 0),
            state=RequestState.REQUESTED,
            created_at=self.clock(),
            expires_at=self.clock() + timedelta(minutes=env.approvals.expiry_minutes),
            outcome={
                "ranges": {"database": f"create {missing.text()}"},
                "warnings": [],
                "booking": flag,
                "ticket": checked,
                "trace": TRACE.get(),
            },
        )
        return self._open(request, env)

    def _ticket(self, key: str | None) -> dict[str, str] | None:
        """The ticket as Jira has it, for the request to show; an unknown ticket is refused here."""
        checked = self.tickets.check(key) if self.tickets else None
        return checked.as_dict() if checked else None

    def _open(self, request: ChangeRequest, env: Environment) -> RequestView:
        """Store and post a new request; the environment's one open change."""
        try:
            self.store.add_request(request)
        except IntegrityError:
            raise busy_refusal(self.store, env) from None
        view = self.view(request)
        try:
            with self._posting:
                channel, message_ts = self.notifier.posted(view)
                self.store.set_message(request.id, channel, message_ts)
        except Exception as error:
            # Nobody can approve a request that is not posted: close it, so the environment is free again.
            note = error.message if isinstance(error, ConsdbBotError) else f"posting failed ({type(error).__name__})"
            self.store.transition(request.id, RequestState.REQUESTED, RequestState.FAILED, outcome={"note": note})
            self.store.audit(actor=request.requester, action="failed", environment=env.key, request_id=request.id,
                             summary=f"#{request.id} could not be posted: {note}")  # fmt: skip
            raise
        REQUESTS.labels(RequestState.REQUESTED.value).inc()
        self.store.audit(
            actor=request.requester, action="requested", environment=env.key, request_id=request.id,
            summary=f"{request.kind} {', '.join(view.ranges)} requested" + (f" ({FORCED})" if view.forced else ""),
            detail={"ranges": view.ranges} | forced_detail(view.forced),
        )  # fmt: skip
        return dataclasses.replace(view, channel=channel, message_ts=message_ts)

    def _checked(self, proposal: Proposal) -> tuple[Environment, list[SchemaPlan]]:
        env, plans = check_proposal(self.settings, self.engine, self.store, proposal, with_sql=True)
        if not plans:
            raise Refused(f"nothing to do at {env.key}: every schema asked for is already there")
        if not proposal.force:  # said before anyone is asked to approve; checked again when it runs
            self.engine.refuse_unverified_stamps(env, plans)
        return env, plans

    def react(
        self, *, channel: str, message_ts: str, user: str, reaction: str, added: bool, event_id: str, event_ts: str
    ) -> None:
        """A reaction was added or removed somewhere; act if it counts, and say nothing if not.

        The event is marked seen only once what it says is recorded. When the state database fails on
        the way, or Slack does not say who may approve, :class:`TryAgainLater` goes up (Slack is answered
        so that it delivers the event again) and the redelivery is counted, not dropped as seen.
        Counting again what was half recorded changes nothing: a verdict stands by its event's
        timestamp, and every move is a compare-and-set.
        """
        slack = self.settings.slack
        if reaction not in (slack.approve_reaction, slack.reject_reaction, slack.restart_reaction):
            return
        try:
            if self.store.seen(event_id):
                return
            self._react(channel, message_ts, user, reaction, added=added, event_ts=event_ts)
            self.store.first_sighting(event_id)
        except UNREACHABLE as error:
            raise StateUnavailable(f"my state database did not answer ({type(error).__name__})") from error

    def _react(self, channel: str, message_ts: str, user: str, reaction: str, *, added: bool, event_ts: str) -> None:
        with self._posting:
            request = self.store.request_for_message(channel, message_ts)
        if request is not None and reaction == self.settings.slack.restart_reaction and added:
            self._restart_after(request, user, event_ts)
            return
        verdict = {self.settings.slack.approve_reaction: APPROVE, self.settings.slack.reject_reaction: REJECT}.get(
            reaction
        )
        if request is None or verdict is None or request.state != RequestState.REQUESTED:
            return
        try:
            with traced((request.outcome or {}).get("trace") or TRACE.get()):
                self._count(request, user, reaction, verdict, added=added, event_ts=event_ts)
        except (*UNREACHABLE, TryAgainLater):
            raise
        except Exception:
            log.exception("a reaction on request #%s could not be counted", request.id)
            self.store.audit(
                actor=user, action="error", environment=request.environment, request_id=request.id,
                summary=f":{reaction}: on #{request.id} could not be counted; see the bot's log",
            )  # fmt: skip

    def _count(
        self, request: ChangeRequest, user: str, reaction: str, verdict: str, *, added: bool, event_ts: str
    ) -> None:
        if expired(request, at=self.clock()):
            self._expire(request)
            return
        env = self.settings.environment(request.environment)
        if user == request.requester or user not in self.approvers_of(env, request.kind):
            self.store.audit(
                actor=user, action="ignored", environment=env.key, request_id=request.id,
                summary=f"{'added' if added else 'removed'} :{reaction}: on #{request.id}, which does not count"
                f" ({'the requester' if user == request.requester else 'not an approver'})",
            )  # fmt: skip
            return
        self.store.set_verdict(request.id, user, verdict, present=added, event_ts=event_ts)
        APPROVALS.labels(verdict, "given" if added else "withdrawn").inc()
        self.store.audit(
            actor=user, action=f"{verdict}d" if added else f"withdrew {verdict}", environment=env.key,
            request_id=request.id, summary=f"{verdict} {'given' if added else 'withdrawn'} on #{request.id}",
        )  # fmt: skip
        self._decide(request.id)

    def _restart_after(self, migration: ChangeRequest, user: str, event_ts: str) -> None:
        """The restart reaction on a migration that succeeded: a restart request, with that approval."""
        if migration.kind == RESTART or migration.state != RequestState.SUCCEEDED:
            return
        env = self.settings.environment(migration.environment)
        if user == migration.requester or user not in self.approvers_of(env, RESTART):
            self.store.audit(
                actor=user, action="ignored", environment=env.key, request_id=migration.id,
                summary=f"added :{self.settings.slack.restart_reaction}: on #{migration.id}, which does not count"
                f" ({'the requester' if user == migration.requester else 'not an approver'})",
            )  # fmt: skip
            return
        try:
            expect = (migration.outcome or {}).get("added", {})
            self.propose_restart(
                env.key, migration.requester, migration.ticket, approved=(user, event_ts), expect=expect
            )
        except ConsdbBotError as error:
            self._tell(self.notifier.progress, self.view(migration), f"pqserver was not restarted: {error.message}")

    def _decide(self, request_id: int) -> None:
        request = self.store.request(request_id)
        if request is None or request.state != RequestState.REQUESTED:
            return
        view = self.view(request)
        if view.rejecters:
            if self.store.transition(request.id, RequestState.REQUESTED, RequestState.REJECTED):
                self._announce(request.id, f"rejected by {', '.join(view.rejecters)}")
            return
        if view.still_needed == 0:
            claimed = self.store.transition(
                request.id, RequestState.REQUESTED, RequestState.APPROVED, runner=RUNNER, heartbeat_at=self.clock()
            )
            if claimed:
                self._announce(request.id, "approved")
                self.launch(lambda: self.run(request.id))
            return
        latest = self.store.request(request.id)
        if latest is not None and latest.state == RequestState.REQUESTED:
            self._tell(self.notifier.updated, self.view(latest))

    def run(self, request_id: int) -> None:
        """Run an approved request, once: only the caller that moves it to running runs it.

        Whatever happens, the request ends succeeded or failed, and its thread hears why: a request
        left running would block its environment. The name of the run's database sessions is recorded
        first, so that whoever settles the request after a crash can find them and end them.
        """
        approved = self.store.request(request_id)
        if approved is None or approved.state != RequestState.APPROVED:
            return
        session = run_name(f"{request_id}-{secrets.token_hex(4)}") if approved.kind in CHANGES_OF_SCHEMAS else None
        outcome = {**(approved.outcome or {}), **({"session": session} if session else {})}
        if not self.store.transition(
            request_id, RequestState.APPROVED, RequestState.RUNNING, runner=RUNNER, heartbeat_at=self.clock(),
            outcome=outcome,
        ):  # fmt: skip
            return
        self._active.add(request_id)
        self._started[request_id] = time.monotonic()
        alive = threading.Event()
        threading.Thread(target=self._heartbeat, args=(request_id, alive), daemon=True).start()
        request = self.store.request(request_id)
        assert request is not None
        with traced((request.outcome or {}).get("trace")):
            self._carry_out(request, alive)

    def _carry_out(self, request: ChangeRequest, alive: threading.Event) -> None:
        """The run itself, under the trace of the Slack request that asked for it. A run that did not
        succeed while the bot was stopping was stopped by it: it is settled from what its database
        records. How it ended is kept while the state database is down; if the bot stops first, the
        next start settles it from the database."""
        try:
            log.info("request #%s runs: %s at %s", request.id, request.kind, request.environment)
            view = self.view(request)
            self._tell(self.notifier.updated, view)
            result = self._execute(request, view)
        except ConsdbBotError as error:
            result, note = None, str(error)
        except Exception as error:
            log.exception("request #%s failed in the bot", request.id)
            result, note = None, f"the bot failed ({type(error).__name__}); see its log"
        else:
            note = ""
        try:
            if (result is None or not result.ok) and self.engine.stopping.is_set():
                self._active.discard(request.id)
                self._interrupt(request, RequestState.RUNNING)
            elif result is None:
                self._finish(request, RequestState.FAILED, None, note=note)
            else:
                self._finish(request, RequestState.SUCCEEDED if result.ok else RequestState.FAILED, result, note="")
        except UNREACHABLE:
            log.error("request #%s: how it ended could not be recorded before the bot stopped (the state database"
                      " cannot be reached); the next start settles it from the database", request.id)  # fmt: skip
        finally:
            alive.set()
            self._active.discard(request.id)

    def _execute(self, request: ChangeRequest, view: RequestView) -> RequestResult:
        env = self.settings.environment(request.environment)
        if request.kind == RESTART:
            if self.restart is None:
                raise Refused("this bot has no Kubernetes access configured, so it cannot restart pqserver")
            report = lambda line: self._tell(self.notifier.progress, view, line)  # noqa: E731 - used twice
            restarted = self.restart(env, request.target or "", report)
            if restarted.ok and self.verify:
                try:
                    report(self.verify(env, request.binding.get("expect", {})))
                except Exception as error:  # a check that fails must not turn a good restart into a failure
                    log.exception("the pqserver check failed")
                    report(f":warning: pqserver's view of the schema could not be checked ({type(error).__name__}).")
            return restarted
        if request.kind == PREPARE:
            return self.engine.prepare(env, request.schemas)
        return self.engine.change(
            env,
            request.schemas,
            direction=Direction(request.kind),
            to=request.target,
            options=request.options,
            actor=f"{request.requester} (request #{request.id})",
            on_progress=lambda event: self._tell(self.notifier.progress, view, _progress_line(event)),
            expected=request.binding,
            force=view.forced,
            session=(request.outcome or {}).get("session"),
        )

    def _count_change(self, request: ChangeRequest, state: RequestState) -> None:
        """A change ran and ended so: counted, and timed when it ran here."""
        CHANGES.labels(request.kind, state.value).inc()
        started = self._started.pop(request.id, None)
        if started is not None:
            CHANGE_SECONDS.labels(request.kind).observe(time.monotonic() - started)

    def _heartbeat(self, request_id: int, done: threading.Event) -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            try:
                self.store.beat(request_id)
            except UNREACHABLE:  # the run goes on; its outcome is kept until the state database is back
                log.warning("request #%s: its heartbeat could not be recorded (the state database cannot be"
                            " reached)", request_id)  # fmt: skip

    def _tell(self, notify: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Tell the world; a failure to tell never stops the state machine."""
        try:
            notify(*args, **kwargs)
        except Exception:
            log.exception("could not report on a request")

    def _finish(self, request: ChangeRequest, state: RequestState, result: RequestResult | None, *, note: str) -> None:
        outcomes = result.outcomes if isinstance(result, ChangeResult) else []
        reached = {outcome.schema: list(outcome.recorded_after) for outcome in outcomes}
        added = {outcome.schema: outcome.added_columns for outcome in outcomes if outcome.added_columns}
        outcome = {**(request.outcome or {}), "reached": reached, "added": added, "note": note}
        forced = bool(outcome.get("forced"))
        view = self._record(
            request, RequestState.RUNNING, state, outcome,
            summary=f"#{request.id} {request.kind} {state.value}" + (f" ({FORCED})" if forced else "")
            + (f": {note}" if note else ""),
            detail={"reached": reached, "ticket": request.ticket} | forced_detail(forced),
        )  # fmt: skip
        if view is None:
            return
        self._count_change(request, state)
        REQUESTS.labels(state.value).inc()
        self._tell(self.notifier.updated, view)
        self._tell(self.notifier.finished, view, result, note=note)
        if self.tickets:
            detail = (
                ""
                if state is RequestState.SUCCEEDED
                else "\n".join(filter(None, [note, result and result_text(result)]))
            )
            self._tell(self.tickets.request_finished, view, detail)
        if state is RequestState.SUCCEEDED and request.kind == Direction.UPGRADE.value:
            self._watch_hinfo_after(view, request.schemas)

    def _record(
        self, request: ChangeRequest, expected: RequestState, state: RequestState, outcome: dict[str, object],
        *, summary: str, detail: dict[str, object],
    ) -> RequestView | None:  # fmt: skip
        """Move a request from ``expected`` to how it ended, and audit that, once. Kept, and written
        again, while the state database cannot be reached (until the bot stops). None when someone
        else settled it first."""
        done: set[str] = set()

        def write() -> RequestView | None:
            if "moved" not in done:
                if not self.store.transition(request.id, expected, state, outcome=outcome):
                    # A write whose answer was lost is done: the request holds exactly this outcome.
                    now = self.store.request(request.id)
                    if now is None or now.state != state or now.outcome != outcome:
                        return None
                done.add("moved")
            if "audited" not in done:
                self.store.audit(actor="consdb-bot", action=state.value, environment=request.environment,
                                 request_id=request.id, summary=summary, detail=detail)  # fmt: skip
                done.add("audited")
            finished = self.store.request(request.id)
            assert finished is not None
            return self.view(finished)

        what = f"request #{request.id}'s outcome ({state})"
        return self.store.until_written(write, what=what, give_up=self.engine.stopping)

    def _watch_hinfo_after(self, view: RequestView, schemas: list[str]) -> None:
        """At a test stand, read hinfo's log a while after the migration, and say what it shows: a job in
        the state database, so that a bot stopped or restarted meanwhile still does."""
        env = self.settings.environment(view.environment)
        watched = [schema for schema in schemas if schema in env.hinfo]
        if not (env.test_stand and watched and self.watch and env.hinfo_watch_minutes > 0):
            return
        due = self.clock() + timedelta(minutes=env.hinfo_watch_minutes)
        # However late: the log is read from the migration on, and the verdict says how long after it.
        self.scheduler.at(f"hinfo-watch-{view.id}", due, HINFO_WATCH_TASK, view.id, watched, grace_seconds=None)

    def watch_hinfo(self, request_id: int, schemas: list[str]) -> None:
        """The scheduled watch: each instrument's hinfo log since the migration, as a verdict in its thread."""
        request = self.store.request(request_id)
        if request is None or self.watch is None:
            log.warning("no hinfo watch for request #%s: the request or the Kubernetes access is gone", request_id)
            return
        view = self.view(request)
        env = self.settings.environment(view.environment)
        since = (self.clock() - (view.finished_at or view.created_at)).total_seconds()
        minutes = max(env.hinfo_watch_minutes, round(since / 60))
        for schema in schemas:
            try:
                excerpt = self.watch(env, schema, int(since) + 1)
            except Exception as error:
                reason = error.message if isinstance(error, ConsdbBotError) else type(error).__name__
                log.warning("hinfo %s could not be read after request #%s: %s", schema, view.id, reason)
                self._tell(self.notifier.progress, view, f"hinfo {schema} could not be read: {reason}")
                continue
            self._tell(self.notifier.progress, view, hinfo_verdict(schema, excerpt, minutes))

    def _announce(self, request_id: int, summary: str) -> None:
        request = self.store.request(request_id)
        assert request is not None
        REQUESTS.labels(request.state).inc()
        self.store.audit(
            actor="consdb-bot", action=request.state, environment=request.environment, request_id=request.id,
            summary=f"#{request.id} {summary}",
        )  # fmt: skip
        self._tell(self.notifier.updated, self.view(request))

    def _expire(self, request: ChangeRequest) -> None:
        if self.store.transition(request.id, RequestState.REQUESTED, RequestState.EXPIRED):
            self._announce(request.id, "expired before it was approved")

    def expire_due(self) -> None:
        """Expire every request whose time for approval is over."""
        for request in self.store.requests_in(RequestState.REQUESTED):
            if expired(request, at=self.clock()):
                self._expire(request)

    def recover_interrupted(self) -> None:
        """Settle requests whose run died: approved or running, but their runner is gone.

        The runner is gone when it was this host and its process is not alive (or this process,
        restarted), or when another host's run has not said it was alive for a while.
        """
        for state in (RequestState.APPROVED, RequestState.RUNNING):
            for request in self.store.requests_in(state):
                if self._abandoned(request):
                    self._interrupt(request, state)

    def _abandoned(self, request: ChangeRequest) -> bool:
        if request.id in self._active:
            return False
        host, _, pid = (request.runner or "").rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            return int(pid) == os.getpid() or not _alive(int(pid))
        return silent_for(request, at=self.clock()) > STALE_SECONDS

    def _interrupt(self, request: ChangeRequest, state: RequestState) -> None:
        """Settle a request whose run this process no longer follows, by what its database records.

        A run killed with its bot may still have a statement running in the server, holding its locks:
        its sessions are ended, and gone, before anything is read or settled. Then the version tables
        are held against the plan: the target recorded is success, whatever happened to the bot. A
        request whose database cannot be reached now is left as it is, for the next sweep.
        """
        env = self.settings.environment(request.environment)
        if state is RequestState.RUNNING and not self._ended(request, env):
            return
        verdict = self._verdict(request, state, env)
        if verdict is None:
            log.warning("request #%s is settled once %s's version tables can be read", request.id, env.key)
            return
        settled, reached, note = verdict
        outcome = {**(request.outcome or {}), "reached": reached, "note": note}
        if settled is RequestState.SUCCEEDED:
            told = f"The bot lost track of this run, but its database records the target: {note}."
            summary = f"#{request.id} {request.kind} succeeded (the bot lost track of it; its database says so): {note}"
        else:
            told = f"The bot stopped while this ran: {note}."
            summary = f"#{request.id} was interrupted by a stop of the bot; {note}"
        detail: dict[str, object] = {"reached": reached} | ({"ticket": request.ticket} if request.ticket else {})
        view = self._record(request, state, settled, outcome, summary=summary, detail=detail)
        if view is None:
            return
        REQUESTS.labels(settled.value).inc()
        self._count_change(request, settled)
        self._tell(self.notifier.updated, view)
        self._tell(self.notifier.finished, view, None, note=told)
        if self.tickets:
            self._tell(self.tickets.request_finished, view, "" if settled is RequestState.SUCCEEDED else told)

    def _ended(self, request: ChangeRequest, env: Environment) -> bool:
        """Whether the run's database sessions are gone, ended now if need be; false while they are
        still there or its database cannot be reached."""
        session = (request.outcome or {}).get("session")
        if not session:
            return True
        try:
            if self.engine.end_sessions(env, str(session)):
                return True
            log.warning("request #%s: the sessions of its run are still there; it is settled later", request.id)
        except ConsdbBotError as error:
            log.warning("request #%s is settled once %s answers: %s", request.id, env.key, error.message)
        return False

    def _verdict(
        self, request: ChangeRequest, state: RequestState, env: Environment
    ) -> tuple[RequestState, dict[str, list[str]], str] | None:
        """How an abandoned request ended, by its database: the state, what each schema records, and why.
        None while a run's version tables cannot be read: it is settled at a later sweep, never guessed."""
        ran_migrations = state is RequestState.RUNNING and request.kind in CHANGES_OF_SCHEMAS
        try:
            statuses = self.engine.status([env], request.schemas)
        except ConsdbBotError as error:
            if ran_migrations:
                return None
            return RequestState.INTERRUPTED, {}, f"where it stands is unknown ({error.message})"
        reached = {status.schema: list(status.current) for status in statuses}
        if state is RequestState.APPROVED:
            return RequestState.INTERRUPTED, reached, "it had not started, nothing ran"
        if not ran_migrations:
            return RequestState.INTERRUPTED, reached, "; ".join(f"{s.schema} now records {s.summary}" for s in statuses)
        if any(status.state is State.UNREACHABLE for status in statuses):
            return None
        return _against_plan(request, statuses, reached)

    def view(self, request: ChangeRequest) -> RequestView:
        return request_view(self.settings, self.store, request)


def request_view(settings: Settings, store: Store, request: ChangeRequest) -> RequestView:
    verdicts = store.verdicts(request.id)
    env = settings.environment(request.environment)
    outcome = request.outcome or {}
    return RequestView(
        id=request.id,
        kind=request.kind,
        environment=env.key,
        environment_title=env.title,
        requester=request.requester,
        state=RequestState(request.state),
        ticket=request.ticket,
        ranges=dict(outcome.get("ranges", {})),
        warnings=list(outcome.get("warnings", [])),
        required=request.required_approvals,
        approvers=[v.user for v in verdicts if v.verdict == APPROVE],
        rejecters=[v.user for v in verdicts if v.verdict == REJECT],
        expires_at=request.expires_at,
        channel=request.channel,
        message_ts=request.message_ts,
        outcome=outcome,
        options=dict(request.options or {}),
        created_at=aware(request.created_at),
        finished_at=aware(request.finished_at) if request.finished_at else None,
    )


def check_proposal(
    settings: Settings, engine: Engine, store: Store, proposal: Proposal, *, with_sql: bool
) -> tuple[Environment, list[SchemaPlan]]:
    """The policy every change meets, from Slack or the terminal: a ticket where one is required, one
    change at a time per environment, and a target already proven where required. Returns the plans
    of the schemas that have something to do."""
    env = settings.environment(proposal.environment)
    schemas = engine.schemas_at(env, proposal.schemas)
    engine.check_options(env, schemas, proposal.options)  # what would reach the scripts' SQL, first of all
    if env.requires_ticket and not proposal.ticket:
        raise Refused(f"{env.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    if store.open_request(env.key):
        raise busy_refusal(store, env)
    plans = engine.plan(
        env,
        schemas,
        to=proposal.target,
        direction=proposal.kind,
        options=proposal.options,
        with_sql=with_sql,
    )
    plans = [plan for plan in plans if plan.revisions or proposal.kind is Direction.STAMP]
    if plans and all(plan.note for plan in plans):
        raise Refused(
            "; ".join(f"{plan.schema}: {plan.note}" for plan in plans) + ", so nothing here could run",
            hint="Point migrations.sdm_schemas at an sdm_schemas checkout that has the model, or name other schemas.",
        )
    if proposal.kind is Direction.UPGRADE:
        for plan in plans:
            _refuse_untested(settings, engine, store, env, plan)
    return env, plans


def _refuse_untested(settings: Settings, engine: Engine, store: Store, env: Environment, plan: SchemaPlan) -> None:
    """Refuse an upgrade whose target has not yet succeeded where it must be proven first.

    "Succeeded at" means that the proving environment's database now records the target or a revision
    beyond it: the database is the truth, so a change made there outside the bot counts, and a target
    that was reached and then rolled back there does not. Only where this process cannot read that
    database (no URL here, or unreachable) does the bot's own record stand in: where its last successful
    change of the schema there left it.
    """
    tested = settings.proven_first_at(env, plan.schema)
    if tested is None:
        return
    tree = engine.tree.schema(plan.schema)
    status = engine.status([tested], [plan.schema])[0]
    target = revisions_text(plan.target)
    needed = f"{env.key}: {plan.schema} must first reach {target} at {tested.key}"
    command = f"migrate {tested.key} {plan.schema} --to {short(revision_argument(tree, plan.target))}"
    if status.state in (State.HEAD, State.BEHIND, State.EMPTY):
        current, known = status.current, ""
    elif status.state in (State.UNREACHABLE, State.NOT_CONFIGURED):
        recorded = store.last_reached(tested.key, plan.schema)
        if recorded is None:
            raise Refused(
                f"{needed}, whose database cannot be read here ({status.detail})"
                f" and where the bot has no record of changing {plan.schema}",
                hint=f"Give the bot {tested.key}'s database, or run `{command}` first.",
            )
        current, known = tuple(recorded), " by the bot's records (its database cannot be read here)"
    else:
        raise Refused(
            f"{needed}, where it is {status.summary}",
            hint=f"Settle {tested.key} first: `status {tested.key} {plan.schema}`.",
        )
    lacking = tree.missing(current=current, target=plan.target)
    if lacking:
        raise Refused(
            f"{needed}, which is {len(lacking)} revision(s) behind it{known} (at {revisions_text(current)})",
            hint=f"Run `{command}` first.",
        )


def check_restart(settings: Settings, store: Store, environment: str, ticket: str | None) -> Environment:
    """The policy a pqserver restart meets, from Slack or the terminal."""
    env = settings.environment(environment)
    if not env.pqserver:
        raise Refused(f"{env.key} names no pqserver deployment", hint=f"Set environments.{env.key}.pqserver.")
    if env.requires_ticket and not ticket:
        raise Refused(f"{env.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    if store.open_request(env.key):
        raise busy_refusal(store, env)
    return env


def check_prepare(
    settings: Settings, engine: Engine, store: Store, environment: str, schemas: Sequence[str], ticket: str | None
) -> tuple[Environment, list[str], Needs]:
    """The policy ``prepare`` meets, from Slack or the terminal, and what it would create (never nothing)."""
    env = settings.environment(environment)
    if env.requires_ticket and not ticket:
        raise Refused(f"{env.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    if store.open_request(env.key):
        raise busy_refusal(store, env)
    selected = engine.schemas_at(env, schemas)
    missing = engine.lacking(env, selected)
    if not missing:
        raise Refused(
            f"nothing to do at {env.key}: its database has all that {', '.join(selected)} need before a first revision"
        )
    return env, selected, missing


def busy_refusal(store: Store, env: Environment) -> Refused:
    other = store.open_request(env.key)
    who = f"request #{other.id} by {other.requester} is {other.state}" if other else "another request is open"
    return Refused(
        f"{env.key} already has a change under way: {who}",
        hint="One change at a time per environment: wait for it to finish, be rejected or expire.",
    )


def _against_plan(
    request: ChangeRequest, statuses: list[SchemaStatus], reached: dict[str, list[str]]
) -> tuple[RequestState, dict[str, list[str]], str]:
    """An abandoned run, held against its plan: every target recorded is success, every start recorded
    is nothing applied, and anything else is said schema by schema."""
    if any(status.state is State.NOT_CONFIGURED for status in statuses):
        where = "; ".join(f"{status.schema}: {status.summary}" for status in statuses)
        return RequestState.INTERRUPTED, reached, f"where it stands is unknown ({where})"
    ends = {schema: (set(plan.get("from", [])), set(plan.get("to", []))) for schema, plan in request.binding.items()}

    def position(status: SchemaStatus) -> str:
        begun, aim = ends.get(status.schema, (set(), set()))
        if set(status.current) == aim:
            return "its target"
        if set(status.current) == begun:
            return "where it started"
        return (
            f"neither where it started ({revisions_text(sorted(begun))}) nor its target ({revisions_text(sorted(aim))})"
        )

    positions = [position(status) for status in statuses]
    said = "; ".join(
        f"{s.schema} now records {s.summary}, {where}" for s, where in zip(statuses, positions, strict=True)
    )
    if all(where == "its target" for where in positions):
        return RequestState.SUCCEEDED, reached, said
    if all(where == "where it started" for where in positions):
        return RequestState.INTERRUPTED, reached, f"nothing was applied: {said}"
    return RequestState.INTERRUPTED, reached, said


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def hinfo_verdict(schema: str, excerpt: LogExcerpt, minutes: float) -> str:
    """Did hinfo write an exposure after the migration, and did it complain?"""
    wrote = (
        f"{excerpt.committed} exposure(s) committed (the last {excerpt.last_exposure})"
        if excerpt.committed
        else ":warning: no exposure committed (take a test image, then `logs hinfo`)"
    )
    columns = [line for line in excerpt.problems if "Unable to process column" in line]
    others = len(excerpt.problems) - len(columns)
    complaints = [f"{len(columns)} 'Unable to process column' line(s), e.g. {columns[-1]}"] if columns else []
    complaints += [f"{others} other error or warning line(s)"] if others else []
    heard = "; ".join(complaints) if complaints else "no errors or warnings"
    return f"hinfo {schema}, {minutes:g} min after the migration: {wrote}; {heard}."


def _warnings(plans: list[SchemaPlan]) -> list[str]:
    notes = [f"{plan.schema}: {plan.note}" for plan in plans if plan.note]
    return notes + [f"{plan.schema}: [{w.rule}] {w.table}: {w.message}" for plan in plans for w in plan.warnings]


def _progress_line(event: Progress) -> str:
    return f"{event.schema}: {event.text}"


def forced_detail(forced: bool) -> dict[str, bool]:
    """What an audit record's detail adds for a stamp whose check was overridden (nothing otherwise)."""
    return {"forced": True} if forced else {}
