"""Pure renderers of engine results as terminal text (Slack's Block Kit lives beside, in blocks).

Plain functions from results to strings; nothing here reads a database or prints.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.engine.replication import MARKER
from bot.engine.rollout import STEP_WORDS
from bot.engine.service import HistoryEntry, SchemaPlan
from bot.engine.status import SchemaStatus, State
from bot.engine.tree import revisions_text
from bot.errors import ConsdbBotError
from bot.services.board import Board, NextCommand, StepState
from bot.services.changes.events import (
    COLUMN_COMPLAINT,
    DataVerdict,
    HinfoUnreadable,
    HinfoVerdict,
    MigrationStep,
    PqserverChecked,
    RequestEvent,
    RestartNotDone,
    RestartStep,
    RolloutProgress,
    RolloutResumed,
)
from bot.services.results_text import pqserver_text, resumed_text, step_text
from bot.services.tickets import CommentFate, CommentNews
from bot.store.models import OPEN_STATES
from bot.when import length, local, local_clock
from bot.words import plural

if TYPE_CHECKING:
    from bot.clients.kube import LogExcerpt
    from bot.engine.drift import SchemaDrift
    from bot.engine.generate import GeneratedRevision
    from bot.services.bookings import BookingView
    from bot.services.changes.data import DataCheck, NewColumn
    from bot.services.replica_watch import ReplicaAlert
    from bot.services.replicas import PublicationTables, ReplicaStatus
    from bot.services.tap import TapCheck
    from bot.services.ticket_overview import TicketOverview
    from bot.store.models import AuditRecord


SLACK_USER_ID = re.compile(r"(?<![<@\w])([UW][A-Z0-9]{8,})\b")
"""A Slack user id in a sentence (not one already in a mention)."""


def named(text: str, who: Callable[[str], str]) -> str:
    """``text`` with each Slack user id in it as ``who`` names the person (each surface its own way)."""
    return SLACK_USER_ID.sub(lambda found: who(found.group(1)), text)


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


def replicas_text(replicas: Sequence[ReplicaStatus]) -> str:
    """A few lines per replica environment: its subscription, lag, apply errors and revisions."""
    return "\n\n".join(_replica_lines(replica) for replica in replicas)


def _replica_lines(replica: ReplicaStatus) -> str:
    lines = [
        f"replica {replica.environment}: subscription {replica.subscription}"
        f" to {replica.of}'s publication {replica.publication}"
    ]
    if replica.detail:
        lines.append(f"  not read: {replica.detail}")
    else:
        lines.append(f"  subscription: {_subscription_state(replica)}")
        lines.append(f"  lag: {_lag(replica)}")
        lines.append(f"  apply errors: {_apply_errors(replica)}")
    lines += [f"  problem: {problem}" for problem in replica.problems]
    lines += _revision_lines(replica)
    return "\n".join(lines)


def _subscription_state(replica: ReplicaStatus) -> str:
    if replica.enabled:
        return "enabled, worker running" if replica.worker_running else "enabled, worker not running"
    since = f"{replica.disabled_since:%Y-%m-%d %H:%M:%S %Z}" if replica.disabled_since else "unknown"
    if replica.disabled_seen:
        return f"disabled outside the bot (seen disabled since {since})"
    return f"disabled (since {since})"


def _lag(replica: ReplicaStatus) -> str:
    if replica.publisher_detail:
        return f"unknown: {replica.publisher_detail}"
    if replica.lag_bytes is None:
        return "unknown: no replication slot"
    said = f"{_size(replica.lag_bytes)} not yet confirmed by the replica"
    if replica.replay_lag_seconds is not None:
        said += f", replay {replica.replay_lag_seconds:.1f} s"
    if replica.retained_bytes is not None:
        said += f"; {replica.of} keeps {_size(replica.retained_bytes)} of WAL for it"
    return said


def _size(count: int) -> str:
    size, unit = float(count), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"


def _apply_errors(replica: ReplicaStatus) -> str:
    if replica.apply_errors is None:
        return "not counted (PostgreSQL 15 counts them)"
    since = f" since {replica.errors_since:%Y-%m-%d %H:%M:%S %Z}" if replica.errors_since else ""
    if not replica.apply_errors:
        return f"none{since}"
    return f"{replica.apply_errors}{since}; the last one's message is in {replica.environment}'s server log"


def _revision_lines(replica: ReplicaStatus) -> list[str]:
    """One line when both sides agree; else a line per schema that differs or was not compared."""
    if not replica.revisions:
        return [f"  revisions: no schema kept at both {replica.of} and {replica.environment} was shown"]
    lines = []
    for revision in replica.revisions:
        if revision.agree is None:
            lines.append(f"  revisions of {revision.schema}: not compared ({revision.detail})")
        elif not revision.agree:
            lines.append(
                f"  revisions of {revision.schema} differ: {replica.of} {_at(revision.publisher)},"
                f" {replica.environment} {_at(revision.replica)}"
            )
    if replica.agreeing and not lines:
        return [f"  revisions: {replica.of} and {replica.environment} agree on every schema ({len(replica.revisions)})"]
    return lines


def _at(revisions: Sequence[str]) -> str:
    return ", ".join(revision[:12] for revision in revisions) or "none"


def replica_alert_lines(alert: ReplicaAlert) -> list[str]:
    """A subscription disabled too long, in plain sentences (Slack's message marks them up): where, since
    when and by whom, what waits at the publisher meanwhile, and what to do (the first is the headline)."""
    disabled = alert.disabled
    since = local(disabled.since, alert.zone)
    if disabled.by is None:
        who = f"disabled outside the bot; first seen disabled {since}"
    else:
        request = f" for request #{disabled.request_id}" if disabled.request_id else ""
        who = f"disabled by {disabled.by}{request} at {since}"
    return [
        f"Subscription {alert.subscription} at {alert.environment} has been disabled for"
        f" {length((alert.at - disabled.since).total_seconds())} ({who}).",
        _held(alert),
        *_ways_on(alert),
        f"I say this again every {length(alert.every_minutes * 60)} while it stays disabled.",
    ]


def _held(alert: ReplicaAlert) -> str:
    """What the publisher keeps for the replica while its subscription is disabled."""
    if alert.slot is None:
        return f"It has no replication slot: rows written at {alert.of} meanwhile are not kept for it."
    kept = (
        f"{_size(alert.retained_bytes)} of WAL kept for it so far"
        if alert.retained_bytes is not None
        else f"how much could not be read: {alert.slot_detail}"
    )
    return (
        f"Rows written at {alert.of} meanwhile wait there, in its replication slot {alert.slot} ({kept}),"
        f" and reach {alert.environment} only once it is enabled."
    )


def _ways_on(alert: ReplicaAlert) -> list[str]:
    """The request it was disabled for, if any, says what to do; else enabling it is."""
    name, request = alert.subscription, alert.request
    enable = (
        f"enable it at {alert.environment}: `ALTER SUBSCRIPTION {name} ENABLE`, then"
        f" `ALTER SUBSCRIPTION {name} REFRESH PUBLICATION`"
    )
    if request is None:
        return [f"If nothing needs it disabled, {enable}."]
    if alert.stuck:
        step = STEP_WORDS[alert.stuck]
        return [f"Rollout request #{request.id} stopped half way ({step}):", *(request.note.splitlines() or [enable])]
    if request.state in OPEN_STATES:
        return [f"Request #{request.id} is {request.state}: it enables the subscription when it ends (see its thread)."]
    note = f": {request.note}" if request.note else "."
    return [f"Request #{request.id} disabled it and ended {request.state}{note}", f"Once that is settled, {enable}."]


def replica_tables_text(checks: Sequence[PublicationTables]) -> str:
    """Per replica, each table of the publisher's ConsDB schemas: published or missing (a warning)."""
    blocks = []
    for check in checks:
        head = f"{check.environment}: publication {check.publication} at {check.of}"
        if check.detail:
            blocks.append(f"{head}: not compared ({check.detail})")
            continue
        rows = [[str(table), "published" if table in check.published else "MISSING"] for table in check.consdb]
        rows += [[str(table), "published (not ConsDB's)"] for table in check.others]
        if check.marker:
            rows.append([str(MARKER), "published (the bot's marker)"])
        lines = [f"{head}, against the tables of {', '.join(check.schemas) or 'no cdb_* schema'}"]
        lines.append(table(["TABLE", "PUBLICATION"], rows) if rows else "no tables")
        if check.missing:
            lines.append(
                f"warning: {plural(len(check.missing), 'ConsDB table')} missing from {check.publication}:"
                f" {', '.join(map(str, check.missing))}. Rows written to them never reach {check.environment};"
                " add them to the publication, and the runbook's rebuild truncate list must follow it."
            )
        else:
            lines.append(f"every ConsDB table at {check.of} is published")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def history_text(schema: str, entries: Sequence[HistoryEntry], *, verbose: bool = False) -> str:
    lines = [f"{schema}: {plural(len(entries), 'revision')}, newest first"]
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
        lines += [f"  {warning.kind} [{warning.rule}] {warning.table}: {warning.message}" for warning in plan.warnings]
        if show_sql and plan.sql:
            lines += ["", plan.sql.rstrip()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def drift_text(drifts: Sequence[SchemaDrift]) -> str:
    lines = []
    for drift in drifts:
        at = ", ".join(revision[:12] for revision in drift.revisions)
        if drift.detail:
            lines.append(f"{drift.environment}/{drift.schema}: not compared: {drift.detail}")
        elif not drift.differences:
            lines.append(f"{drift.environment}/{drift.schema}: matches its revision {at}")
        else:
            lines.append(
                f"{drift.environment}/{drift.schema}: {plural(len(drift.differences), 'difference')} from {at}"
            )
            lines += [f"  - {difference}" for difference in drift.differences]
    return "\n".join([*lines, _drift_verdict(drifts)] if drifts else lines)


def _drift_verdict(drifts: Sequence[SchemaDrift]) -> str:
    """The line under the schemas: whether anything differs, and which were not compared, and whether
    that is a failure (unreachable, a revision the scripts lack) or only nothing to compare."""
    differing = [drift.schema for drift in drifts if drift.differences]
    compared = [drift.schema for drift in drifts if not drift.detail]
    failed = [drift.schema for drift in drifts if drift.failed]
    skipped = [drift.schema for drift in drifts if drift.detail and not drift.failed]
    if differing:
        said = [f"differs: {', '.join(differing)}"]
    else:
        said = [f"no differences found in {', '.join(compared)}" if compared else "nothing was compared"]
    if failed:
        said.append(f"could not be compared: {', '.join(failed)}")
    if skipped:
        said.append(f"not compared (each line says why): {', '.join(skipped)}")
    return "; ".join(said)


TAP_IS_CURRENT = "TAP is current"
SHOWN_TEXT = 60
"""Characters of a changed description (or other text) shown."""


def tap_text(environment: str, checks: Sequence[TapCheck]) -> str:
    """Per schema: TAP is current, or what it lacks, has beyond the model and says otherwise."""
    lines = []
    for check in checks:
        where = f"{environment}/{check.schema}" + (f" ({check.tap_schema})" if check.tap_schema != check.schema else "")
        differences = check.differences
        if differences is None:
            said = "not migrated here, so nothing to compare" if check.unmigrated else "not compared"
            lines.append(f"{where}: {said} ({check.detail})")
            continue
        where += f" at {revisions_text(check.revisions)}"
        model = "the tree replayed to it (behind head: its tables, by name)" if check.names_only else "the Felis model"
        if differences.none:
            lines.append(f"{where}: {TAP_IS_CURRENT} ({plural(differences.model_columns, 'column')}, as in {model})")
            continue
        if not differences.tap_columns:
            lines.append(f"{where}: TAP_SCHEMA has none of its {plural(differences.model_columns, 'column')} ({model})")
            continue
        counts = [
            f"{plural(count, 'column')} {word}"
            for count, word in (
                (len(differences.missing) + sum(differences.missing_tables.values()), "missing"),
                (len(differences.extra) + sum(differences.extra_tables.values()), "extra"),
                (len({change.column for change in differences.changed}), "changed"),
            )
            if count
        ]
        lines.append(f"{where}: TAP is not current: {', '.join(counts)}, against {model}")
        lines += [
            f"  missing  table {table} ({plural(count, 'column')})"
            for table, count in differences.missing_tables.items()
        ]
        lines += [f"  missing  {column}" for column in differences.missing]
        lines += [
            f"  extra    table {table} ({plural(count, 'column')})" for table, count in differences.extra_tables.items()
        ]
        lines += [f"  extra    {column}" for column in differences.extra]
        lines += [
            f"  changed  {change.column}: {change.attribute} {_shown(change.tap)} in TAP, {_shown(change.model)}"
            " in the model"
            for change in differences.changed
        ]
    return "\n".join(lines) or f"{environment}: no schemas to compare"


def _shown(value: str | int | None) -> str:
    if value is None:
        return "none"
    if isinstance(value, int):
        return str(value)
    text = " ".join(value.split())
    return repr(text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…")


def audit_text(records: Sequence[AuditRecord], *, who: Callable[[str], str] = str) -> str:
    """Newest first: when, where, what, who (``who`` names people), and what it was. A summary of several
    lines (where a failed rollout left each side) goes on indented, so that every record, and only a record,
    starts with its time."""
    if not records:
        return "no audit records yet"
    return "\n".join(
        f"{record.at:%Y-%m-%d %H:%M:%S} {record.environment or '-':<9} {record.action:<16}"
        f" {named(record.actor, who)}: {_continued(named(record.summary, who))}"
        for record in records
    )


def _continued(summary: str) -> str:
    """A summary's later lines, indented past the time column."""
    return summary.replace("\n", "\n" + " " * len("2026-01-01 00:00:00 "))


def excerpt_text(excerpt: LogExcerpt) -> str:
    """Problems first, then the exposures committed, then the last lines."""
    pods = ", ".join(excerpt.pods) or "no pods"
    lines = [f"{excerpt.deployment} in {excerpt.namespace} ({pods})"]
    lines.append(plural(len(excerpt.problems), "error or warning line") + (":" if excerpt.problems else ""))
    lines += [f"  {line}" for line in excerpt.problems[-20:]]
    last = f", the last {excerpt.last_exposure} (day_obs/seq_num)" if excerpt.last_exposure else ""
    lines.append(f"{plural(excerpt.committed, 'exposure')} committed to exposure and ccdexposure{last}")
    lines += ["last lines:", *(f"  {line}" for line in excerpt.tail)]
    if excerpt.truncated:
        lines.append("(the log was cut at its byte limit: ask for fewer --lines to see the newest ones)")
    return "\n".join(lines)


def event_line(event: RequestEvent) -> str:
    """News of a request as the terminal says it: plain text."""
    match event:
        case MigrationStep(progress=progress, place=place):
            line = f"{place} {progress.schema}: {progress.text}" if place else f"{progress.schema}: {progress.text}"
        case RestartStep(line=said):
            line = said
        case PqserverChecked(check=check):
            line = ("warning: " if check.worrying else "") + pqserver_text(check)
        case RestartNotDone(reason=reason):
            line = f"pqserver was not restarted: {reason}"
        case HinfoVerdict() | HinfoUnreadable() | DataVerdict():
            line = _looked(event)
        case RolloutResumed(after=after):
            line = resumed_text(after)
        case RolloutProgress(done=done):
            line = step_text(done)
        case CommentNews(fate=CommentFate.POSTED):
            line = f"commented on {event.ticket}" + (f" (on try {event.tries})" if event.tries > 1 else "")
        case CommentNews(fate=CommentFate.PENDING):
            line = (f"the comment on {event.ticket} is pending: {event.reason}; the bot tries again"
                    f" from {event.retry_at:%H:%M:%S} UTC, for up to {event.give_up_hours:g} h")  # fmt: skip
        case CommentNews():
            line = (f"gave up commenting on {event.ticket} after {plural(event.tries, 'try')}: {event.reason};"
                    f" 'ticket {event.ticket}' still shows what happened")  # fmt: skip
    return line


def _looked(event: HinfoVerdict | HinfoUnreadable | DataVerdict) -> str:
    return looked(
        event,
        code=str,
        warn="warning: ",
        none_committed="no exposure committed (take a test image, then run: logs hinfo)",
    )


def looked(
    event: HinfoVerdict | HinfoUnreadable | DataVerdict, *, code: Callable[[str], str], warn: str, none_committed: str
) -> str:
    """What the hinfo watch or the data check saw a while after a migration; ``code`` marks names, ``warn``
    starts a warning, ``none_committed`` is said when hinfo committed nothing (each surface in its own words)."""
    match event:
        case HinfoVerdict():
            wrote = (
                f"{plural(event.committed, 'exposure')} committed (the last {event.last_exposure})"
                if event.committed
                else none_committed
            )
            line = f"hinfo {event.schema}, {event.minutes:g} min after the migration: {wrote}; {hinfo_heard(event)}."
            if event.data is not None:
                line += " " + data_sentence(event.data, code=code, warn=warn)
            return line
        case HinfoUnreadable(schema=schema, reason=reason):
            return f"hinfo {schema} could not be read: {reason}"
    return data_verdict(event, code=code, warn=warn)


COMPLAINT_LINE = f"'{COLUMN_COMPLAINT}' line"


def hinfo_heard(verdict: HinfoVerdict) -> str:
    """What hinfo complained of after a migration, or that it did not."""
    complaints = (
        [f"{plural(verdict.column_lines, COMPLAINT_LINE)}, e.g. {verdict.last_column_line}"]
        if verdict.column_lines
        else []
    )
    complaints += [plural(verdict.other_lines, "other error or warning line")] if verdict.other_lines else []
    return "; ".join(complaints) if complaints else "no errors or warnings"


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


_DERIVED = ("summary", "sql_digest", "range_text", "ok", "current", "complete")


def bookings_text(views: Sequence[BookingView], *, at: datetime, who: Callable[[str], str] = str) -> str:
    """A row per booking, on each test stand's own clock; ``now`` marks the one under way; ``who`` names people."""
    if not views:
        return "no bookings under way or to come"
    rows = [
        [f"#{view.id}", view.environment, view.span + ("  (now)" if view.holds(at) else ""), named(view.booker, who),
         view.ticket or "", view.note]
        for view in views
    ]  # fmt: skip
    return table(["BOOKING", "TEST STAND", "WHEN", "BOOKED BY", "TICKET", "NOTE"], rows)


def booking_text(view: BookingView, *, done: str, who: Callable[[str], str] = str) -> str:
    """What happened to one booking, for the one who did it (``who`` names people)."""
    extras = "".join(f", {part}" for part in (view.ticket, view.note) if part)
    jira = f"\nJira: {view.jira}" if view.jira else ""
    return f"booking #{view.id} of {view.environment} {done}: {view.span} by {named(view.booker, who)}{extras}{jira}"


def ticket_text(overview: TicketOverview, *, who: Callable[[str], str] = str) -> str:
    """Where a ticket's change stands in each environment, what happened, its bookings and comments;
    ``who`` names people."""
    ticket = overview.ticket
    if ticket.unchecked:
        lines = [f"{ticket.key} (Jira not checked: {ticket.unchecked})"]
    else:
        lines = [f"{ticket.key}  {ticket.summary}  ({ticket.status})", ticket.url]
    if overview.board is not None:
        lines += ["", *board_lines(overview.board, who=who)]
    standing = [
        [env, happening.state, happening.what, local(happening.at, ZoneInfo(happening.timezone)), happening.schemas]
        if happening else [env, "nothing yet", "", "", ""]
        for env, happening in overview.standing.items()
    ]  # fmt: skip
    lines += ["", "Where it stands:", table(["ENV", "STATE", "LATEST", "WHEN", "SCHEMAS"], standing)]
    if overview.happenings:
        lines += ["", "What happened, newest first:"]
        lines += [
            f"  {local(h.at, ZoneInfo(h.timezone))}  {h.environment}  {h.what} {h.state}: {h.schemas or '-'};"
            f" {named(h.who, who)}"
            for h in overview.happenings
        ]
    if overview.bookings:
        lines += ["", "Bookings:"]
        lines += [
            f"  #{view.id} {view.environment} {view.span} by {named(view.booker, who)}"
            + (f" (cancelled by {named(view.cancelled_by, who)})" if view.cancelled_by else "")
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


STEP_MARKS = {StepState.DONE: "[x]", StepState.NOT_YET: "[ ]", StepState.FAILED: "[!]", StepState.BLOCKED: "[-]"}
"""A step's state as the terminal marks it, beside its word."""


def board_text(board: Board, *, who: Callable[[str], str] = str) -> str:
    """``board TICKET``: the ticket as Jira has it, then the board (``who`` names people)."""
    ticket = board.ticket
    head = f"{ticket.key} (Jira not checked: {ticket.unchecked})" if ticket.unchecked else (
        f"{ticket.key}  {ticket.summary}  ({ticket.status})\n{ticket.url}"
    )  # fmt: skip
    return "\n".join([head, "", *board_lines(board, who=who)])


def board_lines(board: Board, *, who: Callable[[str], str] = str) -> list[str]:
    """Each step with its state, who (as ``who`` names people) and when (on the board's clock) and what the
    bot knows of it; then where the next step is, what blocks it, and the one command to run."""
    zone = ZoneInfo(board.timezone)
    schemas = f" ({', '.join(board.schemas)})" if board.schemas else ""
    lines = [f"Rollout board{schemas}, on {board.timezone} time:"]
    for number, step in enumerate(board.steps, 1):
        done = f": {named(step.who, who)}, {local(step.at, zone)}" if step.who and step.at else ""
        lines.append(f"{number:>3}. {STEP_MARKS[step.state]} {step.state:<8} {step.title}{done}")
        if step.detail:
            lines.append(f"{'':19}{named(step.detail, who)}")
    if board.next is None:
        return [*lines, "", "Every step is done."]
    lines.append("")
    if board.next_environment:
        lines.append(f"Next environment: {board.next_environment}")
    lines += [f"Blocked: {named(blocker, who)}" for blocker in board.blockers]
    lines.append(f"Run: {terminal_command(board.next)}")
    ticks = ", ".join(board.person_steps)
    lines.append(f"People tick what the bot cannot see: consdb-bot done {board.ticket.key} STEP, STEP one of {ticks}")
    return lines


def terminal_command(command: NextCommand) -> str:
    """A command as the terminal takes it: a change with ``--yes``."""
    return f"consdb-bot {command.words}" + (" --yes" if command.change else "")


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


def data_text(check: DataCheck) -> str:
    """``check data`` as the terminal says it."""
    return "\n".join(data_lines(check, code=str, warn="warning: "))


def data_lines(check: DataCheck, *, code: Callable[[str], str], warn: str) -> list[str]:
    """The exposures since when, the new columns' counts, where the new columns come from, then each
    warning (``warn`` marks it; ``code`` marks a column's name or a command)."""
    zone = ZoneInfo(check.timezone)
    since = local_clock(check.since, zone, day_of=check.at)
    if check.exposures:
        ccd = f", {plural(check.ccd_rows, 'ccdexposure row')}" if check.ccd_rows is not None else ""
        head = f"{check.schema} at {check.environment}: {plural(check.exposures, 'exposure')} since {since}"
        head += f" ({_exposure_span(check)}){ccd}"
    else:
        head = f"{check.schema} at {check.environment}: no exposure since {since}"
    if check.columns and not check.exposures:
        head += "; new columns, with no row to look at: " + ", ".join(code(column.name) for column in check.columns)
    elif check.columns:
        head += "; new columns: " + ", ".join(_fill(column, code) for column in check.columns)
    elif check.migration is not None:
        head += "; the migration added no column to exposure or ccdexposure"
    lines = [head, _since_what(check, zone)]
    if check.unchecked:
        names = ", ".join(code(f"{table}.{column}") for table, columns in check.unchecked.items() for column in columns)
        lines.append(f"not checked (hinfo writes exposure and ccdexposure only): {names}")
    look = code(f"logs hinfo {check.schema} {check.environment}")
    if not check.exposures:
        lines.append(f"{warn}no exposure was observed since {since}: take an image, then check again ({look} shows"
                     " what hinfo did)")  # fmt: skip
    lines += [
        f"{warn}{code(column.name)} is empty in all {plural(column.rows, column.table + ' row')}: hinfo does not"
        f" fill it ({look} shows why)"
        for column in check.empty
    ]
    lines += [
        f"{warn}{code(column.name)} is not in {column.table} at {check.environment} now: was it dropped since?"
        for column in check.missing
    ]
    return lines


def data_verdict(verdict: DataVerdict, *, code: Callable[[str], str], warn: str) -> str:
    """The data check a while after a migration: ``check data``'s lines under how long after it they were
    read, or why the database could not be read and the command that reads it again."""
    head = f"Data of {verdict.schema} at {verdict.environment}, {verdict.minutes:g} min after the migration:"
    if isinstance(verdict.data, str):
        again = code(f"check data {verdict.environment} {verdict.schema}")
        return f"{head} {data_sentence(verdict.data, code=code, warn=warn)} {again} reads it again."
    return "\n".join([head, *data_lines(verdict.data, code=code, warn=warn)])


def data_sentence(check: DataCheck | str, *, code: Callable[[str], str], warn: str) -> str:
    """What the database shows after a migration, for the hinfo watch: the exposures written since, and
    whether the new columns are filled (or why it could not be read)."""
    if isinstance(check, str):
        return f"{warn}The database could not be read: {check}."
    if not check.exposures:
        return f"{warn}The database has no exposure since the migration."
    said = f"The database has {plural(check.exposures, 'exposure')} since the migration ({_exposure_span(check)})"
    lacking = [column for column in check.columns if column.empty or column.missing]
    filled = [column for column in check.columns if column not in lacking]
    if not check.columns:
        return f"{said}."
    if not lacking:
        return f"{said} and the new columns are filled: {', '.join(code(column.name) for column in filled)}."
    also = f" (filled: {', '.join(code(column.name) for column in filled)})" if filled else ""
    return f"{said}; {warn}new columns empty: {', '.join(code(column.name) for column in lacking)}{also}."


def _exposure_span(check: DataCheck) -> str:
    """``20261201/12-14`` (with an en dash), or ``20261130/88-20261201/3`` across nights."""
    first, last = check.first or "", check.last or ""
    if first == last:
        return first
    if first.split("/")[0] == last.split("/")[0]:
        return f"{first}\N{EN DASH}{last.split('/')[1]}"
    return f"{first}\N{EN DASH}{last}"


def _fill(column: NewColumn, code: Callable[[str], str]) -> str:
    if column.missing:
        return f"{code(column.name)} not in the table"
    if not column.rows:
        return f"{code(column.name)} (no row to look at)"
    state = "empty" if column.empty else "filled"
    return f"{code(column.name)} {state} {column.filled}/{column.rows}"


def _since_what(check: DataCheck, zone: ZoneInfo) -> str:
    """Where the exposures' start and the new columns come from."""
    migration = check.migration
    if migration is None:
        return (f"the last {length(check.since_seconds or 0)}; the bot records no migration of {check.schema} at"
                f" {check.environment}, so no new columns to check")  # fmt: skip
    finished = local_clock(migration.finished_at, zone, day_of=check.at)
    what = f"request #{migration.request_id}, {migration.kind}" + (f" {migration.range}" if migration.range else "")
    if check.since_seconds is None:
        return f"since the latest migration: {what}, finished {finished}"
    return f"the last {length(check.since_seconds)}; new columns of the latest migration: {what}, finished {finished}"


def replica_line(replica: ReplicaStatus) -> str:
    """A replica environment in one line (the Home tab): its subscription, lag, apply errors and revisions."""
    head = f"{replica.environment} (replica of {replica.of})"
    if replica.detail:
        return f"{head}: not read: {replica.detail}"
    lag = None if replica.publisher_detail else replica.lag_bytes
    parts = [f"subscription {_subscription_state(replica)}", "lag unknown" if lag is None else f"lag {_size(lag)}"]
    if replica.apply_errors:
        parts.append(plural(replica.apply_errors, "apply error"))
    if replica.agreeing is None:
        parts.append("revisions not compared")
    else:
        parts.append("revisions agree" if replica.agreeing else "revisions differ")
    return f"{head}: " + "; ".join(parts + replica.problems)
