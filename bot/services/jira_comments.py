"""Comments for Jira tickets, in Jira's own wiki markup: short, one outcome each. Pure functions.

``name`` turns a Slack user id into the person's name (Jira readers do not know Slack ids).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.services.bookings import BookingEvent, BookingView

DETAIL_LINES = 12
_MARKS = {"succeeded": "(/)", "failed": "(x)", "interrupted": "(!)"}


def request_comment(
    *, request_id: int, kind: str, environment: str, state: str, ranges: Mapping[str, str],
    reached: Mapping[str, Sequence[str]], requester: str, approvers: Sequence[str], detail: str,
    name: Callable[[str], str], link: str | None,
) -> str:  # fmt: skip
    """How a request ended: where, which schemas from what to what, who asked and approved, the thread."""
    lines = [_headline(kind, environment, state, f"consdb-bot request #{request_id}")]
    lines += [f"* {schema}: {span}" for schema, span in ranges.items()]
    now_at = ", ".join(f"{schema} {_revisions(revisions)}" for schema, revisions in reached.items())
    if now_at:
        lines.append(f"Now at: {now_at}")
    approved = ", ".join(name(user) for user in approvers) or "nobody"
    lines.append(f"Requested by {name(requester)}; approved by {approved}.")
    lines += _detail(detail)
    if link:
        lines.append(f"[The request in Slack|{link}]")
    return "\n".join(lines)


def booking_comment(view: BookingView, event: BookingEvent, *, actor: str, name: Callable[[str], str]) -> str:
    """A test-stand booking made or cancelled for this ticket."""
    note = f": {view.note}" if view.note else ""
    if event is BookingEvent.CANCELLED:
        return f"(-) *{view.environment} booking #{view.id} cancelled* by {name(actor)} (it was {view.span})"
    return f"(i) *{view.environment} booked* {view.span} by {name(view.booker)} (booking #{view.id}){note}"


def _headline(kind: str, environment: str, state: str, source: str) -> str:
    what = "pqserver restart" if kind == "restart" else kind.capitalize()
    return f"{_MARKS.get(state, '(i)')} *{what} at {environment} {state}* ({source})"


def _revisions(revisions: Sequence[str]) -> str:
    return ", ".join(f"{{{{{revision[:12]}}}}}" for revision in revisions) or "base"


def _detail(detail: str) -> list[str]:
    """What went wrong, as the thread shows it, cut to a few lines."""
    if not detail.strip():
        return []
    lines = detail.strip().splitlines()
    kept = lines[:DETAIL_LINES] + (
        [f"... ({len(lines) - DETAIL_LINES} more lines in Slack)"] if len(lines) > DETAIL_LINES else []
    )
    return ["{noformat}", *kept, "{noformat}"]
