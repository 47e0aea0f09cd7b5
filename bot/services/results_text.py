"""How a run ended, as plain text: for the terminal, a request's Slack thread and its Jira comment alike.

Pure functions of the engine's and the clients' results; they import nothing of the services, so that
whoever renders may use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clients.deployments import EnvironmentRestart, Restarts
from bot.clients.pqserver import SchemaCheck, Seen, TableCheck, Unknown
from bot.engine.prepare import PrepareResult
from bot.engine.rollout import STEP_WORDS, RolloutResult, RolloutStep, StepDone
from bot.engine.service import ChangeResult, Outcome, SchemaOutcome
from bot.engine.tree import revisions_text
from bot.words import plural

if TYPE_CHECKING:
    from bot.clients.kube import RestartResult

    RequestResult = ChangeResult | RestartResult | PrepareResult | RolloutResult | Restarts


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
    if outcome.unfinished:
        after = f"  not rolled back: {outcome.unfinished}"
    elif set(outcome.recorded_after) == set(outcome.plan.current):
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
    if isinstance(result, Restarts):
        return restarts_text(result)
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


def restarts_text(result: Restarts) -> str:
    """``restart pqserver all``: a verdict per environment, each with its restart and pqserver's check."""
    restarted = sum(restart.ok for restart in result.restarts)
    lines = [f"restart of pqserver at {plural(len(result.restarts), 'environment')}: {restarted} restarted"]
    for restart in result.restarts:
        lines += [f"{restart.environment}: {_verdict(restart)}"]
        if restart.restart is not None:
            lines += [f"  {line}" for line in restart_text(restart.restart).splitlines()]
        if restart.check is not None:
            lines += [f"  {line}" for line in pqserver_text(restart.check).splitlines()]
    return "\n".join(lines)


def _verdict(restart: EnvironmentRestart) -> str:
    check = restart.check
    if restart.restart is not None and not restart.ok:
        return "FAILED to restart"  # why follows, in the restart's own words
    if not restart.ok or check is None or check.seen is not Seen.COMPARED:
        return restart.why or "restarted"
    if check.worrying:
        return "restarted, but pqserver does not serve what the database has"
    return "restarted, and pqserver serves what the database has"


AGREEING_LISTED = 8
"""Past this many tables that agree, they are named on one line."""
COLUMNS_NAMED = 20
"""Columns named per table that disagrees; past them, how many more (a thread's line stays short)."""


def pqserver_text(check: SchemaCheck) -> str:
    """pqserver's columns against the database's, table by table (or why it could not say), without markup."""
    where = f"pqserver at {check.environment}"
    match check.seen:
        case Seen.NOT_ASKED:
            return (f"pqserver's view of the schema was not checked: environments.{check.environment}.pqserver_url"
                    " is not set.")  # fmt: skip
        case Seen.NOTHING:
            touched = (
                f"the tables touched by {check.change}" if check.change else "every table (no change recorded here)"
            )
            return f"{where}: nothing to compare ({touched}: none of a cdb_ schema pqserver serves)."
        case Seen.NO_ANSWER:
            return f"{where} did not answer the schema check ({check.detail}); look at it by hand."
        case Seen.UNREADABLE:
            return f"{where} was not compared with the database: {check.detail}"
        case Seen.FAILED:
            return f"pqserver's view of the schema could not be checked ({check.detail})."
    agreeing = [table for table in check.tables if table.agrees]
    if len(agreeing) == len(check.tables):
        head = f"{where} agrees with the database on {_compared(check)}:"
    else:
        head = f"{where} does not serve what the database has, on {_compared(check)}:"
    lines = [f"  {table.table}: {_table_text(table)}" for table in check.tables if not table.agrees]
    if len(agreeing) > AGREEING_LISTED:
        lines.append(f"  {plural(len(agreeing), 'table')} agree: {', '.join(table.table for table in agreeing)}")
    else:
        lines += [f"  {table.table}: {_table_text(table)}" for table in agreeing]
    if len(agreeing) < len(check.tables):
        lines.append("  A pqserver that lacks what the database has was not restarted since, or is not the one"
                     " restarted.")  # fmt: skip
    return "\n".join([head, *lines])


def _compared(check: SchemaCheck) -> str:
    """Which tables were compared: those the change added columns to, every table of the schemas it added
    none to, or every table when no change is recorded."""
    if not check.change:
        return "every table (no change recorded here)"
    if not check.whole:
        return f"the tables {check.change} added columns to"
    whole = f"every table of {', '.join(check.whole)}"
    chosen = {table.table.split(".")[0] for table in check.tables}
    if chosen <= set(check.whole):
        return f"{whole} ({check.change} added no column)"
    return f"the tables {check.change} added columns to and {whole}"


def _table_text(table: TableCheck) -> str:
    if table.unknown is Unknown.INSTRUMENT:
        return "pqserver does not know its instrument"
    if table.unknown is Unknown.TABLE:
        return "pqserver does not know this table"
    if table.gone:
        return "pqserver lists it; the database has no such table"
    if table.agrees:
        return f"agrees ({plural(table.columns, 'column')})"
    said = []
    if table.lacks:
        said.append(f"pqserver lacks {_columns_text(table.lacks)}")
    if table.extra:
        said.append(f"pqserver has extra {_columns_text(table.extra)}")
    return "; ".join(said)


def _columns_text(columns: dict[str, str]) -> str:
    named = ", ".join(f"{column} ({kind})" for column, kind in list(columns.items())[:COLUMNS_NAMED])
    return named + (f" and {len(columns) - COLUMNS_NAMED} more" if len(columns) > COLUMNS_NAMED else "")
