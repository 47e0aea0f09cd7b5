"""Replayed slash commands: a signed request sent again by someone who copied it.

Slack never sends a slash command twice, and each command's request carries a signature over its
timestamp and body that is accepted for five minutes either side of that timestamp. So a second
request with a signature already seen is a replay, and remembering signatures for that window is
enough to know one.

They are remembered twice over. In this process, so that the acknowledgement (Slack's 3 s, the bot's
100 ms) can refuse a replay without waiting on a database; and in the state database, which every
replica shares, checked by the work that follows the acknowledgement, so that a replay that reaches
another replica does nothing there either.

A click on a button (a ``block_actions`` payload, which may come twice) is remembered the same way,
by a hex digest of who clicked which button of which message when, in place of a signature.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.store import UNREACHABLE, Store

log = logging.getLogger(__name__)
# Accepted five minutes either side of its timestamp: a signature may come back for ten.
WINDOW = timedelta(minutes=10)
PREFIX = "command:"


class Replays:
    """The signatures of the slash commands seen within the window."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime], limit: int = 100_000) -> None:
        """``limit`` bounds what this process keeps (each entry is a few hundred bytes); past it the
        oldest are forgotten first, and the state database still knows them."""
        self.store = store
        self.clock = clock
        self.limit = limit
        self._here: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_here(self, signature: str) -> bool:
        """False when this process saw ``signature`` within the window; remembers it otherwise."""
        seen_at = time.monotonic()
        with self._lock:
            while self._here and (
                len(self._here) >= self.limit or next(iter(self._here.values())) < seen_at - WINDOW.total_seconds()
            ):
                self._here.popitem(last=False)
            if signature in self._here:
                return False
            self._here[signature] = seen_at
            return True

    def first_anywhere(self, signature: str) -> bool:
        """False when any process sharing the state database saw ``signature``; remembers it otherwise.
        While that database does not answer, true: a command can change nothing without it."""
        try:
            return self.store.first_sighting(_key(signature))
        except UNREACHABLE as error:
            log.warning("a slash command could not be checked for a replay: %s", type(error).__name__)
            return True

    def forget_old(self) -> None:
        """Forget, in the state database, the signatures whose window has closed."""
        self.store.forget_sightings(PREFIX, before=self.clock() - WINDOW)


def _key(signature: str) -> str:
    """An id that fits the seen-events table: the signature's HMAC, 224 of its 256 bits."""
    return PREFIX + signature.removeprefix("v0=")[:56]
