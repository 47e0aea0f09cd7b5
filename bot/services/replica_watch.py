"""The replica watch: a scheduled look at each replica's subscription, alerting the replica's channel
while it stays disabled longer than ``replica.alert_after_minutes``, and again every as many minutes.

A disabled subscription holds at the publisher every row written there meanwhile: the replica falls
behind, and the publisher's disk fills. PostgreSQL does not record when or by whom a subscription was
disabled: the bot's own audit record says so when the bot disabled it; when someone else did, the
watch records when it first saw it disabled (and enabled again), so that a restart neither forgets
nor restarts the count, and ``status`` shows it. What the alert last said is read back from the audit
trail too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.config import Environment, Settings
from bot.engine.rollout import STUCK, RolloutStep
from bot.services.changes.requests import ROLLOUT, RequestView, request_view
from bot.services.replicas import (
    SUBSCRIPTION_SEEN_DISABLED,
    SUBSCRIPTION_SEEN_ENABLED,
    Disabling,
    disabling,
    read_ends,
    replica_environments,
)
from bot.services.scheduler import Scheduler
from bot.store import Store, aware

log = logging.getLogger(__name__)
WATCH_TASK = "replica-watch"
JOB_PREFIX = "replica-watch-"
WATCH_MINUTES = 5.0
"""How often the watch looks (or every ``alert_after_minutes``, if less)."""
ALERTED = "replica-alerted"
BOT = "consdb-bot"


@dataclass(frozen=True)
class ReplicaAlert:
    """A replica's subscription disabled for longer than it may be: where, since when and by whom, what
    the publisher's slot holds for it meanwhile, and the request it was disabled for, if any."""

    environment: str
    of: str
    subscription: str
    zone: ZoneInfo
    channel: str
    at: datetime
    disabled: Disabling
    every_minutes: float
    slot: str | None = None
    retained_bytes: int | None = None
    slot_detail: str = ""
    """Why the WAL the slot retains could not be read."""
    request: RequestView | None = None

    @property
    def stuck(self) -> RolloutStep | None:
        """Where the request stopped, when it is a rollout stopped half way (its note says the ways on)."""
        request = self.request
        if request is None or request.kind != ROLLOUT or request.step not in STUCK:
            return None
        return RolloutStep(request.step)


class ReplicaAnnouncer(Protocol):
    def replica_alert(self, alert: ReplicaAlert) -> None: ...


class ReplicaWatch:
    def __init__(
        self, settings: Settings, store: Store, announcer: ReplicaAnnouncer, *, clock: Callable[[], datetime]
    ) -> None:
        self.settings = settings
        self.store = store
        self.announcer = announcer
        self.clock = clock

    def register(self, scheduler: Scheduler) -> None:
        """A watch job per replica configured here with a channel, replacing those of an earlier start;
        jobs of replicas no longer configured are removed."""
        scheduler.register(WATCH_TASK, self.watch)
        wanted = set()
        for env in replica_environments(list(self.settings.environments.values())):
            assert env.replica is not None
            if self._channel(env):
                job = JOB_PREFIX + env.key
                scheduler.every(job, min(WATCH_MINUTES, env.replica.alert_after_minutes), WATCH_TASK, env.key)
                wanted.add(job)
        for job in scheduler.job_ids():
            if job.startswith(JOB_PREFIX) and job not in wanted:
                scheduler.cancel(job)

    def watch(self, environment: str) -> None:
        """The scheduled look at one replica: record what the audit trail does not know yet, and alert
        when the subscription has been disabled longer than it may be and was not alerted for lately."""
        env = self.settings.environment(environment)
        assert env.replica is not None
        channel = self._channel(env)
        if channel is None:  # nowhere to alert (no job is made for it)
            return
        ends = read_ends(self.settings, env)
        if ends.subscription is None:
            log.warning("the replica watch could not read %s's subscription: %s", env.key, ends.detail)
            return
        disabled = disabling(self.store, env.key)
        name = env.replica.subscription
        if ends.subscription.enabled:
            if disabled is not None:
                self._record(env, SUBSCRIPTION_SEEN_ENABLED, f"subscription {name} seen enabled (not by the bot)")
            return
        if disabled is None:
            self._record(env, SUBSCRIPTION_SEEN_DISABLED, f"subscription {name} seen disabled (not by the bot)")
            disabled = disabling(self.store, env.key)
            assert disabled is not None
        now, every = self.clock(), timedelta(minutes=env.replica.alert_after_minutes)
        last = self.store.last_audit(environment=env.key, actions=[ALERTED])
        alerted = aware(last.at) if last is not None and aware(last.at) >= disabled.since else None
        if now - disabled.since < every or (alerted is not None and now - alerted < every):
            return
        request = self.store.request(disabled.request_id) if disabled.request_id else None
        slot = ends.subscription.slot_name
        missing = f"{env.replica.of} has no replication slot {slot}" if slot and ends.slot is None else ""
        alert = ReplicaAlert(
            env.key, env.replica.of, name, env.zone, channel, now, disabled, env.replica.alert_after_minutes,
            slot=slot, retained_bytes=ends.slot.retained_bytes if ends.slot else None,
            slot_detail=ends.publisher_detail or missing,
            request=request_view(self.settings, self.store, request) if request else None,
        )  # fmt: skip
        self.announcer.replica_alert(alert)
        self.store.audit(
            actor=BOT, action=ALERTED, environment=env.key, request_id=disabled.request_id,
            summary=f"alerted: subscription {name} disabled since {disabled.since:%Y-%m-%d %H:%M:%S} UTC",
        )  # fmt: skip

    def _record(self, env: Environment, action: str, summary: str) -> None:
        self.store.audit(actor=BOT, action=action, environment=env.key, summary=summary)

    def _channel(self, env: Environment) -> str | None:
        return env.channel or self.settings.slack.announce_channel
