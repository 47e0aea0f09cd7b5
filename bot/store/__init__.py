"""The one door to the bot's own state. Everything else asks here; nothing else writes SQL.

Transitions of a request are compare-and-set (``UPDATE ... WHERE state = :expected``), so that a
request moves on once however many threads, processes or redelivered events race for it. What must
not be lost (how a run ended) is written with :meth:`Store.until_written`: kept, and tried again,
for as long as the state database cannot be reached.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Select, Table, create_engine, delete, event, func, select, text, update
from sqlalchemy.engine import URL, CursorResult, Engine, Result, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ConfigError
from bot.logs import TRACE, shown_url
from bot.store.models import (
    OPEN_STATES,
    Approval,
    AuditRecord,
    Booking,
    BookingPost,
    ChangeRequest,
    JiraComment,
    RequestState,
    SeenEvent,
    SlackPost,
    TicketBoard,
)

STATE_TREE = Path(__file__).resolve().parent / "alembic"
STATE_VERSION_TABLE = "consdb_bot_state_version"
UPGRADE_LOCK_KEY = zlib.crc32(b"consdb-bot state upgrade") & 0x7FFFFFFF
_upgrade_lock = threading.Lock()
# Bookings are checked for overlaps and written in one step: by one thread of a process at a time,
# and on PostgreSQL by one process at a time per environment.
_booking_lock = threading.Lock()
log = logging.getLogger(__name__)
T = TypeVar("T")
UNREACHABLE = (OperationalError, InterfaceError)
"""What SQLAlchemy raises when the state database does not answer (down, restarting, refusing
connections, gone mid-session): nothing was written, and the same call may succeed later."""
FIRST_RETRY_SECONDS = 0.5
LAST_RETRY_SECONDS = 30.0


def now() -> datetime:
    return datetime.now(UTC)


class Store:
    """The bot's state database."""

    def __init__(self, url: str, *, clock: Callable[[], datetime], connect_timeout: int = 10) -> None:
        """``clock`` stamps what the store writes (approvals, audit, heartbeats): :func:`now` in the
        bot, a test's own clock in tests, so that nothing depends on the day the suite runs.
        ``connect_timeout`` bounds every connection to a PostgreSQL state database, so that a server
        behind a silent proxy is an error, not a hang."""
        self.clock = clock
        self.url = _state_url(url)
        self.shown_url = shown_url(make_url(url))  # as configured, password masked
        self.connect_timeout = connect_timeout
        postgres = self.url.get_backend_name() == "postgresql"
        try:
            # A connection the state database dropped (a restart, a network cut) is found out before use.
            self.engine: Engine = create_engine(
                self.url,
                future=True,
                pool_pre_ping=True,
                connect_args={"connect_timeout": connect_timeout} if postgres else {},
            )
        except (NoSuchModuleError, ImportError) as error:
            raise ConfigError(
                f"state_url {self.shown_url} names a database the bot has no driver for ({error})",
                hint="Use sqlite:///consdb-bot.sqlite3 or postgresql://USER@HOST:PORT/DATABASE.",
            ) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def reach(self) -> Connection:
        """A connection to the state database, or one line saying which one cannot be reached and why."""
        try:
            return self.engine.connect()
        except DBAPIError as error:
            cause = error.orig if error.orig is not None else error
            reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
            if isinstance(self.url.password, str) and self.url.password:
                reason = reason.replace(self.url.password, "***")
            waited = (
                f", within state_connect_timeout_seconds ({self.connect_timeout} s)"
                if self.engine.dialect.name == "postgresql"
                else ""
            )
            raise ConfigError(
                f"cannot reach the bot's state database at {self.shown_url} ({reason}): check state_url"
                f" and that the database answers{waited}"
            ) from None

    def upgrade(self, *, foreign_tables: Sequence[Table] = ()) -> None:
        """Create or upgrade the state tables with the bot's own small Alembic tree; ``foreign_tables``
        are tables a library owns (APScheduler's jobs), created if missing under the same lock."""
        config = Config()
        config.set_main_option("script_location", str(STATE_TREE))
        with _upgrade_lock, self.reach() as connection, connection.begin():
            if connection.dialect.name == "postgresql":  # replicas starting together upgrade one at a time
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            for table in foreign_tables:
                table.create(connection, checkfirst=True)

    def until_written(self, work: Callable[[], T], *, what: str, give_up: threading.Event) -> T:
        """``work()`` (writes of the state), done again and again while the state database cannot be
        reached, waiting longer each time (up to 30 s), until it is done or ``give_up`` is set (then the
        last error is raised). ``work`` must be safe to repeat: a write may have been committed whose
        answer was lost."""
        wait = FIRST_RETRY_SECONDS
        while True:
            try:
                return work()
            except UNREACHABLE as error:
                reason = type(error.orig).__name__ if error.orig is not None else type(error).__name__
                log.warning("the state database cannot be reached (%s): %s is kept, and written in %g s",
                            reason, what, wait)  # fmt: skip
                if give_up.wait(wait):
                    raise
                wait = min(wait * 2, LAST_RETRY_SECONDS)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def add_request(self, request: ChangeRequest) -> ChangeRequest:
        """Store a new request (IntegrityError if another request is open in that environment)."""
        with self.session() as session:
            session.add(request)
        return request

    def request(self, request_id: int) -> ChangeRequest | None:
        with self.session() as session:
            return session.get(ChangeRequest, request_id)

    def request_for_message(self, channel: str, message_ts: str) -> ChangeRequest | None:
        with self.session() as session:
            return session.scalars(
                select(ChangeRequest).where(ChangeRequest.channel == channel, ChangeRequest.message_ts == message_ts)
            ).first()

    def open_request(self, environment: str) -> ChangeRequest | None:
        with self.session() as session:
            return session.scalars(
                select(ChangeRequest).where(
                    ChangeRequest.environment == environment, ChangeRequest.state.in_(OPEN_STATES)
                )
            ).first()

    def last_succeeded(
        self,
        kinds: Sequence[str],
        *,
        environments: Sequence[str] | None = None,
        ticket: str | None = None,
        where: Callable[[ChangeRequest], bool] = lambda _request: True,
    ) -> ChangeRequest | None:
        """The succeeded request of these kinds that finished last (at these environments, of this ticket)
        for which ``where`` holds."""
        query = select(ChangeRequest).where(
            ChangeRequest.state == RequestState.SUCCEEDED, ChangeRequest.kind.in_(kinds)
        )
        if environments is not None:
            query = query.where(ChangeRequest.environment.in_(environments))
        if ticket is not None:
            query = query.where(ChangeRequest.ticket == ticket)
        with self.session() as session:
            newest_first = session.scalars(query.order_by(ChangeRequest.finished_at.desc(), ChangeRequest.id.desc()))
            return next((request for request in newest_first if where(request)), None)

    def requests_in(self, state: RequestState) -> list[ChangeRequest]:
        with self.session() as session:
            return list(session.scalars(select(ChangeRequest).where(ChangeRequest.state == state)))

    def set_message(self, request_id: int, channel: str, message_ts: str) -> None:
        with self.session() as session:
            session.execute(
                update(ChangeRequest)
                .where(ChangeRequest.id == request_id)
                .values(channel=channel, message_ts=message_ts)
            )

    def transition(self, request_id: int, expected: RequestState, new: RequestState, **values: Any) -> bool:
        """Move a request from ``expected`` to ``new``; false if it was not in ``expected``."""
        if new not in OPEN_STATES:
            values.setdefault("finished_at", self.clock())
        with self.session() as session:
            result = session.execute(
                update(ChangeRequest)
                .where(ChangeRequest.id == request_id, ChangeRequest.state == expected)
                .values(state=new, **values)
            )
            return _rowcount(result) == 1

    def set_verdict(self, request_id: int, user: str, verdict: str, *, present: bool, event_ts: str) -> None:
        """Record or withdraw one user's approve or reject, unless a later event already decided it."""
        try:
            with self.session() as session:
                row = session.get(Approval, (request_id, user, verdict), with_for_update=True)
                if row is None:
                    session.add(
                        Approval(request_id=request_id, user=user, verdict=verdict, at=self.clock(), present=present,
                                 event_ts=event_ts)
                    )  # fmt: skip
                elif float(event_ts) >= float(row.event_ts):
                    row.present, row.event_ts, row.at = present, event_ts, self.clock()
        except IntegrityError:  # the same verdict, recorded at this moment by another thread: decide again
            self.set_verdict(request_id, user, verdict, present=present, event_ts=event_ts)

    def verdicts(self, request_id: int) -> list[Approval]:
        """The verdicts that stand, oldest first."""
        query = select(Approval).where(Approval.request_id == request_id, Approval.present).order_by(Approval.at)
        with self.session() as session:
            return list(session.scalars(query))

    def set_step(self, request_id: int, step: str) -> None:
        """Record the step a running rollout finished, before it starts the next."""
        with self.session() as session:
            session.execute(update(ChangeRequest).where(ChangeRequest.id == request_id).values(step=step))

    def beat(self, request_id: int) -> None:
        """Say that the run of this request is alive."""
        with self.session() as session:
            beat = update(ChangeRequest).where(ChangeRequest.id == request_id).values(heartbeat_at=self.clock())
            session.execute(beat)

    def add_booking(self, booking: Booking) -> Booking | None:
        """Store a booking unless another one overlaps it: returns the one in the way, or None when stored."""
        booking.starts_at, booking.ends_at = utc(booking.starts_at), utc(booking.ends_at)
        with _booking_lock, self.session() as session:
            _lock_environment(session, booking.environment)
            clash = _overlapping(session, booking.environment, booking.starts_at, booking.ends_at, besides=None)
            if clash is None:
                session.add(booking)
            return clash

    def extend_booking(self, booking_id: int, *, until: datetime) -> Booking | None:
        """Move a booking's end to ``until`` unless another booking is in the way (returned)."""
        with _booking_lock, self.session() as session:
            booking = session.get(Booking, booking_id)
            assert booking is not None
            _lock_environment(session, booking.environment)
            clash = _overlapping(session, booking.environment, booking.ends_at, until, besides=booking_id)
            if clash is None:
                booking.ends_at = utc(until)
            return clash

    def cancel_booking(self, booking_id: int, *, by: str, at: datetime) -> bool:
        """Cancel a booking once: false if it was cancelled already."""
        with self.session() as session:
            result = session.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.cancelled_at.is_(None))
                .values(cancelled_at=utc(at), cancelled_by=by)
            )
            return _rowcount(result) == 1

    def add_booking_post(self, post: BookingPost) -> None:
        with self.session() as session:
            session.add(post)

    def take_booking_posts(self, booking_id: int) -> list[BookingPost]:
        """The announcements of a booking that offer its buttons, each handed out once (then forgotten)."""
        with self.session() as session:
            posts = list(session.scalars(select(BookingPost).where(BookingPost.booking_id == booking_id)))
            taken = [
                post for post in posts
                if _rowcount(session.execute(delete(BookingPost).where(BookingPost.id == post.id))) == 1
            ]  # fmt: skip
            return taken

    def booking(self, booking_id: int) -> Booking | None:
        with self.session() as session:
            return session.get(Booking, booking_id)

    def bookings(self, *, ending_after: datetime, starting_before: datetime | None = None,
                 environment: str | None = None) -> list[Booking]:  # fmt: skip
        """Bookings standing after ``ending_after`` (and starting before ``starting_before``), soonest first."""
        query = select(Booking).where(Booking.cancelled_at.is_(None), Booking.ends_at > utc(ending_after))
        if starting_before is not None:
            query = query.where(Booking.starts_at < utc(starting_before))
        if environment is not None:
            query = query.where(Booking.environment == environment)
        with self.session() as session:
            return list(session.scalars(query.order_by(Booking.starts_at)))

    def first_sighting(self, event_id: str) -> bool:
        """True the first time an id is seen, false for every redelivery or repeated run."""
        return self._add_once(SeenEvent(event_id=event_id, at=self.clock()))

    def _add_once(self, row: object) -> bool:
        """Add a row whose unique key says what it is about; false when such a row is there already."""
        try:
            with self.session() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    def _claim(
        self, model: type[JiraComment] | type[SlackPost], done: Any, row_id: int, *, attempts: int,
        next_attempt_at: datetime,
    ) -> bool:  # fmt: skip
        """Take the next attempt at an outbox row (a Jira comment, a Slack post; ``done`` is the column
        that says it went) by compare-and-set on its attempts: false when another thread or process
        took it, or it is done."""
        with self.session() as session:
            result = session.execute(
                update(model)
                .where(model.id == row_id, model.attempts == attempts, done.is_(None), model.given_up_at.is_(None))
                .values(attempts=attempts + 1, next_attempt_at=utc(next_attempt_at))
            )
            return _rowcount(result) == 1

    def seen(self, event_id: str) -> bool:
        """Whether an id was marked seen (by :meth:`first_sighting`)."""
        with self.session() as session:
            return session.get(SeenEvent, event_id) is not None

    def forget_sightings(self, prefix: str, *, before: datetime) -> None:
        """Forget ids that start with ``prefix``, seen before ``before``: those only needed for a while."""
        with self.session() as session:
            session.execute(delete(SeenEvent).where(SeenEvent.event_id.startswith(prefix), SeenEvent.at < utc(before)))

    def audit(
        self,
        *,
        actor: str,
        action: str,
        summary: str,
        environment: str | None = None,
        request_id: int | None = None,
        detail: dict[str, Any] | None = None,
        ticket: str | None = None,
    ) -> int:
        """Record one fact, with the trace of the Slack request it serves; returns its number."""
        trace = TRACE.get()
        record = AuditRecord(
            at=self.clock(), actor=actor, action=action, environment=environment, request_id=request_id,
            summary=summary, detail={**(detail or {}), **({"trace": trace} if trace else {})}, ticket=ticket,
        )  # fmt: skip
        with self.session() as session:
            session.add(record)
        return record.id

    def audit_trail(self, *, environment: str | None = None, limit: int = 20) -> list[AuditRecord]:
        """Newest first."""
        query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
        if environment:
            query = query.where(AuditRecord.environment == environment)
        with self.session() as session:
            return list(session.scalars(query))

    def last_audit(self, *, environment: str, actions: Sequence[str]) -> AuditRecord | None:
        """The newest record of one of ``actions`` in ``environment``."""
        query = (
            select(AuditRecord)
            .where(AuditRecord.environment == environment, AuditRecord.action.in_(actions))
            .order_by(AuditRecord.id.desc())
        )
        with self.session() as session:
            return session.scalars(query.limit(1)).first()

    def add_comment(self, comment: JiraComment) -> bool:
        """Queue a comment; false when one about the same thing is queued already."""
        return self._add_once(comment)

    def claim_comment(self, comment_id: int, *, attempts: int, next_attempt_at: datetime) -> bool:
        return self._claim(
            JiraComment, JiraComment.posted_at, comment_id, attempts=attempts, next_attempt_at=next_attempt_at
        )

    def settle_comment(
        self, comment_id: int, *, error: str | None = None, posted_at: datetime | None = None,
        given_up_at: datetime | None = None,
    ) -> None:  # fmt: skip
        """Record how an attempt went: posted, failed (``error``, tried again later) or given up."""
        values: dict[str, Any] = {"last_error": error}
        if posted_at is not None:
            values["posted_at"] = utc(posted_at)
        if given_up_at is not None:
            values["given_up_at"] = utc(given_up_at)
        with self.session() as session:
            session.execute(update(JiraComment).where(JiraComment.id == comment_id).values(**values))

    def comment(self, comment_id: int) -> JiraComment | None:
        with self.session() as session:
            return session.get(JiraComment, comment_id)

    def due_comments(self, at: datetime) -> list[JiraComment]:
        """Comments still owed whose next attempt is due, oldest first."""
        query = select(JiraComment).where(
            JiraComment.posted_at.is_(None), JiraComment.given_up_at.is_(None), JiraComment.next_attempt_at <= utc(at)
        )
        with self.session() as session:
            return list(session.scalars(query.order_by(JiraComment.id)))

    def add_slack_post(self, post: SlackPost) -> bool:
        """Keep what a request's Slack view is owed; false when it is owed (or was delivered) already."""
        return self._add_once(post)

    def owed_slack_posts(self, request_id: int) -> list[SlackPost]:
        """What a request's Slack view is still owed, in the order it is to be sent."""
        query = select(SlackPost).where(
            SlackPost.request_id == request_id, SlackPost.delivered_at.is_(None), SlackPost.given_up_at.is_(None)
        )
        with self.session() as session:
            return list(session.scalars(query.order_by(SlackPost.id)))

    def due_slack_requests(self, at: datetime) -> list[int]:
        """The requests whose Slack view is owed something due by ``at``, longest waiting first."""
        query = (
            select(SlackPost.request_id)
            .where(
                SlackPost.delivered_at.is_(None), SlackPost.given_up_at.is_(None),
                SlackPost.next_attempt_at <= utc(at),
            )
            .group_by(SlackPost.request_id)
            .order_by(func.min(SlackPost.id))
        )  # fmt: skip
        with self.session() as session:
            return list(session.scalars(query))

    def slack_post(self, post_id: int) -> SlackPost | None:
        with self.session() as session:
            return session.get(SlackPost, post_id)

    def claim_slack_post(self, post_id: int, *, attempts: int, next_attempt_at: datetime) -> bool:
        return self._claim(
            SlackPost, SlackPost.delivered_at, post_id, attempts=attempts, next_attempt_at=next_attempt_at
        )

    def settle_slack_post(
        self, post_id: int, *, error: str | None = None, delivered_at: datetime | None = None,
        posted_ref: str | None = None, given_up_at: datetime | None = None,
    ) -> None:  # fmt: skip
        """Record how an attempt went: delivered (with what Slack made), failed (``error``) or given up."""
        values: dict[str, Any] = {"last_error": error}
        if delivered_at is not None:
            values |= {"delivered_at": utc(delivered_at), "posted_ref": posted_ref}
        if given_up_at is not None:
            values["given_up_at"] = utc(given_up_at)
        with self.session() as session:
            session.execute(update(SlackPost).where(SlackPost.id == post_id).values(**values))

    def on_ticket(self, ticket: str) -> tuple[list[ChangeRequest], list[Booking], list[AuditRecord], list[JiraComment]]:
        """All the bot knows of a ticket: its requests and bookings, the outcomes of changes made from a
        terminal, and the comments it made or owes, each oldest first."""
        with self.session() as session:
            requests = session.scalars(
                select(ChangeRequest).where(ChangeRequest.ticket == ticket).order_by(ChangeRequest.id)
            )
            bookings = session.scalars(select(Booking).where(Booking.ticket == ticket).order_by(Booking.starts_at))
            outcomes = session.scalars(
                select(AuditRecord)
                .where(AuditRecord.ticket == ticket, AuditRecord.request_id.is_(None),
                       AuditRecord.action.in_(["succeeded", "failed"]))
                .order_by(AuditRecord.id)
            )  # fmt: skip
            comments = session.scalars(select(JiraComment).where(JiraComment.ticket == ticket).order_by(JiraComment.id))
            return list(requests), list(bookings), list(outcomes), list(comments)

    def last_reached(self, environment: str, schema: str) -> list[str] | None:
        """Where the bot's last successful change of ``schema`` in ``environment`` left it (its
        revisions), or None when the bot has no record of changing it there."""
        # Annotated: SQLAlchemy's overloads of select() do not infer one column of dict[str, Any].
        query: Select[dict[str, Any]] = (
            select(AuditRecord.detail)
            .where(AuditRecord.environment == environment, AuditRecord.action == "succeeded")
            .order_by(AuditRecord.id.desc())
        )
        with self.session() as session:
            for detail in session.scalars(query):
                reached = detail.get("reached", {})
                if schema in reached:
                    return list(reached[schema])
        return None

    def ticket_records(self, ticket: str, actions: Sequence[str]) -> list[AuditRecord]:
        """The audit records of one of ``actions`` under ``ticket``, oldest first."""
        query = select(AuditRecord).where(AuditRecord.ticket == ticket, AuditRecord.action.in_(list(actions)))
        with self.session() as session:
            return list(session.scalars(query.order_by(AuditRecord.id)))

    def audit_since(self, *, environment: str, actions: Sequence[str], after: datetime) -> list[AuditRecord]:
        """The records of one of ``actions`` in ``environment`` made after ``after``, oldest first."""
        query = select(AuditRecord).where(
            AuditRecord.environment == environment, AuditRecord.action.in_(list(actions)), AuditRecord.at > utc(after)
        )
        with self.session() as session:
            return list(session.scalars(query.order_by(AuditRecord.id)))

    def finished_since(self, kinds: Sequence[str], *, after: datetime) -> list[ChangeRequest]:
        """The requests of these kinds, whatever their ticket, that ended after ``after``, by when they did."""
        query = select(ChangeRequest).where(
            ChangeRequest.kind.in_(list(kinds)), ChangeRequest.finished_at.is_not(None),
            ChangeRequest.finished_at > utc(after),
        )  # fmt: skip
        with self.session() as session:
            return list(session.scalars(query.order_by(ChangeRequest.finished_at, ChangeRequest.id)))

    def board(self, ticket: str) -> TicketBoard | None:
        with self.session() as session:
            return session.get(TicketBoard, ticket)

    def board_at(self, channel: str, message_ts: str) -> TicketBoard | None:
        """The board whose message this is, if any."""
        query = select(TicketBoard).where(TicketBoard.channel == channel, TicketBoard.message_ts == message_ts)
        with self.session() as session:
            return session.scalars(query).first()

    def claim_board(self, ticket: str, channel: str) -> bool:
        """Take the posting of a ticket's first board: false when another process or thread has it already."""
        return self._add_once(TicketBoard(ticket=ticket, channel=channel, created_at=self.clock()))

    def drop_board(self, ticket: str) -> None:
        """Forget a board whose message could not be posted (or is gone), so that the next one is posted anew."""
        with self.session() as session:
            session.execute(delete(TicketBoard).where(TicketBoard.ticket == ticket))

    def board_shown(self, ticket: str, *, channel: str, message_ts: str, through: int, complete: bool) -> None:
        """The board's message, brought up to date with what the audit trail said up to record ``through``."""
        with self.session() as session:
            session.execute(
                update(TicketBoard)
                .where(TicketBoard.ticket == ticket)
                .values(channel=channel, message_ts=message_ts, shown_through=through, complete=complete)
            )

    def boards_not_complete(self) -> list[str]:
        """The tickets whose live board was not complete when last shown (or is being posted), oldest first."""
        query = select(TicketBoard.ticket).where(TicketBoard.complete.is_(False))
        with self.session() as session:
            return list(session.scalars(query.order_by(TicketBoard.created_at, TicketBoard.ticket)))

    def last_audit_id(self) -> int:
        """The number of the newest audit record (0: none yet)."""
        with self.session() as session:
            return session.scalar(select(func.max(AuditRecord.id))) or 0

    def boards_behind(self, *, kinds: Sequence[str], actions: Sequence[str]) -> list[str]:
        """The tickets whose board, not complete, was shown before news that may change it: a record of the
        ticket or of one of its requests, of a request of one of ``kinds`` whatever its ticket, or of one of
        ``actions`` whatever its ticket (a pqserver restart asked under no ticket, a check of TAP)."""
        behind = []
        with self.session() as session:
            boards = session.scalars(
                select(TicketBoard).where(TicketBoard.complete.is_(False), TicketBoard.message_ts.is_not(None))
            )
            for board in list(boards):
                concerned = select(ChangeRequest.id).where(
                    (ChangeRequest.ticket == board.ticket) | ChangeRequest.kind.in_(list(kinds))
                )
                news = select(AuditRecord.id).where(
                    AuditRecord.id > board.shown_through,
                    (AuditRecord.ticket == board.ticket) | AuditRecord.action.in_(list(actions))
                    | AuditRecord.request_id.in_(concerned),
                )  # fmt: skip
                if session.scalars(news.limit(1)).first() is not None:
                    behind.append(board.ticket)
        return behind


def _rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE changed. ``Session.execute`` is typed to return any ``Result`` (SQLAlchemy
    issue 9185); for an UPDATE it is a ``CursorResult``, which has the count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"an UPDATE gave a {type(result).__name__}, not a CursorResult")
    return result.rowcount


def _lock_environment(session: Session, environment: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"consdb-bot bookings {environment}".encode()) & 0x7FFFFFFF
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _overlapping(
    session: Session, environment: str, starts: datetime, ends: datetime, *, besides: int | None
) -> Booking | None:
    query = select(Booking).where(
        Booking.environment == environment,
        Booking.cancelled_at.is_(None),
        Booking.starts_at < utc(ends),
        Booking.ends_at > utc(starts),
        Booking.id != (besides or 0),
    )
    return session.scalars(query.order_by(Booking.starts_at)).first()


def _state_url(text: str) -> URL:
    """The state URL as the bot connects to it: ``postgresql://`` means psycopg 3, the driver it ships
    (SQLAlchemy's own default would be psycopg2)."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise ConfigError(
            "state_url is not a database URL",
            hint="Write it as sqlite:///consdb-bot.sqlite3 or postgresql://USER@HOST:PORT/DATABASE"
            " (the password from the environment).",
        ) from None
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


def utc(moment: datetime) -> datetime:
    """Moments are stored and compared in UTC: SQLite compares them as text, whatever their zone."""
    return moment.astimezone(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def expired(request: ChangeRequest, *, at: datetime) -> bool:
    return aware(request.expires_at) <= at


def silent_for(request: ChangeRequest, *, at: datetime) -> float:
    """Seconds since the request's run last said it was alive."""
    beat = request.heartbeat_at or request.created_at
    return (at - aware(beat)).total_seconds()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()
