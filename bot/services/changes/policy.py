"""The policy every change meets, from Slack or the terminal: who may approve it, a ticket where one is
required, one change at a time per environment, and a target already proven where required."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.config import Approvals, Environment, Settings
from bot.engine.prepare import Needs
from bot.engine.rollout import replica_places, unhealthy
from bot.engine.service import Direction, Engine, SchemaPlan, revision_argument
from bot.engine.status import State
from bot.engine.tree import revisions_text, short
from bot.errors import Refused
from bot.services.changes.requests import RESTART, ROLLOUT, Proposal
from bot.store import Store


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
    """What a rollout would do: the Summit's plans, each linked replica's, and the replicas skipped here."""

    summit: Environment
    plans: list[SchemaPlan]
    replicas: dict[str, list[SchemaPlan]]
    skipped: dict[str, str]


def check_rollout(settings: Settings, engine: Engine, store: Store, proposal: Proposal) -> RolloutPlan:
    """The policy a rollout meets before it is asked for, and again at ``--yes``: the Summit's as an
    upgrade's (a ticket where required, one change at a time, the target proven where required), every
    linked replica free of other changes, its subscription enabled and healthy, and at the Summit's
    revisions. Returns the plans of both sides."""
    summit = settings.environment(proposal.environment)
    places = replica_places(settings, summit)
    if not places:
        raise Refused(
            f"no environment is configured as a replica of {summit.key}",
            hint=f"A replica environment names it: replica: {{of: {summit.key}, subscription: ..., publication: ...}}.",
        )
    env, plans = check_proposal(settings, engine, store, proposal, with_sql=False)
    if not plans:
        raise Refused(f"nothing to do at {env.key}: every schema asked for is already there")
    schemas = [plan.schema for plan in plans]
    replicas, skipped, problems = {}, {}, []
    for place in places:
        if place.link is None:
            skipped[place.env.key] = place.skipped
            continue
        if store.open_request(place.env.key):
            raise busy_refusal(store, place.env)
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
    return RolloutPlan(env, plans, replicas, skipped)


def check_proposal(
    settings: Settings, engine: Engine, store: Store, proposal: Proposal, *, with_sql: bool
) -> tuple[Environment, list[SchemaPlan]]:
    """The policy every change meets, from Slack or the terminal: a ticket where one is required, one
    change at a time per environment, and a target already proven where required. Returns the plans
    of the schemas that have something to do."""
    env = settings.environment(proposal.environment)
    schemas = engine.schemas_at(env, proposal.schemas)
    engine.check_options(env, schemas, proposal.options)  # what would reach the scripts' SQL, first of all
    if env.requires_ticket and not proposal.ticket:
        raise Refused(f"{env.key} changes need a Jira ticket", hint="Name it: --ticket OSW-123.")
    if store.open_request(env.key):
        raise busy_refusal(store, env)
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
                f"{needed}, whose database cannot be read here ({status.detail})"
                f" and where the bot has no record of changing {plan.schema}",
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
            f"{needed}, which is {len(lacking)} revision(s) behind it{known} (at {revisions_text(current)})",
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
