"""Slack's renderer of :mod:`bot.application` results: what to post for each answer.

A text answer goes in the channel as a message, or as a file when it is too long for one; a change
request answers the one who typed only when it is posted in another channel (the request itself is
the answer); a booking changed is told to the one who typed (the channels hear of it from the
scheduler).
"""

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
from bot.render import blocks
from bot.render.text import (
    audit_text,
    booking_text,
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

BOOKING_DONE = {
    BookingChange.BOOKED: "booked; the channels hear of it now, before it starts, at its start and at its end",
    BookingChange.CANCELLED: "cancelled",
    BookingChange.EXTENDED: "extended",
}


@dataclass(frozen=True)
class Upload:
    """A file: in the channel, or in the thread of the answer's message."""

    filename: str
    content: str
    title: str


@dataclass(frozen=True)
class SlackAnswer:
    """What to post: a message in the channel (``message``), or the same as a file (``upload``), files
    in the thread of the message (``thread_files``), and a note only the one who typed sees
    (``private``, Block Kit ``text``)."""

    message: dict[str, Any] | None = None
    upload: Upload | None = None
    thread_files: list[Upload] = field(default_factory=list)
    private: str | None = None


def answer(result: Result, *, channel: str, person: Callable[[str], str] = str) -> SlackAnswer:  # noqa: PLR0911, PLR0912
    """``channel`` is where the command was typed. ``person`` names a Slack user, for text in a code block,
    where Slack shows no mention as a name (and a mention would notify the one named each time)."""
    match result:
        case StatusReport():
            return _status(result)
        case HistoryReport():
            history = history_text(result.schema, result.entries, verbose=result.verbose)
            return _text(f"History of {result.schema}", history)
        case PlanReport():
            return _text(f"Plan for {result.environment}", plan_text(result.plans, show_sql=result.show_sql))
        case DriftReport():
            return _text(f"Drift at {result.environment}", drift_text(result.drifts))
        case ReplicaTablesReport():
            return _text("Replica tables", replica_tables_text(result.tables))
        case AuditTrail():
            return _text("Audit trail", audit_text(result.records, who=person))
        case LogsReport():
            return _text(f"hinfo {result.instrument} at {result.environment}", excerpt_text(result.excerpt))
        case RequestOpened():  # the request is the answer; said only when it is posted elsewhere
            view = result.view
            elsewhere = view.channel is not None and view.channel != channel
            return SlackAnswer(private=f"Request #{view.id} is posted in <#{view.channel}>." if elsewhere else None)
        case BookingList():
            where = f"at {result.environment}" if result.environment else "anywhere"
            return SlackAnswer(message=blocks.bookings_message(result.views, where=where))
        case BookingChanged():
            done = blocks.shown(booking_text(result.view, done=BOOKING_DONE[result.change]))
            return SlackAnswer(private=f":white_check_mark: {done}")
        case Generated():
            return _generated(result)
        case TicketReport():
            return _text(f"Ticket {result.overview.ticket.key}", ticket_text(result.overview, who=person))
        case DataReport():
            return SlackAnswer(message=blocks.data_message(result.check))
        case TapReport():
            return _text(f"TAP at {result.environment}", tap_text(result.environment, result.checks))
        case BoardReport():
            return SlackAnswer(message=blocks.board_message(result.board))
        case StepTicked():
            return SlackAnswer(private=_ticked(result))
        case ApprovalNeeded() | NothingToDo() | ChangeDone():
            raise ValueError(f"{type(result).__name__} is the terminal's answer: Slack asks approvers instead")


def _status(result: StatusReport) -> SlackAnswer:
    """The matrix (or the verbose text), then each replica's lines; as a file when too long."""
    replicas = replicas_text(result.replicas)
    if result.verbose:
        text = status_text(result.statuses, verbose=True)
        return _text("ConsDB status", f"{text}\n\n{replicas}" if replicas else text)
    matrix = blocks.status_matrix(result.statuses)
    if blocks.too_long(matrix) or blocks.too_long(replicas):
        return _text("ConsDB status", f"{matrix}\n\n{replicas}" if replicas else matrix)
    shown = blocks.status_blocks(result.statuses)
    if replicas:
        shown += blocks.preformatted(replicas, title="Replicas")
    return SlackAnswer(message=blocks.message("ConsDB status", shown))


def _text(title: str, text: str) -> SlackAnswer:
    """A text answer in the channel; as a file when it is too long for a message."""
    if blocks.too_long(text):
        filename = f"{title.lower().replace(' ', '-')}.txt"
        return SlackAnswer(upload=Upload(filename, text, title))
    return SlackAnswer(message=blocks.text_message(title, text))


def _generated(result: Generated) -> SlackAnswer:
    """The new revisions as files in the thread of a summary."""
    title = f"Generated migrations: {result.message}"
    files = [
        Upload(revision.path.name, revision.text, f"{revision.schema}: {revision.path}")
        for revision in result.revisions
        if revision.path is not None
    ]
    summary = blocks.message(blocks.escape(title), blocks.preformatted(generated_text(result.revisions)))
    return SlackAnswer(message=summary, thread_files=files)


def _ticked(result: StepTicked) -> str:
    """To the one who ticked: what, and what comes next (the live board shows it to everyone)."""
    ticked = result.ticked
    board, step = ticked.board, ticked.step
    key = blocks.escape(board.ticket.key)
    if ticked.already:
        return f":information_source: `{step.key}` of {key} was ticked already, by {blocks.shown(step.who or '')}."
    after = f" Next: `{blocks.escape(blocks.slack_command(board.next))}`." if board.next else " Every step is done."
    return f":white_check_mark: `{step.key}` of {key} is ticked: {blocks.escape(step.title)}.{after}"
