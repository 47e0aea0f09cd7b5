"""Change requests as Slack messages (the request in the environment's channel, news in its thread),
and scheduled news (bookings, daily reports, alerts, the replica watch's) in the channels it names.

The Slack ends of :class:`bot.services.changes.ChangeNotifier`, :class:`bot.services.bookings.Announcer`,
:class:`bot.services.reports.ReportAnnouncer` and :class:`bot.services.replica_watch.ReplicaAnnouncer`. A
failure to post news is logged and the work goes on; a failure to post a request itself is an error the
requester sees.

A request's message and thread are written by a worker thread of their own (:class:`ThreadWriter`):
a run only puts its lines (and each update of the request's message) in a bounded queue, so a Slack
that is slow, rate-limits the bot or is down never holds up (or times out) a run, and lines that
pile up meanwhile go as one message. How a request ended (its message brought up to date, the outcome and the next
steps in its thread) is first kept in the state database (:class:`SlackOutbox`), then sent by that
worker after what was queued before it; what Slack does not take is tried again, with backoff, until
it does: by the worker while this process holds the request's queue, else by a scheduled job (after
a restart, or in another process). Each is sent once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.engine.rollout import summit_route
from bot.errors import ConsdbBotError, Refused
from bot.metrics import API_ERRORS
from bot.render import blocks
from bot.services.bookings import Announcement, BookingEvent, BookingView
from bot.services.changes import RequestView, request_view
from bot.services.replica_watch import ReplicaAlert
from bot.services.reports import DailyReport, HealthAlert
from bot.services.results_text import result_text
from bot.services.scheduler import Scheduler
from bot.store import Store, aware
from bot.store.models import OPEN_STATES, BookingPost, RequestState, SlackPost
from bot.words import plural

if TYPE_CHECKING:
    from bot.services.changes import RequestEvent, RequestResult

log = logging.getLogger(__name__)
RETRY_TASK = "slack-outbox"
RETRY_JOB = "slack-outbox"
LONGEST_BACKOFF_SECONDS = 600
MOST_QUEUED_LINES = 1000
"""Lines a request's thread may have waiting; past that, new lines are counted and left out."""
FIRST_LINE_BACKOFF_SECONDS = 1.0
LONGEST_LINE_BACKOFF_SECONDS = 60.0
STATE_RETRY_SECONDS = 5.0
STOP_SECONDS = 5.0
UPDATE, POST, UPLOAD = "update", "post", "upload"
# Errors that no retry mends: the message, thread or channel is gone, or the bot is not in it.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "message_not_found", "thread_not_found", "not_in_channel", "is_archived",
    "cant_update_message", "edit_window_closed", "msg_too_long", "no_text", "invalid_blocks", "invalid_arguments",
})  # fmt: skip
SlackFailure = (SlackClientError, OSError)
"""What a call to Slack raises when it did not go through: Slack's answer, or no answer at all."""


class SlackNotifier:
    def __init__(
        self, client: WebClient, settings: Settings, store: Store, *, clock: Callable[[], datetime],
        ended: Callable[[RequestView], object],
    ) -> None:  # fmt: skip
        """``ended`` hears of each request that ended (finished, rejected, expired, interrupted)."""
        self.client = client
        self.settings = settings
        self.outbox = SlackOutbox(client, settings, store, clock=clock)
        self.threads = ThreadWriter(client, deliver=self.outbox.deliver)
        self.ended = ended

    def register(self, scheduler: Scheduler) -> None:
        """Retry, on the scheduler, what requests' Slack views are owed."""
        scheduler.register(RETRY_TASK, self.retry_due)
        scheduler.every(RETRY_JOB, self.settings.slack.retry_seconds / 60, RETRY_TASK)

    def retry_due(self) -> None:
        """The scheduled task: what is due, for the requests whose thread this process is not writing
        (those it is go in order, behind their lines)."""
        self.outbox.retry_due(besides=self.threads.holds)

    def close(self) -> None:
        self.threads.close(STOP_SECONDS)

    def channel_of(self, environment: str) -> str:
        env = self.settings.environment(environment)
        channel = env.channel or self.settings.slack.announce_channel
        if not channel:
            raise Refused(f"{env.key} has no Slack channel", hint=f"Set environments.{env.key}.channel.")
        return channel

    def posted(self, request: RequestView) -> tuple[str, str]:
        channel = self.channel_of(request.environment)
        try:
            response = self.client.chat_postMessage(
                channel=channel, **blocks.request_message(request, self.settings.slack)
            )
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            raise Refused(
                f"could not post the request in #{channel}: {error.response.get('error', 'unknown error')}",
                hint="Invite the bot to that channel (`/invite @consdb-bot`), then ask again.",
            ) from None
        return str(response["channel"]), str(response["ts"])

    def permalink(self, channel: str, message_ts: str) -> str | None:
        """The link to a message, for readers outside Slack (a Jira comment)."""
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=message_ts)["permalink"])
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            log.warning("could not get the link to a request: %s", error.response.get("error", "unknown error"))
            return None

    def updated(self, request: RequestView) -> None:
        """A request still open is shown as it stands now; how it ended is owed until Slack has it."""
        if request.state in OPEN_STATES:
            self.threads.update(request, blocks.request_message(request, self.settings.slack))
        else:
            self.outbox.owe(request, "message", UPDATE, {})
            self.threads.owed(request)
            self.ended(request)

    def progress(self, request: RequestView, event: RequestEvent) -> None:
        self.threads.line(request, blocks.event_line(event))

    def finished(self, request: RequestView, result: RequestResult | None, *, note: str) -> None:
        """How it ended, in its thread: the result says it (a rollout's note, where each side stands, is
        part of its result's text), the note only when there is no result."""
        text = result_text(result) if result else note
        if blocks.too_long(text):
            upload = {"content": text, "filename": f"request-{request.id}-outcome.txt",
                      "title": f"Request #{request.id}: outcome"}  # fmt: skip
            self.outbox.owe(request, "outcome", UPLOAD, upload)
        else:
            self.outbox.owe(request, "outcome", POST, blocks.outcome_message(text))
        if request.state is RequestState.SUCCEEDED and request.kind == "upgrade":
            route = summit_route(self.settings, list(request.ranges))
            steps = blocks.next_steps(
                self.settings.environment(request.environment), self.settings.slack, route, request.ticket
            )
            self.outbox.owe(request, "next-steps", POST, blocks.message(steps, [blocks.section(steps)]))
        self.threads.owed(request)


class SlackOutbox:
    """What requests' Slack views are owed, kept in the state database until Slack takes it.

    Made after the manner of the Jira comments (:mod:`bot.services.tickets`): each is stored before it is sent,
    each attempt is claimed in the database (so one process at a time tries it), a failed attempt waits
    ``slack.retry_seconds``, doubling to ten minutes, until ``slack.give_up_hours``; an error no retry
    mends (the message or channel is gone) gives up at once. Delivered means marked so, with the ts of
    what Slack made, right after Slack answered.
    """

    def __init__(self, client: WebClient, settings: Settings, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.client = client
        self.settings = settings
        self.store = store
        self.clock = clock

    def owe(self, request: RequestView, what: str, kind: str, payload: dict[str, Any]) -> None:
        """Keep, once, that the request's view is owed ``what``; a request never posted is owed nothing."""
        if not (request.channel and request.message_ts):
            return
        at = self.clock()
        self.store.add_slack_post(
            SlackPost(
                about=f"request-{request.id}-{request.state.value}-{what}", request_id=request.id, kind=kind,
                channel=request.channel, message_ts=request.message_ts, payload=payload, created_at=at,
                next_attempt_at=at,
            )
        )  # fmt: skip

    def deliver(self, request_id: int) -> float | None:
        """Send what the request's view is owed, in order; None once nothing is owed any more, else the
        seconds until the next of it is due again."""
        for post in self.store.owed_slack_posts(request_id):
            due = aware(post.next_attempt_at)
            if post.attempts and due > self.clock():
                return (due - self.clock()).total_seconds()
            if self._attempt(post):
                continue
            latest = self.store.slack_post(post.id)
            if latest is not None and latest.delivered_at is None and latest.given_up_at is None:
                return max(0.0, (aware(latest.next_attempt_at) - self.clock()).total_seconds())
        return None

    def retry_due(self, *, besides: Callable[[int], bool]) -> None:
        """Send what is due for every request but those ``besides`` names."""
        for request_id in self.store.due_slack_requests(self.clock()):
            if not besides(request_id):
                self.deliver(request_id)

    def _attempt(self, post: SlackPost) -> bool:
        """One try at a post; true once it is settled (delivered or given up)."""
        at = self.clock()
        wait = min(self.settings.slack.retry_seconds * 2**post.attempts, LONGEST_BACKOFF_SECONDS)
        retry_at = at + timedelta(seconds=wait)
        if not self.store.claim_slack_post(post.id, attempts=post.attempts, next_attempt_at=retry_at):
            return False
        try:
            posted = self._send(post)
        except ConsdbBotError as error:  # the request cannot be shown any more (its environment is gone)
            self._give_up(post, error.message, at)
            return True
        except SlackFailure as error:
            API_ERRORS.labels("slack").inc()
            reason = reason_of(error)
            late = at - aware(post.created_at) >= timedelta(hours=self.settings.slack.give_up_hours)
            if permanent(error) or late:
                self._give_up(post, reason, at)
                return True
            self.store.settle_slack_post(post.id, error=reason)
            log.warning("Slack did not take %s (try %d): %s; trying again in %g s",
                        post.about, post.attempts + 1, reason, wait)  # fmt: skip
            return False
        self.store.settle_slack_post(post.id, delivered_at=at, posted_ref=posted)
        if post.attempts:
            log.info("Slack took %s on try %d", post.about, post.attempts + 1)
        return True

    def _send(self, post: SlackPost) -> str:
        """Send one post; returns what Slack made of it (a message's ts, a file's id)."""
        if post.kind == UPDATE:
            request = self.store.request(post.request_id)
            if request is None:
                raise Refused(f"request #{post.request_id} is not in the state database")
            view = request_view(self.settings, self.store, request)
            self.client.chat_update(
                channel=post.channel, ts=post.message_ts, **blocks.request_message(view, self.settings.slack)
            )
            return post.message_ts
        if post.kind == UPLOAD:
            uploaded = self.client.files_upload_v2(channel=post.channel, thread_ts=post.message_ts, **post.payload)
            return str((uploaded.get("files") or [{}])[0].get("id", ""))
        response = self.client.chat_postMessage(channel=post.channel, thread_ts=post.message_ts, **post.payload)
        return str(response["ts"])

    def _give_up(self, post: SlackPost, reason: str, at: datetime) -> None:
        self.store.settle_slack_post(post.id, error=reason, given_up_at=at)
        log.warning("gave up showing %s in Slack after %d tries: %s", post.about, post.attempts + 1, reason)
        request = self.store.request(post.request_id)
        self.store.audit(
            actor="consdb-bot", action="slack gave up", request_id=post.request_id,
            environment=request.environment if request else None,
            summary=f"gave up showing {post.about} in Slack after {plural(post.attempts + 1, 'try')}: {reason}",
        )  # fmt: skip


class _Owed(Enum):
    """In a request's queue: here comes what the outbox owes the request (after what is before it)."""

    OUTBOX = "outbox"


@dataclass(frozen=True)
class _Update:
    """In a request's queue: its message as it stood when queued (a request still open)."""

    payload: dict[str, Any]


@dataclass
class _Pending:
    """What waits for one request's message and thread, oldest first."""

    channel: str
    message_ts: str
    items: deque[str | _Update | _Owed] = field(default_factory=deque)
    lines: int = 0
    left_out: int = 0
    not_before: float = 0.0
    failures: int = 0


@dataclass(frozen=True)
class _Batch:
    """Lines from the head of a queue, to go as one message."""

    lines: list[str]
    left_out: int

    @property
    def text(self) -> str:
        note = f"({plural(self.left_out, 'more line')} left out: Slack did not take them fast enough)"
        return "\n".join(self.lines + ([note] if self.left_out else []))[: blocks.SECTION_LIMIT]


class ThreadWriter:
    """Requests' messages and threads, written by one worker thread: callers only queue, and never
    wait on Slack.

    Each request has a queue of lines for its thread (at most :data:`MOST_QUEUED_LINES`), updates
    of its message, and markers where what the outbox owes it is to be sent. The worker takes the
    lines at the head of a queue that fit in one message, posts them as one, and drops them once Slack
    took them; refused, they stay, and that queue waits (one second, doubling to a minute) while the
    others go on. An update of the message Slack refused is dropped once a newer one is queued.
    """

    def __init__(self, client: WebClient, *, deliver: Callable[[int], float | None]) -> None:
        """``deliver`` sends what the outbox owes a request: None when done, else seconds to wait."""
        self.client = client
        self.deliver = deliver
        self._pending: dict[int, _Pending] = {}
        self._changed = threading.Condition()
        self._stopping = False
        self._worker: threading.Thread | None = None

    def line(self, request: RequestView, text: str) -> None:
        """Queue a line for the request's thread."""
        with self._changed:
            pending = self._queue(request)
            if pending is None:
                return
            if pending.lines >= MOST_QUEUED_LINES:
                pending.left_out += 1
                return
            pending.items.append(text)
            pending.lines += 1
            self._changed.notify_all()

    def update(self, request: RequestView, payload: dict[str, Any]) -> None:
        """Queue the request's message as it stands now."""
        with self._changed:
            pending = self._queue(request)
            if pending is not None:
                pending.items.append(_Update(payload))
                self._changed.notify_all()

    def owed(self, request: RequestView) -> None:
        """Send what the outbox owes the request once the lines queued before are posted."""
        with self._changed:
            pending = self._queue(request)
            # One marker waiting is enough; one at the head may be under way, and may miss what is owed now.
            if pending is not None and not (len(pending.items) > 1 and pending.items[-1] is _Owed.OUTBOX):
                pending.items.append(_Owed.OUTBOX)
                self._changed.notify_all()

    def holds(self, request_id: int) -> bool:
        """Whether something for this request waits here (the outbox's scheduled retries leave it alone)."""
        with self._changed:
            return request_id in self._pending

    def close(self, seconds: float) -> None:
        """Stop once nothing ready is left, waiting ``seconds`` at most; what Slack refused stays unsent
        (the outbox's part is kept in the state database)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout=seconds)
        with self._changed:
            lost = sum(pending.lines for pending in self._pending.values())
        if lost:
            log.warning("%s for requests' threads were not posted before the bot stopped", plural(lost, "line"))

    def _queue(self, request: RequestView) -> _Pending | None:
        if not (request.channel and request.message_ts):
            return None
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, daemon=True, name="slack-threads")
            self._worker.start()
        return self._pending.setdefault(request.id, _Pending(request.channel, request.message_ts))

    def _work(self) -> None:
        while True:
            with self._changed:
                task = self._next()
                while task is None:
                    if self._stopping:
                        return
                    self._changed.wait(self._idle_seconds())
                    task = self._next()
            request_id, pending, head = task
            if isinstance(head, _Batch):
                self._post(request_id, pending, head)
            elif isinstance(head, _Update):
                self._update(request_id, pending, head)
            else:
                self._deliver(request_id, pending)

    def _next(self) -> tuple[int, _Pending, _Batch | _Update | _Owed] | None:
        """The queue that waited longest and is ready, and what to send from its head."""
        now = time.monotonic()
        ready = [(pending.not_before, key) for key, pending in self._pending.items() if pending.not_before <= now]
        if not ready:
            return None
        request_id = min(ready)[1]
        pending = self._pending[request_id]
        head = pending.items[0]
        if not isinstance(head, str):
            return request_id, pending, head
        lines: list[str] = []
        size = 0
        for item in pending.items:
            if not isinstance(item, str) or (lines and size + len(item) + 1 > blocks.SECTION_LIMIT):
                break
            lines.append(item)
            size += len(item) + 1
        return request_id, pending, _Batch(lines, pending.left_out if len(lines) == pending.lines else 0)

    def _idle_seconds(self) -> float | None:
        waits = [pending.not_before - time.monotonic() for pending in self._pending.values()]
        return max(0.01, min(waits)) if waits else None

    def _post(self, request_id: int, pending: _Pending, batch: _Batch) -> None:
        payload = blocks.progress_message(batch.text)
        try:
            self.client.chat_postMessage(channel=pending.channel, thread_ts=pending.message_ts, **payload)
        except SlackFailure as error:
            with self._changed:
                if self._refused(request_id, pending, error, f"{plural(len(batch.lines), 'line')} for its thread"):
                    self._posted(request_id, pending, batch)
            return
        with self._changed:
            self._posted(request_id, pending, batch)

    def _posted(self, request_id: int, pending: _Pending, batch: _Batch) -> None:
        for _ in batch.lines:
            pending.items.popleft()
        pending.lines -= len(batch.lines)
        pending.left_out -= batch.left_out
        self._sent(request_id, pending)

    def _update(self, request_id: int, pending: _Pending, update: _Update) -> None:
        try:
            self.client.chat_update(channel=pending.channel, ts=pending.message_ts, **update.payload)
        except SlackFailure as error:
            with self._changed:
                newer = any(not isinstance(item, str) for item in list(pending.items)[1:])
                if self._refused(request_id, pending, error, "an update of its message", drop=newer):
                    pending.items.popleft()
                    self._sent(request_id, pending)
            return
        with self._changed:
            pending.items.popleft()
            self._sent(request_id, pending)

    def _refused(
        self, request_id: int, pending: _Pending, error: BaseException, what: str, *, drop: bool = False
    ) -> bool:
        """Slack did not take the head of a queue: true when it is to be dropped (no retry mends it, or
        ``drop``), else the queue waits (called holding the lock)."""
        API_ERRORS.labels("slack").inc()
        if drop or permanent(error):
            log.warning("Slack did not take %s of request #%s (%s); dropped", what, request_id, reason_of(error))
            return True
        pending.failures += 1
        wait = min(FIRST_LINE_BACKOFF_SECONDS * 2 ** (pending.failures - 1), LONGEST_LINE_BACKOFF_SECONDS)
        pending.not_before = time.monotonic() + wait
        log.warning("Slack did not take %s of request #%s (%s); trying again in %g s",
                    what, request_id, reason_of(error), wait)  # fmt: skip
        return False

    def _deliver(self, request_id: int, pending: _Pending) -> None:
        try:
            wait = self.deliver(request_id)
        except Exception as error:  # the state database, most likely: try again in a while
            log.warning("what request #%s's Slack view is owed could not be read: %s", request_id, type(error).__name__)
            wait = STATE_RETRY_SECONDS
        with self._changed:
            if wait is None:
                pending.items.popleft()
                self._sent(request_id, pending)
            else:
                pending.not_before = time.monotonic() + wait

    def _sent(self, request_id: int, pending: _Pending) -> None:
        """The head went: the thread's next turn comes after the others' (called holding the lock)."""
        pending.failures = 0
        pending.not_before = time.monotonic()
        if not pending.items:
            del self._pending[request_id]


def reason_of(error: BaseException) -> str:
    """Why a call to Slack failed, in a few words (Slack's error code, or the HTTP status)."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def permanent(error: BaseException) -> bool:
    return isinstance(error, SlackApiError) and error.response.get("error") in PERMANENT_ERRORS


class SlackAnnouncer:
    """Scheduled news in the channels it names. A booking's announcements that offer its buttons are kept
    (:class:`~bot.store.models.BookingPost`), and taken back when it is cancelled or ends: their buttons
    gone, what became of it said under each."""

    def __init__(self, client: WebClient, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.client = client
        self.store = store
        self.clock = clock

    def booking(self, announcement: Announcement) -> None:
        view = announcement.booking
        if announcement.event in (BookingEvent.CANCELLED, BookingEvent.ENDED):
            self._take_back(view)
        payload = blocks.booking_announcement(announcement)
        for channel, ts in self._post(announcement.channels, payload):
            if announcement.event in blocks.STANDING_NEWS:
                self.store.add_booking_post(
                    BookingPost(booking_id=view.id, channel=channel, message_ts=ts, payload=payload,
                                created_at=self.clock())
                )  # fmt: skip

    def _take_back(self, view: BookingView) -> None:
        note = blocks.booking_note(view)
        for post in self.store.take_booking_posts(view.id):
            try:
                self.client.chat_update(
                    channel=post.channel, ts=post.message_ts,
                    **blocks.redrawn_announcement(post.payload, view, note, standing=False),
                )  # fmt: skip
            except SlackFailure as error:  # the news of the end or the cancel is posted all the same
                API_ERRORS.labels("slack").inc()
                log.warning("could not take back an announcement of booking #%s in %s: %s", view.id, post.channel,
                            reason_of(error))  # fmt: skip

    def report(self, report: DailyReport) -> None:
        self._post(report.channels, blocks.report_message(report))

    def alert(self, alert: HealthAlert) -> None:
        self._post(alert.channels, blocks.alert_message(alert))

    def replica_alert(self, alert: ReplicaAlert) -> None:
        self._post([alert.channel], blocks.replica_alert_message(alert))

    def _post(self, channels: list[str], payload: dict[str, Any]) -> list[tuple[str, str]]:
        """Post in each channel; where Slack took it, the channel and the message's ts."""
        posted = []
        for channel in channels:
            try:
                response = self.client.chat_postMessage(channel=channel, **payload)
            except SlackApiError as error:
                API_ERRORS.labels("slack").inc()
                log.warning("could not post in %s: %s", channel, error.response.get("error", "unknown error"))
                continue
            posted.append((str(response["channel"]), str(response["ts"])))
        return posted
