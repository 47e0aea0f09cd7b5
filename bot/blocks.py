"""Pure Block Kit builders: results in, Slack message payloads (``blocks`` and ``text``) out.

Tables go in code blocks, which Slack shows in a fixed-width font; what is too long for a message
goes as a file (the caller decides, by :func:`too_long`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.bookings import Announcement, BookingEvent, BookingView
from bot.changes import RequestView
from bot.config import Environment, Slack
from bot.engine.status import SchemaStatus, State
from bot.errors import ConsdbBotError, UsageError
from bot.reports import DailyReport, Health, HealthAlert
from bot.store.models import RequestState
from bot.tickets import TicketCheck
from bot.when import length, local, local_clock

Blocks = list[dict[str, Any]]
SECTION_LIMIT = 2900

_STATE_MARKS = {
    RequestState.REQUESTED: ":hourglass_flowing_sand: waiting for approval",
    RequestState.APPROVED: ":white_check_mark: approved",
    RequestState.RUNNING: ":gear: running",
    RequestState.SUCCEEDED: ":large_green_circle: succeeded",
    RequestState.FAILED: ":red_circle: failed",
    RequestState.REJECTED: ":no_entry: rejected",
    RequestState.EXPIRED: ":alarm_clock: expired",
    RequestState.INTERRUPTED: ":warning: interrupted",
}


def message(text: str, blocks: Blocks | None = None) -> dict[str, Any]:
    """A message payload: ``text`` is the notification and screen-reader fallback."""
    return {"text": text[:3000], "blocks": blocks if blocks is not None else preformatted(text)}


def too_long(text: str) -> bool:
    return len(text) > SECTION_LIMIT


def preformatted(text: str, *, title: str | None = None) -> Blocks:
    blocks: Blocks = [section(f"*{title}*")] if title else []
    return [*blocks, section(f"```{text[:SECTION_LIMIT]}```")]


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def status_matrix(statuses: Sequence[SchemaStatus]) -> str:
    """Environments across, schemas down: each cell the revision and head or how far behind."""
    environments = list(dict.fromkeys(status.environment for status in statuses))
    schemas = list(dict.fromkeys(status.schema for status in statuses))
    cells = {(status.environment, status.schema): _cell(status) for status in statuses}
    rows = [["schema", *environments]] + [
        [schema, *(cells.get((env, schema), "") for env in environments)] for schema in schemas
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def _cell(status: SchemaStatus) -> str:
    at = ",".join(revision[:8] for revision in status.current)
    match status.state:
        case State.HEAD:
            return f"{at} head"
        case State.BEHIND:
            return f"{at} -{status.behind}"
        case State.EMPTY:
            return f"empty -{status.behind}"
        case State.NOT_CONFIGURED:
            return "not here"
        case State.NOT_KEPT:
            return "not kept here"
        case _:
            return status.state.value


def status_blocks(statuses: Sequence[SchemaStatus]) -> Blocks:
    notes = sorted({f"{s.environment}: {s.detail}" for s in statuses if s.state in _EXPLAINED and s.detail})
    blocks = preformatted(status_matrix(statuses), title="ConsDB schema status")
    blocks.append(context("`head` at head · `-N` revisions behind · " + ("; ".join(notes) if notes else "")))
    return blocks


_EXPLAINED = (State.UNREACHABLE, State.NOT_CONFIGURED, State.UNVERSIONED, State.UNKNOWN_REVISION, State.NOT_IN_TREE)


_USER_ID = re.compile(r"(?<![<@\w])([UW][A-Z0-9]{8,})\b")


def mentions(text: str) -> str:
    """Slack user ids, as the services write them, shown as mentions."""
    return _USER_ID.sub(r"<@\1>", text)


def error_message(error: ConsdbBotError) -> dict[str, Any]:
    """An error as the one who typed sees it: what was wrong, then the right form or the fix."""
    lines = [f":warning: {mentions(error.message)}"]
    if isinstance(error, UsageError):
        lines.append(f"```{error.usage}```")
    if error.hint:
        lines.append(error.hint)
    return message("\n".join(lines), [section("\n".join(lines))])


def request_message(view: RequestView, reactions: Slack) -> dict[str, Any]:
    place = (
        view.environment
        if view.environment_title == view.environment
        else f"{view.environment_title} ({view.environment})"
    )
    title = f"{view.kind.capitalize()} request #{view.id}: {place}"
    ranges = "\n".join(f"• `{schema}` {span}" for schema, span in view.ranges.items())
    fields = [
        f"*Requested by* <@{view.requester}>",
        f"*Ticket* {ticket_link(view.ticket_check)}",
        f"*State* {_STATE_MARKS[view.state]}",
        f"*Approved by* {_people(view.approvers) or 'nobody yet'}",
    ]
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section(ranges or "(no schema)"),
    ]
    if view.forced:
        blocks.append(
            section(
                ":red_circle: *Check overridden (`--force`)*: the live schema was not verified against the model"
                " at this revision. Approve only if you know it matches."
            )
        )
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": field} for field in fields]})
    if view.options:
        options = " ".join(f"`{key}={value}`" for key, value in view.options.items())
        blocks.append(section(f"*Options handed to the migration scripts*: {options}"))
    if view.booking_flag:
        blocks.append(section(f":calendar: *{mentions(view.booking_flag)}*: this needs one more approval than usual."))
    if view.warnings:
        warnings = "\n".join(f"• {warning}" for warning in view.warnings)
        blocks.append(section(f":warning: *Lint warnings*\n{warnings}"[:SECTION_LIMIT]))
    if view.state is RequestState.REQUESTED:
        blocks.append(
            context(
                f"Needs {view.still_needed} more approval(s) of {view.required}: an approver reacts with"
                f" :{reactions.approve_reaction}: (reject with :{reactions.reject_reaction}:)."
                f" Expires {_when(view.expires_at)}."
            )
        )
    note = view.outcome.get("note")
    if note and view.state in (RequestState.FAILED, RequestState.INTERRUPTED):
        blocks.append(section(f"*Outcome*: {note}"[:SECTION_LIMIT]))
    if view.outcome.get("trace"):
        blocks.append(context(f"Trace `{view.outcome['trace']}` (in the bot's log and audit trail)"))
    return message(f"{title}: {view.state}", blocks)


def next_steps(env: Environment, reactions: Slack) -> str:
    """What the process asks for after a successful migration, for this environment."""
    restart = f"`/consdb restart pqserver {env.key}`, or react :{reactions.restart_reaction}: on the request above"
    steps = [f"Restart pqserver at {env.key} ({restart})."]
    if env.test_stand:
        steps += [
            "Take a test image and check hinfo (`/consdb logs hinfo INSTRUMENT " + env.key + "`).",
            "Then migrate the Summit, and USDF after it.",
        ]
    else:
        steps.append("Check the logical replica at USDF, and restart pqserver wherever the schema changed.")
    steps += ["Deploy the new TAP schema container for consdbtap.", "Merge the sdm_schemas pull request."]
    return "*Next steps*\n" + "\n".join(f"{index}. {step}" for index, step in enumerate(steps, 1))


def ticket_link(ticket: TicketCheck | None) -> str:
    """A ticket with Jira's summary and status, linked; or why Jira could not say."""
    if ticket is None:
        return "none"
    if ticket.unchecked:
        return f"{ticket.key} (not checked: {ticket.unchecked})"
    return f"<{ticket.url}|{ticket.key}> {_escaped(ticket.summary)} ({ticket.status})"


def _escaped(text: str) -> str:
    """Text Slack shows as it is, not as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _people(users: Sequence[str]) -> str:
    return ", ".join(f"<@{user}>" for user in users)


def _when(moment: datetime) -> str:
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def slack_time(moment: datetime, fallback: str) -> str:
    """A moment as Slack shows it: on the reader's own clock, ``fallback`` where that cannot be done."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _stand(view: BookingView) -> str:
    if view.environment_title == view.environment:
        return f"*{view.environment}*"
    return f"*{view.environment_title}* ({view.environment})"


def _booking_times(view: BookingView) -> str:
    """The test stand's own clock, and the reader's beside it."""
    yours = f"{slack_time(view.starts_at, local(view.starts_at, view.zone))} to " + slack_time(
        view.ends_at, local(view.ends_at, view.zone)
    )
    return f"{view.span} (your time: {yours})"


def _booking_extras(view: BookingView) -> str:
    extras = [part for part in (view.ticket, view.note) if part]
    return f" · {' · '.join(extras)}" if extras else ""


def booking_line(view: BookingView) -> str:
    return f"#{view.id} {_stand(view)} {mentions(view.booker)}: {_booking_times(view)}{_booking_extras(view)}"


def booking_announcement(news: Announcement) -> dict[str, Any]:
    view, who, stand = news.booking, mentions(news.booking.booker), _stand(news.booking)
    ends = local_clock(view.ends_at, view.zone, day_of=view.starts_at)
    match news.event:
        case BookingEvent.BOOKED:
            text = (f":calendar: {stand} booked by {who} for {length((view.ends_at - view.starts_at).total_seconds())}"
                    f" (#{view.id}): {_booking_times(view)}{_booking_extras(view)}")  # fmt: skip
        case BookingEvent.REMINDER:
            text = (f":bell: {stand}: {who}'s booking #{view.id} starts in {news.reminder_minutes:g} minutes,"
                    f" {_booking_times(view)}{_booking_extras(view)}")  # fmt: skip
        case BookingEvent.STARTED:
            text = f":arrow_forward: {stand} is now {who}'s (#{view.id}), until {ends}{_booking_extras(view)}"
        case BookingEvent.ENDED:
            text = f":checkered_flag: {who}'s booking #{view.id} of {stand} has ended: {stand} is free."
        case BookingEvent.CANCELLED:
            text = (f":wastebasket: {who}'s booking #{view.id} of {stand} ({view.span}) was cancelled"
                    f" by {mentions(view.cancelled_by or '')}: {stand} is free then.")  # fmt: skip
        case BookingEvent.EXTENDED:
            text = (f":heavy_plus_sign: {who}'s booking #{view.id} of {stand} was extended by"
                    f" {length(news.added_seconds)} by {mentions(news.actor)}: now {_booking_times(view)}")  # fmt: skip
    if news.late_by is not None:
        due = local_clock(news.due_at, view.zone, day_of=news.due_at + news.late_by)
        text += f"\n_Posted late: this was due at {due}, when the bot was not running._"
    return message(text, [section(text)])


def bookings_message(views: Sequence[BookingView], *, where: str) -> dict[str, Any]:
    if not views:
        text = f"No bookings under way or to come {where}."
        return message(text, [section(text)])
    lines = "\n".join(f"• {booking_line(view)}" for view in views)
    title = f"Bookings {where}, soonest first"
    return message(title, [section(f"*{title}*"), section(lines[:SECTION_LIMIT])])


def _health_lines(health: Health) -> list[str]:
    lines = [f"`{status.schema}` {status.summary}" for status in health.statuses]
    for drift in health.drifts:
        if drift.differences:
            lines.append(f":warning: `{drift.schema}` has drifted: " + "; ".join(drift.differences[:5]))
        elif drift.detail:
            lines.append(f"`{drift.schema}` drift not checked: {drift.detail}")
    if health.drifts and not any(drift.differences or drift.detail for drift in health.drifts):
        lines.append("No drift: every versioned schema matches its revision.")
    return lines


def report_message(report: DailyReport) -> dict[str, Any]:
    health = report.health
    title = f"Daily report, {health.environment_title} ({health.environment}), {report.day}"
    bookings = "\n".join(f"• {booking_line(view)}" for view in report.bookings) or "No bookings today."
    body = "\n".join(f"• {line}" for line in _health_lines(health))
    problems = health.problems
    verdict = ":red_circle: " + "; ".join(problems) if problems else ":large_green_circle: at head, no drift"
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section(verdict),
        section(body[:SECTION_LIMIT]),
        section(f"*Bookings today*\n{bookings}"[:SECTION_LIMIT]),
    ]
    if report.late_by is not None:
        blocks.append(context("Posted late: the bot was not running at the hour of the report."))
    return message(f"{title}: {verdict}", blocks)


def alert_message(alert: HealthAlert) -> dict[str, Any]:
    health = alert.health
    if alert.cleared:
        was = "; ".join(alert.cleared)
        text = f":large_green_circle: {health.environment_title} ({health.environment}) is well again (it was: {was})"
    else:
        text = f":rotating_light: {health.environment_title} ({health.environment}): " + "; ".join(health.problems)
        text += f"\nSee `/consdb status {health.environment}` and `/consdb drift {health.environment}`."
    return message(text, [section(text[:SECTION_LIMIT])])
