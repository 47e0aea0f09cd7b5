"""The state machine of a request: approvals and rejections counted, then decided (rejected, approved and
launched, or still waiting), or expired. Every move is a compare-and-set in the store, so a request
moves on once however often an approving reaction is delivered."""

from __future__ import annotations

from bot.metrics import APPROVALS, REQUESTS
from bot.services.changes.base import RUNNER
from bot.services.changes.runs import Running
from bot.store import expired
from bot.store.models import ChangeRequest, RequestState


class Deciding(Running):
    def _count(
        self, request: ChangeRequest, user: str, reaction: str, verdict: str, *, added: bool, event_ts: str
    ) -> None:
        if expired(request, at=self.clock()):
            self._expire(request)
            return
        env = self.settings.environment(request.environment)
        if user == request.requester or user not in self.approvers_of(env, request.kind):
            self.store.audit(
                actor=user, action="ignored", environment=env.key, request_id=request.id,
                summary=f"{'added' if added else 'removed'} :{reaction}: on #{request.id}, which does not count"
                f" ({'the requester' if user == request.requester else 'not an approver'})",
            )  # fmt: skip
            return
        self.store.set_verdict(request.id, user, verdict, present=added, event_ts=event_ts)
        APPROVALS.labels(verdict, "given" if added else "withdrawn").inc()
        self.store.audit(
            actor=user, action=f"{verdict}d" if added else f"withdrew {verdict}", environment=env.key,
            request_id=request.id, summary=f"{verdict} {'given' if added else 'withdrawn'} on #{request.id}",
        )  # fmt: skip
        self._decide(request.id)

    def _decide(self, request_id: int) -> None:
        request = self.store.request(request_id)
        if request is None or request.state != RequestState.REQUESTED:
            return
        view = self.view(request)
        if view.rejecters:
            if self.store.transition(request.id, RequestState.REQUESTED, RequestState.REJECTED):
                self._announce(request.id, f"rejected by {', '.join(view.rejecters)}")
            return
        if view.still_needed == 0:
            claimed = self.store.transition(
                request.id, RequestState.REQUESTED, RequestState.APPROVED, runner=RUNNER, heartbeat_at=self.clock()
            )
            if claimed:
                self._announce(request.id, "approved")
                self.launch(lambda: self.run(request.id))
            return
        latest = self.store.request(request.id)
        if latest is not None and latest.state == RequestState.REQUESTED:
            self._tell(self.notifier.updated, self.view(latest))

    def _announce(self, request_id: int, summary: str) -> None:
        request = self.store.request(request_id)
        assert request is not None
        REQUESTS.labels(request.state).inc()
        self.store.audit(
            actor="consdb-bot", action=request.state, environment=request.environment, request_id=request.id,
            summary=f"#{request.id} {summary}",
        )  # fmt: skip
        self._tell(self.notifier.updated, self.view(request))

    def _expire(self, request: ChangeRequest) -> None:
        if self.store.transition(request.id, RequestState.REQUESTED, RequestState.EXPIRED):
            self._announce(request.id, "expired before it was approved")

    def expire_due(self) -> None:
        """Expire every request whose time for approval is over."""
        for request in self.store.requests_in(RequestState.REQUESTED):
            if expired(request, at=self.clock()):
                self._expire(request)
