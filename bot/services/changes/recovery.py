"""Settling requests whose run this process no longer follows (its runner died, or the bot stopped
while it ran): their sessions ended first, then their version tables held against the plan, so that
what the database records decides how they ended, never a guess."""

from __future__ import annotations

import logging
import os
import socket

from bot.config import Environment
from bot.engine.status import SchemaStatus, State
from bot.engine.tree import revisions_text
from bot.errors import ConsdbBotError
from bot.metrics import REQUESTS
from bot.services.changes.base import ChangeServiceBase
from bot.services.changes.requests import CHANGES_OF_SCHEMAS, Finished
from bot.store import silent_for
from bot.store.models import ChangeRequest, RequestState

STALE_SECONDS = 60
log = logging.getLogger(__name__)


class Recovering(ChangeServiceBase):
    def recover_interrupted(self) -> None:
        """Settle requests whose run died: approved or running, but their runner is gone.

        The runner is gone when it was this host and its process is not alive (or this process,
        restarted), or when another host's run has not said it was alive for a while.
        """
        for state in (RequestState.APPROVED, RequestState.RUNNING):
            for request in self.store.requests_in(state):
                if self._abandoned(request):
                    self._interrupt(request, state)

    def _abandoned(self, request: ChangeRequest) -> bool:
        if request.id in self._active:
            return False
        host, _, pid = (request.runner or "").rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            return int(pid) == os.getpid() or not _alive(int(pid))
        return silent_for(request, at=self.clock()) > STALE_SECONDS

    def _interrupt(self, request: ChangeRequest, state: RequestState) -> Finished | None:
        """Settle a request whose run this process no longer follows, by what its database records.

        A run killed with its bot may still have a statement running in the server, holding its locks:
        its sessions are ended, and gone, before anything is read or settled. Then the version tables
        are held against the plan: the target recorded is success, whatever happened to the bot. A
        request whose database cannot be reached now is left as it is, for the next sweep (None).
        """
        env = self.settings.environment(request.environment)
        if state is RequestState.RUNNING and not self._ended(request, env):
            return None
        verdict = self._verdict(request, state, env)
        if verdict is None:
            log.warning("request #%s is settled once %s's version tables can be read", request.id, env.key)
            return None
        settled, reached, note = verdict
        if settled is RequestState.SUCCEEDED:
            told = f"The bot lost track of this run, but its database records the target: {note}."
            summary = f"#{request.id} {request.kind} succeeded (the bot lost track of it; its database says so): {note}"
        else:
            told = f"The bot stopped while this ran: {note}."
            summary = f"#{request.id} was interrupted by a stop of the bot; {note}"
        detail: dict[str, object] = {"reached": reached} | ({"ticket": request.ticket} if request.ticket else {})
        view = self._record(request, state, settled, {"reached": reached, "note": note}, summary=summary, detail=detail)
        if view is None:
            return None
        REQUESTS.labels(settled.value).inc()
        self._count_change(request, settled)
        self._tell(self.notifier.updated, view)
        self._tell(self.notifier.finished, view, None, note=told)
        self._tell(self.tickets.request_finished, view, told, None)
        return Finished(view, None, told)

    def _ended(self, request: ChangeRequest, env: Environment) -> bool:
        """Whether the run's database sessions are gone, ended now if need be; false while they are
        still there or its database cannot be reached."""
        session = request.run_session
        if not session:
            return True
        try:
            if self.engine.end_sessions(env, str(session)):
                return True
            log.warning("request #%s: the sessions of its run are still there; it is settled later", request.id)
        except ConsdbBotError as error:
            log.warning("request #%s is settled once %s answers: %s", request.id, env.key, error.message)
        return False

    def _verdict(
        self, request: ChangeRequest, state: RequestState, env: Environment
    ) -> tuple[RequestState, dict[str, list[str]], str] | None:
        """How an abandoned request ended, by its database: the state, what each schema records, and why.
        None while a run's version tables cannot be read: it is settled at a later sweep, never guessed."""
        ran_migrations = state is RequestState.RUNNING and request.kind in CHANGES_OF_SCHEMAS
        try:
            statuses = self.engine.status([env], request.schemas)
        except ConsdbBotError as error:
            if ran_migrations:
                return None
            return RequestState.INTERRUPTED, {}, f"where it stands is unknown ({error.message})"
        reached = {status.schema: list(status.current) for status in statuses}
        if state is RequestState.APPROVED:
            return RequestState.INTERRUPTED, reached, "it had not started, nothing ran"
        if not ran_migrations:
            return RequestState.INTERRUPTED, reached, "; ".join(f"{s.schema} now records {s.summary}" for s in statuses)
        if any(status.state is State.UNREACHABLE for status in statuses):
            return None
        return _against_plan(request, statuses, reached)


def _against_plan(
    request: ChangeRequest, statuses: list[SchemaStatus], reached: dict[str, list[str]]
) -> tuple[RequestState, dict[str, list[str]], str]:
    """An abandoned run, held against its plan: every target recorded is success, every start recorded
    is nothing applied, and anything else is said schema by schema."""
    if any(status.state is State.NOT_CONFIGURED for status in statuses):
        where = "; ".join(f"{status.schema}: {status.summary}" for status in statuses)
        return RequestState.INTERRUPTED, reached, f"where it stands is unknown ({where})"
    ends = {schema: (set(plan.get("from", [])), set(plan.get("to", []))) for schema, plan in request.binding.items()}

    def position(status: SchemaStatus) -> str:
        begun, aim = ends.get(status.schema, (set(), set()))
        if status.unfinished:  # an online run committed its transaction: something was applied
            return "not yet its target: its transaction committed, not every phase is done"
        if set(status.current) == aim:
            return "its target"
        if set(status.current) == begun:
            return "where it started"
        return (
            f"neither where it started ({revisions_text(sorted(begun))}) nor its target ({revisions_text(sorted(aim))})"
        )

    positions = [position(status) for status in statuses]
    said = "; ".join(
        f"{s.schema} now records {s.summary}, {where}" for s, where in zip(statuses, positions, strict=True)
    )
    if all(where == "its target" for where in positions):
        return RequestState.SUCCEEDED, reached, said
    if all(where == "where it started" for where in positions):
        return RequestState.INTERRUPTED, reached, f"nothing was applied: {said}"
    return RequestState.INTERRUPTED, reached, said


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
