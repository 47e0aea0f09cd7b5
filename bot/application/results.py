"""What :meth:`bot.application.Application.run` returns: one typed result per kind of answer.

Each surface renders these (``bot.render.terminal`` for the terminal, ``bot.render.slack`` for Slack);
none of them holds text meant for one surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.store.models import RequestState

if TYPE_CHECKING:  # types only: a terminal command loads the Kubernetes client, Felis and the rest when it uses them
    from datetime import datetime

    from bot.clients.kube import LogExcerpt
    from bot.engine.drift import SchemaDrift
    from bot.engine.generate import GeneratedRevision
    from bot.engine.service import HistoryEntry, SchemaPlan
    from bot.engine.status import SchemaStatus
    from bot.services.board import Board, Ticked
    from bot.services.bookings import BookingView
    from bot.services.changes import Finished, RequestView
    from bot.services.changes.data import DataCheck
    from bot.services.replicas import PublicationTables, ReplicaStatus
    from bot.services.tap import TapCheck
    from bot.services.ticket_overview import TicketOverview
    from bot.store.models import AuditRecord


class Surface(StrEnum):
    SLACK = "slack"
    TERMINAL = "terminal"


@dataclass(frozen=True)
class Actor:
    """Who asked, and where: in Slack a change is a request for approvers; in the terminal ``--yes``
    approves it, and an operator may change anyone's booking."""

    name: str
    surface: Surface

    @property
    def at_terminal(self) -> bool:
        return self.surface is Surface.TERMINAL


@dataclass(frozen=True)
class StatusReport:
    statuses: list[SchemaStatus]
    verbose: bool
    replicas: list[ReplicaStatus] = field(default_factory=list)
    """Each replica environment shown whose database is configured here."""


@dataclass(frozen=True)
class HistoryReport:
    schema: str
    entries: list[HistoryEntry]
    verbose: bool


@dataclass(frozen=True)
class PlanReport:
    environment: str
    plans: list[SchemaPlan]
    show_sql: bool


@dataclass(frozen=True)
class DriftReport:
    environment: str
    drifts: list[SchemaDrift]

    @property
    def drifted(self) -> bool:
        """Whether any schema differs from its model."""
        return any(drift.differences for drift in self.drifts)

    @property
    def failed(self) -> bool:
        """Whether a schema could not be compared because something is wrong (not for want of a revision)."""
        return any(drift.failed for drift in self.drifts)


@dataclass(frozen=True)
class ReplicaTablesReport:
    tables: list[PublicationTables]

    @property
    def incomplete(self) -> bool:
        """Whether a publication leaves out a ConsDB table, or could not be compared."""
        return any(check.missing or check.detail for check in self.tables)


@dataclass(frozen=True)
class AuditTrail:
    environment: str | None
    records: list[AuditRecord]


@dataclass(frozen=True)
class LogsReport:
    environment: str
    instrument: str
    excerpt: LogExcerpt


@dataclass(frozen=True)
class RequestOpened:
    """A change asked in Slack: posted for approvers."""

    view: RequestView


@dataclass(frozen=True)
class ApprovalNeeded:
    """A change asked in the terminal without ``--yes``: nothing was done; this is what would be."""

    kind: str
    environment: str
    would: str
    plans: list[SchemaPlan] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NothingToDo:
    environment: str


@dataclass(frozen=True)
class ChangeDone:
    """A change approved with ``--yes`` in the terminal, and run: how it ended."""

    finished: Finished
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.finished.view.state is RequestState.SUCCEEDED


@dataclass(frozen=True)
class BookingList:
    environment: str | None
    views: list[BookingView]
    at: datetime


class BookingChange(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    EXTENDED = "extended"


@dataclass(frozen=True)
class BookingChanged:
    view: BookingView
    change: BookingChange


@dataclass(frozen=True)
class Generated:
    message: str
    revisions: list[GeneratedRevision]


@dataclass(frozen=True)
class TicketReport:
    overview: TicketOverview


@dataclass(frozen=True)
class DataReport:
    """``check data``: the exposures written since the latest migration, and the new columns they fill."""

    check: DataCheck


@dataclass(frozen=True)
class TapReport:
    """``check tap``: each schema's TAP_SCHEMA columns against the Felis model at its revision."""

    environment: str
    checks: list[TapCheck]

    @property
    def ok(self) -> bool:
        """TAP is current for every schema migrated here (a schema with no revision has nothing to serve)."""
        return all(check.current or check.unmigrated for check in self.checks)


@dataclass(frozen=True)
class BoardReport:
    """``board TICKET``: the rollout board as it stands."""

    board: Board


@dataclass(frozen=True)
class StepTicked:
    """``done TICKET STEP``: the step ticked (or ticked already), and the board after it."""

    ticked: Ticked


Result = (
    StatusReport | HistoryReport | PlanReport | DriftReport | ReplicaTablesReport | AuditTrail | LogsReport
    | RequestOpened | ApprovalNeeded | NothingToDo | ChangeDone | BookingList | BookingChanged | Generated
    | TicketReport | DataReport | TapReport | BoardReport | StepTicked
)  # fmt: skip
