"""A rollout's run: the Summit and its replicas, step by step, each step recorded with the request
before the next starts and told in its thread with how long it took.

The order is the replica runbook's: disable the subscriptions, migrate the Summit (one transaction per
schema), publish the tables it made, migrate the replicas to the same revisions, enable and refresh the
subscriptions, and prove with a marker row that changes arrive. A failure leaves each side where it is
safe: the Summit rolled back means the subscriptions run again; the Summit migrated and a replica not
means they stay disabled, and the request says which state each side is in and the two ways on.

Every step may be taken again: a side is migrated only from where its plan starts (one already at its
target is left as it is), a subscription is disabled or enabled only if it is not already, and the tables
to publish are told from the Summit's tables before the rollout, kept with the request. So a rollout the
bot was stopped in goes on from the last step it recorded, and a rollout that takes a way on after a
stuck one is the same run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Environment
from bot.engine.database import DatabaseUrl
from bot.engine.replication import (
    ReplicaLink,
    Table,
    add_to_publication,
    drop_from_publication,
    prepare_marker,
    read_subscription,
    refresh_publication,
    verify_replication,
)
from bot.engine.rollout import (
    NEXT_STEPS,
    STUCK,
    ReplicaPlace,
    RolloutResult,
    RolloutStep,
    StepDone,
    replica_places,
    schema_tables,
    unhealthy,
)
from bot.engine.service import ChangeResult, Direction, Progress
from bot.engine.status import SchemaStatus, database_url
from bot.engine.tree import revisions_text
from bot.errors import ConsdbBotError, OperationFailed, Refused
from bot.services import replicas
from bot.services.changes.events import MigrationStep, RolloutProgress
from bot.services.changes.policy import ways_on
from bot.services.changes.recovery import Recovering
from bot.services.changes.requests import RequestView
from bot.store.models import ChangeRequest
from bot.words import plural

ORDER = [RolloutStep.CHECKED, *NEXT_STEPS]
"""Every step of a rollout that goes well, in order."""
BOT = "consdb-bot"
"""Who the audit names for what the bot does on its own."""

Bound = dict[str, dict[str, object]]


@dataclass
class _Run:
    """One rollout under way: its request, where it tells, the steps it finished, and the last one recorded
    before this run (None for a new rollout)."""

    request: ChangeRequest
    view: RequestView
    linked: list[tuple[ReplicaPlace, ReplicaLink]]
    result: RolloutResult
    resumed_after: RolloutStep | None

    def pending(self, step: RolloutStep) -> bool:
        return self.resumed_after is None or ORDER.index(step) > ORDER.index(self.resumed_after)

    def last(self, place: ReplicaPlace) -> bool:
        """Whether ``place`` is the last replica a step is taken at."""
        return place is self.linked[-1][0]

    @property
    def direction(self) -> Direction:
        return Direction(self.request.binding.get("direction", Direction.UPGRADE.value))


@dataclass(frozen=True)
class _Side:
    """One side's migration: how it ended (None when every schema already was at its target), and where
    each schema is, in words."""

    change: ChangeResult | None
    where: str

    @property
    def ok(self) -> bool:
        return self.change is None or self.change.ok

    @property
    def untouched(self) -> bool:
        """Whether every schema records where it started and left nothing committed (a failed migration
        rolled back; not an online run whose transaction committed with phases left undone)."""
        return self.change is not None and all(
            set(outcome.recorded_after) == set(outcome.plan.current) and not outcome.unfinished
            for outcome in self.change.outcomes
        )


class RollingOut(Recovering):
    def _roll_out(self, request: ChangeRequest, view: RequestView) -> RolloutResult:
        """Carry out an approved rollout from the last step it recorded: each step recorded (``step``),
        then told, then the next. An error after the subscriptions were disabled leaves them disabled and
        the rollout stuck, with the ways on: never a subscription disabled that no request names."""
        summit = self.settings.environment(request.environment)
        bound: dict[str, Bound] = request.binding.get("replicas", {})
        places = [place for place in replica_places(self.settings, summit) if place.env.key in bound]
        linked = [(place, place.link) for place in places if place.link is not None]
        skipped = dict(request.binding.get("skipped", {}))
        resumed_after = RolloutStep(request.step) if request.step else None
        result = RolloutResult(summit.key, list(request.schemas), None, skipped=skipped)
        run = _Run(request, view, linked, result, resumed_after)
        if resumed_after is not None and resumed_after not in ORDER:
            # It had stopped, and the bot died before the request was settled: settled as it would have been.
            run.result.steps.append(StepDone(resumed_after, summit.key, 0.0))
            if resumed_after in STUCK:
                run.result = dataclasses.replace(run.result, stuck=_stuck(run, "", _disabled(run)))
            return run.result
        if run.pending(RolloutStep.CHECKED):
            self._check(run, summit)
        try:
            self._steps(run, summit, bound)
        except ConsdbBotError as error:
            if self.engine.stopping.is_set():
                raise
            self._done(run, RolloutStep.STOPPED, summit.key, time.monotonic(), error.message)
            failed = f"it stopped: {error.message}" + (f"\n{error.hint}" if error.hint else "")
            run.result = dataclasses.replace(run.result, stuck=_stuck(run, failed, _disabled(run)))
        return run.result

    def _check(self, run: _Run, summit: Environment) -> None:
        """Replication runs as it must before anything is changed (a subscription disabled for the rollout
        this one finishes excepted), and each side is where the rollout starts or at its target (not
        changed by hand since it was asked for: found only at the replica's step, the Summit would be
        migrated and the subscription left disabled)."""
        began = time.monotonic()
        problems = [
            said
            for place, link in run.linked
            if not self._disabled_for(run.request, place.env.key) and (said := unhealthy(place.env.key, link))
        ]
        if problems:
            raise Refused(
                "replication is not running as it must before a rollout: " + "; ".join(problems),
                hint="Nothing was changed. Settle the subscription first (`status` shows it), then ask again.",
            )
        replicas: dict[str, Bound] = run.request.binding.get("replicas", {})
        hint = "Nothing was changed. See `status`, bring both sides to the same revisions, then ask again."
        self._statuses(run, summit, run.request.binding.get("summit", {}), hint=hint)
        for place, _ in run.linked:
            self._statuses(run, place.env, replicas.get(place.env.key, {}), hint=hint)
        self._done(run, RolloutStep.CHECKED, summit.key, began)

    def _steps(self, run: _Run, summit: Environment, bound: dict[str, Bound]) -> None:
        """Every step still to take, each recorded once it is done at every replica."""
        if run.pending(RolloutStep.PAUSED):
            self._pause(run)
        if run.pending(RolloutStep.SUMMIT_MIGRATED) and not self._summit_step(run, summit):
            return
        if run.pending(RolloutStep.PUBLISHED):
            self._publish(run, summit)
        if run.pending(RolloutStep.REPLICAS_MIGRATED) and not self._replicas_step(run, bound):
            return
        if run.pending(RolloutStep.RESUMED):
            for place, link in run.linked:
                began = time.monotonic()
                self._enable(run, place.env, link)
                said = f"subscription {link.subscription}"
                self._done(run, RolloutStep.RESUMED, place.env.key, began, said, record=run.last(place))
        for place, link in run.linked:
            self._verify(run, summit, place, link)

    def _pause(self, run: _Run) -> None:
        for place, link in run.linked:
            began = time.monotonic()
            if read_subscription(link).enabled:
                replicas.disable(self.settings, self.store, place.env, actor=BOT, request_id=run.request.id)
                said = f"subscription {link.subscription}"
            else:
                said = f"subscription {link.subscription} (it was disabled already)"
            self._done(run, RolloutStep.PAUSED, place.env.key, began, said, record=run.last(place))

    def _replicas_step(self, run: _Run, bound: dict[str, Bound]) -> bool:
        """Migrate each replica to the Summit's revisions; whether the rollout goes on."""
        for place, _ in run.linked:
            began = time.monotonic()
            side = self._side(run, place.env, bound.get(place.env.key, {}))
            if side.change is not None:
                changes = {**run.result.replica_changes, place.env.key: side.change}
                run.result = dataclasses.replace(run.result, replica_changes=changes)
            if not side.ok:
                self._done(run, RolloutStep.REPLICA_FAILED, place.env.key, began, side.where)
                run.result = dataclasses.replace(run.result, stuck=_stuck(run, "", run.linked))
                return False
            self._done(run, RolloutStep.REPLICAS_MIGRATED, place.env.key, began, side.where, record=run.last(place))
        return True

    def _verify(self, run: _Run, summit: Environment, place: ReplicaPlace, link: ReplicaLink) -> None:
        """A marker row arrives; the worker, apply errors and the publisher's slot said with it."""
        assert place.env.replica is not None
        began = time.monotonic()
        verified = verify_replication(link, timeout_seconds=place.env.replica.verify_seconds)
        health, slot = verified.health, verified.health.slot
        said = [
            f"a marker row written at {summit.key} arrived in {verified.seconds:.1f} s",
            "worker running" if health.subscription.worker else "no worker",
        ]
        if verified.apply_errors is not None:
            said.append(f"{plural(verified.apply_errors, 'apply error')} meanwhile")
        if slot is not None:
            kept = slot.retained_bytes
            retained = f", {plural(kept, 'byte')} of WAL retained" if kept is not None else ""
            said.append(f"slot {slot.name} {'active' if slot.active else 'INACTIVE'}{retained}")
        self._done(run, RolloutStep.VERIFIED, place.env.key, began, "; ".join(said))

    def _disabled_for(self, request: ChangeRequest, environment: str) -> bool:
        """Whether the bot disabled the replica's subscription for this rollout or the one it finishes (not
        someone else, whom the replica watch records with no request)."""
        disabling = replicas.disabling(self.store, environment)
        mine = {request.id, request.binding.get("continues")} - {None}
        return disabling is not None and disabling.request_id in mine

    def _enable(self, run: _Run, env: Environment, link: ReplicaLink) -> None:
        """Enable the subscription unless it is already, and refresh it (which copies new tables)."""
        if not read_subscription(link).enabled:
            replicas.enable(self.settings, self.store, env, actor=BOT, request_id=run.request.id)
        refresh_publication(link)

    def _done(
        self, run: _Run, step: RolloutStep, place: str, began: float, detail: str = "", *, record: bool = True
    ) -> None:
        """A step finished at one place: recorded with the request first, then told in its thread. A step
        taken replica by replica is recorded only at the last (``record``): a rollout resumed after a stop
        between two replicas takes it again at every one, not at none."""
        finished = StepDone(step, place, time.monotonic() - began, detail)
        run.result.steps.append(finished)
        if record:
            self.store.set_step(run.request.id, step.value)
        self._tell(self.notifier.progress, run.view, RolloutProgress(finished))

    def _summit_step(self, run: _Run, summit: Environment) -> bool:
        """Migrate the Summit; whether the rollout goes on. A Summit left where the rollout started (its
        migration rolled back, or refused before it began) lets the subscriptions run again at once, unless
        the rollout takes a way on after a stuck one: there the start is a Summit ahead of its replicas. One
        half done keeps them disabled."""
        began = time.monotonic()
        bound = run.request.binding.get("summit", {})
        fresh = run.request.binding.get("continues") is None
        try:
            side = self._side(run, summit, bound)
        except ConsdbBotError as error:
            if self.engine.stopping.is_set() or not (fresh and self._at_start(run, summit, bound)):
                raise
            for place, link in run.linked:
                self._enable(run, place.env, link)
            self._done(run, RolloutStep.SUMMIT_FAILED, summit.key, began, error.message)
            return False
        run.result = dataclasses.replace(run.result, summit_change=side.change)
        if side.ok:
            self._done(run, RolloutStep.SUMMIT_MIGRATED, summit.key, began, side.where)
            return True
        if side.untouched and fresh:
            for place, link in run.linked:
                self._enable(run, place.env, link)
            self._done(run, RolloutStep.SUMMIT_FAILED, summit.key, began, side.where)
        else:
            self._done(run, RolloutStep.HALTED, summit.key, began, side.where)
            run.result = dataclasses.replace(run.result, stuck=_stuck(run, "", run.linked))
        return False

    def _at_start(self, run: _Run, summit: Environment, bound: Bound) -> bool:
        """Whether every schema of the Summit records where the rollout started."""
        statuses = self.engine.status([summit], run.request.schemas)
        return all(set(status.current) == set(_end(bound, status.schema, "from")) for status in statuses)

    def _publish(self, run: _Run, summit: Environment) -> None:
        """Add the tables the rollout made to the publication, and drop those it dropped."""
        began = time.monotonic()
        publisher = self._summit_url(summit)
        names = [self.engine.tree.schema(schema).schema_name for schema in run.request.schemas]
        timeout = self.settings.migrations.connect_timeout_seconds
        before = {Table(schema, name) for schema, name in run.request.binding.get("summit_tables", [])}
        after = schema_tables(publisher, names, place=summit.key, connect_timeout=timeout)
        added, dropped = sorted(after - before), sorted(before - after)
        for _, link in run.linked:
            add_to_publication(link, added)
            if dropped:
                drop_from_publication(link, dropped)
            prepare_marker(link)
        said = [f"added {', '.join(map(str, added))}"] if added else []
        if dropped:
            said.append(f"{', '.join(map(str, dropped))} dropped (it left the publication with it)")
        publications = ", ".join(sorted({link.publication for _, link in run.linked}))
        self._done(run, RolloutStep.PUBLISHED, summit.key, began,
                   f"publication {publications}: " + ("; ".join(said) or "no table made or dropped"))  # fmt: skip

    @staticmethod
    def _summit_url(summit: Environment) -> DatabaseUrl:
        publisher = database_url(summit)
        assert not isinstance(publisher, str), "a rollout is planned only where the Summit's database is configured"
        return publisher

    def _statuses(self, run: _Run, env: Environment, bound: Bound, *, hint: str) -> list[SchemaStatus]:
        """Where one side's schemas are; refused, with ``hint``, if one is neither where the rollout starts
        nor at its target."""
        statuses = self.engine.status([env], run.request.schemas)
        elsewhere = [
            f"{status.schema} is {status.summary}, neither the rollout's start nor its target"
            for status in statuses
            if set(status.current) not in (_ends(bound, status.schema))
        ]
        if elsewhere:
            raise Refused(f"{env.key}: {'; '.join(elsewhere)}", hint=hint)
        return statuses

    def _side(self, run: _Run, env: Environment, bound: Bound) -> _Side:
        """Migrate one side's schemas that are where the plan starts; leave those already at its target.
        A schema that is neither (changed outside the bot) stops it, said."""
        request = run.request
        statuses = self._statuses(run, env, bound, hint="See `status`; nothing more was changed.")
        todo = [s.schema for s in statuses if set(s.current) != set(_end(bound, s.schema, "to"))]
        if not todo:
            return _Side(None, f"already at {_revisions(statuses)}")

        def on_progress(event: Progress) -> None:
            self._tell(self.notifier.progress, run.view, MigrationStep(event, env.key))

        change = self.engine.change(
            env, todo, direction=run.direction, to=request.target,
            actor=f"{request.requester} (request #{request.id})", on_progress=on_progress,
            expected={schema: bound[schema] for schema in todo}, session=request.run_session,
            allow_rewrite=bool(request.allow_rewrite),
        )  # fmt: skip
        if not change.ok and self.engine.stopping.is_set():
            raise OperationFailed(
                f"{env.key}: the bot stopped while migrating it; it goes on when the bot starts again",
                hint="Start the bot again.",
            )
        return _Side(change, _outcomes(change))


def _end(bound: Bound, schema: str, end: str) -> list[str]:
    value = bound.get(schema, {}).get(end, [])
    assert isinstance(value, list)
    return value


def _ends(bound: Bound, schema: str) -> tuple[set[str], set[str]]:
    return set(_end(bound, schema, "from")), set(_end(bound, schema, "to"))


def _revisions(statuses: Sequence[SchemaStatus]) -> str:
    return "; ".join(f"{status.schema} {revisions_text(status.current)}" for status in statuses)


def _stuck(run: _Run, failed: str, disabled: Sequence[tuple[ReplicaPlace, ReplicaLink]]) -> str:
    """Which state each side is in, and, while a subscription stays ``disabled``, the two ways on, each a
    request for approval. Once every subscription runs again (an error after the resume) nothing is held,
    and neither way would do anything."""
    summit = run.result.summit_change
    lines = [f"{run.request.environment}: " + _outcomes(summit) if summit else ""]
    lines += [f"{key}: {_outcomes(change)}" for key, change in run.result.replica_changes.items()]
    lines.append(failed)
    if not disabled:
        subscriptions = ", ".join(f"{link.subscription} at {place.env.key}" for place, link in run.linked)
        lines.append(f"subscription {subscriptions} is enabled: nothing is held (`status` shows the replica)")
        return "\n".join(line for line in lines if line)
    subscriptions = ", ".join(f"{link.subscription} at {place.env.key}" for place, link in disabled)
    lines.append(
        f"subscription {subscriptions} stays disabled: the Summit has changes the replica cannot apply yet;"
        " the Summit's replication slot keeps every change meanwhile"
    )
    lines.append(ways_on(run.request))
    return "\n".join(line for line in lines if line)


def _disabled(run: _Run) -> list[tuple[ReplicaPlace, ReplicaLink]]:
    """The replicas whose subscription is disabled now (or cannot be read)."""
    return [(place, link) for place, link in run.linked if not _enabled(link)]


def _enabled(link: ReplicaLink) -> bool:
    """Whether the subscription runs now; not when that cannot be read."""
    try:
        return read_subscription(link).enabled
    except ConsdbBotError:
        return False


def _outcomes(change: ChangeResult) -> str:
    return "; ".join(
        f"{outcome.schema} at {revisions_text(outcome.recorded_after)} ({outcome.outcome.value})"
        for outcome in change.outcomes
    )
