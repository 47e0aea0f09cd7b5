"""The policy every change meets, from Slack or the terminal: who may approve it, a ticket where one is
required, one change at a time per environment, and a target already proven where required."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.config import Approvals, Environment, Settings
from bot.engine.prepare import Needs
from bot.engine.service import Direction, Engine, SchemaPlan, revision_argument
from bot.engine.status import State
from bot.engine.tree import revisions_text, short
from bot.errors import Refused
from bot.services.changes.requests import RESTART, Proposal
from bot.store import Store


def approvers(env: Environment, kind: str, group_members: Callable[[str], set[str]]) -> set[str]:
    """Who may approve a request of this kind in this environment: those named, and their user group's members."""
    policy = approval_policy(env, kind)
    return set(policy.approvers) | (group_members(policy.usergroup) if policy.usergroup else set())


def approval_policy(env: Environment, kind: str) -> Approvals:
    """How many approve a request of this kind, who, and within how long."""
    return env.restart_policy if kind == RESTART else env.approvals


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
