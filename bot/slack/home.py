"""The bot's Home tab in Slack: published (``views.publish``) for whoever opens it, and again for those who
opened it whenever a request ends.

Who opened it is kept in memory, the last :data:`MOST_VIEWERS` of them, not in the state database: the
bot is one process (the chart runs one replica), Slack keeps each person's last view, and every open
publishes a fresh one; all a restart loses is the republishing, after a change, of a tab someone opened
before it, until they open it again.

One refresh at a time, in the bot's pool: opens and ends that come while a Home is being read wait for
the next refresh, which reads the Home once (every environment's database, as ``status`` does) and
publishes it to each of them. A burst of opens reads the databases once or twice, not once each.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.metrics import API_ERRORS
from bot.render.home import home_view
from bot.services.home import Home
from bot.slack.notifier import SlackFailure, reason_of

log = logging.getLogger(__name__)
MOST_VIEWERS = 200
"""People whose Home is published again after a change: those who opened it last."""
GONE = frozenset({"user_not_found", "user_not_visible", "account_inactive"})
"""What Slack says of a person the bot can no longer show a Home: forgotten."""


class SlackHome:
    def __init__(
        self,
        client: WebClient,
        read: Callable[[], Home],
        permalink: Callable[[str, str], str | None],
        *,
        submit: Callable[[Callable[[], None]], object],
    ) -> None:
        """``read`` reads the Home now; ``permalink`` links a request's message; ``submit`` runs work in the
        bot's pool (never in the thread that answers Slack)."""
        self.client = client
        self.read = read
        self.permalink = permalink
        self.submit = submit
        self._viewers: OrderedDict[str, None] = OrderedDict()
        self._waiting: set[str] = set()
        self._refreshing = False
        self._links: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def opened(self, user: str) -> None:
        """``user`` opened the Home tab: publish it for them, and again after each change."""
        with self._lock:
            self._viewers.pop(user, None)
            self._viewers[user] = None
            while len(self._viewers) > MOST_VIEWERS:
                self._viewers.popitem(last=False)
            self._waiting.add(user)
        self._start()

    def changed(self) -> None:
        """Something the Home shows changed (a request ended): publish it again for those who opened it."""
        with self._lock:
            self._waiting.update(self._viewers)
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._refreshing or not self._waiting:
                return
            self._refreshing = True
        self.submit(self._refresh)

    def _refresh(self) -> None:
        """Until nobody waits: read the Home once, and publish it for each who waits."""
        try:
            while users := self._take():
                view = self._view()
                for user in sorted(users):
                    self._publish(user, view)
        except Exception:
            with self._lock:
                self._refreshing = False
            raise

    def _take(self) -> set[str]:
        with self._lock:
            users, self._waiting = self._waiting, set()
            if not users:
                self._refreshing = False
            return users

    def _view(self) -> dict[str, Any]:
        home = self.read()
        return home_view(home, self._links_of(home))

    def _links_of(self, home: Home) -> dict[int, str]:
        """The link to each open request's message; asked of Slack once each (a message's link never changes)."""
        posted = {request.id: (request.channel, request.message_ts) for request in home.requests
                  if request.channel and request.message_ts}  # fmt: skip
        self._links = {where: link for where, link in self._links.items() if where in posted.values()}
        for where in posted.values():
            if where not in self._links and (link := self.permalink(*where)) is not None:
                self._links[where] = link
        return {number: self._links[where] for number, where in posted.items() if where in self._links}

    def _publish(self, user: str, view: dict[str, Any]) -> None:
        """Slack's rate limits are waited out by the client (it retries); any other failure waits for the
        next open or change."""
        try:
            self.client.views_publish(user_id=user, view=view)
        except SlackFailure as error:
            API_ERRORS.labels("slack").inc()
            reason = reason_of(error)
            if reason in GONE:
                with self._lock:
                    self._viewers.pop(user, None)
            log.warning("the Home tab of %s could not be published: %s", user, reason)
