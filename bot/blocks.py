"""Pure Block Kit builders: results in, Slack message payloads (``blocks`` and ``text``) out.

Tables go in code blocks, which Slack shows in a fixed-width font; what is too long for a message
goes as a file (the caller decides, by :func:`too_long`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.changes import RequestView
from bot.config import Environment, Slack
from bot.engine.status import SchemaStatus, State
from bot.errors import ConsdbBotError, UsageError
from bot.store.models import RequestState

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
        case _:
            return status.state.value


def status_blocks(statuses: Sequence[SchemaStatus]) -> Blocks:
    notes = sorted({f"{s.environment}: {s.detail}" for s in statuses if s.state in _EXPLAINED and s.detail})
    blocks = preformatted(status_matrix(statuses), title="ConsDB schema status")
    blocks.append(context("`head` at head · `-N` revisions behind · " + ("; ".join(notes) if notes else "")))
    return blocks


_EXPLAINED = (State.UNREACHABLE, State.NOT_CONFIGURED, State.UNVERSIONED, State.UNKNOWN_REVISION)


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
        f"*Ticket* {view.ticket or 'none'}",
        f"*State* {_STATE_MARKS[view.state]}",
        f"*Approved by* {_people(view.approvers) or 'nobody yet'}",
    ]
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section(ranges or "(no schema)"),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": field} for field in fields]},
    ]
    if view.options:
        options = " ".join(f"`{key}={value}`" for key, value in view.options.items())
        blocks.append(section(f"*Options handed to the migration scripts*: {options}"))
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


def _people(users: Sequence[str]) -> str:
    return ", ".join(f"<@{user}>" for user in users)


def _when(moment: datetime) -> str:
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"
