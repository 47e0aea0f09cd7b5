"""A rollout at the Summit and its logical replicas as data: its steps, the links it acts on, the tables
a migration made or dropped, and how it ended. The change service carries it out, step by step, and
records each step; this module only reads databases and says what is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import psycopg

from bot.config import Environment, Settings
from bot.engine.database import DatabaseUrl, connect, first_line
from bot.engine.replication import ReplicaLink, Table, read_health
from bot.engine.service import ChangeResult
from bot.engine.status import database_url
from bot.errors import OperationFailed


class RolloutStep(StrEnum):
    """Where a rollout stands: the last step it finished (persisted with its request)."""

    CHECKED = "checked"
    PAUSED = "paused"
    SUMMIT_MIGRATED = "summit-migrated"
    PUBLISHED = "published"
    REPLICAS_MIGRATED = "replicas-migrated"
    RESUMED = "resumed"
    VERIFIED = "verified"
    SUMMIT_FAILED = "summit-failed"
    """The Summit's migration failed and was rolled back; the subscriptions were enabled again."""
    REPLICA_FAILED = "replica-failed"
    """The Summit is migrated, a replica is not: the subscriptions stay disabled."""
    HALTED = "halted"
    """The Summit's migration failed half way (a schema migrated, another not): the subscriptions stay disabled."""
    STOPPED = "stopped"
    """An error stopped it after the subscriptions were disabled: those still disabled stay so until a way on
    is taken (after the resume, none is)."""


STEP_WORDS = {
    RolloutStep.CHECKED: "checked: tested where required, subscriptions healthy, both sides at the same revisions",
    RolloutStep.PAUSED: "subscription disabled",
    RolloutStep.SUMMIT_MIGRATED: "Summit migrated",
    RolloutStep.PUBLISHED: "publication updated",
    RolloutStep.REPLICAS_MIGRATED: "replica migrated",
    RolloutStep.RESUMED: "subscription enabled and refreshed",
    RolloutStep.VERIFIED: "replication verified",
    RolloutStep.SUMMIT_FAILED: "Summit migration failed, rolled back; subscription enabled again",
    RolloutStep.REPLICA_FAILED: "replica migration failed; the subscription stays disabled",
    RolloutStep.HALTED: "Summit migration failed half way; the subscription stays disabled",
    RolloutStep.STOPPED: "stopped on an error",
}
"""Each step in words, the same in the terminal, Slack and Jira."""

STUCK = (RolloutStep.REPLICA_FAILED, RolloutStep.HALTED, RolloutStep.STOPPED)
"""The steps a rollout stops at with its subscriptions disabled, until another rollout takes a way on."""

NEXT_STEPS = [
    RolloutStep.PAUSED,
    RolloutStep.SUMMIT_MIGRATED,
    RolloutStep.PUBLISHED,
    RolloutStep.REPLICAS_MIGRATED,
    RolloutStep.RESUMED,
    RolloutStep.VERIFIED,
]
"""The steps after the checks, in order."""


@dataclass(frozen=True)
class StepDone:
    """One step finished: where, in how long, and what it did."""

    step: RolloutStep
    place: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class RolloutResult:
    """How a rollout ended: each side's migration, the steps it took, and, when it stopped half way,
    which state each side is in and the ways on (``stuck``)."""

    summit: str
    schemas: list[str]
    summit_change: ChangeResult | None
    replica_changes: dict[str, ChangeResult] = field(default_factory=dict)
    steps: list[StepDone] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Replica environments named in the plan but not acted on here, each with why."""
    stuck: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.steps) and self.steps[-1].step is RolloutStep.VERIFIED

    @property
    def note(self) -> str:
        """Why it did not succeed: where each side is and the ways on, or its last step in words."""
        if self.ok:
            return ""
        return self.stuck or (STEP_WORDS[self.steps[-1].step] if self.steps else "it stopped before its checks")


@dataclass(frozen=True)
class ReplicaPlace:
    """A replica environment of the Summit, with its link, or why it is skipped here."""

    env: Environment
    link: ReplicaLink | None
    skipped: str = ""


def summit_of(settings: Settings) -> Environment | None:
    """The environment that replica environments name in ``replica.of`` (the first so named)."""
    named = [env.replica.of for env in settings.environments.values() if env.replica]
    return settings.environment(named[0]) if named else None


@dataclass(frozen=True)
class SummitRoute:
    """How schemas proven at a test stand go on to the Summit: those that replicas linked here follow by
    ``rollout`` with those replicas (a plain upgrade of them is refused), the Summit's others by ``migrate``."""

    summit: str
    replicas: list[str]
    rollout: list[str]
    migrate: list[str]


def summit_route(settings: Settings, schemas: Sequence[str]) -> SummitRoute | None:
    """The way on to the Summit for ``schemas``; None where no replica names a Summit."""
    summit = summit_of(settings)
    if summit is None:
        return None
    kept = [schema for schema in schemas if summit.keeps(schema)]
    linked = [place.env for place in replica_places(settings, summit) if place.link is not None]
    replicas = [env.key for env in linked if any(env.keeps(schema) for schema in kept)]
    followed = [schema for schema in kept if any(env.keeps(schema) for env in linked)]
    return SummitRoute(summit.key, replicas, followed, [schema for schema in kept if schema not in followed])


def replica_places(settings: Settings, summit: Environment) -> list[ReplicaPlace]:
    """Every environment configured as a replica of ``summit``: linked, or skipped where this process has
    no database URL for it."""
    publisher = database_url(summit)
    timeout = settings.migrations.connect_timeout_seconds
    places = []
    for env in settings.environments.values():
        if env.replica is None or settings.environment(env.replica.of).key != summit.key:
            continue
        subscriber = database_url(env)
        if isinstance(subscriber, str):
            places.append(ReplicaPlace(env, None, subscriber))
            continue
        if isinstance(publisher, str):
            places.append(ReplicaPlace(env, None, f"{summit.key} is {publisher}"))
            continue
        link = ReplicaLink.configured(
            env.replica, publisher=publisher, subscriber=subscriber, subscriber_place=env.key, connect_timeout=timeout
        )
        places.append(ReplicaPlace(env, link))
    return places


def schema_tables(url: DatabaseUrl, schema_names: Sequence[str], *, place: str, connect_timeout: int) -> set[Table]:
    """The tables in these PostgreSQL schemas: before and after a migration, what it made and dropped."""
    try:
        with connect(url, connect_timeout=connect_timeout, application_name="consdb-bot rollout") as db:
            rows = db.execute(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s)", (list(schema_names),)
            ).fetchall()
    except psycopg.Error as error:
        raise OperationFailed(
            f"could not list the tables at {place}: {url.redact(first_line(error))}",
            hint="See that server's log, then try again.",
        ) from None
    return {Table(schema, name) for schema, name in rows}


def unhealthy(place: str, link: ReplicaLink) -> str:
    """What stops a replica's changes arriving now, in words; empty when replication runs."""
    problems = read_health(link).problems()
    return f"{place}: {'; '.join(problems)}" if problems else ""
