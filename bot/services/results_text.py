"""How a run ended, as plain text: for the terminal, a request's Slack thread and its Jira comment alike.

Pure functions of the engine's and the clients' results; they import nothing of the services, so that
whoever renders may use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.prepare import PrepareResult
from bot.engine.rollout import STEP_WORDS, RolloutResult, RolloutStep, StepDone
from bot.engine.service import ChangeResult, Outcome, SchemaOutcome
from bot.engine.tree import revisions_text

if TYPE_CHECKING:
    from bot.clients.kube import RestartResult

    RequestResult = ChangeResult | RestartResult | PrepareResult | RolloutResult


def outcome_text(outcome: SchemaOutcome) -> str:
    now = revisions_text(outcome.recorded_after)
    note = [f"  {outcome.note}"] if outcome.note else []
    match outcome.outcome:
        case Outcome.SUCCEEDED:
            done = f"{outcome.schema}: {outcome.plan.direction.value} done in {outcome.seconds:.1f} s, now at {now}"
            return "\n".join([done, *note])
        case Outcome.UNCHANGED:
            return f"{outcome.schema}: already at {now}, nothing to do"
        case Outcome.NOT_RUN:
            return f"{outcome.schema}: not started (an earlier schema failed); still at {now}"
        case Outcome.NO_MODEL:
            return f"{outcome.schema}: {outcome.error}"
    where = f"at revision {outcome.failed_step}" if outcome.failed_step else "before any revision ran"
    if set(outcome.recorded_after) == set(outcome.plan.current):
        after = f"  rolled back; {outcome.schema} is still at {now}"
    else:
        after = (
            f"  not rolled back: {outcome.schema} now records {now}"
            f" (it was at {revisions_text(outcome.plan.current)}; the target was {revisions_text(outcome.plan.target)})"
        )
    lines = [f"{outcome.schema}: FAILED {where}: {outcome.error}", after, *note]
    lines += [f"  | {line}" for line in outcome.log_tail[-8:]]
    return "\n".join(lines)


def change_text(result: ChangeResult) -> str:
    verdict = "done" if result.ok else "FAILED"
    return "\n".join(
        [f"{result.direction.value} at {result.environment}: {verdict}", *map(outcome_text, result.outcomes)]
    )


def result_text(result: RequestResult) -> str:
    """How a change request's run ended, whatever it ran."""
    if isinstance(result, ChangeResult):
        return change_text(result)
    if isinstance(result, PrepareResult):
        return prepare_text(result)
    if isinstance(result, RolloutResult):
        return rollout_text(result)
    return restart_text(result)


def step_text(done: StepDone) -> str:
    """One finished step of a rollout: where, what, how long."""
    detail = f" ({done.detail})" if done.detail else ""
    return f"{done.place}: {STEP_WORDS[done.step]}{detail} [{done.seconds:.1f} s]"


def resumed_text(after: RolloutStep | None) -> str:
    """A rollout the bot was stopped in, going on."""
    where = f"after '{STEP_WORDS[after]}'" if after else "from its checks"
    return f"the bot stopped while this rollout ran; it goes on {where}, each side from where its database is"


def rollout_text(result: RolloutResult) -> str:
    """Where it stands if it stopped (first: what an operator must act on), then each step with its time,
    what was skipped, and each side's migration."""
    verdict = "done" if result.ok else "FAILED"
    lines = [f"rollout of {', '.join(result.schemas)} from {result.summit}: {verdict}"]
    if result.stuck:
        lines += ["where it stands:", *(f"  {line}" for line in result.stuck.splitlines())]
    lines += [f"  {step_text(done)}" for done in result.steps]
    lines += [f"  {place}: skipped, {why}" for place, why in result.skipped.items()]
    changes = [result.summit_change] if result.summit_change else []
    lines += [change_text(change) for change in [*changes, *result.replica_changes.values()]]
    return "\n".join(lines)


def prepare_text(result: PrepareResult) -> str:
    if not result.created:
        return f"prepare at {result.environment}: nothing was missing for {', '.join(result.schemas)}"
    return f"prepare at {result.environment}: created {result.created.text()}"


def restart_text(result: RestartResult) -> str:
    verdict = "restarted" if result.ok else "FAILED to restart"
    lines = [f"{result.deployment} in {result.namespace}: {verdict} in {result.seconds:.0f} s ({result.message})"]
    if result.events:
        lines += ["events:", *(f"  {event}" for event in result.events)]
    for pod, tail in result.log_tails.items():
        lines += [f"last lines of {pod}:", *(f"  | {line}" for line in tail)]
    return "\n".join(lines)
