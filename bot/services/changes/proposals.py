"""Asking for a change: checked against the policy, planned, built (one way, by :class:`Draft`), stored
as the environment's one open change, and posted for approval. A refusal is audited and raised."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from bot.config import Environment
from bot.engine.service import Direction, SchemaPlan
from bot.engine.tree import revisions_text
from bot.errors import ConsdbBotError, Refused
from bot.logs import TRACE
from bot.metrics import REQUESTS
from bot.services.changes.events import RestartNotDone
from bot.services.changes.machine import Deciding
from bot.services.changes.policy import (
    ALL,
    approval_policy,
    busy_refusal,
    check_prepare,
    check_proposal,
    check_restart,
    check_restart_all,
    check_rollout,
    plan_warnings,
)
from bot.services.changes.requests import (
    APPROVE,
    PREPARE,
    RESTART,
    ROLLOUT,
    Draft,
    Proposal,
    RequestView,
    overrides_detail,
    overrides_text,
)
from bot.services.changes.served import change_label
from bot.store.models import ChangeRequest, RequestState


class Proposing(Deciding):
    def propose(self, proposal: Proposal, *, approved_here: bool = False) -> RequestView:
        """Check, plan, store and post a migration (upgrade, downgrade or stamp). One ``approved_here`` at
        once (the terminal's ``--yes``) is bound to its range and files, not to SQL no one reads between."""
        with self._refusals_audited(proposal.requester, proposal.environment, proposal.kind.value,
                                    dataclasses.asdict(proposal)):  # fmt: skip
            env, plans = self._checked(proposal, with_sql=not approved_here)
            request = self._drafted(
                Draft(
                    kind=proposal.kind.value, env=env, policy=env.approvals, requester=proposal.requester,
                    ticket=proposal.ticket, ranges={plan.schema: plan.range_text for plan in plans},
                    schemas=[plan.schema for plan in plans], target=proposal.target,
                    binding={plan.schema: plan.binding for plan in plans}, options=proposal.options,
                    warnings=plan_warnings(plans), forced=proposal.force, allow_rewrite=proposal.allow_rewrite,
                )
            )  # fmt: skip
        return self._open(request, env)

    def propose_rollout(self, proposal: Proposal) -> RequestView:
        """Check, plan, store and post a rollout at the Summit and its replicas, as one request with the
        approvals of the strictest environment it touches; bound to each side's range and files."""
        with self._refusals_audited(proposal.requester, proposal.environment, ROLLOUT, dataclasses.asdict(proposal)):
            rollout = check_rollout(self.settings, self.engine, self.store, proposal)
            env = rollout.summit
            ranges = {f"{env.key} {plan.schema}": _rollout_range(plan) for plan in rollout.plans}
            for key, plans in rollout.replicas.items():
                ranges |= {f"{key} {plan.schema}": _rollout_range(plan) for plan in plans}
            ranges |= {key: f"skipped: {why}" for key, why in rollout.skipped.items()}
            if rollout.continues is not None:
                ranges["after"] = f"rollout #{rollout.continues.id}, which stopped with its subscription disabled"
            binding = {
                "summit": {plan.schema: plan.binding for plan in rollout.plans},
                "replicas": {
                    key: {plan.schema: plan.binding for plan in plans} for key, plans in rollout.replicas.items()
                },
                "skipped": rollout.skipped,
                "direction": rollout.direction.value,
                "continues": rollout.continues.id if rollout.continues else None,
                "start": rollout.start,
                "summit_tables": [[table.schema, table.name] for table in rollout.tables_before],
            }
            request = self._drafted(
                Draft(
                    kind=ROLLOUT, env=env, policy=approval_policy(self.settings, env, ROLLOUT),
                    requester=proposal.requester, ticket=proposal.ticket, ranges=ranges,
                    schemas=[plan.schema for plan in rollout.plans], target=proposal.target, binding=binding,
                    warnings=plan_warnings(rollout.plans), allow_rewrite=proposal.allow_rewrite,
                )
            )  # fmt: skip
        return self._open(request, env)

    def propose_restart(
        self,
        environment: str,
        requester: str,
        ticket: str | None = None,
        *,
        approved: tuple[str, str] | None = None,
    ) -> RequestView:
        """Ask for a rollout restart of the environment's pqserver; ``approved`` is a first (user, event_ts).
        Once restarted, pqserver's columns are checked against the database's (``served.check_pqserver``)."""
        with self._refusals_audited(requester, environment, RESTART, {"ticket": ticket}):
            env = check_restart(self.settings, self.store, environment, ticket)
            request = self._drafted(
                Draft(
                    kind=RESTART, env=env, policy=approval_policy(self.settings, env, RESTART), requester=requester,
                    ticket=ticket,
                    ranges={"pqserver": f"rollout restart of deployment {env.pqserver}"}, target=env.pqserver,
                    binding={"deployment": env.pqserver},
                )
            )  # fmt: skip
        view = self._open(request, env)
        if approved:
            user, event_ts = approved
            self._count(request, user, self.settings.slack.approve_reaction, APPROVE, added=True, event_ts=event_ts)
        return view

    def propose_restart_all(self, requester: str, ticket: str | None = None) -> RequestView:
        """Ask for a rollout restart of pqserver at every environment that has the latest change
        (:func:`check_restart_all`): one request, held and posted by the environment with the strictest restart
        policy and approved under it, with one more approval when a test stand among them is not the
        requester's. Once approved, they are restarted one at a time, each checked as a restart of its own is."""
        with self._refusals_audited(requester, ALL, RESTART, {"ticket": ticket, "all": True}):
            plan = check_restart_all(self.settings, self.engine, self.store, ticket)
            home = plan.home
            ranges = {env.key: f"rollout restart of deployment {env.pqserver}" for env in plan.environments}
            ranges["after"] = f"{change_label(plan.change)}, which left " + ", ".join(
                f"{schema} at {revisions_text(at)}" for schema, at in plan.revisions.items()
            )
            ranges |= {key: f"skipped: {why}" for key, why in plan.skipped.items()}
            draft = Draft(
                kind=RESTART, env=home, policy=approval_policy(self.settings, home, RESTART), requester=requester,
                ticket=ticket, ranges=ranges, target=ALL,
                binding={"all": True, "change": plan.change.id, "skipped": plan.skipped,
                         "restarts": [[env.key, env.pqserver] for env in plan.environments]},
            )  # fmt: skip
            flags = (self.standing(env, requester) for env in plan.environments)
            request = draft.request(
                at=self.clock(), booking=next((flag for flag in flags if flag), None),
                ticket=self.tickets.check(ticket), trace=TRACE.get(),
            )  # fmt: skip
        return self._open(request, home)

    def propose_prepare(
        self, environment: str, schemas: Sequence[str], requester: str, ticket: str | None = None
    ) -> RequestView:
        """Ask to create what the environment's database lacks before these schemas' first revision."""
        with self._refusals_audited(requester, environment, PREPARE, {"schemas": list(schemas), "ticket": ticket}):
            env, selected, missing = check_prepare(self.settings, self.engine, self.store, environment, schemas, ticket)
            request = self._drafted(
                Draft(
                    kind=PREPARE, env=env, policy=env.approvals, requester=requester, ticket=ticket,
                    ranges={"database": f"create {missing.text()}"}, schemas=selected,
                    binding={"create": dataclasses.asdict(missing)},
                )
            )  # fmt: skip
        return self._open(request, env)

    def _restart_after(self, migration: ChangeRequest, user: str, event_ts: str) -> None:
        """The restart reaction on a migration that succeeded: a restart request, with that approval."""
        if migration.kind == RESTART or migration.state != RequestState.SUCCEEDED:
            return
        env = self.settings.environment(migration.environment)
        if user == migration.requester or user not in self.approvers_of(env, RESTART):
            self.store.audit(
                actor=user, action="ignored", environment=env.key, request_id=migration.id,
                summary=f"added :{self.settings.slack.restart_reaction}: on #{migration.id}, which does not count"
                f" ({'the requester' if user == migration.requester else 'not an approver'})",
            )  # fmt: skip
            return
        try:
            self.propose_restart(env.key, migration.requester, migration.ticket, approved=(user, event_ts))
        except ConsdbBotError as error:
            self._tell(self.notifier.progress, self.view(migration), RestartNotDone(error.message))

    @contextmanager
    def _refusals_audited(
        self, requester: str, environment: str, kind: str, detail: dict[str, object]
    ) -> Iterator[None]:
        try:
            yield
        except ConsdbBotError as error:
            self.store.audit(
                actor=requester, action="refused", environment=environment,
                summary=f"{kind} refused: {error.message}", detail=detail,
            )  # fmt: skip
            raise

    def _drafted(self, draft: Draft) -> ChangeRequest:
        """The request a draft makes, with its ticket as Jira has it (an unknown one is refused here) and
        one more approval when the requester does not hold the test stand."""
        return draft.request(
            at=self.clock(),
            booking=self.standing(draft.env, draft.requester),
            ticket=self.tickets.check(draft.ticket),
            trace=TRACE.get(),
        )

    def _open(self, request: ChangeRequest, env: Environment) -> RequestView:
        """Store and post a new request; the environment's one open change."""
        try:
            self.store.add_request(request)
        except IntegrityError:
            raise busy_refusal(self.store, env) from None
        view = self.view(request)
        try:
            with self._posting:
                where = self.notifier.posted(view)
                if where is not None:
                    self.store.set_message(request.id, *where)
        except Exception as error:
            # Nobody can approve a request that is not posted: close it, so the environment is free again.
            note = error.message if isinstance(error, ConsdbBotError) else f"posting failed ({type(error).__name__})"
            self.store.transition(request.id, RequestState.REQUESTED, RequestState.FAILED, note=note)
            self.store.audit(actor=request.requester, action="failed", environment=env.key, request_id=request.id,
                             summary=f"#{request.id} could not be posted: {note}")  # fmt: skip
            raise
        REQUESTS.labels(RequestState.REQUESTED.value).inc()
        overrides = (view.forced, view.allow_rewrite)
        self.store.audit(
            actor=request.requester, action="requested", environment=env.key, request_id=request.id,
            summary=f"{request.kind} {', '.join(view.ranges)} requested" + overrides_text(*overrides),
            detail={"ranges": view.ranges} | overrides_detail(*overrides),
        )  # fmt: skip
        return view if where is None else dataclasses.replace(view, channel=where[0], message_ts=where[1])

    def _checked(self, proposal: Proposal, *, with_sql: bool) -> tuple[Environment, list[SchemaPlan]]:
        env, plans = check_proposal(self.settings, self.engine, self.store, proposal, with_sql=with_sql)
        if not plans:
            raise Refused(f"nothing to do at {env.key}: every schema asked for is already there")
        if not proposal.force:  # said before anyone is asked to approve; checked again when it runs
            self.engine.refuse_unverified_stamps(env, plans)
        return env, plans


def _rollout_range(plan: SchemaPlan) -> str:
    """One side's range in a rollout, which after a stuck one may already be where it goes."""
    if not plan.revisions:
        return f"already at {revisions_text(plan.target)}"
    return f"downgrade {plan.range_text}" if plan.direction is Direction.DOWNGRADE else plan.range_text
