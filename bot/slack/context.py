"""Builds the clients once per process and hands out the services, to the app and the terminal alike."""

from __future__ import annotations

import contextvars
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.clients.jira import JiraDesk
from bot.clients.kube import Cluster, LogExcerpt, RestartResult, hinfo_excerpt
from bot.clients.pqserver import Expected, SchemaCheck, schema_check
from bot.config import Environment, Settings, require
from bot.engine.service import Engine
from bot.errors import ApproversUnknown, ConfigError, TryAgainLater
from bot.metrics import API_ERRORS
from bot.services.bookings import BookingService
from bot.services.changes import APPROVE, ChangeService
from bot.services.reports import ReportService
from bot.services.scheduler import Scheduler
from bot.services.tickets import CommentNews, TicketService
from bot.slack.health import Health
from bot.slack.notifier import SlackAnnouncer, SlackFailure, SlackNotifier, reason_of
from bot.slack.replays import Replays
from bot.store import Store, now

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300
# How long stopped changes get to roll back and be recorded as interrupted.
ABORT_SECONDS = 10
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{8,}$")
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
    """The services of one bot process."""

    def __init__(self, settings: Settings, slack: SlackSettings, environ: Mapping[str, str] = os.environ) -> None:
        self.settings = settings
        self.slack_settings = slack
        self.store = Store(
            require(settings.state_url, purpose="the bot's state"), clock=now,
            connect_timeout=settings.state_connect_timeout_seconds,
        )  # fmt: skip
        self.engine = Engine(settings)
        self.slack = _web_client(slack)
        self.notifier = SlackNotifier(self.slack, settings, self.store, clock=now)
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
        self.scheduler = Scheduler(self.store, poll_seconds=settings.scheduler.poll_seconds)
        announcer = SlackAnnouncer(self.slack)
        self.tickets = TicketService(
            settings, self.store, JiraDesk.from_environment(settings.jira, environ), tell=self.tell_thread,
            name=self.person, permalink=self.notifier.permalink, clock=now,
        )  # fmt: skip
        self.bookings = BookingService(
            settings,
            self.store,
            self.scheduler,
            announcer,
            approvers=lambda env: self.changes.approvers_of(env, APPROVE),
            tickets=self.tickets,
            clock=now,
        )
        self.changes = ChangeService(
            settings, self.engine, self.store, self.notifier, group_members=self.group_members,
            launch=self._launch, restart=self.restart, verify=self.verify, watch=self.watch,
            standing=self.bookings.standing, tickets=self.tickets, scheduler=self.scheduler, clock=now,
        )  # fmt: skip
        self.reports = ReportService(settings, self.engine, self.store, self.bookings, announcer, clock=now)
        self.health = Health(settings, self.store, self.scheduler)
        self.replays = Replays(self.store, clock=now)
        self._under_way: set[Future[Any]] = set()
        self._groups: dict[str, tuple[float, set[str]]] = {}
        self._groups_lock = threading.Lock()
        self._people: dict[str, str] = {}

    def restart(self, env: Environment, deployment: str, report: Callable[[str], None]) -> RestartResult:
        return Cluster(env, self.settings.kubernetes).restart(deployment, on_progress=report)

    def verify(self, env: Environment, expected: Expected) -> SchemaCheck:
        return schema_check(env, expected, timeout=self.settings.kubernetes.request_timeout_seconds)

    def watch(self, env: Environment, instrument: str, since_seconds: int) -> LogExcerpt:
        return Cluster(env, self.settings.kubernetes).excerpt(
            env.hinfo[instrument], since_seconds=since_seconds, lines=5000
        )

    def logs(
        self, env: Environment, instrument: str, *, since_seconds: int | None, lines: int, grep: str | None
    ) -> LogExcerpt:
        """A ``logs hinfo`` excerpt: handlers ask here rather than build a Kubernetes client themselves."""
        return hinfo_excerpt(
            env, self.settings.kubernetes, instrument, since_seconds=since_seconds, lines=lines, grep=grep
        )

    def start(self) -> None:
        """Bring the state up to date, settle what a previous process left running, and take part in
        running the scheduled jobs."""
        self.scheduler.open()
        self.bookings.register()
        self.changes.register()
        self.reports.register(self.scheduler)
        self.tickets.register(self.scheduler)
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
            log.warning("%d change(s) still running after %g s: stopping them", len(unfinished), seconds)
            self.engine.stopping.set()
            wait(unfinished, timeout=ABORT_SECONDS)

    def react(self, **reaction: Any) -> Future[None]:
        """Count a reaction (:meth:`ChangeService.react`) in the reactions' own lane; the future fails
        with :class:`TryAgainLater` when it could not be counted now."""
        return self._start(self.reactions, self.changes.react, **reaction)

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

    def tell_thread(self, request_id: int, news: CommentNews) -> None:
        """News of its Jira comment in the thread of a request."""
        request = self.store.request(request_id)
        if request is not None:
            self.notifier.progress(self.changes.view(request), news)

    def person(self, user: str) -> str:
        """A Slack user's name, for readers who do not know Slack ids (Jira's); anyone else as named."""
        if not SLACK_USER.match(user):
            return user
        if user not in self._people:
            try:
                found = self.slack.users_info(user=user)["user"]
            except SlackApiError as error:
                API_ERRORS.labels("slack").inc()
                log.warning("could not look up Slack user %s: %s", user, error.response.get("error"))
                return user
            profile = found.get("profile") or {}
            self._people[user] = profile.get("real_name") or found.get("real_name") or found.get("name") or user
        return self._people[user]

    def group_members(self, group: str) -> set[str]:
        """Members of a Slack user group, cached for a few minutes.

        When Slack does not list them, the last list seen stands in; with none, :class:`ApproversUnknown`
        goes up, so that an approval is not counted as a stranger's but tried again (and its author told).
        """
        with self._groups_lock:
            cached = self._groups.get(group)
            if cached and time.monotonic() - cached[0] < GROUP_CACHE_SECONDS:
                return cached[1]
        try:
            members = set(self.slack.usergroups_users_list(usergroup=group)["users"])
        except SlackFailure as error:
            API_ERRORS.labels("slack").inc()
            reason = reason_of(error)
            log.warning("could not list user group %s: %s", group, reason)
            if cached:
                return cached[1]
            raise ApproversUnknown(f"Slack did not list the members of user group {group} ({reason})") from None
        with self._groups_lock:
            self._groups[group] = (time.monotonic(), members)
        return members

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
