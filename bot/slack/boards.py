"""Each ticket's live rollout board in Slack: one message, posted once and updated in place (``chat.update``)
whenever a change of the ticket ends, the hinfo watch says what it saw, or a step is ticked (the approve
reaction on it ticks the next step people do: ``bot.services.board.BoardService.react``).

Where: the announcement channel (``slack.announce_channel``), where news that spans environments goes (a
ticket's change goes from the test stand's channel to the Summit's); without one, the channel of the
ticket's first request. The message's ts is kept in the state database (``ticket_boards``), so the board
is updated, never posted again; a row is claimed before the message is posted, so two processes never post
two boards of one ticket. A board whose message is gone is posted anew the next time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.config import Settings
from bot.metrics import API_ERRORS
from bot.render import blocks
from bot.services.board import Board
from bot.services.changes import ChangeNotifier, DataVerdict, HinfoVerdict, RequestEvent, RequestView
from bot.slack.notifier import SlackFailure, permanent, reason_of
from bot.store import Store

if TYPE_CHECKING:
    from bot.services.changes import RequestResult

log = logging.getLogger(__name__)


class SlackBoards:
    """The Slack end of :class:`bot.services.board.BoardPublisher`."""

    def __init__(self, client: WebClient, settings: Settings, store: Store) -> None:
        self.client = client
        self.settings = settings
        self.store = store

    def show(self, board: Board) -> None:
        key = board.ticket.key
        payload = blocks.board_message(board)
        shown = self.store.board(key)
        if shown is None:
            channel = self.settings.slack.announce_channel or board.channel
            if channel is None or not self.store.claim_board(key, channel):
                return  # nowhere to post it yet, or another process is posting it
            try:
                posted = self.client.chat_postMessage(channel=channel, **payload)
            except SlackFailure as error:
                self.store.drop_board(key)
                self._failed(key, error)
                return
            self.store.board_shown(key, channel=str(posted["channel"]), message_ts=str(posted["ts"]),
                                   through=board.as_of, complete=board.complete)  # fmt: skip
            return
        if shown.message_ts is None:
            return  # being posted by another process, which shows what stands then
        try:
            self.client.chat_update(channel=shown.channel, ts=shown.message_ts, **payload)
        except SlackFailure as error:
            if permanent(error):  # the message is gone: the next news posts the board anew
                self.store.drop_board(key)
            self._failed(key, error)
            return
        self.store.board_shown(
            key, channel=shown.channel, message_ts=shown.message_ts, through=board.as_of, complete=board.complete
        )

    @staticmethod
    def _failed(key: str, error: BaseException) -> None:
        API_ERRORS.labels("slack").inc()
        log.warning("the board of %s could not be shown in Slack: %s", key, reason_of(error))


class BoardNews:
    """A :class:`ChangeNotifier` that tells the Slack one (``inner``) everything, and has the boards brought
    up to date when a change ends (``changed``: its ticket, or None for a change under no ticket, such as a
    pqserver restart asked without one) or the hinfo watch or the data check gives its verdict."""

    def __init__(self, inner: ChangeNotifier, changed: Callable[[str | None], object]) -> None:
        self.inner = inner
        self.changed = changed

    def posted(self, request: RequestView) -> tuple[str, str] | None:
        return self.inner.posted(request)

    def updated(self, request: RequestView) -> None:
        self.inner.updated(request)

    def progress(self, request: RequestView, event: RequestEvent) -> None:
        self.inner.progress(request, event)
        if isinstance(event, HinfoVerdict | DataVerdict):
            self.changed(request.ticket)

    def finished(self, request: RequestView, result: RequestResult | None, *, note: str) -> None:
        self.inner.finished(request, result, note=note)
        self.changed(request.ticket)
