"""The rollout board of a ticket: the steps of a ConsDB schema change in the order the process takes them
(seed 000), each done, not yet, failed or blocked, by whom and when; the environment that is next, what
blocks it, and the one command to run.

The steps, in order: the sdm_schemas pull request approved three times (Data Engineering, the ConsDB
Product Owner, the ConsDB team); the migration at the test stand the Summit is proven on, pqserver
restarted there, and hinfo writing the new columns; the consdb pull request merged and tagged; the Summit
migration announced; the Summit (with its logical replicas, as one rollout) migrated; pqserver restarted
wherever the change went; TAP serving it; the sdm_schemas pull request merged.

The bot ticks the steps it did or verified, from its own state: the ticket's requests and how they ended,
the restarts after them (whatever ticket they name), the hinfo watch's verdicts and ``check data`` (each
recorded in the audit trail), ``check tap`` where an environment configures TAP. People tick the steps
the bot cannot see with ``done TICKET STEP``: an audit record of who and when. What blocks the next step
is what the bot would answer if it were asked now: the policy's own checks (``changes.policy``), the
test stand's booking, a ticket Jira does not have.

A board is data; where it shows itself live (one Slack message per ticket, updated in place) is the
surface's :class:`BoardPublisher`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.clients.jira import TicketUnknown
from bot.config import Environment, Settings
from bot.engine.rollout import summit_of, summit_route
from bot.engine.service import Direction, Engine
from bot.errors import ConsdbBotError, Refused, UsageError, did_you_mean, echoed
from bot.services.bookings import BookingService
from bot.services.changes import APPROVE, RESTART, ROLLOUT, Proposal, check_proposal, check_restart, check_rollout
from bot.services.changes.data import DATA_CHECKED, HINFO_WATCHED, data_summary
from bot.services.scheduler import Scheduler
from bot.services.tickets import TicketCheck, TicketService
from bot.store import Store, aware
from bot.store.models import OPEN_STATES, AuditRecord, ChangeRequest, RequestState
from bot.when import local_clock

if TYPE_CHECKING:
    from bot.services.changes.data import DataCheck

log = logging.getLogger(__name__)
TICKED = "step done"
"""The audit action of a step ticked by a person (its detail names the step)."""
TAP_CHECKED = "checked tap"
REFRESH_TASK = "boards"
REFRESH_JOB = "boards"
BOOKING_HOURS = 2
"""How long the booking the board suggests holds the test stand."""
_MIGRATIONS = (Direction.UPGRADE.value, Direction.DOWNGRADE.value, ROLLOUT)
_ENDED = (RequestState.SUCCEEDED, RequestState.FAILED, RequestState.INTERRUPTED)


class StepState(StrEnum):
    DONE = "done"
    NOT_YET = "not yet"
    FAILED = "failed"
    BLOCKED = "blocked"


class Ticker(StrEnum):
    """Who ticks a step: the bot, from what it did or verified, or a person, with ``done``."""

    BOT = "bot"
    PERSON = "person"


@dataclass(frozen=True)
class PersonStep:
    key: str
    title: str


DE_APPROVAL = PersonStep("de-approval", "sdm_schemas PR approved by Data Engineering (syntax, names, descriptions)")
PO_APPROVAL = PersonStep("po-approval", "sdm_schemas PR approved by the ConsDB Product Owner (useful, not redundant)")
CONSDB_APPROVAL = PersonStep(
    "consdb-approval", "sdm_schemas PR approved by the ConsDB team (table, data source, maintainability)"
)
CONSDB_MERGE = PersonStep("consdb-merge", "consdb PR with the Alembic migration merged")
CONSDB_TAG = PersonStep("consdb-tag", "consdb release tagged, phalanx pointed at the tag")
ANNOUNCE = PersonStep("announce", "Summit migration announced in Slack")
TAP_DEPLOYED = PersonStep("tap", "new TAP schema container for consdbtap deployed everywhere")
SDM_MERGE = PersonStep("sdm-merge", "sdm_schemas PR merged (the schema browser shows it)")


@dataclass(frozen=True)
class Step:
    """One step of the board. ``command`` does it (a bot step) or ticks it (a person's), as typed after
    ``/consdb`` or ``consdb-bot``; ``change``: the terminal runs it with ``--yes``."""

    key: str
    title: str
    ticked_by: Ticker
    state: StepState = StepState.NOT_YET
    environment: str | None = None
    who: str | None = None
    at: datetime | None = None
    detail: str = ""
    command: str = ""
    change: bool = False


@dataclass(frozen=True)
class NextCommand:
    """The one command to run next: its words after ``/consdb`` (``consdb-bot``); ``change``: the terminal
    adds ``--yes``."""

    words: str
    change: bool = False


@dataclass(frozen=True)
class Board:
    ticket: TicketCheck
    schemas: list[str]
    """The schemas the ticket's changes migrate (none yet: every one)."""
    timezone: str
    """The clock the board is read on: the Summit's."""
    steps: list[Step]
    next_environment: str | None = None
    """Where the next step the bot does is."""
    blockers: list[str] = field(default_factory=list)
    """Why that step cannot be done now: what the bot would answer if asked."""
    next: NextCommand | None = None
    """None once every step is done."""
    channel: str | None = None
    """The channel of the ticket's first request."""
    as_of: int = 0
    """The newest audit record when the board was read: news after it may change the board."""

    @property
    def complete(self) -> bool:
        return all(step.state is StepState.DONE for step in self.steps)

    @property
    def person_steps(self) -> list[str]:
        """The steps people tick (``done TICKET STEP``)."""
        return [step.key for step in self.steps if step.ticked_by is Ticker.PERSON]

    def step(self, key: str) -> Step | None:
        return next((step for step in self.steps if step.key == key), None)


@dataclass(frozen=True)
class Ticked:
    """``done TICKET STEP``: the board after the tick; ``already``: it was ticked before (nothing recorded)."""

    board: Board
    step: Step
    already: bool


class BoardPublisher(Protocol):
    """Where a ticket's board shows itself live (one Slack message per ticket, updated in place)."""

    def show(self, board: Board) -> None:
        """Show the board as it now stands."""


@dataclass(frozen=True)
class _Found:
    """What decides a bot step: its state, who and when, and what to say of it."""

    state: StepState = StepState.NOT_YET
    who: str | None = None
    at: datetime | None = None
    detail: str = ""


class BoardService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: Store,
        tickets: TicketService,
        bookings: BookingService,
        *,
        publisher: BoardPublisher | None,
        clock: Callable[[], datetime],
    ) -> None:
        """``publisher`` shows each ticket's board live (None where boards are only asked for: the terminal)."""
        self.settings = settings
        self.engine = engine
        self.store = store
        self.tickets = tickets
        self.bookings = bookings
        self.publisher = publisher
        self.clock = clock

    def register(self, scheduler: Scheduler) -> None:
        """Bring live boards up to date with what a terminal or another process did meanwhile."""
        if self.publisher is None:
            return
        scheduler.register(REFRESH_TASK, self.refresh_behind)
        scheduler.every(REFRESH_JOB, self.settings.slack.retry_seconds / 60, REFRESH_TASK)

    def board(self, key: str, *, ticket: TicketCheck | None = None) -> Board:
        """The board of ``key`` as it stands now (``ticket``: Jira's answer, when the caller has it)."""
        as_of = self.store.last_audit_id()
        requests = [
            request for request in self.store.on_ticket(key)[0] if request.environment in self.settings.environments
        ]
        ticks = {
            str(record.detail.get("step")): record for record in reversed(self.store.ticket_records(key, [TICKED]))
        }
        blockers = []
        if ticket is None:
            try:
                ticket = self.tickets.check(key)
            except TicketUnknown as unknown:
                if not (requests or ticks):
                    raise Refused(unknown.message, hint=unknown.hint) from None
                ticket = TicketCheck(key, unchecked="Jira has no such ticket now")
                blockers.append(f"Jira has no {key}: changes under it are refused")
        assert ticket is not None
        return replace(_Reading(self, key, ticket, requests, ticks).board(blockers), as_of=as_of)

    def tick(self, key: str, step_key: str, actor: str) -> Ticked:
        """Tick a step people do; a step the bot ticks, or none of the board's, is a usage error naming those
        people tick. Ticking it again records nothing more."""
        board = self.board(key)
        step = board.step(step_key)
        if step is None or step.ticked_by is not Ticker.PERSON:
            what = "a step the bot ticks itself" if step else "not a step of the board"
            near = "" if step else did_you_mean(step_key, board.person_steps)
            raise UsageError(
                f"{echoed(step_key)} is {what}{near}",
                usage=f"done {key} STEP, STEP one of: {', '.join(board.person_steps)}",
                hint=f"`board {key}` shows every step; the bot ticks the others from what it did or checked.",
            )
        if step.state is StepState.DONE:
            return Ticked(board, step, already=True)
        self.store.audit(
            actor=actor, action=TICKED, summary=f"{key}: {step.key} done ({step.title})", detail={"step": step.key},
            ticket=key,
        )  # fmt: skip
        board = self.board(key, ticket=board.ticket)
        self._show(board)
        ticked = board.step(step_key)
        assert ticked is not None
        return Ticked(board, ticked, already=False)

    def react(self, *, channel: str, message_ts: str, user: str, reaction: str, added: bool, event_id: str) -> bool:
        """A reaction: on a live board, the approve reaction ticks the next step people do, once however often
        (or however concurrently) Slack delivers it: the event is claimed first, since ticking it twice would
        tick the step after. Removing it takes nothing back. False when it is no approve reaction on a board."""
        if reaction != self.settings.slack.approve_reaction:
            return False
        board = self.store.board_at(channel, message_ts)
        if board is None:
            return False
        if not added or not self.store.first_sighting(event_id):
            return True
        now = self.board(board.ticket)
        step = next((s for s in now.steps if s.ticked_by is Ticker.PERSON and s.state is not StepState.DONE), None)
        if step is not None:
            self.tick(board.ticket, step.key, user)
        return True

    def checked_data(self, actor: str, check: DataCheck) -> None:
        """Record what ``check data`` found, under the ticket of the migration it checked, and show it."""
        request = self.store.request(check.migration.request_id) if check.migration else None
        self.store.audit(
            actor=actor, action=DATA_CHECKED, environment=check.environment,
            request_id=request.id if request else None, ticket=request.ticket if request else None,
            summary=data_summary(check), detail={"schema": check.schema, "ok": check.ok},
        )  # fmt: skip
        if request is not None and request.ticket:
            self.refresh(request.ticket)

    def checked_tap(self, actor: str, environment: str, *, current: bool, schemas: Sequence[str]) -> None:
        """Record what ``check tap`` found at an environment, and bring the boards up to date."""
        said = "TAP is current" if current else "TAP is not current"
        self.store.audit(
            actor=actor, action=TAP_CHECKED, environment=environment, summary=f"{said} at {environment}",
            detail={"ok": current, "schemas": list(schemas)},
        )  # fmt: skip
        self.refresh_behind()

    def refresh(self, key: str) -> None:
        """Show the ticket's board as it now stands, where boards show themselves live."""
        if self.publisher is None:
            return
        try:
            board = self.board(key)
        except ConsdbBotError as error:
            log.warning("the board of %s could not be made: %s", key, error.message)
            return
        except Exception:  # one board that cannot be made never keeps the others from being shown
            log.exception("the board of %s could not be made", key)
            return
        self._show(board)

    def refresh_behind(self) -> None:
        """The scheduled task: the live boards that news since they were shown may have changed."""
        if self.publisher is None:
            return
        for key in self.store.boards_behind(kinds=[RESTART], actions=[TAP_CHECKED]):
            self.refresh(key)

    def _show(self, board: Board) -> None:
        """A failure to show the board never undoes what it shows."""
        if self.publisher is None:
            return
        try:
            self.publisher.show(board)
        except Exception:
            log.exception("the board of %s could not be shown", board.ticket.key)


class _Reading:
    """One board in the making: the ticket's requests and ticks, read once, and the places the configuration
    names: the Summit (the environment replicas follow, else the first that is neither a test stand nor a
    replica), the test stand it is proven on, and the route on to the Summit (a rollout where replicas follow)."""

    def __init__(
        self, service: BoardService, key: str, ticket: TicketCheck, requests: list[ChangeRequest],
        ticks: dict[str, AuditRecord],
    ) -> None:  # fmt: skip
        self.service = service
        self.settings = service.settings
        self.store = service.store
        self.key = key
        self.ticket = ticket
        self.requests = requests
        self.ticks = ticks
        migrated = [request for request in requests if request.kind in _MIGRATIONS]
        self.schemas = list(dict.fromkeys(schema for request in migrated for schema in request.schemas))
        environments = list(self.settings.environments.values())
        self.summit = summit_of(self.settings) or next(
            (env for env in environments if not env.test_stand and env.replica is None), None
        )
        self.stand = self._test_stand(migrated)
        kept = self.schemas or [schema for schema in self.settings.schemas if self.summit and self.summit.keeps(schema)]
        self.route = summit_route(self.settings, kept) if self.summit else None

    def board(self, blockers: list[str]) -> Board:
        steps = [self._person(DE_APPROVAL), self._person(PO_APPROVAL), self._person(CONSDB_APPROVAL)]
        steps += self._test_stand_steps()
        steps += [self._person(CONSDB_MERGE), self._person(CONSDB_TAG), self._person(ANNOUNCE)]
        steps += self._summit_steps()
        steps.append(self._person(SDM_MERGE))
        pending = next((step for step in steps if step.state is not StepState.DONE), None)
        by_bot = next((s for s in steps if s.ticked_by is Ticker.BOT and s.state is not StepState.DONE), None)
        command = NextCommand(pending.command, change=pending.change) if pending else None
        if by_bot is not None and not self._under_way(by_bot):
            booking = self._booking(by_bot)
            blockers = blockers + ([booking] if booking else []) + self._refusals(by_bot)
            if blockers and by_bot.state is StepState.NOT_YET:
                steps[steps.index(by_bot)] = replace(by_bot, state=StepState.BLOCKED)
            if booking and pending is by_bot:  # book the test stand first
                command = NextCommand(f"book {by_bot.environment} now {BOOKING_HOURS}h {self.key}")
        clock = self.summit or self.stand
        return Board(
            self.ticket, self.schemas, clock.timezone if clock else "UTC", steps,
            by_bot.environment if by_bot else None, blockers if by_bot else [], command,
            next((request.channel for request in self.requests if request.channel), None),
        )  # fmt: skip

    def _test_stand(self, migrated: list[ChangeRequest]) -> Environment | None:
        """The test stand the Summit is proven on for these schemas; else one the ticket migrated; else the first."""
        if self.summit is not None:
            for schema in self.schemas or [name for name in self.settings.schemas if self.summit.keeps(name)]:
                proven = self.settings.proven_first_at(self.summit, schema)
                if proven is not None and proven.test_stand:
                    return proven
        used = [self.settings.environments[request.environment] for request in migrated]
        stands = [env for env in [*used, *self.settings.environments.values()] if env.test_stand]
        return stands[0] if stands else None

    def _person(self, step: PersonStep) -> Step:
        record = self.ticks.get(step.key)
        command = f"done {self.key} {step.key}"
        if record is None:
            return Step(step.key, step.title, Ticker.PERSON, command=command)
        return Step(step.key, step.title, Ticker.PERSON, StepState.DONE, who=record.actor, at=aware(record.at),
                    command=command)  # fmt: skip

    def _test_stand_steps(self) -> list[Step]:
        stand = self.stand
        if stand is None:
            return []
        migrated = self._migration(stand)
        command = _words(f"migrate {stand.key}", *self.schemas, f"--ticket {self.key}")
        steps = [_step("test-stand", f"migrated at {stand.key}", stand, migrated, command, change=True)]
        if stand.pqserver:
            restarted = self._restarted(stand, after=migrated)
            command = f"restart pqserver {stand.key} --ticket {self.key}"
            steps.append(_step("test-stand-pqserver", f"pqserver restarted at {stand.key}", stand, restarted, command,
                               change=True))  # fmt: skip
        watched = [schema for schema in self.schemas or list(stand.hinfo) if schema in stand.hinfo]
        if watched:
            written, schema = self._data(stand, watched, after=migrated)
            title = f"hinfo writes the new columns at {stand.key}"
            steps.append(_step("test-stand-data", title, stand, written, f"check data {stand.key} {schema}"))
        return steps

    def _summit_steps(self) -> list[Step]:
        summit, route = self.summit, self.route
        if summit is None:
            return [self._person(TAP_DEPLOYED)]
        migrated = self._migration(summit)
        replicas: list[str] = []
        if route is not None and route.rollout:
            rolled = [r for r in self.requests if r.kind == ROLLOUT and r.state == RequestState.SUCCEEDED]
            replicas = list(rolled[-1].binding.get("replicas", {})) if rolled else route.replicas
            title = f"{summit.key} and {', '.join(replicas)} migrated as one rollout"
            command = _words("rollout", *route.rollout, f"--ticket {self.key}")
        else:
            title = f"migrated at {summit.key}"
            command = _words(f"migrate {summit.key}", *self.schemas, f"--ticket {self.key}")
        steps = [_step("summit", title, summit, migrated, command, change=True)]
        # Where the change went: the Summit and its replicas by the rollout, any other place by its own upgrade.
        after = {key: migrated for key in [summit.key, *replicas]}
        stand = self.stand.key if self.stand else None
        for request in self.requests:
            ended = request.kind == Direction.UPGRADE.value and request.state == RequestState.SUCCEEDED
            if ended and request.environment not in after and request.environment != stand:
                after[request.environment] = self._migration(self.settings.environments[request.environment])
        # A replica the rollout migrated may be configured here no more (retired, renamed): nothing to restart.
        places = [self.settings.environments[key] for key in after if key in self.settings.environments]
        served = [place for place in places if place.pqserver]
        if served:
            steps.append(self._everywhere(served, after))
        tapped = [place for place in places if place.tap is not None]
        steps.append(self._tap(tapped, migrated) if tapped else self._person(TAP_DEPLOYED))
        return steps

    def _everywhere(self, places: list[Environment], after: dict[str, _Found]) -> Step:
        """pqserver restarted at each place, after the change reached it."""
        found = [(place, self._restarted(place, after=after[place.key])) for place in places]
        title = f"pqserver restarted at {', '.join(place.key for place in places)}"
        return self._each("pqserver", title, found, lambda place: f"restart pqserver {place.key} --ticket {self.key}")

    def _tap(self, places: list[Environment], migrated: _Found) -> Step:
        """TAP current at each place that configures it, as ``check tap`` last said after the Summit's migration."""
        found = []
        for place in places:
            records = (
                self.store.audit_since(environment=place.key, actions=[TAP_CHECKED], after=migrated.at)
                if migrated.state is StepState.DONE and migrated.at else []
            )  # fmt: skip
            # Only a check of each schema the ticket migrated says whether TAP serves its change.
            records = [record for record in records if set(self.schemas) <= set(record.detail.get("schemas", []))]
            last = records[-1] if records else None
            checked = _Found()
            if last is not None:
                state = StepState.DONE if last.detail.get("ok") else StepState.FAILED
                checked = _Found(state, last.actor, aware(last.at), last.summary)
            found.append((place, checked))
        title = f"TAP serves the new columns at {', '.join(place.key for place in places)}"
        return self._each("tap", title, found, lambda place: _words(f"check tap {place.key}", *self.schemas))

    @staticmethod
    def _each(
        key: str, title: str, found: list[tuple[Environment, _Found]], command: Callable[[Environment], str]
    ) -> Step:
        """A step done at several places: done once done at each (who and when: the last), failed when it
        failed at one, its command for the first place still waiting."""
        waiting = [place for place, one in found if one.state is not StepState.DONE]
        known = [(place, one) for place, one in found if one.detail or one.state is not StepState.NOT_YET]
        detail = "; ".join(f"{place.key}: {one.detail or one.state}" for place, one in known)
        place = waiting[0] if waiting else found[-1][0]
        change = key == "pqserver"
        if not waiting:
            last = _latest([one for _, one in found])
            return Step(key, title, Ticker.BOT, StepState.DONE, place.key, last.who, last.at, detail, command(place),
                        change)  # fmt: skip
        state = StepState.FAILED if any(one.state is StepState.FAILED for _, one in found) else StepState.NOT_YET
        return Step(key, title, Ticker.BOT, state, place.key, detail=detail, command=command(place), change=change)

    def _migration(self, env: Environment) -> _Found:
        """The ticket's migration of ``env``: the last that ended decides; one still open is said."""
        mine = [request for request in self.requests if request.environment == env.key and request.kind in _MIGRATIONS]
        ended = [request for request in mine if request.state in _ENDED]
        found = self._ended(ended[-1]) if ended else _Found()
        still = next((request for request in reversed(mine) if request.state in OPEN_STATES), None)
        if still is not None:
            found = replace(found, detail=_joined(found.detail, f"#{still.id} {still.kind} is {still.state}"))
        return found

    def _ended(self, request: ChangeRequest) -> _Found:
        """How one request ended, for the step it does: a downgrade takes the step back, as does a rollout that
        took the Summit back after a stuck one."""
        at = aware(request.finished_at) if request.finished_at else None
        what = f"#{request.id} {request.kind}"
        if request.state != RequestState.SUCCEEDED:
            return _Found(StepState.FAILED, request.requester, at, f"{what} {request.state}: {request.note or '-'}")
        back = request.kind == ROLLOUT and request.binding.get("direction") == Direction.DOWNGRADE.value
        if request.kind == Direction.DOWNGRADE.value or back:
            return _Found(detail=f"{what} took it back")
        approvers = [verdict.user for verdict in self.store.verdicts(request.id) if verdict.verdict == APPROVE]
        ranges = "; ".join(f"{schema} {span}" for schema, span in (request.ranges or {}).items())
        approved = f", approved by {', '.join(approvers)}" if approvers else ""
        return _Found(
            StepState.DONE, request.requester, at, f"{what}: {ranges}{approved}" if ranges else what + approved
        )

    def _restarted(self, env: Environment, *, after: _Found) -> _Found:
        """pqserver's restart at ``env`` after the change reached it (whatever ticket the restart names)."""
        if after.state is not StepState.DONE or after.at is None:
            return _Found()
        restarts = [
            request for request in self.store.finished_since([RESTART], after=after.at)
            if request.state in _ENDED
            and env.key in [request.environment, *(key for key, _ in request.binding.get("restarts", []))]
        ]  # fmt: skip
        found = self._ended(restarts[-1]) if restarts else _Found()
        if restarts and _restarted_in_all(restarts[-1], env.key):
            last = restarts[-1]
            at = aware(last.finished_at) if last.finished_at else None
            found = _Found(StepState.DONE, last.requester, at, f"#{last.id} restart of all: restarted at {env.key}")
        still = self.store.open_request(env.key)
        if still is not None and still.kind == RESTART:
            found = replace(found, detail=_joined(found.detail, f"#{still.id} restart is {still.state}"))
        return found

    def _data(self, env: Environment, schemas: list[str], *, after: _Found) -> tuple[_Found, str]:
        """What hinfo's watch or ``check data`` last said after the migration, for each schema hinfo writes
        there; and the first schema still to check."""
        if after.state is not StepState.DONE or after.at is None:
            return _Found(), schemas[0]
        records = self.store.audit_since(environment=env.key, actions=[HINFO_WATCHED, DATA_CHECKED], after=after.at)
        latest = {record.detail.get("schema"): record for record in records}
        found = []
        for schema in schemas:
            record = latest.get(schema)
            state = StepState.DONE if record and record.detail.get("ok") else StepState.FAILED
            found.append(_Found(state, record.actor, aware(record.at), record.summary) if record else _Found())
        waiting = [schema for schema, one in zip(schemas, found, strict=True) if one.state is not StepState.DONE]
        detail = "; ".join(one.detail for one in found if one.detail)
        if not waiting:
            last = _latest(found)
            return _Found(StepState.DONE, last.who, last.at, detail), schemas[0]
        state = StepState.FAILED if any(one.state is StepState.FAILED for one in found) else StepState.NOT_YET
        return _Found(state, detail=detail), waiting[0]

    def _under_way(self, step: Step) -> bool:
        """The ticket's own request is open where the step is: the step is being done (its detail says how
        far), and nothing blocks it but that request's approvals, which the request itself shows."""
        still = self.store.open_request(step.environment) if step.environment else None
        return still is not None and still.ticket == self.key

    def _booking(self, step: Step) -> str | None:
        """Why the test stand stops a change there now: nobody holds it, or someone holds it for another ticket."""
        stand = self.stand
        if stand is None or step.key not in ("test-stand", "test-stand-pqserver"):
            return None
        at = self.service.clock()
        views = self.service.bookings.between(stand, at, at + timedelta(seconds=1))
        current = next((view for view in views if view.holds(at)), None)
        if current is None:
            return f"{stand.key} is not booked now"
        if current.ticket and current.ticket != self.key:
            until = local_clock(current.ends_at, stand.zone, day_of=at)
            return f"{stand.key} is booked by {current.booker} for {current.ticket} until {until}"
        return None

    def _refusals(self, step: Step) -> list[str]:
        """What the policy answers the step's change if it were asked now (nothing for a check)."""
        settings, engine, store = self.settings, self.service.engine, self.store
        env = step.environment
        if env is None or not step.change:
            return []
        try:
            if step.key in ("test-stand-pqserver", "pqserver"):
                check_restart(settings, store, env, self.key)
            elif step.key == "summit" and self.route is not None and self.route.rollout:
                proposal = Proposal(Direction.UPGRADE, env, list(self.route.rollout), None, "", self.key)
                check_rollout(settings, engine, store, proposal)
            else:
                proposal = Proposal(Direction.UPGRADE, env, list(self.schemas), None, "", self.key)
                check_proposal(settings, engine, store, proposal, with_sql=False)
        except ConsdbBotError as error:
            return [error.message]
        except Exception as error:
            log.exception("the policy could not be asked about %s's %s", self.key, step.key)
            return [f"the policy could not be asked ({type(error).__name__})"]
        return []


def _restarted_in_all(request: ChangeRequest, key: str) -> bool:
    """Whether a ``restart pqserver all`` that failed restarted ``key`` all the same: it fails as a whole when
    one environment fails, and its note names each that did not restart (``bts: FAILED to restart: ...``)."""
    if not request.binding.get("all") or request.state != RequestState.FAILED:
        return False
    parts = request.note.split("; ")
    named = {name for name, _ in request.binding.get("restarts", []) if any(p.startswith(f"{name}: ") for p in parts)}
    return bool(named) and key not in named


def _latest(found: list[_Found]) -> _Found:
    """The one done last (each was done, so each has its moment)."""
    return max(found, key=lambda one: one.at.timestamp() if one.at else 0.0)


def _step(key: str, title: str, env: Environment, found: _Found, command: str, *, change: bool = False) -> Step:
    return Step(key, title, Ticker.BOT, found.state, env.key, found.who, found.at, found.detail, command, change)


def _words(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _joined(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
