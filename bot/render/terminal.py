"""The terminal's renderer of :mod:`bot.application` results: the answer's text (or its JSON value),
notes for stderr, and the exit status (0 done, 1 failed or refused)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.application.results import (
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
from bot.errors import ConfigError, ConsdbBotError, Refused, UsageError
from bot.render.text import (
    audit_text,
    board_text,
    booking_text,
    bookings_text,
    data_text,
    drift_text,
    excerpt_text,
    generated_text,
    history_text,
    plan_text,
    replica_tables_text,
    replicas_text,
    status_text,
    tap_text,
    ticket_text,
)
from bot.services.results_text import result_text

BOOKING_DONE = {
    BookingChange.BOOKED: "booked (the bot announces it in Slack)",
    BookingChange.CANCELLED: "cancelled",
    BookingChange.EXTENDED: "extended",
}


@dataclass(frozen=True)
class TerminalAnswer:
    text: str
    value: Any
    """What ``--json`` writes."""
    notes: list[str] = field(default_factory=list)
    refused: Refused | None = None
    """Why nothing was done, said after the answer (as an error, exit status 1)."""
    failure: str | None = None
    """Why a change failed before it had a result (the bot's error, with what to do), for stderr."""
    exit_status: int = 0


def error_value(error: ConsdbBotError, *, exit_status: int | None = None) -> dict[str, Any]:
    """An error as ``--json`` writes it: ``error``, ``hint`` and ``exit`` (the exit status), and the right
    form of a wrong command line (``usage``) or each problem of a wrong configuration (``problems``)."""
    value: dict[str, Any] = {
        "error": error.message,
        "hint": error.hint,
        "exit": error.exit_code if exit_status is None else exit_status,
    }
    if isinstance(error, UsageError):
        value["usage"] = error.usage
    if isinstance(error, ConfigError):
        value["problems"] = error.problems
    return value


def name_and_id(person: Callable[[str], str]) -> Callable[[str], str]:
    """People as the terminal names them: ``Grace Hopper (U0GRACE001)``, the id alone where ``person``
    knows no name for it."""

    def who(user: str) -> str:
        name = person(user)
        return f"{name} ({user})" if name != user else user

    return who


def answer(result: Result, *, person: Callable[[str], str] = str) -> TerminalAnswer:  # noqa: PLR0911, PLR0912
    """``person``: a person's name for a Slack user id, where one can be had (else the id)."""
    who = name_and_id(person)
    match result:
        case StatusReport():
            text = status_text(result.statuses, verbose=result.verbose)
            if not result.replicas:
                return TerminalAnswer(text, result.statuses)
            value = {"schemas": result.statuses, "replicas": result.replicas}
            return TerminalAnswer(f"{text}\n\n{replicas_text(result.replicas)}", value)
        case HistoryReport():
            return TerminalAnswer(history_text(result.schema, result.entries, verbose=result.verbose), result.entries)
        case PlanReport():
            return TerminalAnswer(plan_text(result.plans, show_sql=result.show_sql), result.plans)
        case DriftReport():
            failed = result.drifted or result.failed  # nothing recorded or no model to compare with is said, not failed
            return TerminalAnswer(drift_text(result.drifts), result.drifts, exit_status=int(failed))
        case ReplicaTablesReport():
            text = replica_tables_text(result.tables)
            return TerminalAnswer(text, result.tables, exit_status=int(result.incomplete))
        case AuditTrail():
            return TerminalAnswer(audit_text(result.records, who=who), result.records)
        case LogsReport():
            return TerminalAnswer(excerpt_text(result.excerpt), result.excerpt)
        case NothingToDo():
            text = f"nothing to do at {result.environment}: every schema asked for is already there"
            return TerminalAnswer(text, {"environment": result.environment, "nothing_to_do": True})
        case ApprovalNeeded():
            return _approval_needed(result)
        case ChangeDone():
            finished = result.finished
            if finished.result is None:  # refused or failed before it had a result: an error, said as one
                said = finished.note or f"request #{finished.view.id} is {finished.view.state}"
                value = {"request": finished.view.id, "state": finished.view.state, "error": said}
                return TerminalAnswer("", value, notes=result.notes, failure=said, exit_status=1)
            text = result_text(finished.result)
            return TerminalAnswer(text, finished.result, notes=result.notes, exit_status=0 if result.ok else 1)
        case RequestOpened():
            return TerminalAnswer(f"request #{result.view.id} is posted for approval", result.view)
        case BookingList():
            return TerminalAnswer(bookings_text(result.views, at=result.at, who=who), result.views)
        case BookingChanged():
            text = booking_text(result.view, done=BOOKING_DONE[result.change], who=who)
            return TerminalAnswer(text, result.view)
        case Generated():
            return TerminalAnswer(generated_text(result.revisions), result.revisions)
        case TicketReport():
            return TerminalAnswer(ticket_text(result.overview, who=who), result.overview)
        case DataReport():
            return TerminalAnswer(data_text(result.check), result.check, exit_status=0 if result.check.ok else 1)
        case TapReport():
            value = {"environment": result.environment, "ok": result.ok, "schemas": result.checks}
            return TerminalAnswer(tap_text(result.environment, result.checks), value, exit_status=int(not result.ok))
        case BoardReport():
            return TerminalAnswer(board_text(result.board, who=who), result.board)
        case StepTicked():
            ticked = result.ticked
            step = ticked.step
            said = (
                f"{step.key} was ticked already, by {who(step.who or '')}"
                if ticked.already
                else f"{step.key} ticked: {step.title}"
            )
            value = {"ticked": step.key, "already": ticked.already, "board": ticked.board}
            return TerminalAnswer(f"{ticked.board.ticket.key}: {said}\n\n{board_text(ticked.board, who=who)}", value)


def _approval_needed(result: ApprovalNeeded) -> TerminalAnswer:
    """Nothing was done: the plan (for a migration), and how to go on."""
    nothing = {"restart": "nothing was restarted", "prepare": "nothing was created"}.get(
        result.kind, "nothing was changed"
    )
    if result.plans:
        refused = Refused(
            f"{nothing}: changes from the terminal need --yes", hint="Read the plan above, then add --yes."
        )
    else:
        refused = Refused(f"{nothing}: this would {result.would}", hint=f"Add --yes to {result.kind} it.")
    text = plan_text(result.plans) if result.plans else ""
    return TerminalAnswer(text, result.plans, notes=result.notes, refused=refused, exit_status=1)
