"""A rollout's run: the Summit and its replicas, step by step, each step recorded with the request
before the next starts and told in its thread with how long it took.

The order is the replica runbook's: disable the subscriptions, migrate the Summit (one transaction per
schema), publish the tables it made, migrate the replicas to the same revisions, enable and refresh the
subscriptions, and prove with a marker row that changes arrive. A failure leaves each side where it is
safe: the Summit rolled back means the subscriptions run again; the Summit migrated and a replica not
means they stay disabled, and the request says which state each side is in and the two ways on.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from bot.config import Environment
from bot.engine.replication import (
    ReplicaLink,
    add_to_publication,
    drop_from_publication,
    prepare_marker,
    refresh_publication,
    verify_replication,
)
from bot.engine.rollout import (
    ReplicaPlace,
    RolloutResult,
    RolloutStep,
    StepDone,
    replica_places,
    schema_tables,
    unhealthy,
)
from bot.engine.service import ChangeResult, Direction, Progress
from bot.engine.status import database_url
from bot.engine.tree import revisions_text
from bot.errors import Refused
from bot.services import replicas
from bot.services.changes.events import MigrationStep, RolloutProgress
from bot.services.changes.recovery import Recovering
from bot.services.changes.requests import RequestView
from bot.store.models import ChangeRequest


@dataclass
class _Run:
    """One rollout under way: its request, where it tells, and the steps it finished."""

    request: ChangeRequest
    view: RequestView
    linked: list[tuple[ReplicaPlace, ReplicaLink]]
    result: RolloutResult


BOT = "consdb-bot"
"""Who the audit names for what the bot does on its own."""


class RollingOut(Recovering):
    def _roll_out(self, request: ChangeRequest, view: RequestView) -> RolloutResult:
        """Carry out an approved rollout: each step recorded (``step``), then told, then the next."""
        summit = self.settings.environment(request.environment)
        bound: dict[str, dict[str, dict[str, object]]] = request.binding.get("replicas", {})
        places = [place for place in replica_places(self.settings, summit) if place.env.key in bound]
        linked = [(place, place.link) for place in places if place.link is not None]
        skipped = dict(request.binding.get("skipped", {}))
        run = _Run(request, view, linked, RolloutResult(summit.key, list(request.schemas), None, skipped=skipped))
        began = time.monotonic()
        problems = [said for place, link in linked if (said := unhealthy(place.env.key, link))]
        if problems:
            raise Refused(
                "replication is not running as it must before a rollout: " + "; ".join(problems),
                hint="Nothing was changed. Settle the subscription first (`status` shows it), then ask again.",
            )
        self._done(run, RolloutStep.CHECKED, summit.key, began)
        for place, link in linked:
            began = time.monotonic()
            replicas.disable(self.settings, self.store, place.env, actor=BOT, request_id=request.id)
            self._done(run, RolloutStep.PAUSED, place.env.key, began, f"subscription {link.subscription}")
        if not self._summit_step(run, summit):
            return run.result
        for place, _ in linked:
            began = time.monotonic()
            change = self._migrate(run, place.env.key, bound.get(place.env.key, {}))
            changes = {**run.result.replica_changes, place.env.key: change}
            run.result = dataclasses.replace(run.result, replica_changes=changes)
            if not change.ok:
                self._done(run, RolloutStep.REPLICA_FAILED, place.env.key, began, _where(change))
                run.result = dataclasses.replace(run.result, stuck=_stuck(request, run, (place, change)))
                return run.result
            self._done(run, RolloutStep.REPLICAS_MIGRATED, place.env.key, began, _where(change))
        for place, link in linked:
            began = time.monotonic()
            replicas.enable(self.settings, self.store, place.env, actor=BOT, request_id=request.id)
            refresh_publication(link)
            self._done(run, RolloutStep.RESUMED, place.env.key, began, f"subscription {link.subscription}")
        for place, link in linked:
            assert place.env.replica is not None
            began = time.monotonic()
            verified = verify_replication(link, timeout_seconds=place.env.replica.verify_seconds)
            self._done(run, RolloutStep.VERIFIED, place.env.key, began,
                       f"a marker row written at {summit.key} arrived in {verified.seconds:.1f} s")  # fmt: skip
        return run.result

    def _done(self, run: _Run, step: RolloutStep, place: str, began: float, detail: str = "") -> None:
        """A step finished: recorded with the request first, then told in its thread."""
        finished = StepDone(step, place, time.monotonic() - began, detail)
        run.result.steps.append(finished)
        self.store.set_step(run.request.id, step.value)
        self._tell(self.notifier.progress, run.view, RolloutProgress(finished))

    def _summit_step(self, run: _Run, summit: Environment) -> bool:
        """Migrate the Summit and publish what it made; whether the rollout goes on. A migration rolled
        back lets the subscriptions run again at once; one half done keeps them disabled."""
        began = time.monotonic()
        publisher = database_url(summit)
        assert not isinstance(publisher, str), "a rollout is planned only where the Summit's database is configured"
        names = [self.engine.tree.schema(schema).schema_name for schema in run.request.schemas]
        timeout = self.settings.migrations.connect_timeout_seconds
        before = schema_tables(publisher, names, place=summit.key, connect_timeout=timeout)
        change = self._migrate(run, summit.key, run.request.binding.get("summit", {}))
        run.result = dataclasses.replace(run.result, summit_change=change)
        if not change.ok:
            if _untouched(change):
                for place, _ in run.linked:
                    replicas.enable(self.settings, self.store, place.env, actor=BOT, request_id=run.request.id)
                self._done(run, RolloutStep.SUMMIT_FAILED, summit.key, began, _where(change))
            else:
                self._done(run, RolloutStep.HALTED, summit.key, began, _where(change))
                run.result = dataclasses.replace(run.result, stuck=_stuck(run.request, run, None))
            return False
        self._done(run, RolloutStep.SUMMIT_MIGRATED, summit.key, began, _where(change))
        began = time.monotonic()
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
        return True

    def _migrate(self, run: _Run, where: str, expected: dict[str, dict[str, object]]) -> ChangeResult:
        """Upgrade one side to the request's target, bound to what was planned for it."""
        request = run.request

        def on_progress(event: Progress) -> None:
            self._tell(self.notifier.progress, run.view, MigrationStep(event))

        return self.engine.change(
            self.settings.environment(where), request.schemas, direction=Direction.UPGRADE, to=request.target,
            actor=f"{request.requester} (request #{request.id})", on_progress=on_progress, expected=expected,
            session=request.run_session,
        )  # fmt: skip


def _stuck(request: ChangeRequest, run: _Run, failed: tuple[ReplicaPlace, ChangeResult] | None) -> str:
    """Which state each side is in, and the two ways on, each a request for approval."""
    ticket = f" --ticket {request.ticket}" if request.ticket else ""
    subscriptions = ", ".join(f"{link.subscription} at {place.env.key}" for place, link in run.linked)
    summit_change = run.result.summit_change
    lines = [f"{request.environment}: {_where(summit_change)}" if summit_change else request.environment]
    if failed is not None:
        place, change = failed
        lines.append(f"{place.env.key}: {_where(change)}")
    lines.append(
        f"subscription {subscriptions} stays disabled: the Summit has changes the replica cannot apply yet;"
        " the Summit's replication slot keeps every change meanwhile"
    )
    replica = failed[0].env.key if failed else "the replica"
    first = request.schemas[0]
    start = revisions_text(request.binding.get("summit", {}).get(first, {}).get("from", []))
    lines.append(
        f"two ways on, each approved as a request: retry the replica (`migrate {replica}"
        f" {' '.join(request.schemas)} --to {request.target or 'head'}{ticket}`), or downgrade the Summit"
        f" (`downgrade {request.environment} {first} {start}{ticket}`); then enable {subscriptions}"
        " (ALTER SUBSCRIPTION ... ENABLE, then REFRESH PUBLICATION)"
    )
    return "\n".join(lines)


def _untouched(change: ChangeResult) -> bool:
    """Whether every schema records where it started (a failed migration rolled back)."""
    return all(set(outcome.recorded_after) == set(outcome.plan.current) for outcome in change.outcomes)


def _where(change: ChangeResult) -> str:
    """Each schema's revision as its version table records it, and how its migration ended."""
    return "; ".join(
        f"{outcome.schema} at {revisions_text(outcome.recorded_after)} ({outcome.outcome.value})"
        for outcome in change.outcomes
    )
