"""The bot's Home tab as a Block Kit ``home`` view: pure functions from a :class:`bot.services.home.Home`.

The same rules as messages (:mod:`bot.render.blocks`): what the services say enters mrkdwn escaped, the
only markup is built here. Slack takes at most 100 blocks in a view and 3000 characters in a section, so
each list is cut at :data:`MOST_LISTED` lines, split into sections that fit, and says how many it left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.render import blocks
from bot.render.blocks import Blocks, context, escape, section
from bot.render.text import replica_line
from bot.services.board import StepState
from bot.services.changes import RequestView
from bot.services.home import Home, OpenTicket
from bot.services.replicas import ReplicaStatus

MOST_LISTED = 25
"""Lines a list of the Home shows at most (the rest are counted)."""
_SAFE_URL = re.compile(r"https://[^\s<>|]+")


def home_view(home: Home, links: Mapping[int, str]) -> dict[str, Any]:
    """The view to publish. ``links``: each open request's message, by request id (those Slack gave)."""
    view: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "ConsDB at a glance"}},
        context(
            f"As of {blocks.slack_time(home.at, f'{home.at:%Y-%m-%d %H:%M} UTC')}; brought up to date each time"
            " you open this tab and after each change. `/consdb help` lists the commands."
        ),
        *blocks.status_blocks(home.statuses),
    ]
    if home.replicas:
        view += _listed("Replicas", [_replica(replica) for replica in home.replicas], more="`/consdb status`")
    view.append({"type": "divider"})
    view += _listed(
        "Open requests", [_request(request, links.get(request.id)) for request in home.requests],
        none="No request is open.",
    )  # fmt: skip
    view.append({"type": "divider"})
    view += _listed("Bookings today", [blocks.booking_line(booking) for booking in home.today],
                    none="No test stand is booked for the rest of today.", more="`/consdb bookings`")  # fmt: skip
    view += _listed("Bookings tomorrow", [blocks.booking_line(booking) for booking in home.tomorrow],
                    none="No test stand is booked tomorrow.", more="`/consdb bookings`")  # fmt: skip
    view.append({"type": "divider"})
    view += boards_of_open_tickets(home.tickets, more=home.more_tickets)
    return {"type": "home", "blocks": view}


def boards_of_open_tickets(tickets: Sequence[OpenTicket], *, more: int = 0) -> Blocks:
    """Each open ticket's rollout board in a few lines: steps done of how many, each step's mark and name,
    the next environment, what blocks it and the one command to run. ``more``: open tickets left out."""
    lines = [_ticket(ticket) for ticket in tickets]
    shown = _listed("Boards of open tickets", lines, none="No open request, booking or board names a ticket.",
                    more="`/consdb board TICKET`", left=more)  # fmt: skip
    if tickets:
        key = escape(tickets[0].key)
        shown.append(
            context(f"`/consdb board {key}` shows a ticket's whole board, `/consdb ticket {key}` its whole story.")
        )
    return shown


def _replica(replica: ReplicaStatus) -> str:
    well = (
        not replica.detail and replica.enabled and replica.worker_running and not replica.problems
        and replica.agreeing is not False and not replica.apply_errors
    )  # fmt: skip
    return f"{':large_green_circle:' if well else ':red_circle:'} {escape(replica_line(replica))}"


def _request(view: RequestView, link: str | None) -> str:
    place = view.environment if view.environment_title == view.environment else (
        f"{view.environment_title} ({view.environment})"
    )  # fmt: skip
    what = f"*{escape(view.kind.capitalize())} #{view.id}* at {escape(place)}"
    ranges = ", ".join(f"`{escape(schema)}` {escape(span)}" for schema, span in view.ranges.items())
    asked = f"asked by {blocks.shown(view.requester)}"  # a Slack user as a mention, a terminal's user as text
    parts = [blocks.state_mark(view.state), what + (f": {ranges}" if ranges else ""), asked]
    if view.ticket:
        parts.append(escape(view.ticket))
    if link and _SAFE_URL.fullmatch(link):
        parts.append(f"<{link}|open the request>")
    return " · ".join(parts)


def _ticket(ticket: OpenTicket) -> str:
    """The ticket and where its board stands; then its steps, each a mark and its name; then what is next."""
    open_ = [f"request #{number} open" for number in ticket.open_requests]
    booked = [f"booking #{number}" for number in ticket.bookings]
    head = f"*{escape(ticket.key)}*" + (f" ({', '.join(open_ + booked)})" if open_ or booked else "")
    board = ticket.board
    if board is None:
        return f"{head} · the board could not be made: {blocks.shown(ticket.unavailable)}"
    if board.complete:
        return f"{head} · complete: {len(board.steps)} of {len(board.steps)} steps done"
    done = sum(step.state is StepState.DONE for step in board.steps)
    steps = " ".join(f"{blocks.BOARD_MARKS[step.state]} {escape(step.key)}" for step in board.steps)
    after = [f"next at *{escape(board.next_environment)}*"] if board.next_environment else []
    after += [f":no_entry: {blocks.shown(blocker)}" for blocker in board.blockers]
    if board.next is not None:
        after.append(f"run `{escape(blocks.slack_command(board.next))}`")
    return f"{head} · {done} of {len(board.steps)} steps done\n{steps}" + (f"\n{' · '.join(after)}" if after else "")


def _listed(title: str, lines: Sequence[str], *, none: str = "", more: str = "", left: int = 0) -> Blocks:
    """A titled list as sections that fit Slack's limit; past :data:`MOST_LISTED`, the rest counted (with
    ``left``, those the service left out)."""
    if not lines:
        return [section(f"*{escape(title)}*\n{escape(none)}")]
    items = [f"• {line}" for line in lines[:MOST_LISTED]]
    if (counted := max(len(lines) - MOST_LISTED, 0) + left) > 0:
        items.append(f"…and {counted} more" + (f": {more}" if more else ""))
    parts: list[list[str]] = [[f"*{escape(title)}*"]]
    for item in items:
        if len("\n".join([*parts[-1], item])) > blocks.SECTION_LIMIT:
            parts.append([])
        parts[-1].append(item)
    return [section("\n".join(part)) for part in parts]
