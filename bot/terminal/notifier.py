"""A change request as the terminal shows it: its news written as the run goes (plain text); how it
ended is the command's answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from bot.render.text import event_line
from bot.services.changes import RequestEvent, RequestView
from bot.services.tickets import CommentNews

if TYPE_CHECKING:
    from bot.services.changes.requests import RequestResult


WAIT_POLL_SECONDS = 2.0
"""How often ``--wait`` looks whether the request it waits behind has ended."""


class TerminalNotifier:
    """The terminal's :class:`bot.services.changes.ChangeNotifier`. ``out`` is None with ``--json``
    (the answer is then the only thing on stdout)."""

    def __init__(self, out: TextIO | None, err: TextIO, *, idle: Callable[[float], object] = time.sleep) -> None:
        self.out = out
        self.err = err
        self.idle = idle
        self._waited_behind: set[int] = set()

    def wait_behind(self, other: RequestView) -> None:
        """``--wait``: a while behind another open request, said once per request."""
        if other.id not in self._waited_behind:
            self._waited_behind.add(other.id)
            self.err.write(f"waiting behind request #{other.id} ({other.state}, by {other.requester}) at"
                           f" {other.environment}\n")  # fmt: skip
            self.err.flush()
        self.idle(WAIT_POLL_SECONDS)

    def posted(self, request: RequestView) -> None:
        """Shown here only: no reaction can reach it."""

    def updated(self, request: RequestView) -> None:
        """The answer shows how it stands."""

    def progress(self, request: RequestView, event: RequestEvent) -> None:
        if self.out is not None:
            self.out.write("".join(f"  {line}\n" for line in event_line(event).splitlines()))
            self.out.flush()

    def finished(self, request: RequestView, result: RequestResult | None, *, note: str) -> None:
        """The answer shows how it ended."""

    def tell(self, request_id: int, news: CommentNews) -> None:
        """News of the request's Jira comment, beside the answer."""
        self.err.write(f"Jira: {event_line(news)}\n")
