"""A request's run: claimed once (approved to running), carried out (a migration, a prepare or a
pqserver restart) under a heartbeat, finished (recorded, audited, counted, told, commented on its
ticket), and, a while after a migration, the hinfo watch that reads the log at a test stand, or elsewhere (the
Summit) the data check that reads the database as ``check data`` does."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.clients.deployments import EnvironmentRestart, Restarts
from bot.clients.pqserver import SchemaCheck, Seen
from bot.config import Environment
from bot.engine.rollout import RolloutResult, RolloutStep, replica_places
from bot.engine.runner import run_name
from bot.engine.service import ChangeResult, Direction
from bot.errors import ConsdbBotError
from bot.logs import traced
from bot.metrics import REQUESTS
from bot.services.changes.base import RUNNER
from bot.services.changes.data import DATA_CHECKED, HINFO_WATCHED, MIGRATIONS, DataCheck, data_after, data_summary
from bot.services.changes.events import (
    DataVerdict,
    HinfoUnreadable,
    HinfoVerdict,
    MigrationStep,
    PqserverChecked,
    RestartStep,
    RolloutResumed,
)
from bot.services.changes.requests import (
    CHANGES_OF_SCHEMAS,
    PREPARE,
    RESTART,
    ROLLOUT,
    Finished,
    RequestView,
    overrides_detail,
    overrides_text,
)
from bot.services.changes.rollout import RollingOut
from bot.services.changes.served import check_pqserver
from bot.services.results_text import resumed_text
from bot.store import UNREACHABLE, aware
from bot.store.models import ChangeRequest, RequestState
from bot.words import plural

if TYPE_CHECKING:
    from bot.services.changes.requests import RequestResult

HEARTBEAT_SECONDS = 10
HINFO_WATCH_TASK = "hinfo-watch"
DATA_CHECK_TASK = "data-check"
log = logging.getLogger(__name__)


class Running(RollingOut):
    def run(self, request_id: int, *, wait: bool = False) -> Finished | None:
        """Run an approved request, once: only the caller that moves it to running runs it. ``wait``:
        queue behind whoever holds its schemas' locks (the terminal's ``--wait``), rather than fail.

        Whatever happens, the request ends succeeded or failed, and its thread hears why: a request
        left running would block its environment. The name of the run's database sessions is recorded
        first, so that whoever settles the request after a crash can find them and end them.
        """
        approved = self.store.request(request_id)
        if approved is None or approved.state != RequestState.APPROVED:
            return None
        migrates = approved.kind in CHANGES_OF_SCHEMAS or approved.kind == ROLLOUT
        session = run_name(f"{request_id}-{secrets.token_hex(4)}") if migrates else None
        if not self.store.transition(
            request_id, RequestState.APPROVED, RequestState.RUNNING, runner=RUNNER, heartbeat_at=self.clock(),
            run_session=session,
        ):  # fmt: skip
            return None
        self._active.add(request_id)
        self._started[request_id] = time.monotonic()
        alive = threading.Event()
        threading.Thread(target=self._heartbeat, args=(request_id, alive), daemon=True).start()
        request = self.store.request(request_id)
        assert request is not None
        with traced(request.trace):
            return self._carry_out(request, alive, wait=wait)

    def _carry_out(self, request: ChangeRequest, alive: threading.Event, *, wait: bool) -> Finished | None:
        """The run itself, under the trace of the Slack request that asked for it. A run that did not
        succeed while the bot was stopping was stopped by it: it is settled from what its database
        records. How it ended is kept while the state database is down; if the bot stops first, the
        next start settles it from the database. None when it is not recorded (yet) how it ended."""
        try:
            log.info("request #%s runs: %s at %s", request.id, request.kind, request.environment)
            view = self.view(request)
            self._tell(self.notifier.updated, view)
            result = self._execute(request, view, wait=wait)
        except ConsdbBotError as error:
            result, note = None, str(error)
        except Exception as error:
            log.exception("request #%s failed in the bot", request.id)
            result, note = None, f"the bot failed ({type(error).__name__}); see its log"
        else:
            note = ""
        try:
            # A rollout's result is how it ended whatever the bot does next (stopped half way, it raises).
            stopped = (result is None or not result.ok) and not isinstance(result, RolloutResult)
            if stopped and self.engine.stopping.is_set():
                self._active.discard(request.id)
                return self._interrupt(request, RequestState.RUNNING)
            if result is None:
                return self._finish(request, RequestState.FAILED, None, note=note)
            note = result.note if isinstance(result, RolloutResult | Restarts) else ""
            return self._finish(
                request, RequestState.SUCCEEDED if result.ok else RequestState.FAILED, result, note=note
            )
        except UNREACHABLE:
            log.error("request #%s: how it ended could not be recorded before the bot stopped (the state database"
                      " cannot be reached); the next start settles it from the database", request.id)  # fmt: skip
            return None
        finally:
            alive.set()
            self._active.discard(request.id)

    def _execute(self, request: ChangeRequest, view: RequestView, *, wait: bool) -> RequestResult:
        env = self.settings.environment(request.environment)
        if request.kind == RESTART and request.binding.get("all"):
            return self._restart_all(request, view)
        if request.kind == RESTART:
            restarted = self.deployments.restart(
                env, request.target or "", lambda line: self._tell(self.notifier.progress, view, RestartStep(line))
            )
            if restarted.ok:
                self._tell(self.notifier.progress, view, PqserverChecked(self._served(env)))
            return restarted
        if request.kind == PREPARE:
            return self.engine.prepare(env, request.schemas)
        if request.kind == ROLLOUT:
            return self._roll_out(request, view)
        return self.engine.change(
            env,
            request.schemas,
            direction=Direction(request.kind),
            to=request.target,
            options=request.options,
            actor=f"{request.requester} (request #{request.id})",
            on_progress=lambda event: self._tell(self.notifier.progress, view, MigrationStep(event)),
            expected=request.binding,
            force=view.forced,
            session=request.run_session,
            allow_rewrite=view.allow_rewrite,
            wait=wait,
        )

    def _restart_all(self, request: ChangeRequest, view: RequestView) -> Restarts:
        """``restart pqserver all``: one environment at a time, in the order approved, each with its verdict
        whatever another's was. An environment with another change open when its turn comes is left alone."""
        verdicts: list[EnvironmentRestart] = []
        restarts: list[list[str]] = request.binding["restarts"]
        for key, deployment in restarts:
            if self.engine.stopping.is_set():
                verdicts.append(EnvironmentRestart(key, not_restarted="the bot was stopping"))
                continue
            verdicts.append(self._restart_one(request, view, self.settings.environment(key), deployment))
        return Restarts(verdicts)

    def _restart_one(
        self, request: ChangeRequest, view: RequestView, env: Environment, deployment: str
    ) -> EnvironmentRestart:
        other = self.store.open_request(env.key)
        if other is not None and other.id != request.id:
            busy = f"request #{other.id} by {other.requester} is {other.state} there"
            return EnvironmentRestart(env.key, not_restarted=busy)

        def report(line: str) -> None:
            self._tell(self.notifier.progress, view, RestartStep(f"{env.key}: {line}"))

        try:
            restarted = self.deployments.restart(env, deployment, report)
        except ConsdbBotError as error:
            return EnvironmentRestart(env.key, not_restarted=error.message)
        except Exception as error:
            log.exception("request #%s: the restart at %s failed in the bot", request.id, env.key)
            return EnvironmentRestart(env.key, not_restarted=f"the bot failed ({type(error).__name__}); see its log")
        if not restarted.ok:
            return EnvironmentRestart(env.key, restarted)
        check = self._served(env)
        self._tell(self.notifier.progress, view, PqserverChecked(check))
        return EnvironmentRestart(env.key, restarted, check)

    def _served(self, env: Environment) -> SchemaCheck:
        """After a restart: pqserver's columns against the database's. A check that fails in the bot does not
        turn a good restart into a failure."""
        try:
            return check_pqserver(self.settings, self.engine, self.store, self.deployments, env)
        except Exception as error:
            log.exception("the pqserver check at %s failed", env.key)
            return SchemaCheck(env.key, Seen.FAILED, detail=type(error).__name__)

    def _interrupt(self, request: ChangeRequest, state: RequestState) -> Finished | None:
        """A rollout whose run this process no longer follows goes on, once its sessions are gone, at the
        Summit and at each replica it migrates; any other request is settled by what its database records."""
        if request.kind != ROLLOUT:
            return super()._interrupt(request, state)
        summit = self.settings.environment(request.environment)
        bound = request.binding.get("replicas", {})
        places = replica_places(self.settings, summit)
        sides = [summit, *(place.env for place in places if place.link and place.env.key in bound)]
        if state is RequestState.RUNNING and not all(self._ended(request, env) for env in sides):
            return None
        self._resume(request, state)
        return None

    def _resume(self, request: ChangeRequest, state: RequestState) -> None:
        """Go on with an approved rollout whose run this process no longer follows, after the last step it
        recorded: every step is safe to take again (``bot.services.changes.rollout``), and a step that
        finds a side neither where the rollout starts nor at its target stops it, saying what remains.
        Not while this bot is stopping: the next start goes on with it."""
        if self.engine.stopping.is_set():
            return
        if not self.store.transition(
            request.id, state, RequestState.APPROVED, runner=RUNNER, heartbeat_at=self.clock()
        ):
            return
        after = RolloutStep(request.step) if request.step else None
        self.store.audit(
            actor="consdb-bot", action="resumed", environment=request.environment, request_id=request.id,
            summary=f"#{request.id} {resumed_text(after)}",
        )  # fmt: skip
        self._tell(self.notifier.progress, self.view(request), RolloutResumed(after))
        self.launch(lambda: self.run(request.id))

    def _heartbeat(self, request_id: int, done: threading.Event) -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            try:
                self.store.beat(request_id)
            except UNREACHABLE:  # the run goes on; its outcome is kept until the state database is back
                log.warning("request #%s: its heartbeat could not be recorded (the state database cannot be"
                            " reached)", request_id)  # fmt: skip

    def _finish(
        self, request: ChangeRequest, state: RequestState, result: RequestResult | None, *, note: str
    ) -> Finished | None:
        outcomes = result.outcomes if isinstance(result, ChangeResult) else []
        if isinstance(result, RolloutResult) and result.summit_change:  # what the Summit records, and gained
            outcomes = result.summit_change.outcomes
        reached = {outcome.schema: list(outcome.recorded_after) for outcome in outcomes}
        added = {outcome.schema: outcome.added_columns for outcome in outcomes if outcome.added_columns}
        overrides = (bool(request.forced), bool(request.allow_rewrite))
        view = self._record(
            request, RequestState.RUNNING, state, {"reached": reached, "added_columns": added, "note": note},
            summary=f"#{request.id} {request.kind} {state.value}" + overrides_text(*overrides)
            + (f": {note}" if note else ""),
            detail={"reached": reached, "ticket": request.ticket, **overrides_detail(*overrides)},
        )  # fmt: skip
        if view is None:
            return None
        self._count_change(request, state)
        REQUESTS.labels(state.value).inc()
        self._tell(self.notifier.updated, view)
        self._tell(self.notifier.finished, view, result, note=note)
        self._tell(self.tickets.request_finished, view, note, result)
        if state is RequestState.SUCCEEDED and request.kind == Direction.UPGRADE.value:
            self._watch_hinfo_after(view, request.schemas)
        if state is RequestState.SUCCEEDED and request.kind in MIGRATIONS:
            self._check_data_after(view, request.schemas)
        return Finished(view, result, note)

    def _watch_hinfo_after(self, view: RequestView, schemas: list[str]) -> None:
        """At a test stand, read hinfo's log a while after the migration, and say what it shows: a job in
        the state database, so that a bot stopped or restarted meanwhile still does. Not for a request shown
        only in a terminal: it has no thread to say it in (``logs hinfo`` reads the same)."""
        env = self.settings.environment(view.environment)
        watched = [schema for schema in schemas if schema in env.hinfo]
        if not (env.test_stand and watched and env.hinfo_watch_minutes > 0 and view.channel):
            return
        due = self.clock() + timedelta(minutes=env.hinfo_watch_minutes)
        # However late: the log is read from the migration on, and the verdict says how long after it.
        self.scheduler.at(f"hinfo-watch-{view.id}", due, HINFO_WATCH_TASK, view.id, watched, grace_seconds=None)

    def watch_hinfo(self, request_id: int, schemas: list[str]) -> None:
        """The scheduled watch: each instrument's hinfo log since the migration, as a verdict in its thread."""
        request = self.store.request(request_id)
        if request is None:
            log.warning("no hinfo watch for request #%s: the request is gone", request_id)
            return
        view = self.view(request)
        env = self.settings.environment(view.environment)
        migrated, now = aware(request.finished_at or request.created_at), self.clock()
        minutes = max(env.hinfo_watch_minutes, round((now - migrated).total_seconds() / 60))
        for schema in schemas:
            try:
                excerpt = self.deployments.watch(env, schema, migrated, now=now)
            except Exception as error:
                reason = error.message if isinstance(error, ConsdbBotError) else type(error).__name__
                log.warning("hinfo %s could not be read after request #%s: %s", schema, view.id, reason)
                self._tell(self.notifier.progress, view, HinfoUnreadable(schema, reason))
                continue
            data = data_after(self.settings, self.engine, request, schema, at=self.clock())
            verdict = HinfoVerdict.of(schema, excerpt, minutes, data)
            found = data_summary(data) if isinstance(data, DataCheck) else f"the database was not read: {data}"
            self.store.audit(
                actor="consdb-bot", action=HINFO_WATCHED, environment=env.key, request_id=view.id,
                ticket=request.ticket, detail={"schema": schema, "ok": verdict.ok},
                summary=f"hinfo committed {plural(verdict.committed, 'exposure')} with"
                f" {plural(verdict.column_lines, 'column complaint')}; {found}",
            )  # fmt: skip
            self._tell(self.notifier.progress, view, verdict)

    def _check_data_after(self, view: RequestView, schemas: list[str]) -> None:
        """Elsewhere than at a test stand (the Summit, after an upgrade or a rollout), say a while after the
        migration what ``check data`` says of each schema hinfo writes there: a job in the state database, as
        the hinfo watch is, and like it only for a request with a thread to say it in."""
        env = self.settings.environment(view.environment)
        checked = [schema for schema in schemas if schema in env.hinfo]
        if env.test_stand or not (checked and env.data_check_minutes > 0 and view.channel):
            return
        due = self.clock() + timedelta(minutes=env.data_check_minutes)
        # However late: the exposures are counted from the migration on, and the verdict says how long after it.
        self.scheduler.at(f"data-check-{view.id}", due, DATA_CHECK_TASK, view.id, checked, grace_seconds=None)

    def check_data_after(self, request_id: int, schemas: list[str]) -> None:
        """The scheduled data check: each schema's exposures since the migration and its new columns, said in
        the request's thread and recorded as ``check data`` records them (under the request and its ticket); a
        database that cannot be read is said so, in both."""
        request = self.store.request(request_id)
        if request is None:
            log.warning("no data check for request #%s: the request is gone", request_id)
            return
        view = self.view(request)
        env = self.settings.environment(view.environment)
        since = (self.clock() - aware(request.finished_at or request.created_at)).total_seconds()
        minutes = max(env.data_check_minutes, round(since / 60))
        for schema in schemas:
            data = data_after(self.settings, self.engine, request, schema, at=self.clock())
            if isinstance(data, DataCheck):
                ok, summary = data.ok, data_summary(data)
            else:
                log.warning("the data of %s at %s could not be read after request #%s: %s", schema, env.key,
                            view.id, data)  # fmt: skip
                ok, summary = False, f"{schema} at {env.key}: the database was not read: {data}"
            self.store.audit(
                actor="consdb-bot", action=DATA_CHECKED, environment=env.key, request_id=view.id,
                ticket=request.ticket, detail={"schema": schema, "ok": ok}, summary=summary,
            )  # fmt: skip
            self._tell(self.notifier.progress, view, DataVerdict(schema, env.key, minutes, data))
