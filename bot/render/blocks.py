"""Pure Block Kit builders: results in, Slack message payloads (``blocks`` and ``text``) out.

Tables go in code blocks, which Slack shows in a fixed-width font; what is too long for a message
goes as a file (the caller decides, by :func:`too_long`).

Everything the services say is plain text, and may carry what someone typed (a booking's note, an
option's value, a name an error repeats): it enters mrkdwn only through :func:`escape` (data) or
:func:`shown` (sentences, whose Slack ids become mentions), so that ``<!channel>`` or
``<https://evil|Approve here>`` is shown as typed, never obeyed. The only markup in a message is the
markup built here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.config import Environment, Slack
from bot.engine.rollout import RolloutStep, SummitRoute
from bot.engine.status import SchemaStatus, State
from bot.errors import ConsdbBotError, UsageError
from bot.render.text import SLACK_USER_ID, data_lines, looked, replica_alert_lines
from bot.services.board import Board, NextCommand, StepState
from bot.services.bookings import Announcement, BookingEvent, BookingView
from bot.services.changes import (
    DataVerdict,
    HinfoUnreadable,
    HinfoVerdict,
    MigrationStep,
    PqserverChecked,
    RequestEvent,
    RequestView,
    RestartNotDone,
    RestartStep,
    RolloutProgress,
    RolloutResumed,
)
from bot.services.changes.data import DataCheck
from bot.services.replica_watch import ReplicaAlert
from bot.services.reports import DailyReport, EnvironmentHealth, HealthAlert
from bot.services.results_text import pqserver_text, resumed_text, step_text
from bot.services.tickets import CommentFate, CommentNews, TicketCheck
from bot.store.models import RequestState
from bot.when import length, local, local_clock
from bot.words import plural

Blocks = list[dict[str, Any]]
SECTION_LIMIT = 2900
TEXT_LIMIT = 3000
"""Slack's limit on a section's text (and the bot's on a message's fallback text)."""

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


def state_mark(state: RequestState) -> str:
    """A request's state as its message shows it: an emoji and the words."""
    return _STATE_MARKS[state]


def escape(text: str) -> str:
    """Plain text as mrkdwn that Slack shows as it is: Slack's rule, ``&``, ``<`` and ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shown(text: str) -> str:
    """A sentence of the bot's services as mrkdwn: escaped, then the Slack user ids it names as mentions
    and the channels it names (``#C0CONSDB01``) as links, the only markup added to it."""
    return _CHANNEL.sub(r"<#\1>", SLACK_USER_ID.sub(r"<@\1>", escape(text)))


def clip(mrkdwn: str, limit: int) -> str:
    """At most ``limit`` characters, cut before an entity or a link that would be left half."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    return _HALF_MARKUP.sub("", mrkdwn[: limit - 1]) + "…"


_HALF_MARKUP = re.compile(r"&[a-z]{0,3}$|<[^<>]*$")


def message(text: str, blocks: Blocks) -> dict[str, Any]:
    """A message payload: ``text`` (mrkdwn, made safe by the caller) is the notification and
    screen-reader fallback."""
    return {"text": clip(text, TEXT_LIMIT), "blocks": blocks}


def said(text: str) -> dict[str, Any]:
    """A sentence of the bot's as a message of its own."""
    return message(shown(text), [section(shown(text))])


def text_message(title: str, text: str) -> dict[str, Any]:
    """Plain text (a table, a report) under a title, in a code block."""
    return message(escape(title), preformatted(text, title=title))


def too_long(text: str) -> bool:
    """Whether plain text, once escaped, is too long for a message's code block (then it goes as a file)."""
    return len(escape(text)) > SECTION_LIMIT


def preformatted(text: str, *, title: str | None = None) -> Blocks:
    """Plain text in a code block, escaped, under an optional plain title."""
    blocks: Blocks = [section(f"*{escape(title)}*")] if title else []
    return [*blocks, section(f"```{clip(escape(text), SECTION_LIMIT)}```")]


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, TEXT_LIMIT)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, TEXT_LIMIT)}]}


def acknowledgement(prog: str, typed: str) -> dict[str, Any]:
    """The acknowledgement of a slash command: the command as typed, shown as text."""
    return {"text": clip(f":hourglass_flowing_sand: `{escape(f'{prog} {typed.strip()}')}`", TEXT_LIMIT)}


STEP_EMOJI = {
    RolloutStep.PAUSED: ":double_vertical_bar:",
    RolloutStep.SUMMIT_FAILED: ":warning:",
    RolloutStep.REPLICA_FAILED: ":rotating_light:",
    RolloutStep.HALTED: ":rotating_light:",
    RolloutStep.STOPPED: ":rotating_light:",
}
"""A rollout step's mark in its thread (the others: a check mark)."""


def event_line(event: RequestEvent) -> str:
    """News of a request as its Slack thread says it: a sentence of the bot's, with emoji and commands
    marked, made mrkdwn by :func:`progress_message` (its Slack ids become mentions there)."""
    match event:
        case MigrationStep(progress=progress, place=place):
            line = f"{place} {progress.schema}: {progress.text}" if place else f"{progress.schema}: {progress.text}"
        case RestartStep(line=said):
            line = said
        case PqserverChecked(check=check):
            line = (":warning: " if check.worrying else "") + pqserver_text(check)
        case RestartNotDone(reason=reason):
            line = f"pqserver was not restarted: {reason}"
        case HinfoVerdict() | HinfoUnreadable() | DataVerdict():
            line = _looked(event)
        case RolloutResumed(after=after):
            line = f":arrows_counterclockwise: {resumed_text(after).capitalize()}."
        case RolloutProgress(done=done):
            line = f"{STEP_EMOJI.get(done.step, ':white_check_mark:')} {step_text(done)}"
        case CommentNews(fate=CommentFate.POSTED):
            line = f":memo: Commented on {event.ticket}" + (f" (on try {event.tries})." if event.tries > 1 else ".")
        case CommentNews(fate=CommentFate.PENDING):
            line = (f":hourglass: The comment on {event.ticket} is pending: {event.reason}. I try again"
                    f" from {event.retry_at:%H:%M:%S} UTC, for up to {event.give_up_hours:g} h.")  # fmt: skip
        case CommentNews():
            line = (f":x: I gave up commenting on {event.ticket} after {plural(event.tries, 'try')}: {event.reason}."
                    f" `ticket {event.ticket}` still shows what happened.")  # fmt: skip
    return line


def _looked(event: HinfoVerdict | HinfoUnreadable | DataVerdict) -> str:
    none = ":warning: no exposure committed (take a test image, then `logs hinfo`)"
    return looked(event, code=_code, warn=":warning: ", none_committed=none)


def _code(name: str) -> str:
    return f"`{name}`"


def data_message(check: DataCheck) -> dict[str, Any]:
    """``check data``: the exposures and the new columns' counts, names as code, each warning marked."""
    title = f"Data of {check.schema} at {check.environment}"
    lines = data_lines(check, code=_code, warn=":warning: ")
    return message(escape(title), [section(f"*{escape(title)}*"), section(escape("\n".join(lines)))])


def progress_message(line: str) -> dict[str, Any]:
    """A line of news in a request's thread (an :func:`event_line`, or several)."""
    return message(shown(line), [context(shown(line))])


def outcome_message(text: str) -> dict[str, Any]:
    """How a request ended, in a code block, naming people as mentions."""
    return message(shown(text), [section(f"```{clip(shown(text), SECTION_LIMIT)}```")])


def help_message(text: str) -> dict[str, Any]:
    return {"text": f"```{escape(text)}```"}


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
    legend = "`head` at head · `-N` revisions behind"
    blocks.append(context(f"{legend} · {escape('; '.join(notes))}" if notes else legend))
    return blocks


_EXPLAINED = (State.UNREACHABLE, State.NOT_CONFIGURED, State.UNVERSIONED, State.UNKNOWN_REVISION, State.NOT_IN_TREE)


_CHANNEL = re.compile(r"(?<![\w&])#(C[A-Z0-9]{8,})\b")


def error_message(error: ConsdbBotError) -> dict[str, Any]:
    """An error as the one who typed sees it: what was wrong, then the right form or the fix; all of it
    text, since errors repeat what was typed."""
    lines = [f":warning: {shown(error.message)}"]
    if isinstance(error, UsageError):
        lines.append(f"```{escape(error.usage)}```")
    if error.hint:
        lines.append(shown(error.hint))
    return message("\n".join(lines), [section("\n".join(lines))])


def request_message(view: RequestView, reactions: Slack) -> dict[str, Any]:
    place = (
        view.environment
        if view.environment_title == view.environment
        else f"{view.environment_title} ({view.environment})"
    )
    title = f"{view.kind.capitalize()} request #{view.id}: {place}"
    ranges = "\n".join(f"• `{escape(schema)}` {escape(span)}" for schema, span in view.ranges.items())
    fields = [
        f"*Requested by* <@{escape(view.requester)}>",
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
    if view.allow_rewrite:
        blocks.append(
            section(
                ":warning: *Table rewrite allowed (`--allow-rewrite`)*: a statement may rewrite a table holding rows,"
                " holding its writers back under an exclusive lock until it is done. Without it the run refuses."
            )
        )
    blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": field} for field in fields]})
    if view.options:
        options = " ".join(f"`{escape(key)}={escape(value)}`" for key, value in view.options.items())
        blocks.append(section(f"*Options handed to the migration scripts*: {options}"))
    if view.booking_flag:
        blocks.append(section(f":calendar: *{shown(view.booking_flag)}*: this needs one more approval than usual."))
    if view.warnings:
        warnings = "\n".join(f"• {escape(warning)}" for warning in view.warnings)
        blocks.append(section(f":warning: *Lint warnings*\n{warnings}"))
    if view.state is RequestState.REQUESTED:
        blocks.append(
            context(
                f"Needs {plural(view.still_needed, 'more approval')} of {view.required}: an approver reacts with"
                f" :{reactions.approve_reaction}: (reject with :{reactions.reject_reaction}:)."
                f" Expires {_when(view.expires_at)}."
            )
        )
    if view.note and view.state in (RequestState.FAILED, RequestState.INTERRUPTED):
        blocks.append(section(f"*Outcome*: {shown(view.note)}"))
    if view.trace:
        blocks.append(context(f"Trace `{escape(view.trace)}` (in the bot's log and audit trail)"))
    return message(escape(f"{title}: {view.state}"), blocks)


def next_steps(env: Environment, reactions: Slack, route: SummitRoute | None, ticket: str | None) -> str:
    """What the process asks for after a successful migration, for this environment; after a test stand,
    the command that takes the change on to the Summit (``route``), with the request's ticket."""
    restart = f"`/consdb restart pqserver {env.key}`, or react :{reactions.restart_reaction}: on the request above"
    steps = [f"Restart pqserver at {env.key} ({restart})."]
    if env.test_stand:
        steps += [
            "Take a test image and check hinfo (`/consdb logs hinfo INSTRUMENT " + env.key + "`).",
            _on_to_the_summit(route, escape(ticket or "TICKET")),
        ]
    else:
        steps.append(
            "Check the logical replica at USDF, and restart pqserver wherever the schema changed"
            " (`/consdb restart pqserver all`)."
        )
    steps += ["Deploy the new TAP schema container for consdbtap.", "Merge the sdm_schemas pull request."]
    return "*Next steps*\n" + "\n".join(f"{index}. {step}" for index, step in enumerate(steps, 1))


def _on_to_the_summit(route: SummitRoute | None, ticket: str) -> str:
    """Migrate the Summit, or, where replicas linked here follow the schemas, roll out (a plain upgrade of
    what they follow is refused)."""
    if route is None or not route.replicas:
        return "Then migrate the Summit, and USDF after it."
    step = (
        f"Then migrate {route.summit} with its replicas ({', '.join(route.replicas)}) as one rollout:"
        f" `/consdb rollout {' '.join(route.rollout)} --ticket {ticket}`"
    )
    if route.migrate:
        others = " ".join(route.migrate)
        step += f"; its other schemas alone: `/consdb migrate {route.summit} {others} --ticket {ticket}`"
    return step + "."


def ticket_link(ticket: TicketCheck | None) -> str:
    """A ticket with Jira's summary and status, linked; or why Jira could not say."""
    if ticket is None:
        return "none"
    if ticket.unchecked:
        return f"{escape(ticket.key)} (not checked: {escape(ticket.unchecked)})"
    return f"<{ticket.url}|{escape(ticket.key)}> {escape(ticket.summary)} ({escape(ticket.status)})"


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
        return f"*{escape(view.environment)}*"
    return f"*{escape(view.environment_title)}* ({escape(view.environment)})"


def _booking_times(view: BookingView) -> str:
    """The test stand's own clock, and the reader's beside it."""
    yours = f"{slack_time(view.starts_at, local(view.starts_at, view.zone))} to " + slack_time(
        view.ends_at, local(view.ends_at, view.zone)
    )
    return f"{view.span} (your time: {yours})"


def _booking_extras(view: BookingView) -> str:
    """The ticket and the note, as typed: text, never markup."""
    extras = [escape(part) for part in (view.ticket, view.note) if part]
    return f" · {' · '.join(extras)}" if extras else ""


def booking_line(view: BookingView) -> str:
    return f"#{view.id} {_stand(view)} {shown(view.booker)}: {_booking_times(view)}{_booking_extras(view)}"


def booking_announcement(news: Announcement) -> dict[str, Any]:
    view, who, stand = news.booking, shown(news.booking.booker), _stand(news.booking)
    ends = local_clock(view.ends_at, view.zone, day_of=view.starts_at)
    match news.event:
        case BookingEvent.BOOKED:
            text = (f":calendar: {stand} booked by {who} for {length((view.ends_at - view.starts_at).total_seconds())}"
                    f" (#{view.id}): {_booking_times(view)}{_booking_extras(view)}")  # fmt: skip
        case BookingEvent.REMINDER:
            text = (f":bell: {stand}: {who}'s booking #{view.id} starts in {plural(news.reminder_minutes, 'minute')},"
                    f" {_booking_times(view)}{_booking_extras(view)}")  # fmt: skip
        case BookingEvent.STARTED:
            text = f":arrow_forward: {stand} is now {who}'s (#{view.id}), until {ends}{_booking_extras(view)}"
        case BookingEvent.ENDED:
            text = f":checkered_flag: {who}'s booking #{view.id} of {stand} has ended: {stand} is free."
        case BookingEvent.CANCELLED:
            text = (f":wastebasket: {who}'s booking #{view.id} of {stand} ({view.span}) was cancelled"
                    f" by {shown(view.cancelled_by or '')}: {stand} is free then.")  # fmt: skip
        case BookingEvent.EXTENDED:
            text = (f":heavy_plus_sign: {who}'s booking #{view.id} of {stand} was extended by"
                    f" {length(news.added_seconds)} by {shown(news.actor)}: now {_booking_times(view)}")  # fmt: skip
    if news.late_by is not None:
        due = local_clock(news.due_at, view.zone, day_of=news.due_at + news.late_by)
        text += f"\n_Posted late: this was due at {due}, when the bot was not running._"
    shown_blocks: Blocks = [section(text)]
    if news.event in STANDING_NEWS:
        shown_blocks.append(booking_buttons(view))
    return message(text, shown_blocks)


STANDING_NEWS = (BookingEvent.BOOKED, BookingEvent.REMINDER, BookingEvent.STARTED, BookingEvent.EXTENDED)
"""The announcements of a booking that still stands, which offer its buttons."""
CANCEL_ACTION, EXTEND_ACTION = "booking_cancel", "booking_extend"
EXTEND_SECONDS = 3600
"""What the Extend button adds."""
_BOOKING_BLOCK = "booking-"
"""How the blocks a click redraws (the buttons, the note of what became of the booking) begin their ids."""


def booking_buttons(view: BookingView) -> dict[str, Any]:
    """Cancel (asked again in a dialog) and Extend 1h, each naming the booking; words beside the emoji, so a
    client without emoji still reads them."""
    stand = view.environment
    confirm = {
        "title": _plain(f"Cancel booking #{view.id}?"),
        "text": _plain(f"{stand}, {view.span}: it is free for others again, and the channels hear of it."[:300]),
        "confirm": _plain("Cancel it"),
        "deny": _plain("Keep it"),
        "style": "danger",
    }
    return {
        "type": "actions",
        "block_id": f"{_BOOKING_BLOCK}{view.id}-buttons",
        "elements": [
            {"type": "button", "action_id": EXTEND_ACTION, "value": str(view.id),
             "text": _plain(f":heavy_plus_sign: Extend {length(EXTEND_SECONDS)}")},
            {"type": "button", "action_id": CANCEL_ACTION, "value": str(view.id), "style": "danger",
             "text": _plain(":wastebasket: Cancel"), "confirm": confirm},
        ],
    }  # fmt: skip


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def booking_note(view: BookingView, *, extended_by: str | None = None, seconds: int = 0) -> str:
    """What became of a booking, said under its announcements: cancelled, extended by someone
    (``extended_by``, after a click on Extend), or else ended."""
    if view.cancelled_by:
        return f":wastebasket: Cancelled by {shown(view.cancelled_by)}: {_stand(view)} is free then."
    if extended_by:
        return f":heavy_plus_sign: Extended by {length(seconds)} by {shown(extended_by)}: now {_booking_times(view)}"
    return f":checkered_flag: Booking #{view.id} has ended: {_stand(view)} is free."


def redrawn_announcement(
    shown_message: dict[str, Any], view: BookingView, note: str, *, standing: bool
) -> dict[str, Any]:
    """An announcement of a booking (its text and blocks as posted, or as Slack sent them back with a click),
    with the note of what became of the booking in place of the last one, and its buttons only while the
    booking stands."""
    kept = [block for block in shown_message.get("blocks") or []
            if not str(block.get("block_id", "")).startswith(_BOOKING_BLOCK)]  # fmt: skip
    after: Blocks = [{**context(note), "block_id": f"{_BOOKING_BLOCK}{view.id}-note"}]
    if standing:
        after.append(booking_buttons(view))
    return message(str(shown_message.get("text") or note), [*kept, *after])


def bookings_message(views: Sequence[BookingView], *, where: str) -> dict[str, Any]:
    if not views:
        text = escape(f"No bookings under way or to come {where}.")
        return message(text, [section(text)])
    lines = "\n".join(f"• {booking_line(view)}" for view in views)
    title = escape(f"Bookings {where}, soonest first")
    return message(title, [section(f"*{title}*"), section(lines)])


def _health_lines(health: EnvironmentHealth) -> list[str]:
    lines = [f"`{escape(status.schema)}` {escape(status.summary)}" for status in health.statuses]
    for drift in health.drifts:
        if drift.differences:
            lines.append(f":warning: `{escape(drift.schema)}` has drifted: " + escape("; ".join(drift.differences[:5])))
        elif drift.detail:
            lines.append(f"`{escape(drift.schema)}` drift not checked: {escape(drift.detail)}")
    if health.drifts and not any(drift.differences or drift.detail for drift in health.drifts):
        lines.append("No drift: every versioned schema matches its revision.")
    return lines


def report_message(report: DailyReport) -> dict[str, Any]:
    health = report.health
    title = f"Daily report, {health.environment_title} ({health.environment}), {report.day}"
    bookings = "\n".join(f"• {booking_line(view)}" for view in report.bookings) or "No bookings today."
    body = "\n".join(f"• {line}" for line in _health_lines(health))
    problems = health.problems
    verdict = ":red_circle: " + escape("; ".join(problems)) if problems else ":large_green_circle: at head, no drift"
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section(verdict),
        section(body),
        section(f"*Bookings today*\n{bookings}"),
    ]
    if report.late_by is not None:
        blocks.append(context("Posted late: the bot was not running at the hour of the report."))
    return message(f"{escape(title)}: {verdict}", blocks)


def alert_message(alert: HealthAlert) -> dict[str, Any]:
    health = alert.health
    where = escape(f"{health.environment_title} ({health.environment})")
    if alert.cleared:
        text = f":large_green_circle: {where} is well again (it was: {escape('; '.join(alert.cleared))})"
    else:
        text = f":rotating_light: {where}: " + escape("; ".join(health.problems))
        env = escape(health.environment)
        text += f"\nSee `/consdb status {env}` and `/consdb drift {env}`."
    return message(text, [section(text)])


def replica_alert_message(alert: ReplicaAlert) -> dict[str, Any]:
    """A subscription disabled too long: the headline, then what waits meanwhile and what to do."""
    headline, *rest = replica_alert_lines(alert)
    text = f":rotating_light: {shown(headline)}"
    return message(text, [section(text), section("\n".join(shown(line) for line in rest))])


BOARD_MARKS = {
    StepState.DONE: ":white_check_mark:",
    StepState.NOT_YET: ":white_large_square:",
    StepState.FAILED: ":red_circle:",
    StepState.BLOCKED: ":no_entry:",
}


def board_message(board: Board) -> dict[str, Any]:
    """A ticket's rollout board: each step with its state, who and when; where the next step is, what
    blocks it, and the one command to run. The live board is this message, updated in place."""
    key = board.ticket.key
    title = f"Rollout board: {key}"
    schemas = f" · {', '.join(f'`{escape(schema)}`' for schema in board.schemas)}" if board.schemas else ""
    lines = []
    for number, step in enumerate(board.steps, 1):
        line = f"{BOARD_MARKS[step.state]} *{number}.* {escape(step.title)}"
        if step.who and step.at:
            line += f" — {shown(step.who)}, {slack_time(step.at, f'{step.at:%Y-%m-%d %H:%M} UTC')}"
        if step.detail:
            line += f"\n          {shown(step.detail)}"
        lines.append(line)
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section(f"*Ticket* {ticket_link(board.ticket)}{schemas}"),
        *_sections(lines),
    ]
    if board.next is None:
        blocks.append(section(":tada: *Every step is done.*"))
        return message(escape(f"{title}: every step is done"), blocks)
    what = [f"*Next environment*: {escape(board.next_environment)}"] if board.next_environment else []
    what += [f":no_entry: {shown(blocker)}" for blocker in board.blockers]
    what.append(f"*Run*: `{escape(slack_command(board.next))}`")
    blocks.append(section("\n".join(what)))
    ticks = ", ".join(f"`{escape(step)}`" for step in board.person_steps)
    blocks.append(
        context(f"People tick what the bot cannot see: `/consdb done {escape(key)} STEP`, STEP one of {ticks}.")
    )
    return message(escape(f"{title}: next {slack_command(board.next)}"), blocks)


def slack_command(command: NextCommand) -> str:
    return f"/consdb {command.words}"


def _sections(lines: list[str]) -> Blocks:
    """Lines in as few sections as Slack's limit allows."""
    sections: list[list[str]] = [[]]
    for line in lines:
        if sections[-1] and len("\n".join([*sections[-1], line])) > SECTION_LIMIT:
            sections.append([])
        sections[-1].append(line)
    return [section("\n".join(part)) for part in sections if part]
