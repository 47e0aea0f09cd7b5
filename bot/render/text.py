"""Pure renderers of engine results as terminal text (Slack's Block Kit lives beside, in blocks).

Plain functions from results to strings; nothing here reads a database or prints.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.engine.prepare import PrepareResult
from bot.engine.service import ChangeResult, HistoryEntry, Outcome, SchemaOutcome, SchemaPlan
from bot.engine.status import SchemaStatus, State
from bot.engine.tree import revisions_text
from bot.errors import ConsdbBotError
from bot.when import local

if TYPE_CHECKING:
    from bot.clients.kube import LogExcerpt, RestartResult
    from bot.engine.drift import SchemaDrift
    from bot.engine.generate import GeneratedRevision
    from bot.services.bookings import BookingView
    from bot.services.changes import RequestResult
    from bot.services.ticket_overview import TicketOverview
    from bot.store.models import AuditRecord


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [headers, ["-" * width for width in widths], *rows]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
                     for line in lines)  # fmt: skip


def status_text(statuses: Sequence[SchemaStatus], *, verbose: bool = False) -> str:
    """A row per environment and schema; an environment that cannot be read gets one row."""
    rows: list[list[str]] = []
    for status in statuses:
        whole_environment = status.state in (State.UNREACHABLE, State.NOT_CONFIGURED)
        if whole_environment and [status.environment, "(all)", status.summary] in rows:
            continue
        rows.append([status.environment, "(all)" if whole_environment else status.schema, status.summary])
    text = table(["ENVIRONMENT", "SCHEMA", "REVISION"], rows)
    if verbose:
        details = [
            f"{status.environment}/{status.schema} {info.short}: {info.message}\n    {info.path}"
            for status in statuses
            for info in status.current_revisions
        ]
        text += "\n\n" + "\n".join(details) if details else ""
    return text


def history_text(schema: str, entries: Sequence[HistoryEntry], *, verbose: bool = False) -> str:
    lines = [f"{schema}: {len(entries)} revision(s), newest first"]
    for entry in entries:
        down = revisions_text(entry.revision.down_revisions)
        marks = " (head)" if entry.is_head else ""
        where = f"  ← {', '.join(entry.environments)}" if entry.environments else ""
        lines.append(f"{down} -> {entry.revision.short}{marks}  {entry.revision.message}{where}")
        if verbose:
            lines.append(f"    {entry.revision.path}")
    return "\n".join(lines)


def plan_text(plans: Sequence[SchemaPlan], *, show_sql: bool = False) -> str:
    blocks = []
    for plan in plans:
        head = f"{plan.environment}/{plan.schema}: {plan.direction.value} {plan.range_text}"
        if not plan.revisions and plan.direction.value != "stamp":
            blocks.append(f"{head}: nothing to do")
            continue
        if plan.note:
            blocks.append(f"{plan.environment}/{plan.schema}: {plan.note}")
            continue
        lines = [head]
        lines += [f"  {info.short}  {info.message}" for info in plan.revisions]
        lines += [f"  warning [{warning.rule}] {warning.table}: {warning.message}" for warning in plan.warnings]
        if show_sql and plan.sql:
            lines += ["", plan.sql.rstrip()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def drift_text(drifts: Sequence[SchemaDrift]) -> str:
    lines = []
    for drift in drifts:
        at = ", ".join(revision[:12] for revision in drift.revisions)
        if drift.detail:
            lines.append(f"{drift.environment}/{drift.schema}: not compared ({drift.detail})")
        elif not drift.differences:
            lines.append(f"{drift.environment}/{drift.schema}: matches its revision {at}")
        else:
            lines.append(f"{drift.environment}/{drift.schema}: {len(drift.differences)} difference(s) from {at}")
            lines += [f"  - {difference}" for difference in drift.differences]
    return "\n".join(lines)


def outcome_text(outcome: SchemaOutcome) -> str:
    now = revisions_text(outcome.recorded_after)
    note = [f"  {outcome.note}"] if outcome.note else []
    match outcome.outcome:
        case Outcome.SUCCEEDED:
            done = f"{outcome.schema}: {outcome.plan.direction.value} done in {outcome.seconds:.1f} s, now at {now}"
            return "\n".join([done, *note])
        case Outcome.UNCHANGED:
            return f"{outcome.schema}: already at {now}, nothing to do"
        case Outcome.NOT_RUN:
            return f"{outcome.schema}: not started (an earlier schema failed); still at {now}"
        case Outcome.NO_MODEL:
            return f"{outcome.schema}: {outcome.error}"
    where = f"at revision {outcome.failed_step}" if outcome.failed_step else "before any revision ran"
    if set(outcome.recorded_after) == set(outcome.plan.current):
        after = f"  rolled back; {outcome.schema} is still at {now}"
    else:
        after = (
            f"  not rolled back: {outcome.schema} now records {now}"
            f" (it was at {revisions_text(outcome.plan.current)}; the target was {revisions_text(outcome.plan.target)})"
        )
    lines = [f"{outcome.schema}: FAILED {where}: {outcome.error}", after, *note]
    lines += [f"  | {line}" for line in outcome.log_tail[-8:]]
    return "\n".join(lines)


def change_text(result: ChangeResult) -> str:
    verdict = "done" if result.ok else "FAILED"
    return "\n".join(
        [f"{result.direction.value} at {result.environment}: {verdict}", *map(outcome_text, result.outcomes)]
    )


def audit_text(records: Sequence[AuditRecord]) -> str:
    """Newest first: when, where, what, who, and what it was."""
    if not records:
        return "no audit records yet"
    return "\n".join(
        f"{record.at:%Y-%m-%d %H:%M:%S} {record.environment or '-':<9} {record.action:<16}"
        f" {record.actor}: {record.summary}"
        for record in records
    )


def result_text(result: RequestResult) -> str:
    """How a change request's run ended, whatever it ran."""
    if isinstance(result, ChangeResult):
        return change_text(result)
    if isinstance(result, PrepareResult):
        return prepare_text(result)
    return restart_text(result)


def prepare_text(result: PrepareResult) -> str:
    if not result.created:
        return f"prepare at {result.environment}: nothing was missing for {', '.join(result.schemas)}"
    return f"prepare at {result.environment}: created {result.created.text()}"


def restart_text(result: RestartResult) -> str:
    verdict = "restarted" if result.ok else "FAILED to restart"
    lines = [f"{result.deployment} in {result.namespace}: {verdict} in {result.seconds:.0f} s ({result.message})"]
    if result.events:
        lines += ["events:", *(f"  {event}" for event in result.events)]
    for pod, tail in result.log_tails.items():
        lines += [f"last lines of {pod}:", *(f"  | {line}" for line in tail)]
    return "\n".join(lines)


def excerpt_text(excerpt: LogExcerpt) -> str:
    """Problems first, then the exposures committed, then the last lines."""
    pods = ", ".join(excerpt.pods) or "no pods"
    lines = [f"{excerpt.deployment} in {excerpt.namespace} ({pods})"]
    lines.append(f"{len(excerpt.problems)} error or warning line(s)" + (":" if excerpt.problems else ""))
    lines += [f"  {line}" for line in excerpt.problems[-20:]]
    last = f", the last {excerpt.last_exposure} (day_obs/seq_num)" if excerpt.last_exposure else ""
    lines.append(f"{excerpt.committed} exposure(s) committed to exposure and ccdexposure{last}")
    lines += ["last lines:", *(f"  {line}" for line in excerpt.tail)]
    if excerpt.truncated:
        lines.append("(the log was cut at its byte limit: ask for fewer --lines to see the newest ones)")
    return "\n".join(lines)


def error_text(error: ConsdbBotError) -> str:
    return f"error: {error}"


def to_json(value: Any) -> str:
    """Results as JSON, for ``--json``."""
    return json.dumps(value, indent=2, default=_plain)


def _plain(value: Any) -> Any:
    """What the json module cannot write by itself, as plain values it can."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        return data | {name: getattr(value, name) for name in _DERIVED if hasattr(type(value), name)}
    if hasattr(value, "__table__"):  # a row of the bot's state
        return {column.key: getattr(value, column.key) for column in value.__table__.columns}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (Path, datetime)):
        return value.isoformat() if isinstance(value, datetime) else str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


_DERIVED = ("summary", "sql_digest", "range_text", "ok")


def bookings_text(views: Sequence[BookingView], *, at: datetime) -> str:
    """A row per booking, on each test stand's own clock; ``now`` marks the one under way."""
    if not views:
        return "no bookings under way or to come"
    rows = [
        [f"#{view.id}", view.environment, view.span + ("  (now)" if view.holds(at) else ""), view.booker,
         view.ticket or "", view.note]
        for view in views
    ]  # fmt: skip
    return table(["BOOKING", "TEST STAND", "WHEN", "BOOKED BY", "TICKET", "NOTE"], rows)


def booking_text(view: BookingView, *, done: str) -> str:
    """What happened to one booking, for the one who did it."""
    extras = "".join(f", {part}" for part in (view.ticket, view.note) if part)
    jira = f"\nJira: {view.jira}" if view.jira else ""
    return f"booking #{view.id} of {view.environment} {done}: {view.span} by {view.booker}{extras}{jira}"


def ticket_text(overview: TicketOverview) -> str:
    """Where a ticket's change stands in each environment, what happened, its bookings and comments."""
    ticket = overview.ticket
    if ticket.unchecked:
        lines = [f"{ticket.key} (Jira not checked: {ticket.unchecked})"]
    else:
        lines = [f"{ticket.key}  {ticket.summary}  ({ticket.status})", ticket.url]
    standing = [
        [env, happening.state, happening.what, local(happening.at, ZoneInfo(happening.timezone)), happening.schemas]
        if happening else [env, "nothing yet", "", "", ""]
        for env, happening in overview.standing.items()
    ]  # fmt: skip
    lines += ["", "Where it stands:", table(["ENV", "STATE", "LATEST", "WHEN", "SCHEMAS"], standing)]
    if overview.happenings:
        lines += ["", "What happened, newest first:"]
        lines += [
            f"  {local(h.at, ZoneInfo(h.timezone))}  {h.environment}  {h.what} {h.state}: {h.schemas or '-'}; {h.who}"
            for h in overview.happenings
        ]
    if overview.bookings:
        lines += ["", "Bookings:"]
        lines += [
            f"  #{view.id} {view.environment} {view.span} by {view.booker}"
            + (f" (cancelled by {view.cancelled_by})" if view.cancelled_by else "")
            + (f": {view.note}" if view.note else "")
            for view in overview.bookings
        ]
    tally = overview.comments
    comments = f"{tally.posted} posted"
    if tally.pending:
        next_try = f", next try {tally.next_try:%Y-%m-%d %H:%M:%S} UTC" if tally.next_try else ""
        comments += f", {tally.pending} pending ({tally.last_error or 'being sent'}{next_try})"
    if tally.given_up:
        comments += f", {tally.given_up} given up"
    lines += ["", f"Jira comments by the bot: {comments}"]
    return "\n".join(lines)


def generated_text(results: Sequence[GeneratedRevision]) -> str:
    """Per schema: the file written and what it does, proven and linted; or that nothing changed."""
    lines = []
    for result in results:
        if result.note:
            lines.append(f"{result.schema}: {result.note}")
            continue
        if result.path is None:
            lines.append(f"{result.schema}: no change in the model, no file")
            continue
        after = f"after {result.down_revision[:12]}" if result.down_revision else "the first revision"
        lines.append(f"{result.schema}: wrote {result.path} ({result.revision}, {after})")
        lines += [f"  {operation}" for operation in result.operations]
        if result.renamed:
            lines.append(f"  renamed as confirmed: {', '.join(result.renamed)} (the data stays)")
        if result.views:
            lines.append(f"  views {', '.join(result.views)} dropped and made again with the model's columns")
        lines.append("  proven in a scratch database: applied, nothing left to do; undone, as it was")
        lines += [f"  lint [{w.rule}] {w.table}: {w.message}" for w in result.warnings]
    return "\n".join(lines)
