"""The factory of one process's services: each built once, from explicit parts.

What differs between the surfaces is passed in (:class:`SurfaceParts`): how a request is shown and
its news told, how an approved run is launched, who is in a Slack user group, how a person is named.
Everything else (the state store, the scheduler, Jira, Kubernetes, the services) is built the same way
for Slack and the terminal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.clients.deployments import Deployments
from bot.clients.jira import JiraDesk
from bot.config import Settings, require
from bot.engine.service import Engine
from bot.services.board import BoardPublisher, BoardService
from bot.services.bookings import Announcer, BookingService
from bot.services.changes import APPROVE, ChangeNotifier, ChangeService
from bot.services.scheduler import Scheduler
from bot.services.tickets import CommentNews, TicketService
from bot.store import Store


@dataclass(frozen=True)
class SurfaceParts:
    """What a surface gives the services."""

    notifier: ChangeNotifier
    """Where a request shows itself, and its news."""
    launch: Callable[[Callable[[], object]], object]
    """Starts an approved run: in a pool of the bot's own, or at once in the terminal."""
    tell: Callable[[int, CommentNews], None]
    """News of a request's Jira comment, for its thread."""
    group_members: Callable[[str], set[str]]
    """The members of a Slack user group (approvers named by group)."""
    person: Callable[[str], str]
    """A person's name for a Slack user id (Jira's readers do not know Slack ids)."""
    permalink: Callable[[str, str], str | None]
    """The link to a Slack message, for Jira."""
    announcer: Announcer | None = None
    """Posts booking announcements; None where they are only scheduled (the terminal)."""
    board_publisher: BoardPublisher | None = None
    """Shows each ticket's rollout board live; None where boards are only asked for (the terminal)."""


def state_store(settings: Settings, *, clock: Callable[[], datetime]) -> Store:
    """The bot's state database, as the configuration names it (not connected yet)."""
    url = require(settings.state_url, purpose="the bot's state")
    return Store(url, clock=clock, connect_timeout=settings.state_connect_timeout_seconds)


class Wiring:
    """The services, each built on first use. ``state`` reaches the state database (the terminal reaches
    it only for the commands that need it). ``open_on_use``: the state database is brought up to date
    and the scheduler readied when first needed (the terminal); the bot does that itself at start."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        state: Callable[[], Store],
        parts: SurfaceParts,
        *,
        jira: JiraDesk | None,
        clock: Callable[[], datetime],
        open_on_use: bool,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.state = state
        self.parts = parts
        self.jira = jira
        self.clock = clock
        self.open_on_use = open_on_use

    @functools.cached_property
    def store(self) -> Store:
        store = self.state()
        if self.open_on_use:
            store.upgrade()
        return store

    @functools.cached_property
    def scheduler(self) -> Scheduler:
        scheduler = Scheduler(self.store, poll_seconds=self.settings.scheduler.poll_seconds)
        if self.open_on_use:
            scheduler.open()
        return scheduler

    @functools.cached_property
    def tickets(self) -> TicketService:
        return TicketService(
            self.settings, self.store, self.jira, tell=self.parts.tell, name=self.parts.person,
            permalink=self.parts.permalink, clock=self.clock,
        )  # fmt: skip

    @functools.cached_property
    def bookings(self) -> BookingService:
        return BookingService(
            self.settings, self.store, self.scheduler, self.parts.announcer,
            approvers=lambda env: self.changes.approvers_of(env, APPROVE), tickets=self.tickets, clock=self.clock,
        )  # fmt: skip

    @functools.cached_property
    def changes(self) -> ChangeService:
        return ChangeService(
            self.settings, self.engine, self.store, self.parts.notifier, scheduler=self.scheduler,
            tickets=self.tickets, deployments=Deployments(self.settings.kubernetes),
            group_members=self.parts.group_members, standing=self.bookings.standing, launch=self.parts.launch,
            clock=self.clock,
        )  # fmt: skip

    @functools.cached_property
    def boards(self) -> BoardService:
        return BoardService(
            self.settings, self.engine, self.store, self.tickets, self.bookings,
            publisher=self.parts.board_publisher, clock=self.clock,
        )  # fmt: skip

    def running(self) -> bool:
        """Whether a change of this process is running (a run is only started once the services are)."""
        return "changes" in self.__dict__ and self.changes.running

    def close(self) -> None:
        """Stop the scheduler, if it was built (the jobs stay in the state database)."""
        if "scheduler" in self.__dict__:
            self.scheduler.close()
