"""The policy every change meets, from Slack or the terminal: who may approve it, a ticket where one is
required, one change at a time per environment, and a target already proven where required."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.config import Approvals, Environment, Settings
from bot.engine.prepare import Needs
from bot.engine.replication import Table
from bot.engine.rollout import STUCK, replica_places, schema_tables, summit_route, unhealthy
from bot.engine.service import Direction, Engine, SchemaPlan, revision_argument
from bot.engine.status import SchemaStatus, State, database_url
from bot.engine.tree import revisions_text, short
from bot.errors import Refused
from bot.services.changes.requests import RESTART, ROLLOUT, Proposal
from bot.services.changes.served import SCHEMA_CHANGES, change_label, change_revisions
from bot.services.replicas import disabling
from bot.store import Store
from bot.store.models import ChangeRequest, RequestState
from bot.words import plural


def approvers(settings: Settings, env: Environment, kind: str, group_members: Callable[[str], set[str]]) -> set[str]:
    """Who may approve a request of this kind in this environment: those named, and their user group's members."""
    policy = approval_policy(settings, env, kind)
    return set(policy.approvers) | (group_members(policy.usergroup) if policy.usergroup else set())


def approval_policy(settings: Settings, env: Environment, kind: str) -> Approvals:
    """How many approve a request of this kind, who, and within how long. A rollout at the Summit needs
    the approvals of the strictest environment it touches (the most approvals required; the Summit's
    on a tie)."""
    if kind == ROLLOUT:
        touched = [env, *(place.env for place in replica_places(settings, env) if place.link is not None)]
        return max((other.approvals for other in touched), key=lambda approvals: approvals.required)
    return env.restart_policy if kind == RESTART else env.approvals


@dataclass(frozen=True)
class RolloutPlan:
    """What a rollout would do: the Summit's plans, each linked replica's, the replicas skipped here, the
    way it goes (a rollout that takes the Summit back after a stuck one downgrades), the rollout it
    finishes (``continues``), and the Summit's tables before it (what it made or dropped is told apart
    from them, however often it is resumed)."""

    summit: Environment
    plans: list[SchemaPlan]
    replicas: dict[str, list[SchemaPlan]]
    skipped: dict[str, str]
    direction: Direction = Direction.UPGRADE
    continues: ChangeRequest | None = None
    tables_before: list[Table] = field(default_factory=list)

    @property
    def start(self) -> dict[str, list[str]]:
        """Where the Summit's schemas were before the first rollout of this line."""
        if self.continues is not None:
            return rollout_start(self.continues)
        return {plan.schema: list(plan.current) for plan in self.plans}


def holding_rollout(settings: Settings, store: Store, env: Environment) -> ChangeRequest | None:
    """The rollout that holds ``env`` (the Summit or one of its replicas) from any other change: one under
    way that touches it, or one stuck with a subscription the bot disabled for it still disabled."""
    summit = settings.environment(env.replica.of) if env.replica else env
    running = store.open_request(summit.key)
    if env.replica and running and running.kind == ROLLOUT and env.key in running.binding.get("replicas", {}):
        return running
    replicas = [env] if env.replica else [place.env for place in replica_places(settings, summit)]
    for replica in replicas:
        disabled = disabling(store, replica.key)
        request = store.request(disabled.request_id) if disabled and disabled.request_id else None
        if request and request.kind == ROLLOUT and request.state == RequestState.FAILED and request.step in STUCK:
            return request
    return None


def held_refusal(env: Environment, holder: ChangeRequest) -> Refused:
    """Why no change but a rollout may touch ``env`` now, and the ways on."""
    if holder.state != RequestState.FAILED:
        return Refused(
            f"{env.key} is part of rollout #{holder.id}, which is {holder.state}",
            hint="A replica changes with its Summit: wait for the rollout to finish.",
        )
    return Refused(
        f"{env.key} is held by rollout #{holder.id}, which stopped with its subscription disabled: {holder.note}",
        hint=ways_on(holder),
    )


def ways_on(stuck: ChangeRequest) -> str:
    """The two ways on from a stuck rollout, each a rollout request to approve. Its target is named even
    when it was asked for as the head: a tree whose head moved since would take "the head" further."""
    ticket = f" --ticket {stuck.ticket}" if stuck.ticket else ""
    schemas = " ".join(stuck.schemas)
    start = " ".join(short(rev) for rev in rollout_start(stuck)[stuck.schemas[0]]) or "base"
    aim = stuck.binding.get("summit", {}).get(stuck.schemas[0], {}).get("to", [])
    named = stuck.target or (short(aim[0]) if len(stuck.schemas) == 1 and len(aim) == 1 else None)
    target = f" --to {named}" if named else ""
    return (
        f"Either finish it: `rollout {schemas}{target}{ticket}` (migrates what is behind, then enables the"
        f" subscription), or take the Summit back: `rollout {schemas} --to {start}{ticket}` (downgrades the"
        " Summit, then enables the subscription). Each is a request to approve."
    )


def rollout_start(rollout: ChangeRequest) -> dict[str, list[str]]:
    """Where the Summit's schemas were before the first of a line of rollouts (one and the ways on after it)."""
    summit: dict[str, dict[str, list[str]]] = rollout.binding.get("summit", {})
    return rollout.binding.get("start") or {schema: bound["from"] for schema, bound in summit.items()}


def check_rollout(settings: Settings, engine: Engine, store: Store, proposal: Proposal) -> RolloutPlan:
    """The policy a rollout meets before it is asked for, and again at ``--yes``: the Summit's as an
    upgrade's (a ticket where required, one change at a time, the target proven where required), every
    linked replica free of other changes, its subscription enabled and healthy, and at the Summit's
    revisions. After a rollout that stopped with its subscriptions disabled, only a rollout that takes one
    of its two ways on (:func:`ways_on`). Returns the plans of both sides."""
    summit = settings.environment(proposal.environment)
    places = replica_places(settings, summit)
    if not places:
        raise Refused(
            f"no environment is configured as a replica of {summit.key}",
            hint=f"A replica environment names it: replica: {{of: {summit.key}, subscription: ..., publication: ...}}.",
        )
    stuck = holding_rollout(settings, store, summit)
    if stuck is not None:
        return _way_on(settings, engine, store, proposal, stuck)
    env, plans = check_proposal(settings, engine, store, proposal, with_sql=False, with_replicas=True)
    if not plans:
        raise Refused(f"nothing to do at {env.key}: every schema asked for is already there")
    schemas = [plan.schema for plan in plans]
    replicas, skipped, problems = {}, {}, []
    for place in places:
        if place.link is None:
            skipped[place.env.key] = place.skipped
            continue
        _refuse_busy(store, place.env)
        theirs = engine.plan(place.env, schemas, to=proposal.target, with_sql=False)
        apart = [
            f"{mine.schema} is at {revisions_text(mine.current)} at {env.key} and {revisions_text(other.current)}"
            f" at {place.env.key}"
            for mine, other in zip(plans, theirs, strict=True)
            if set(mine.current) != set(other.current)
        ]
        if apart:
            raise Refused(
                f"the Summit and its replica are not at the same revisions: {'; '.join(apart)}",
                hint="A rollout moves both from the same revisions: bring them together first (`status` shows both).",
            )
        problems += [said] if (said := unhealthy(place.env.key, place.link)) else []
        replicas[place.env.key] = theirs
    if problems:
        raise Refused(
            "replication is not running as it must before a rollout: " + "; ".join(problems),
            hint="Nothing was changed. Settle the subscription first (`status` shows it), then ask again.",
        )
    if not replicas:
        raise Refused(
            f"no replica of {env.key} can be reached from here: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()),
            hint="Give the bot the replicas' database URLs, or migrate the Summit alone with `migrate`.",
        )
    return RolloutPlan(env, plans, replicas, skipped, tables_before=_summit_tables(settings, engine, env, schemas))


def _way_on(settings: Settings, engine: Engine, store: Store, proposal: Proposal, stuck: ChangeRequest) -> RolloutPlan:
    """A rollout after ``stuck``: to its target (the replica, or the Summit's other schemas, migrated in
    turn) or back to its start (the Summit downgraded); either way the subscriptions enabled at the end."""
    summit = settings.environment(proposal.environment)
    if summit.requires_ticket and not proposal.ticket:
        raise Refused(f"{summit.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    _refuse_busy(store, summit)
    schemas = engine.schemas_at(summit, proposal.schemas)
    if schemas != list(stuck.schemas):
        raise Refused(
            f"rollout #{stuck.id} of {', '.join(stuck.schemas)} stopped with its subscription disabled, and must be"
            f" taken on first: {stuck.note}",
            hint=ways_on(stuck),
        )
    start = [set(rollout_start(stuck)[schema]) for schema in schemas]
    aim = [set(stuck.binding["summit"][schema]["to"]) for schema in schemas]
    direction = Direction.UPGRADE
    plans = _plans_to(engine, summit, schemas, proposal.target, direction)
    if plans is None or [set(plan.target) for plan in plans] != aim:
        direction = Direction.DOWNGRADE
        plans = _plans_to(engine, summit, schemas, proposal.target, direction)
        if plans is None or [set(plan.target) for plan in plans] != start:
            raise Refused(
                f"rollout #{stuck.id} stopped with its subscription disabled; a rollout now either finishes it or"
                " takes the Summit back",
                hint=ways_on(stuck),
            )
    replicas, skipped = {}, dict(stuck.binding.get("skipped", {}))
    for place in replica_places(settings, summit):
        if place.env.key not in stuck.binding.get("replicas", {}):
            continue
        _refuse_busy(store, place.env)
        theirs = _plans_to(engine, place.env, schemas, proposal.target, direction)
        if theirs is None:
            raise Refused(
                f"{place.env.key} is neither at the start nor at the target of rollout #{stuck.id}",
                hint=f"See `status {place.env.key}`: it changed outside the bot; settle it by hand.",
            )
        replicas[place.env.key] = theirs
    before = stuck.binding.get("summit_tables", []) if direction is Direction.UPGRADE else None
    tables = (
        [Table(*pair) for pair in before] if before is not None else _summit_tables(settings, engine, summit, schemas)
    )
    return RolloutPlan(summit, plans, replicas, skipped, direction, stuck, tables)


def _plans_to(
    engine: Engine, env: Environment, schemas: list[str], target: str | None, direction: Direction
) -> list[SchemaPlan] | None:
    """The plans that take ``env``'s schemas to ``target`` this way (a schema there already has a plan
    with nothing to do); None where that way does not lead there."""
    plans = []
    for schema in schemas:
        try:
            plans += engine.plan(env, [schema], to=target, direction=direction, with_sql=False)
            continue
        except Refused:
            pass
        try:
            there = engine.plan(env, [schema], to=target, with_sql=False)
        except Refused:
            return None
        if there[0].revisions:
            return None
        plans += there
    return plans


def _summit_tables(settings: Settings, engine: Engine, summit: Environment, schemas: list[str]) -> list[Table]:
    """The tables of these schemas at the Summit now."""
    publisher = database_url(summit)
    assert not isinstance(publisher, str), "a rollout is planned only where the Summit's database is configured"
    names = [engine.tree.schema(schema).schema_name for schema in schemas]
    timeout = settings.migrations.connect_timeout_seconds
    return sorted(schema_tables(publisher, names, place=summit.key, connect_timeout=timeout))


def _refuse_without_replicas(settings: Settings, env: Environment, schemas: list[str], ticket: str | None) -> None:
    """Refuse to upgrade alone a schema that replicas configured here follow: a column the Summit gains
    and the replica lacks stops replication. ``rollout`` moves both."""
    route = summit_route(settings, schemas)
    if route is None or route.summit != env.key or not route.rollout:
        return
    raise Refused(
        f"{env.key} has logical replicas here ({', '.join(route.replicas)}) that follow {', '.join(route.rollout)}:"
        " upgraded alone, a column they lack would stop replication",
        hint=f"Use `rollout {' '.join(route.rollout)} --ticket {ticket or 'TICKET'}`:"
        " it pauses the subscription, migrates both, and resumes it.",
    )


def _refuse_busy(store: Store, env: Environment) -> None:
    if store.open_request(env.key):
        raise busy_refusal(store, env)


def check_proposal(
    settings: Settings, engine: Engine, store: Store, proposal: Proposal, *, with_sql: bool, with_replicas: bool = False
) -> tuple[Environment, list[SchemaPlan]]:
    """The policy every change meets, from Slack or the terminal: a ticket where one is required, one
    change at a time per environment, no rollout holding the environment, no upgrade of what replicas
    follow but ``with_replicas`` (a rollout), and a target already proven where required. Returns the
    plans of the schemas that have something to do."""
    env = settings.environment(proposal.environment)
    schemas = engine.schemas_at(env, proposal.schemas)
    engine.check_options(env, schemas, proposal.options)  # what would reach the scripts' SQL, first of all
    if env.requires_ticket and not proposal.ticket:
        raise Refused(f"{env.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    _refuse_busy(store, env)
    if (holder := holding_rollout(settings, store, env)) is not None:
        raise held_refusal(env, holder)
    if proposal.kind is Direction.UPGRADE and not with_replicas:
        _refuse_without_replicas(settings, env, schemas, proposal.ticket)
    plans = engine.plan(
        env,
        schemas,
        to=proposal.target,
        direction=proposal.kind,
        options=proposal.options,
        with_sql=with_sql,
    )
    plans = [plan for plan in plans if plan.revisions or proposal.kind is Direction.STAMP]
    if plans and all(plan.note for plan in plans):
        raise Refused(
            "; ".join(f"{plan.schema}: {plan.note}" for plan in plans) + ", so nothing here could run",
            hint="Point migrations.sdm_schemas at an sdm_schemas checkout that has the model, or name other schemas.",
        )
    if proposal.kind is Direction.UPGRADE:
        for plan in plans:
            _refuse_untested(settings, engine, store, env, plan)
    return env, plans


def _refuse_untested(settings: Settings, engine: Engine, store: Store, env: Environment, plan: SchemaPlan) -> None:
    """Refuse an upgrade whose target has not yet succeeded where it must be proven first.

    "Succeeded at" means that the proving environment's database now records the target or a revision
    beyond it: the database is the truth, so a change made there outside the bot counts, and a target
    that was reached and then rolled back there does not. Only where this process cannot read that
    database (no URL here, or unreachable) does the bot's own record stand in: where its last successful
    change of the schema there left it.
    """
    tested = settings.proven_first_at(env, plan.schema)
    if tested is None:
        return
    tree = engine.tree.schema(plan.schema)
    status = engine.status([tested], [plan.schema])[0]
    target = revisions_text(plan.target)
    needed = f"{env.key}: {plan.schema} must first reach {target} at {tested.key}"
    command = f"migrate {tested.key} {plan.schema} --to {short(revision_argument(tree, plan.target))}"
    if status.state in (State.HEAD, State.BEHIND, State.EMPTY):
        current, known = status.current, ""
    elif status.state in (State.UNREACHABLE, State.NOT_CONFIGURED):
        recorded = store.last_reached(tested.key, plan.schema)
        if recorded is None:
            raise Refused(
                f"{needed}, where the bot has no record of changing {plan.schema}, nor can it read the database:"
                f" {status.detail}",
                hint=f"Give the bot {tested.key}'s database, or run `{command}` first.",
            )
        current, known = tuple(recorded), " by the bot's records (its database cannot be read here)"
    else:
        raise Refused(
            f"{needed}, where it is {status.summary}",
            hint=f"Settle {tested.key} first: `status {tested.key} {plan.schema}`.",
        )
    lacking = tree.missing(current=current, target=plan.target)
    if lacking:
        raise Refused(
            f"{needed}, which is {plural(len(lacking), 'revision')} behind it{known} (at {revisions_text(current)})",
            hint=f"Run `{command}` first.",
        )


def check_restart(settings: Settings, store: Store, environment: str, ticket: str | None) -> Environment:
    """The policy a pqserver restart meets, from Slack or the terminal."""
    env = settings.environment(environment)
    if not env.pqserver:
        raise Refused(f"{env.key} names no pqserver deployment", hint=f"Set environments.{env.key}.pqserver.")
    if env.requires_ticket and not ticket:
        raise Refused(f"{env.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    if store.open_request(env.key):
        raise busy_refusal(store, env)
    return env


ALL = "all"
"""``restart pqserver all``: every environment that has the latest change (:func:`check_restart_all`)."""


@dataclass(frozen=True)
class RestartAll:
    """What ``restart pqserver all`` restarts: ``change`` (the latest), the revisions it left per schema, the
    environments that have it in the configuration's order, and every other environment with why not."""

    change: ChangeRequest
    revisions: dict[str, list[str]]
    environments: list[Environment]
    skipped: dict[str, str]

    @property
    def home(self) -> Environment:
        """Where the request is held and posted: the environment with the strictest restart policy (the most
        approvals required; the first in the configuration on a tie). It is approved under that policy."""
        return max(self.environments, key=lambda env: env.restart_policy.required)


def check_restart_all(settings: Settings, engine: Engine, store: Store, ticket: str | None) -> RestartAll:
    """The policy ``restart pqserver all`` meets, from Slack or the terminal. The change is the succeeded
    upgrade, downgrade, stamp or rollout that finished last (of ``ticket``, when one is named); an environment
    has it when it names a pqserver deployment and its database records, for each of the change's schemas it
    keeps, the revisions the change left. Refused when none has it, when one that has it needs a ticket and
    none is named, or while the strictest's environment has a change open."""
    change = store.last_succeeded(SCHEMA_CHANGES, ticket=ticket)
    of = f" of {ticket}" if ticket else ""
    if change is None:
        raise Refused(f"the bot has recorded no change{of} to restart pqserver after",
                      hint="`restart pqserver ENV` restarts one environment's pqserver.")  # fmt: skip
    revisions = change_revisions(change)
    candidates = [env for env in settings.environments.values() if env.pqserver]
    statuses = engine.status(candidates, list(revisions)) if candidates else []
    having: list[Environment] = []
    skipped: dict[str, str] = {}
    for env in settings.environments.values():
        why = _lacks_change(env, revisions, [status for status in statuses if status.environment == env.key])
        if why:
            skipped[env.key] = why
        else:
            having.append(env)
    label = f"{change_label(change)} ({_revisions_text(revisions)})"
    if not having:
        raise Refused(f"no environment has the latest change{of}, {label}: "
                      + "; ".join(f"{key} {why}" for key, why in skipped.items()),
                      hint="`restart pqserver ENV` restarts one environment's pqserver.")  # fmt: skip
    needing = [env.key for env in having if env.requires_ticket]
    if needing and not ticket:
        raise Refused(f"{', '.join(needing)} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    plan = RestartAll(change, revisions, having, skipped)
    if store.open_request(plan.home.key):
        raise busy_refusal(store, plan.home)
    return plan


def _lacks_change(env: Environment, revisions: dict[str, list[str]], statuses: list[SchemaStatus]) -> str:
    """Why the environment does not have the change (empty when it does)."""
    if not env.pqserver:
        return "names no pqserver deployment"
    kept = [status for status in statuses if status.state is not State.NOT_KEPT]
    if not kept:
        return f"keeps none of {', '.join(revisions)}"
    for status in kept:
        if status.state in (State.UNREACHABLE, State.NOT_CONFIGURED, State.NOT_IN_TREE):
            return f"{status.schema}: {status.summary}"
        if set(status.current) != set(revisions[status.schema]):
            return f"{status.schema} is at {revisions_text(status.current)}"
    return ""


def _revisions_text(revisions: dict[str, list[str]]) -> str:
    return ", ".join(f"{schema} at {revisions_text(at)}" for schema, at in revisions.items())


def check_prepare(
    settings: Settings, engine: Engine, store: Store, environment: str, schemas: Sequence[str], ticket: str | None
) -> tuple[Environment, list[str], Needs]:
    """The policy ``prepare`` meets, from Slack or the terminal, and what it would create (never nothing)."""
    env = settings.environment(environment)
    if env.requires_ticket and not ticket:
        raise Refused(f"{env.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    if store.open_request(env.key):
        raise busy_refusal(store, env)
    selected = engine.schemas_at(env, schemas)
    missing = engine.lacking(env, selected)
    if not missing:
        raise Refused(
            f"nothing to do at {env.key}: its database has all that {', '.join(selected)} need before a first revision"
        )
    return env, selected, missing


def busy_refusal(store: Store, env: Environment) -> Refused:
    other = store.open_request(env.key)
    who = f"request #{other.id} by {other.requester} is {other.state}" if other else "another request is open"
    return Refused(
        f"{env.key} already has a change under way: {who}",
        hint="One change at a time per environment: wait for it to finish, be rejected or expire (in the terminal,"
        " --wait queues behind it).",
    )


def plan_warnings(plans: list[SchemaPlan]) -> list[str]:
    """What a request shows its approvers of its plans: notes, then lint warnings."""
    notes = [f"{plan.schema}: {plan.note}" for plan in plans if plan.note]
    return notes + [f"{plan.schema}: [{w.rule}] {w.table}: {w.message}" for plan in plans for w in plan.warnings]
