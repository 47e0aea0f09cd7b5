"""What a change request is: what someone asks for (:class:`Proposal`), the one way a request is
built to be stored (:class:`Draft`), what there is to show of it (:class:`RequestView`), and where it
shows itself (:class:`ChangeNotifier`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot import grammar
from bot.config import Approvals, Environment, Settings
from bot.engine.service import Direction
from bot.services.tickets import TicketCheck
from bot.store import Store, aware
from bot.store.models import ChangeRequest, RequestState

if TYPE_CHECKING:
    from bot.clients.deployments import Restarts
    from bot.clients.kube import RestartResult
    from bot.engine.prepare import PrepareResult
    from bot.engine.rollout import RolloutResult
    from bot.engine.service import ChangeResult
    from bot.services.changes.events import RequestEvent

    RequestResult = ChangeResult | RestartResult | PrepareResult | RolloutResult | Restarts
    """How a request's run ended, whatever it ran."""

APPROVE = "approve"
REJECT = "reject"
RESTART = "restart"
PREPARE = "prepare"
ROLLOUT = "rollout"
"""The Summit and its replicas as one request (``bot.services.changes.rollout``)."""
CHANGES_OF_SCHEMAS = {direction.value for direction in Direction}
"""Request kinds that run Alembic: their plan binds each schema's start and target revisions."""
FORCED = "the check against the model was overridden with --force"
ALLOWED_REWRITE = "a table rewrite was allowed with --allow-rewrite"


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
    options: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    finished_at: datetime | None = None
    forced: bool = False
    """A stamp whose check against the model was overridden (``--force``)."""
    allow_rewrite: bool = False
    """A statement may rewrite a table holding rows under an exclusive lock (``--allow-rewrite``)."""
    booking_flag: str | None = None
    """Why this request needs one more approval than usual: a test stand not booked by its requester."""
    ticket_check: TicketCheck | None = None
    """The ticket as Jira showed it when the request was made (or why it could not be checked)."""
    trace: str | None = None
    reached: dict[str, list[str]] = field(default_factory=dict)
    """Per schema, the revisions its database recorded when the run ended."""
    note: str = ""
    """Why it failed or was interrupted."""
    step: str | None = None
    """A rollout's last finished step (``bot.engine.rollout.RolloutStep``)."""

    @property
    def still_needed(self) -> int:
        return max(0, self.required - len(self.approvers))


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
    allow_rewrite: bool = False
    """A statement may rewrite a table holding rows (``--allow-rewrite``): bound to the request, so approved with it."""

    @classmethod
    def from_command(cls, command: grammar.Upgrade | grammar.Downgrade | grammar.Stamp, requester: str) -> Proposal:
        if isinstance(command, grammar.Upgrade):
            return cls(Direction.UPGRADE, command.environment, list(command.schemas), command.to, requester,
                       command.ticket, command.options, allow_rewrite=command.allow_rewrite)  # fmt: skip
        if isinstance(command, grammar.Downgrade):
            return cls(Direction.DOWNGRADE, command.environment, [command.schema], command.revision, requester,
                       command.ticket, command.options, allow_rewrite=command.allow_rewrite)  # fmt: skip
        return cls(Direction.STAMP, command.environment, [command.schema], command.revision, requester, command.ticket,
                   force=command.force)  # fmt: skip


@dataclass(frozen=True)
class Draft:
    """A request about to be stored, whatever it asks for (a migration, a restart, a prepare): one shape,
    built into a row in one place (:meth:`request`)."""

    kind: str
    env: Environment
    policy: Approvals
    requester: str
    ticket: str | None
    ranges: dict[str, str]
    schemas: list[str] = field(default_factory=list)
    target: str | None = None
    binding: dict[str, Any] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    forced: bool = False
    allow_rewrite: bool = False

    def request(
        self, *, at: datetime, booking: str | None, ticket: TicketCheck | None, trace: str | None
    ) -> ChangeRequest:
        """The request as stored: one more approval than the policy's when ``booking`` says why."""
        checked = ticket or TicketCheck(self.ticket or "")
        return ChangeRequest(
            kind=self.kind, environment=self.env.key, schemas=self.schemas, target=self.target,
            binding=self.binding, options=self.options, ticket=self.ticket, requester=self.requester,
            required_approvals=self.policy.required + (1 if booking else 0), state=RequestState.REQUESTED,
            created_at=at, expires_at=at + timedelta(minutes=self.policy.expiry_minutes), ranges=self.ranges,
            warnings=self.warnings, booking_flag=booking, ticket_summary=checked.summary,
            ticket_status=checked.status, ticket_url=checked.url, ticket_unchecked=checked.unchecked, trace=trace,
            forced=self.forced, allow_rewrite=self.allow_rewrite, reached={}, added_columns={}, note="",
        )  # fmt: skip


@dataclass(frozen=True)
class Finished:
    """How a request run here ended: the request as it stands, what its run returned (None when it
    did not run to the end: refused, failed in the bot, interrupted), and what was said of it."""

    view: RequestView
    result: RequestResult | None
    note: str


class ChangeNotifier(Protocol):
    """Where a request shows itself (Slack in production, the terminal, a list in tests)."""

    def posted(self, request: RequestView) -> tuple[str, str] | None:
        """Show a new request; returns where it is (channel, message id), or None where no reaction can
        reach it (the terminal): such a request is approved by :meth:`ChangeService.approve_here` alone."""

    def updated(self, request: RequestView) -> None:
        """Show the request again as it now stands (approvals, state, outcome)."""

    def progress(self, request: RequestView, event: RequestEvent) -> None:
        """News while it runs, and after (the hinfo watch, its ticket's comment)."""

    def finished(self, request: RequestView, result: RequestResult | None, *, note: str) -> None:
        """How it ended, with what comes next."""


class RequestTickets(Protocol):
    """What requests need of Jira tickets (tickets.TicketService is it): declared here, so no cycle with tickets."""

    def check(self, key: str | None) -> TicketCheck | None:
        """The named ticket as Jira has it; refuses one Jira does not have."""

    def request_finished(self, view: RequestView, note: str, result: RequestResult | None) -> None:
        """Comment on the request's ticket how it ended (what failed, when it did not succeed)."""


def request_view(settings: Settings, store: Store, request: ChangeRequest) -> RequestView:
    verdicts = store.verdicts(request.id)
    env = settings.environment(request.environment)
    return RequestView(
        id=request.id,
        kind=request.kind,
        environment=env.key,
        environment_title=env.title,
        requester=request.requester,
        state=RequestState(request.state),
        ticket=request.ticket,
        ranges=dict(request.ranges or {}),
        warnings=list(request.warnings or []),
        required=request.required_approvals,
        approvers=[v.user for v in verdicts if v.verdict == APPROVE],
        rejecters=[v.user for v in verdicts if v.verdict == REJECT],
        expires_at=request.expires_at,
        channel=request.channel,
        message_ts=request.message_ts,
        options=dict(request.options or {}),
        created_at=aware(request.created_at),
        finished_at=aware(request.finished_at) if request.finished_at else None,
        forced=bool(request.forced),
        allow_rewrite=bool(request.allow_rewrite),
        booking_flag=request.booking_flag or None,
        ticket_check=ticket_check(request),
        trace=request.trace,
        reached={schema: list(revisions) for schema, revisions in (request.reached or {}).items()},
        note=request.note or "",
        step=request.step,
    )


def ticket_check(request: ChangeRequest) -> TicketCheck | None:
    """The ticket a request names, as Jira showed it when the request was made."""
    if not request.ticket:
        return None
    return TicketCheck(
        request.ticket, request.ticket_summary or "", request.ticket_status or "", request.ticket_url or "",
        request.ticket_unchecked or "",
    )  # fmt: skip


def overrides_detail(forced: bool, allow_rewrite: bool) -> dict[str, bool]:
    """What an audit record's detail adds for a stamp whose check was overridden, or a run allowed to rewrite a
    table (nothing otherwise)."""
    return ({"forced": True} if forced else {}) | ({"allow_rewrite": True} if allow_rewrite else {})


def overrides_text(forced: bool, allow_rewrite: bool) -> str:
    """What an audit summary adds for the same: `` (...)``, or nothing."""
    said = [text for overridden, text in ((forced, FORCED), (allow_rewrite, ALLOWED_REWRITE)) if overridden]
    return f" ({'; '.join(said)})" if said else ""
