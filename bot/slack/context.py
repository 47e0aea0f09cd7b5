"""One bot process: the Slack client, the pools that keep acknowledgements fast, and the services."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.application import Application
from bot.application.wiring import SurfaceParts, Wiring, state_store
from bot.clients.jira import JiraDesk
from bot.config import Settings
from bot.engine.service import Engine
from bot.errors import ConfigError, StateUnavailable, TryAgainLater
from bot.services.changes import RequestView
from bot.services.home import Home, read_home
from bot.services.replica_watch import ReplicaWatch
from bot.services.reports import ReportService
from bot.services.tickets import CommentNews
from bot.slack.boards import BoardNews, SlackBoards
from bot.slack.directory import SlackDirectory
from bot.slack.health import Health
from bot.slack.home import SlackHome
from bot.slack.notifier import SlackAnnouncer, SlackNotifier
from bot.slack.replays import Replays
from bot.store import UNREACHABLE, now
from bot.words import plural

log = logging.getLogger(__name__)
# How long stopped changes get to roll back and be recorded as interrupted.
ABORT_SECONDS = 10
# Slow work waits at most this long for the HTTP requests under way to be answered (a burst of 100
# takes about 50 ms), so that a steady stream of requests delays answers without stopping them.
ANSWERS_YIELD_SECONDS = 0.25


@dataclass(frozen=True)
class SlackSettings:
    """What the bot needs from the environment to speak to Slack (never from the file)."""

    bot_token: str
    signing_secret: str | None
    app_token: str | None
    api_url: str | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], *, socket_mode: bool) -> SlackSettings:
        needed = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET"]
        missing = [name for name in needed if not environ.get(name)]
        if missing:
            raise ConfigError(
                f"the bot cannot start: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set",
                hint="Set them in the environment (the Slack app's Basic Information and OAuth pages show them).",
            )
        token = environ["SLACK_BOT_TOKEN"]
        if not token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN is not a bot token", hint="Use the Bot User OAuth Token (xoxb-...).")
        app_token = environ.get("SLACK_APP_TOKEN")
        if socket_mode and app_token and not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN is not an app-level token", hint="Use an app-level token (xapp-...).")
        api_url = environ.get("SLACK_API_URL")
        return cls(
            token, environ.get("SLACK_SIGNING_SECRET"), app_token, api_url.rstrip("/") + "/" if api_url else None
        )


class Acknowledging:
    """How many HTTP requests are being answered (taken from the socket and not yet closed).

    Slow work waits for there to be none before it starts: it shares the one GIL with the request
    threads, and each socket call of a request thread otherwise waits for a worker's 5 ms turn with the
    GIL to end. Slack waits 3 s for an acknowledgement and nothing for an answer, so acknowledgements
    come first (benchmarks/slack_ack.py: p99 of a burst of 100 from about 100 ms down to about 75).
    """

    def __init__(self) -> None:
        self._under_way = 0
        self._lock = threading.Lock()
        self._none = threading.Event()
        self._none.set()

    def begin(self) -> None:
        with self._lock:
            self._under_way += 1
            self._none.clear()

    def end(self) -> None:
        with self._lock:
            self._under_way -= 1
            if self._under_way == 0:
                self._none.set()

    def wait_for_none(self, seconds: float) -> None:
        self._none.wait(seconds)


class Context:
    """One bot process: its pools, its Slack client, and the services (:class:`Wiring`) the
    application and the scheduled jobs use."""

    def __init__(self, settings: Settings, slack: SlackSettings, environ: Mapping[str, str] = os.environ) -> None:
        self.settings = settings
        self.slack_settings = slack
        self.engine = Engine(settings)
        self.store = state_store(settings, clock=now)
        self.slack = _web_client(slack)
        self.notifier = SlackNotifier(self.slack, settings, self.store, clock=now, ended=self._request_ended)
        self.directory = SlackDirectory(self.slack)
        # Answers share one GIL with the acknowledgements: two workers, starting work only once the
        # acknowledgements under way are sent, keep a burst of 100 commands acknowledged within 100 ms
        # (benchmarks/slack_ack.py); more workers slow every acknowledgement.
        # Reactions have a lane of their own, so that an approval never waits behind a burst of slow
        # answers (benchmarks/approvals.py); counting one is short, so a few workers are plenty.
        # Runs mostly wait on their child process: one worker per environment, the most that can run.
        self.background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="consdb-bot-work")
        self.reactions = ThreadPoolExecutor(max_workers=4, thread_name_prefix="consdb-bot-react")
        self.acknowledging = Acknowledging()
        self.runs = ThreadPoolExecutor(max_workers=len(settings.environments) or 1, thread_name_prefix="consdb-bot-run")
        announcer = SlackAnnouncer(self.slack, self.store, clock=now)
        parts = SurfaceParts(
            notifier=BoardNews(self.notifier, self._board_news), launch=self._launch, tell=self.tell_thread,
            group_members=self.directory.group_members, person=self.directory.person,
            permalink=self.notifier.permalink, announcer=announcer,
            board_publisher=SlackBoards(self.slack, settings, self.store),
        )  # fmt: skip
        jira = JiraDesk.from_environment(settings.jira, environ)
        self.services = Wiring(settings, self.engine, lambda: self.store, parts, jira=jira, clock=now,
                               open_on_use=False)  # fmt: skip
        self.application = Application(settings, self.engine, self.services, clock=now, wait_behind=None)
        self.scheduler = self.services.scheduler
        self.changes = self.services.changes
        self.reports = ReportService(settings, self.engine, self.store, self.services.bookings, announcer, clock=now)
        self.replica_watch = ReplicaWatch(settings, self.store, announcer, clock=now)
        self.health = Health(settings, self.store, self.scheduler)
        self.replays = Replays(self.store, clock=now)
        self.home = SlackHome(self.slack, self._read_home, self.notifier.permalink, submit=self.submit)
        self._under_way: set[Future[Any]] = set()

    def start(self) -> None:
        """Bring the state up to date, settle what a previous process left running, and take part in
        running the scheduled jobs."""
        self.scheduler.open()
        self.services.bookings.register()
        self.changes.register()
        self.reports.register(self.scheduler)
        self.replica_watch.register(self.scheduler)
        self.services.tickets.register(self.scheduler)
        self.services.boards.register(self.scheduler)
        self.notifier.register(self.scheduler)
        self.scheduler.lead()
        self.changes.recover_interrupted()

    def _launch(self, run: Callable[[], object]) -> None:
        """Start an approved change in the runs' pool, and keep track of it until it ends."""
        future = self._start(self.runs, run)
        self._under_way.add(future)
        future.add_done_callback(self._under_way.discard)

    def drain(self, seconds: float) -> None:
        """Stop for good: no change starts any more; those under way get ``seconds`` to finish, then their
        children are stopped (rolled back, their locks released) and they are recorded as interrupted.
        Approved changes that had not started stay approved, and the next start records them so."""
        self.health.stopping.set()
        self.runs.shutdown(wait=False, cancel_futures=True)
        _, unfinished = wait(list(self._under_way), timeout=seconds)
        if unfinished:
            log.warning("%s still running after %g s: stopping them", plural(len(unfinished), "change"), seconds)
            self.engine.stopping.set()
            wait(unfinished, timeout=ABORT_SECONDS)

    def react(self, **reaction: Any) -> Future[None]:
        """Count a reaction (:meth:`ChangeService.react`) in the reactions' own lane; the future fails
        with :class:`TryAgainLater` when it could not be counted now."""
        return self._start(self.reactions, self._react, **reaction)

    def _react(self, **reaction: Any) -> None:
        """A reaction on a live board ticks its next step people do; any other is the change service's."""
        boards = self.services.boards
        on_board = {key: reaction[key] for key in ("channel", "message_ts", "user", "reaction", "added", "event_id")}
        try:
            if boards.react(**on_board):
                return
        except UNREACHABLE as error:
            raise StateUnavailable(f"my state database did not answer ({type(error).__name__})") from error
        self.changes.react(**reaction)

    def submit(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run slow work off the request thread, after the acknowledgements under way, logging what
        escapes it."""
        return self._start(self.background, self._after_acknowledgements, work, *args, **kwargs)

    def _after_acknowledgements(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.acknowledging.wait_for_none(ANSWERS_YIELD_SECONDS)
        return work(*args, **kwargs)

    @staticmethod
    def _start(pool: ThreadPoolExecutor, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``work`` in ``pool`` with the caller's context (its trace)."""
        future = pool.submit(contextvars.copy_context().run, work, *args, **kwargs)
        future.add_done_callback(_log_failure)
        return future

    def _read_home(self) -> Home:
        services = self.services
        return read_home(self.settings, self.engine, self.store, services.bookings, services.boards, clock=now)

    def _request_ended(self, _request: RequestView) -> None:
        """A request ended: the Home tabs people opened are out of date."""
        self.home.changed()

    def _board_news(self, ticket: str | None) -> None:
        """A change ended (or the hinfo watch spoke): its ticket's live board brought up to date, off the run's
        thread; for a change under no ticket (a restart), every board it may tick."""
        boards = self.services.boards
        self.submit(boards.refresh, ticket) if ticket else self.submit(boards.refresh_behind)

    def tell_thread(self, request_id: int, news: CommentNews) -> None:
        """News of its Jira comment in the thread of a request."""
        request = self.store.request(request_id)
        if request is not None:
            self.notifier.progress(self.changes.view(request), news)

    def close(self) -> None:
        self.scheduler.close()
        self.background.shutdown(wait=True)
        self.reactions.shutdown(wait=True)
        self.runs.shutdown(wait=True)
        self.notifier.close()


def _web_client(slack: SlackSettings) -> WebClient:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url or WebClient.BASE_URL, timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


def _log_failure(future: Future[Any]) -> None:
    error = future.exception()
    if isinstance(error, TryAgainLater):  # expected while a part is down: one line, no traceback
        log.warning("%s", error.message)
    elif error is not None:
        log.error("background work failed", exc_info=error)
