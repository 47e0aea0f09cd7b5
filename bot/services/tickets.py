"""Jira tickets as the thread of a change: checked when named, commented at each outcome, and summed up.

A ticket named in a request or a booking is looked up first: an unknown ticket is refused before
anyone is asked to approve; when Jira cannot answer, the work goes on and the ticket is shown as not
checked. A comment is stored before it is sent, and sent at once; when Jira does not take it, it is
tried again by a scheduled job (every ``retry_seconds``, each comment backing off to an hour) until
``give_up_hours``, and the request's thread hears that it is pending, then that it was posted. A
retry first looks for the comment on the ticket, since Jira may have taken a comment whose answer
never came: a comment is posted once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.clients.jira import JiraDesk, JiraUnavailable, TicketUnknown
from bot.config import Settings
from bot.metrics import JIRA_COMMENTS
from bot.services import jira_comments as jira_text
from bot.services.bookings import BookingEvent, BookingView
from bot.services.results_text import result_text
from bot.services.scheduler import Scheduler
from bot.store import Store, aware
from bot.store.models import JiraComment, RequestState
from bot.words import plural

if TYPE_CHECKING:
    from bot.services.results_text import RequestResult

log = logging.getLogger(__name__)
RETRY_TASK = "jira-comments"
RETRY_JOB = "jira-comments"
LONGEST_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class TicketCheck:
    """A ticket as a request or booking shows it: Jira's summary and status, or why they are unknown."""

    key: str
    summary: str = ""
    status: str = ""
    url: str = ""
    unchecked: str = ""


class CommentFate(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    GIVEN_UP = "given up"


@dataclass(frozen=True)
class CommentNews:
    """What became of a request's ticket comment, for the request's thread: posted (on which try),
    pending (why, and when it is tried again, for how long), or given up (after how many tries, why)."""

    ticket: str
    fate: CommentFate
    tries: int
    reason: str = ""
    retry_at: datetime | None = None
    give_up_hours: float = 0


@dataclass(frozen=True)
class CommentTally:
    posted: int = 0
    pending: int = 0
    given_up: int = 0
    last_error: str = ""
    next_try: datetime | None = None


class FinishedRequest(Protocol):
    """What a request's closing comment reads of it (changes.RequestView is one), so tickets need not import changes."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def environment(self) -> str: ...
    @property
    def state(self) -> RequestState: ...
    @property
    def ticket(self) -> str | None: ...
    @property
    def ranges(self) -> dict[str, str]: ...
    @property
    def requester(self) -> str: ...
    @property
    def approvers(self) -> list[str]: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def message_ts(self) -> str | None: ...
    @property
    def reached(self) -> dict[str, list[str]]: ...


class TicketService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        desk: JiraDesk | None,
        *,
        tell: Callable[[int, CommentNews], None] = lambda _request, _news: None,
        name: Callable[[str], str] = str,
        permalink: Callable[[str, str], str | None] = lambda _channel, _ts: None,
        clock: Callable[[], datetime],
    ) -> None:
        """``desk`` is None when there is no JIRA_TOKEN here: tickets go unchecked and comments wait for
        a process that has one. ``tell`` gives the thread of a request news of its comment; ``name`` gives a
        person's name for a Slack user id, ``permalink`` the link to a Slack message."""
        self.settings = settings
        self.store = store
        self.desk = desk
        self.tell = tell
        self.name = name
        self.permalink = permalink
        self.clock = clock

    def register(self, scheduler: Scheduler) -> None:
        """Retry owed comments on the scheduler, in the processes that can reach Jira."""
        if self.desk is None:
            log.warning("Jira is off: JIRA_TOKEN is not set, so tickets are not checked and comments wait")
            scheduler.cancel(RETRY_JOB)
            return
        scheduler.register(RETRY_TASK, self.retry_due)
        scheduler.every(RETRY_JOB, self.settings.jira.retry_seconds / 60, RETRY_TASK)

    def check(self, key: str | None) -> TicketCheck | None:
        """The named ticket as Jira has it; :class:`TicketUnknown` (a refusal) when Jira has no such ticket."""
        if key is None:
            return None
        if self.desk is None:
            return TicketCheck(key, unchecked="JIRA_TOKEN is not set")
        try:
            ticket = self.desk.find(key)
        except TicketUnknown as unknown:
            project = self.settings.jira.project or "OSW"
            raise TicketUnknown(unknown.message, hint=f"Check the key (it looks like {project}-123), or give"
                                " the bot's Jira user access to it.") from None  # fmt: skip
        except JiraUnavailable as error:
            log.warning("ticket %s could not be checked: %s", key, error.reason)
            return TicketCheck(key, unchecked=error.reason)
        return TicketCheck(ticket.key, ticket.summary, ticket.status, ticket.url)

    def request_finished(self, view: FinishedRequest, note: str, result: RequestResult | None) -> None:
        """Comment on a request's ticket how it ended; one that did not succeed says why."""
        if not view.ticket:
            return
        failed = view.state is not RequestState.SUCCEEDED
        # A result's text says all a note would (a rollout's where-each-side-stands is part of it).
        detail = (result_text(result) if result else note) if failed else ""
        link = self.permalink(view.channel, view.message_ts) if view.channel and view.message_ts else None
        body = jira_text.request_comment(
            request_id=view.id, kind=view.kind, environment=view.environment, state=view.state.value,
            ranges=view.ranges, reached=view.reached, requester=view.requester,
            approvers=view.approvers, detail=detail, name=self.name, link=link,
        )  # fmt: skip
        self.owe(view.ticket, f"request-{view.id}-{view.state.value}", body, request_id=view.id)

    def booking_changed(self, view: BookingView, event: BookingEvent, actor: str) -> str | None:
        """Comment on a booking's ticket that it was made or cancelled; what became of it, or None."""
        if not view.ticket or event not in (BookingEvent.BOOKED, BookingEvent.CANCELLED):
            return None
        body = jira_text.booking_comment(view, event, actor=actor, name=self.name)
        return self.owe(view.ticket, f"booking-{view.id}-{event.value}", body)

    def owe(self, ticket: str, about: str, body: str, *, request_id: int | None = None) -> str:
        """Store a comment and try it at once; returns what became of it, in words for the terminal."""
        at = self.clock()
        comment = JiraComment(
            ticket=ticket, about=about, body=body, request_id=request_id, created_at=at, next_attempt_at=at
        )
        if not self.store.add_comment(comment):
            return f"the comment on {ticket} was made already"
        if self.desk is None:
            return f"the comment on {ticket} waits for the bot (JIRA_TOKEN is not set here)"
        self._attempt(comment)
        settled = self.store.comment(comment.id)
        if settled is not None and settled.posted_at is not None:
            return f"commented on {ticket}"
        if settled is not None and settled.given_up_at is not None:
            return f"no comment on {ticket}: {settled.last_error}"
        reason = settled.last_error if settled is not None else "another process is sending it"
        return f"the comment on {ticket} is pending ({reason}); the bot tries again"

    def retry_due(self) -> None:
        """The scheduled task: try every comment whose next attempt is due."""
        for comment in self.store.due_comments(self.clock()):
            self._attempt(comment)

    def _attempt(self, comment: JiraComment) -> None:
        assert self.desk is not None
        at = self.clock()
        wait = min(self.settings.jira.retry_seconds * 2**comment.attempts, LONGEST_BACKOFF_SECONDS)
        if not self.store.claim_comment(
            comment.id, attempts=comment.attempts, next_attempt_at=at + timedelta(seconds=wait)
        ):
            return
        tries = comment.attempts + 1
        try:
            if comment.attempts == 0 or not self.desk.has_comment(comment.ticket, comment.body):
                self.desk.comment(comment.ticket, comment.body)
        except (TicketUnknown, JiraUnavailable) as error:
            reason = error.message if isinstance(error, TicketUnknown) else error.reason
            late = at - aware(comment.created_at) >= timedelta(hours=self.settings.jira.give_up_hours)
            if isinstance(error, TicketUnknown) or error.permanent or late:
                self._give_up(comment, reason, tries, at)
            else:
                self._pending(comment, reason, tries, at + timedelta(seconds=wait))
            return
        self.store.settle_comment(comment.id, posted_at=at)
        JIRA_COMMENTS.labels("posted").inc()
        self._tell(comment, CommentNews(comment.ticket, CommentFate.POSTED, tries))

    def _pending(self, comment: JiraComment, reason: str, tries: int, retry_at: datetime) -> None:
        self.store.settle_comment(comment.id, error=reason)
        JIRA_COMMENTS.labels("pending").inc()
        log.warning("the comment on %s is pending after try %d: %s", comment.ticket, tries, reason)
        if tries == 1:
            news = CommentNews(comment.ticket, CommentFate.PENDING, tries, reason, retry_at,
                               self.settings.jira.give_up_hours)  # fmt: skip
            self._tell(comment, news)

    def _give_up(self, comment: JiraComment, reason: str, tries: int, at: datetime) -> None:
        self.store.settle_comment(comment.id, error=reason, given_up_at=at)
        JIRA_COMMENTS.labels("given_up").inc()
        log.warning("gave up the comment on %s after %d tries: %s", comment.ticket, tries, reason)
        self.store.audit(
            actor="consdb-bot", action="jira gave up", request_id=comment.request_id, ticket=comment.ticket,
            summary=f"gave up commenting on {comment.ticket} after {plural(tries, 'try')}: {reason}",
        )  # fmt: skip
        self._tell(comment, CommentNews(comment.ticket, CommentFate.GIVEN_UP, tries, reason))

    def _tell(self, comment: JiraComment, news: CommentNews) -> None:
        if comment.request_id is None:
            return
        try:
            self.tell(comment.request_id, news)
        except Exception:
            log.exception("could not tell the thread of request #%s about Jira", comment.request_id)

    def comments_of(self, comments: list[JiraComment]) -> CommentTally:
        owed = [comment for comment in comments if comment.posted_at is None and comment.given_up_at is None]
        return CommentTally(
            posted=sum(comment.posted_at is not None for comment in comments),
            pending=len(owed),
            given_up=sum(comment.given_up_at is not None for comment in comments),
            last_error=next((comment.last_error or "" for comment in reversed(owed) if comment.last_error), ""),
            next_try=min((aware(comment.next_attempt_at) for comment in owed), default=None),
        )
