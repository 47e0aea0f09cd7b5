"""What every part of the change service shares: its collaborators, telling the world, and settling a
request once (the move to how it ended, and its audit record, written until the state database has it)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from bot.clients.deployments import Deployments
from bot.config import Environment, Settings
from bot.engine.service import Engine
from bot.metrics import CHANGE_SECONDS, CHANGES
from bot.services.changes.policy import approvers
from bot.services.changes.requests import ChangeNotifier, RequestTickets, RequestView, request_view
from bot.services.scheduler import Scheduler
from bot.store import Store
from bot.store.models import ChangeRequest, RequestState

RUNNER = f"{socket.gethostname()}:{os.getpid()}"
log = logging.getLogger(__name__)


class ChangeServiceBase:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: Store,
        notifier: ChangeNotifier,
        *,
        scheduler: Scheduler,
        tickets: RequestTickets,
        deployments: Deployments,
        group_members: Callable[[str], set[str]],
        standing: Callable[[Environment, str], str | None],
        launch: Callable[[Callable[[], object]], object],
        clock: Callable[[], datetime],
    ) -> None:
        """Every collaborator is named, none does nothing by default. ``scheduler`` keeps the hinfo
        watches after test-stand migrations and the data checks after others, so that a restart does not
        lose them; ``tickets`` checks the
        ticket a request names and comments on it how the request ended; ``deployments`` restarts
        pqserver, asks it what it lists and reads hinfo's log; ``group_members`` lists the approvers a
        Slack user group names; ``standing`` says why a change by a requester needs one more approval (a
        test stand booked by someone else, or by nobody), or None; ``launch`` starts an approved run (in
        the bot's own pool; at once in the terminal)."""
        self.settings = settings
        self.engine = engine
        self.store = store
        self.notifier = notifier
        self.scheduler = scheduler
        self.group_members = group_members
        self.clock = clock
        self.launch = launch
        self.deployments = deployments
        self.standing = standing
        self.tickets = tickets
        self._active: set[int] = set()
        self._started: dict[int, float] = {}
        # Slack may deliver a reaction on a request before its message id is stored: reactions wait
        # until a request being posted is on record.
        self._posting = threading.Lock()

    def approvers_of(self, env: Environment, kind: str) -> set[str]:
        return approvers(self.settings, env, kind, self.group_members)

    def view(self, request: ChangeRequest) -> RequestView:
        return request_view(self.settings, self.store, request)

    def _tell(self, notify: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Tell the world; a failure to tell never stops the state machine."""
        try:
            notify(*args, **kwargs)
        except Exception:
            log.exception("could not report on a request")

    def _count_change(self, request: ChangeRequest, state: RequestState) -> None:
        """A change ran and ended so: counted, and timed when it ran here."""
        CHANGES.labels(request.kind, state.value).inc()
        started = self._started.pop(request.id, None)
        if started is not None:
            CHANGE_SECONDS.labels(request.kind).observe(time.monotonic() - started)

    def _record(
        self, request: ChangeRequest, expected: RequestState, state: RequestState, ending: dict[str, object],
        *, summary: str, detail: dict[str, object],
    ) -> RequestView | None:  # fmt: skip
        """Move a request from ``expected`` to how it ended (``ending``: the columns its run left, such as
        ``reached`` and ``note``), and audit that, once. Kept, and written
        again, while the state database cannot be reached (until the bot stops). None when someone
        else settled it first."""
        done: set[str] = set()

        def write() -> RequestView | None:
            if "moved" not in done:
                if not self.store.transition(request.id, expected, state, **ending):
                    # A write whose answer was lost is done: the request holds exactly this ending.
                    now = self.store.request(request.id)
                    if now is None or now.state != state or any(getattr(now, k) != v for k, v in ending.items()):
                        return None
                done.add("moved")
            if "audited" not in done:
                self.store.audit(actor="consdb-bot", action=state.value, environment=request.environment,
                                 request_id=request.id, summary=summary, detail=detail)  # fmt: skip
                done.add("audited")
            finished = self.store.request(request.id)
            assert finished is not None
            return self.view(finished)

        what = f"request #{request.id}'s outcome ({state})"
        return self.store.until_written(write, what=what, give_up=self.engine.stopping)
