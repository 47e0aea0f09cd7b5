"""Logical replicas as ``status`` and ``replica tables`` show them, and the bot's own record of when it
disabled a subscription (PostgreSQL keeps no such time).

A replica environment is one with ``replica: {of, subscription, publication}``: it subscribes to the
publication of ``of`` (the Summit). Its subscription is read at the replica, its slot, the publication
and the ConsDB tables at the publisher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.config import Environment, Settings
from bot.engine.database import DatabaseUrl
from bot.engine.replication import (
    MARKER,
    ReplicaLink,
    Slot,
    Subscription,
    Table,
    disable_subscription,
    enable_subscription,
    publication_tables,
    publisher_tables,
    read_slot,
    read_subscription,
)
from bot.engine.service import Engine
from bot.engine.status import SchemaStatus, State, database_url
from bot.errors import ConsdbBotError, Refused
from bot.store import Store, aware

SUBSCRIPTION_DISABLED = "subscription-disabled"
SUBSCRIPTION_ENABLED = "subscription-enabled"
"""Audit actions of the bot disabling and enabling a subscription."""
SUBSCRIPTION_SEEN_DISABLED = "subscription-seen-disabled"
SUBSCRIPTION_SEEN_ENABLED = "subscription-seen-enabled"
"""Audit actions of the replica watch, which saw a subscription disabled (or enabled again) by someone else."""
UNREAD = (State.UNREACHABLE, State.NOT_CONFIGURED, State.NOT_IN_TREE, State.NOT_KEPT)


@dataclass(frozen=True)
class RevisionAgreement:
    """One schema's revisions at the publisher and at the replica; ``agree`` is None when either side
    could not be read (``detail`` says why)."""

    schema: str
    publisher: tuple[str, ...]
    replica: tuple[str, ...]
    agree: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Disabling:
    """Since when a subscription is disabled, as the audit trail knows it: by the bot (``by``, and the
    request it was for), or by someone else, since the replica watch first saw it (``by`` None)."""

    since: datetime
    by: str | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class Ends:
    """A replica's subscription as read at the replica (``detail``: why it could not be), and its slot at
    the publisher (``publisher_detail``: why that could not be read)."""

    subscription: Subscription | None
    slot: Slot | None = None
    detail: str = ""
    publisher_detail: str = ""


@dataclass(frozen=True)
class ReplicaStatus:
    """A replica environment at a glance. ``detail`` says why the subscription could not be read;
    ``publisher_detail`` why the publisher's end (slot, lag) could not."""

    environment: str
    of: str
    subscription: str
    publication: str
    enabled: bool | None = None
    disabled_since: datetime | None = None
    """When the bot disabled it, or when the replica watch first saw it disabled by someone else (then
    ``disabled_seen``); None if it is enabled, or the watch has not seen it disabled yet."""
    disabled_seen: bool = False
    worker_running: bool | None = None
    lag_bytes: int | None = None
    """WAL the publisher has written that the replica has not confirmed yet."""
    replay_lag_seconds: float | None = None
    retained_bytes: int | None = None
    apply_errors: int | None = None
    """Apply errors since ``errors_since`` (PostgreSQL 15+); their messages are in the replica's server log."""
    sync_errors: int | None = None
    errors_since: datetime | None = None
    problems: list[str] = field(default_factory=list)
    revisions: list[RevisionAgreement] = field(default_factory=list)
    detail: str = ""
    publisher_detail: str = ""

    @property
    def agreeing(self) -> bool | None:
        """Whether both sides are at the same revisions of every schema read at both; None if none was."""
        known = [revision.agree for revision in self.revisions if revision.agree is not None]
        return all(known) if known else None


@dataclass(frozen=True)
class PublicationTables:
    """A replica's publication against the publisher's ConsDB tables (``detail``: why not compared)."""

    environment: str
    of: str
    publication: str
    schemas: list[str]
    published: list[Table] = field(default_factory=list)
    consdb: list[Table] = field(default_factory=list)
    detail: str = ""

    @property
    def missing(self) -> list[Table]:
        """ConsDB tables the publication leaves out: rows written to them never reach the replica."""
        return [table for table in self.consdb if table not in self.published]

    @property
    def others(self) -> list[Table]:
        """Published tables that are not ConsDB's (the bot's marker apart)."""
        return [table for table in self.published if table not in self.consdb and table != MARKER]

    @property
    def marker(self) -> bool:
        return MARKER in self.published


def _url(env: Environment) -> DatabaseUrl | str:
    """The environment's database URL, or why there is none here."""
    try:
        return database_url(env)
    except ConsdbBotError as error:
        return error.message


def _link(settings: Settings, env: Environment, subscriber: DatabaseUrl, publisher: DatabaseUrl) -> ReplicaLink:
    assert env.replica is not None
    return ReplicaLink.configured(
        env.replica,
        publisher=publisher,
        subscriber=subscriber,
        subscriber_place=env.key,
        connect_timeout=settings.migrations.connect_timeout_seconds,
    )


def link_of(settings: Settings, env: Environment) -> ReplicaLink:
    """Both ends of a replica environment; refused if it is none, or either database is not configured."""
    if env.replica is None:
        raise Refused(f"{env.key} is not a replica", hint="A replica environment has replica: in the configuration.")
    subscriber, publisher = _url(env), _url(_publisher(settings, env))
    for place, url in ((env.key, subscriber), (env.replica.of, publisher)):
        if isinstance(url, str):
            raise Refused(f"{place}'s database is {url}", hint="Configure it where the bot runs.")
    assert isinstance(subscriber, DatabaseUrl)
    assert isinstance(publisher, DatabaseUrl)
    return _link(settings, env, subscriber, publisher)


def disable(settings: Settings, store: Store, env: Environment, *, actor: str, request_id: int | None = None) -> None:
    """Disable the replica's subscription and record when, which ``status`` then shows. Recorded too when
    it was disabled but the wait for its worker to stop failed: it is disabled, and for that request."""
    link = link_of(settings, env)

    def record() -> None:
        store.audit(
            actor=actor, action=SUBSCRIPTION_DISABLED, environment=env.key, request_id=request_id,
            summary=f"subscription {link.subscription} disabled",
        )  # fmt: skip

    try:
        disable_subscription(link)
    except ConsdbBotError:
        if not _enabled(link):
            record()
        raise
    record()


def _enabled(link: ReplicaLink) -> bool:
    """Whether the subscription is enabled, as far as can be read (true when it cannot)."""
    try:
        return read_subscription(link).enabled
    except ConsdbBotError:
        return True


def enable(settings: Settings, store: Store, env: Environment, *, actor: str, request_id: int | None = None) -> None:
    """Enable the replica's subscription, recorded so that an older disable is no longer its "since"."""
    link = link_of(settings, env)
    enable_subscription(link)
    store.audit(
        actor=actor, action=SUBSCRIPTION_ENABLED, environment=env.key, request_id=request_id,
        summary=f"subscription {link.subscription} enabled",
    )  # fmt: skip


def _publisher(settings: Settings, env: Environment) -> Environment:
    assert env.replica is not None
    return settings.environment(env.replica.of)


def replica_environments(environments: Sequence[Environment]) -> list[Environment]:
    """Those of ``environments`` that are replicas and whose database is configured here."""
    return [env for env in environments if env.replica and isinstance(_url(env), DatabaseUrl)]


def replica_statuses(
    settings: Settings,
    engine: Engine,
    store: Store,
    statuses: Sequence[SchemaStatus],
    environments: Sequence[Environment],
    schemas: Sequence[str],
) -> list[ReplicaStatus]:
    """Each of ``environments`` (replicas, see :func:`replica_environments`): its subscription, the lag,
    apply errors, and its ``schemas`` against the publisher's (``statuses`` are reused, the others read)."""
    read = {(status.environment, status.schema): status for status in statuses}
    return [_replica_status(settings, engine, store, env, read, schemas) for env in environments]


def _replica_status(
    settings: Settings,
    engine: Engine,
    store: Store,
    env: Environment,
    read: dict[tuple[str, str], SchemaStatus],
    schemas: Sequence[str],
) -> ReplicaStatus:
    assert env.replica is not None
    replica = env.replica
    publisher = _publisher(settings, env)
    base = ReplicaStatus(env.key, replica.of, replica.subscription, replica.publication)
    revisions = _revisions(engine, env, publisher, read, schemas)
    ends = read_ends(settings, env)
    subscription, slot, publisher_detail = ends.subscription, ends.slot, ends.publisher_detail
    if subscription is None:
        return replace(base, revisions=revisions, detail=ends.detail, publisher_detail=publisher_detail)
    problems = _problems(subscription)
    if not publisher_detail and subscription.slot_name and slot is None:
        problems.append(f"{publisher.key} has no replication slot {subscription.slot_name}")
    if slot is not None and subscription.enabled and not slot.active:
        problems.append(f"replication slot {slot.name} at {publisher.key} is not active")
    disabled = None if subscription.enabled else disabling(store, env.key)
    return replace(
        base,
        enabled=subscription.enabled,
        disabled_since=disabled.since if disabled else None,
        disabled_seen=disabled is not None and disabled.by is None,
        worker_running=subscription.worker is not None,
        lag_bytes=slot.lag_bytes if slot else None,
        replay_lag_seconds=slot.replay_lag.total_seconds() if slot and slot.replay_lag is not None else None,
        retained_bytes=slot.retained_bytes if slot else None,
        apply_errors=subscription.apply_errors,
        sync_errors=subscription.sync_errors,
        errors_since=subscription.stats_reset,
        problems=problems,
        revisions=revisions,
        publisher_detail=publisher_detail,
    )


def read_ends(settings: Settings, env: Environment) -> Ends:
    """A replica's subscription, and its slot when the publisher's database is configured here (the replica's
    must be, see :func:`replica_environments`)."""
    publisher = _publisher(settings, env)
    subscriber_url, publisher_url = _url(env), _url(publisher)
    assert isinstance(subscriber_url, DatabaseUrl)
    publisher_detail = f"{publisher.key}'s database is {publisher_url}" if isinstance(publisher_url, str) else ""
    # Reading the subscription needs only the replica: without the publisher's URL, the link's other end
    # is the replica's own, and nothing is read there.
    link = _link(
        settings, env, subscriber_url, publisher_url if isinstance(publisher_url, DatabaseUrl) else subscriber_url
    )
    try:
        subscription = read_subscription(link)
    except ConsdbBotError as error:
        return Ends(None, detail=error.message, publisher_detail=publisher_detail)
    slot = None
    if not publisher_detail and subscription.slot_name:
        try:
            slot = read_slot(link, subscription.slot_name)
        except ConsdbBotError as error:
            publisher_detail = error.message
    return Ends(subscription, slot, publisher_detail=publisher_detail)


def _problems(subscription: Subscription) -> list[str]:
    """What the replica's end says stops changes arriving (a disabled subscription is said apart)."""
    problems = []
    if subscription.enabled and subscription.worker is None:
        problems.append("enabled, but its worker is not running (see the replica's server log)")
    problems += [f"{table} is not replicating yet ({state})" for table, state in subscription.not_ready]
    if subscription.slot_name is None:
        problems.append("it has no replication slot")
    return problems


def disabling(store: Store, environment: str) -> Disabling | None:
    """Since when the audit trail says the subscription is disabled: since the bot's disabling, if none was
    recorded enabled after it, else since the watch saw it disabled; None when it was enabled last.

    The bot's record is preferred to the watch's, which a sweep might write just after a rollout disabled
    it and just before the rollout recorded that."""
    enabled = store.last_audit(environment=environment, actions=[SUBSCRIPTION_ENABLED, SUBSCRIPTION_SEEN_ENABLED])
    after = enabled.id if enabled else 0
    by_bot = store.last_audit(environment=environment, actions=[SUBSCRIPTION_DISABLED])
    if by_bot is not None and by_bot.id > after:
        return Disabling(aware(by_bot.at), by_bot.actor, by_bot.request_id)
    seen = store.last_audit(environment=environment, actions=[SUBSCRIPTION_SEEN_DISABLED])
    return Disabling(aware(seen.at)) if seen is not None and seen.id > after else None


def _revisions(
    engine: Engine,
    env: Environment,
    publisher: Environment,
    read: dict[tuple[str, str], SchemaStatus],
    schemas: Sequence[str],
) -> list[RevisionAgreement]:
    """Each schema both ends keep, the publisher's revisions against the replica's."""
    shared = [schema for schema in schemas if env.keeps(schema) and publisher.keeps(schema)]
    unread = [schema for schema in shared if (publisher.key, schema) not in read]
    if unread:
        read = read | {(status.environment, status.schema): status for status in engine.status([publisher], unread)}
    agreements = []
    for schema in shared:
        there, here = read[(publisher.key, schema)], read.get((env.key, schema))
        if here is None:
            here = engine.status([env], [schema])[0]
        unread_side = next((side for side in (there, here) if side.state in UNREAD), None)
        agree = None if unread_side else sorted(there.current) == sorted(here.current)
        detail = f"{unread_side.environment}: {unread_side.summary}" if unread_side else ""
        agreements.append(RevisionAgreement(schema, there.current, here.current, agree, detail))
    return agreements


def replica_tables(settings: Settings, engine: Engine, name: str | None) -> list[PublicationTables]:
    """The named replica environment's publication (or every replica's) against the ConsDB tables of
    the ``cdb_*`` schemas its publisher keeps."""
    if name is not None:
        env = settings.environment(name)
        if env.replica is None:
            raise Refused(
                f"{env.key} is not a replica",
                hint="Name one with replica: in the configuration, or none for every replica.",
            )
        environments = [env]
    else:
        environments = [env for env in settings.environments.values() if env.replica]
        if not environments:
            raise Refused(
                "no environment is a replica here",
                hint="A replica environment has replica: {of, subscription, publication} in the configuration.",
            )
    return [_publication_tables(settings, engine, env) for env in environments]


def _publication_tables(settings: Settings, engine: Engine, env: Environment) -> PublicationTables:
    assert env.replica is not None
    publisher = _publisher(settings, env)
    tree = engine.tree
    names = {
        tree.schema(section).schema_name
        for section in settings.schemas
        if publisher.keeps(section) and tree.has(section)
    }
    schemas = sorted(name for name in names if name.startswith("cdb_"))
    report = PublicationTables(env.key, publisher.key, env.replica.publication, schemas)
    url = _url(publisher)
    if isinstance(url, str):
        return replace(report, detail=f"{publisher.key}'s database is {url}")
    # Only the publisher is read here: the link's other end is the publisher's own.
    link = _link(settings, env, url, url)
    try:
        return replace(report, published=publication_tables(link), consdb=publisher_tables(link, schemas))
    except ConsdbBotError as error:
        return replace(report, detail=error.message)
