"""The change service, the one door to change requests for Slack and the terminal alike: it asks
(:mod:`.proposals`), counts reactions into the state machine (:mod:`.machine`), runs what is
approved (:mod:`.runs`) and settles what was abandoned (:mod:`.recovery`)."""

from __future__ import annotations

import logging

from bot.engine.rollout import STEP_WORDS, RolloutStep
from bot.errors import Refused, StateUnavailable, TryAgainLater
from bot.logs import TRACE, traced
from bot.metrics import APPROVALS
from bot.services.changes.base import RUNNER
from bot.services.changes.proposals import Proposing
from bot.services.changes.requests import APPROVE, REJECT, ROLLOUT, Finished
from bot.services.changes.runs import DATA_CHECK_TASK, HINFO_WATCH_TASK
from bot.store import UNREACHABLE, expired
from bot.store.models import RequestState

log = logging.getLogger(__name__)


class ChangeService(Proposing):
    """Change requests, from whichever surface asks: posted for approval, approved by reactions in Slack
    or by ``--yes`` in the terminal (:meth:`approve_here`), run once, settled and told."""

    def register(self) -> None:
        """The hinfo watch and the data check, run by whichever process leads the scheduler when they are due."""
        self.scheduler.register(HINFO_WATCH_TASK, self.watch_hinfo)
        self.scheduler.register(DATA_CHECK_TASK, self.check_data_after)

    def approve_here(self, request_id: int, actor: str, *, wait: bool = False) -> Finished:
        """``--yes`` in the terminal stands as the approval of a request shown there: recorded and audited
        as ``actor``'s approval (a compare-and-set, so once), then run here, at once, with the same audit
        records, Jira comment and metrics as a request approved in Slack. Returns how it ended."""
        request = self.store.request(request_id)
        if request is None:
            raise Refused(f"request #{request_id} is not in the bot's state")
        if expired(request, at=self.clock()):
            self._expire(request)
        with traced(request.trace or TRACE.get()):
            claimed = request.state == RequestState.REQUESTED and self.store.transition(
                request.id, RequestState.REQUESTED, RequestState.APPROVED, runner=RUNNER, heartbeat_at=self.clock()
            )
            if not claimed:
                latest = self.store.request(request_id)
                raise Refused(f"request #{request_id} is {latest.state if latest else 'gone'}: it cannot be approved")
            self.store.set_verdict(request.id, actor, APPROVE, present=True, event_ts=f"{self.clock().timestamp()}")
            APPROVALS.labels(APPROVE, "given").inc()
            self.store.audit(
                actor=actor, action="approved", environment=request.environment, request_id=request.id,
                summary=f"approve given on #{request.id} with --yes in the terminal",
            )  # fmt: skip
            self._announce(request.id, "approved")
            finished = self.run(request.id, wait=wait)
        if finished is not None:
            return finished
        latest = self.store.request(request_id)
        assert latest is not None
        note = f"how request #{request_id} ended is not recorded yet; `audit` shows it once it is"
        if latest.kind == ROLLOUT and latest.state in (RequestState.APPROVED, RequestState.RUNNING):
            # Stopped here (Ctrl-C): a rollout is left at its last step, its subscriptions as that step left them.
            after = f"after '{STEP_WORDS[RolloutStep(latest.step)]}'" if latest.step else "before its checks"
            note = (
                f"rollout #{request_id} was stopped {after} and is not over: it goes on from there at the next"
                " change run with --yes here, or when the bot starts; `status` shows the subscription meanwhile"
            )
        return Finished(self.view(latest), None, note)

    @property
    def running(self) -> bool:
        """Whether a run of this process is under way."""
        return bool(self._active)

    def settle_here(self, request_id: int) -> None:
        """A terminal's request whose command was interrupted (Ctrl-C) before its run: one never approved
        is recorded interrupted, one approved is settled by what its database records, so that it holds
        its environment no longer."""
        request = self.store.request(request_id)
        if request is None:
            return
        if request.state == RequestState.REQUESTED:
            if self.store.transition(request.id, RequestState.REQUESTED, RequestState.INTERRUPTED):
                self._announce(request.id, "interrupted in the terminal before it was approved; nothing ran")
        elif request.state in (RequestState.APPROVED, RequestState.RUNNING) and not self.running:
            self._interrupt(request, RequestState(request.state))

    def react(
        self, *, channel: str, message_ts: str, user: str, reaction: str, added: bool, event_id: str, event_ts: str
    ) -> None:
        """A reaction was added or removed somewhere; act if it counts, and say nothing if not.

        The event is marked seen only once what it says is recorded. When the state database fails on
        the way, or Slack does not say who may approve, :class:`TryAgainLater` goes up (Slack is answered
        so that it delivers the event again) and the redelivery is counted, not dropped as seen.
        Counting again what was half recorded changes nothing: a verdict stands by its event's
        timestamp, and every move is a compare-and-set.
        """
        slack = self.settings.slack
        if reaction not in (slack.approve_reaction, slack.reject_reaction, slack.restart_reaction):
            return
        try:
            if self.store.seen(event_id):
                return
            self._react(channel, message_ts, user, reaction, added=added, event_ts=event_ts)
            self.store.first_sighting(event_id)
        except UNREACHABLE as error:
            raise StateUnavailable(f"my state database did not answer ({type(error).__name__})") from error

    def _react(self, channel: str, message_ts: str, user: str, reaction: str, *, added: bool, event_ts: str) -> None:
        with self._posting:
            request = self.store.request_for_message(channel, message_ts)
        if request is not None and reaction == self.settings.slack.restart_reaction and added:
            self._restart_after(request, user, event_ts)
            return
        verdict = {self.settings.slack.approve_reaction: APPROVE, self.settings.slack.reject_reaction: REJECT}.get(
            reaction
        )
        if request is None or verdict is None or request.state != RequestState.REQUESTED:
            return
        try:
            with traced(request.trace or TRACE.get()):
                self._count(request, user, reaction, verdict, added=added, event_ts=event_ts)
        except (*UNREACHABLE, TryAgainLater):
            raise
        except Exception:
            log.exception("a reaction on request #%s could not be counted", request.id)
            self.store.audit(
                actor=user, action="error", environment=request.environment, request_id=request.id,
                summary=f":{reaction}: on #{request.id} could not be counted; see the bot's log",
            )  # fmt: skip
