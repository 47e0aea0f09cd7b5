"""The approval policy and the state machine, in-process: reactions that must change nothing are
seen to change nothing, and time is the test's to move."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot.clients.deployments import Deployments
from bot.clients.kube import LogExcerpt, RestartResult
from bot.config import parse_settings
from bot.engine.prepare import PrepareResult
from bot.engine.service import ChangeResult, Direction, Engine
from bot.errors import Refused
from bot.render import blocks, text
from bot.services.bookings import BookingService
from bot.services.changes import ChangeService, HinfoVerdict, Proposal, RequestEvent, RequestView
from bot.services.scheduler import Scheduler
from bot.services.tickets import CommentFate, CommentNews, TicketService
from bot.store import Store
from bot.store.models import RequestState
from tests.conftest import EXTERNAL_TREE, close_database
from tests.support.clock import Clock

APPROVER_1, APPROVER_2, OUTSIDER, REQUESTER, GROUP_MEMBER = (
    "U0APPROVE1",
    "U0APPROVE2",
    "U0STRANGER",
    "U0REQUEST1",
    "U0GROUPIE",
)


@dataclass
class RecordingNotifier:
    events: list[tuple[str, RequestView, str]] = field(default_factory=list)

    def posted(self, request: RequestView) -> tuple[str, str]:
        self.events.append(("posted", request, ""))
        return "C0CONSDB01", f"1700000000.{request.id:06d}"

    def updated(self, request: RequestView) -> None:
        self.events.append(("updated", request, ""))

    def progress(self, request: RequestView, event: RequestEvent) -> None:
        self.events.append(("progress", request, text.event_line(event)))

    def finished(self, request: RequestView, result: ChangeResult | None, *, note: str) -> None:
        self.events.append(("finished", request, note))

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]


@dataclass
class World:
    service: ChangeService
    notifier: RecordingNotifier
    store: Store
    clock: Clock
    events: int = 0

    def propose(self, environment: str = "bts", schemas: tuple[str, ...] = ("latiss",), **extra) -> RequestView:
        return self.service.propose(Proposal(Direction.UPGRADE, environment, list(schemas), None, REQUESTER, **extra))

    def react(self, view: RequestView, user: str, reaction: str = "white_check_mark", *, added: bool = True,
              event_id: str | None = None, event_ts: str | None = None) -> None:  # fmt: skip
        self.events += 1
        self.service.react(
            channel=view.channel or "", message_ts=view.message_ts or "", user=user, reaction=reaction,
            added=added, event_id=event_id or f"Ev{self.events}", event_ts=event_ts or f"{1700000000 + self.events}.0",
        )  # fmt: skip

    def state(self, view: RequestView) -> RequestState:
        request = self.store.request(view.id)
        assert request is not None
        return RequestState(request.state)


class RolledDeployments(Deployments):
    """Restarts that roll out at once, recorded (the Kubernetes stand-in serves the end-to-end tests)."""

    def __init__(self, kubernetes) -> None:
        super().__init__(kubernetes)
        self.restarted: list[str] = []

    def restart(self, env, deployment, report):
        self.restarted.append(deployment)
        report("[1 s] rolled out")
        return RestartResult(deployment, "consdb", ok=True, seconds=1, message="rolled out")


@pytest.fixture
def world(tmp_path: Path, new_database) -> World:
    text = f"""
state_url: sqlite:///{tmp_path / "state.sqlite3"}
migrations: {{alembic_ini: {EXTERNAL_TREE / "alembic.ini"}, sdm_schemas: {EXTERNAL_TREE}}}
schemas: [latiss, lsstcam, lsstcomcam, startrackerwide]
environments:
  bts:
    database_url: {new_database()}
    approvals: {{required: 1, approvers: [{APPROVER_1}, {APPROVER_2}]}}
    pqserver: consdb-pq
  summit:
    database_url: {new_database()}
    approvals: {{required: 2, approvers: [{APPROVER_1}], usergroup: S0DBA, expiry_minutes: 30}}
    requires_ticket: true
    requires_tested_on: bts
"""
    settings = parse_settings(text, environ={})
    for env in settings.environments.values():
        with psycopg.connect(str(env.database_url).replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute("CREATE SCHEMA cdb")
    notifier, clock = RecordingNotifier(), Clock()
    store = Store(str(settings.state_url), clock=clock)
    store.upgrade()
    scheduler = Scheduler(store, poll_seconds=1)
    service = ChangeService(
        settings, Engine(settings), store, notifier, scheduler=scheduler,
        tickets=TicketService(settings, store, None, clock=clock), deployments=RolledDeployments(settings.kubernetes),
        group_members=lambda group: {GROUP_MEMBER} if group == "S0DBA" else set(),
        standing=BookingService(settings, store, scheduler, clock=clock).standing, launch=lambda run: run(),
        clock=clock,
    )  # fmt: skip
    return World(service, notifier, store, clock)


def test_an_approvers_reaction_runs_the_request_once(world):
    view = world.propose()
    assert view.ranges == {"latiss": "base → c0ffee000003"}
    world.react(view, APPROVER_1, event_id="Ev1")
    world.react(view, APPROVER_1, event_id="Ev1")
    assert world.state(view) is RequestState.SUCCEEDED
    assert world.notifier.kinds().count("finished") == 1
    lines = [line for kind, _, line in world.notifier.events if kind == "progress"]
    assert lines[-1] == "latiss: a1b2c3000002 → c0ffee000003  Add exposure_time"


@pytest.mark.parametrize("user", [REQUESTER, OUTSIDER])
def test_reactions_that_do_not_count_change_nothing(world, user):
    view = world.propose()
    world.react(view, user)
    assert world.state(view) is RequestState.REQUESTED
    assert world.notifier.kinds() == ["posted"]
    ignored = world.store.audit_trail(environment="bts", limit=1)[0]
    assert ignored.action == "ignored"
    assert ("the requester" if user == REQUESTER else "not an approver") in ignored.summary


def test_other_reactions_and_other_messages_change_nothing(world):
    view = world.propose()
    world.react(view, APPROVER_1, reaction="tada")
    world.service.react(channel="C0CONSDB01", message_ts="1.999", user=APPROVER_1, reaction="white_check_mark",
                        added=True, event_id="EvElsewhere", event_ts="1700000000.5")  # fmt: skip
    assert world.state(view) is RequestState.REQUESTED
    assert world.notifier.kinds() == ["posted"]


def test_reject_ends_the_request(world):
    view = world.propose()
    world.react(view, APPROVER_2, reaction="x")
    assert world.state(view) is RequestState.REJECTED
    assert world.notifier.events[-1][1].rejecters == [APPROVER_2]


@pytest.mark.slow
def test_two_approvals_needed_and_a_withdrawn_one_does_not_count(world):
    bts = world.propose()
    world.react(bts, APPROVER_1)
    view = world.propose("summit", ticket="OSW-123")
    world.react(view, APPROVER_1)
    assert world.notifier.events[-1][1].still_needed == 1
    world.react(view, APPROVER_1, added=False)
    assert world.notifier.events[-1][1].still_needed == 2
    world.react(view, APPROVER_1)
    world.react(view, GROUP_MEMBER)
    assert world.state(view) is RequestState.SUCCEEDED


def test_a_request_expires_if_not_approved_in_time(world):
    view = world.propose()
    world.clock.moment += timedelta(minutes=61)
    world.react(view, APPROVER_1)
    assert world.state(view) is RequestState.EXPIRED
    assert world.notifier.kinds() == ["posted", "updated"]


def test_expiry_sweep_expires_without_any_reaction(world):
    view = world.propose()
    world.clock.moment += timedelta(minutes=59)
    world.service.expire_due()
    assert world.state(view) is RequestState.REQUESTED
    world.clock.moment += timedelta(minutes=2)
    world.service.expire_due()
    assert world.state(view) is RequestState.EXPIRED


def test_one_open_request_per_environment(world):
    first = world.propose()
    with pytest.raises(Refused) as refused:
        world.propose(schemas=("startrackerwide",))
    assert f"request #{first.id} by {REQUESTER} is requested" in str(refused.value)


def test_requires_ticket_and_tested_on(world):
    with pytest.raises(Refused) as refused:
        world.propose("summit")
    assert "summit changes need a Jira ticket" in str(refused.value)
    with pytest.raises(Refused) as refused:
        world.propose("summit", ticket="OSW-123")
    assert "summit: latiss must first reach c0ffee000003 at bts, which is 3 revisions behind it" in str(refused.value)
    assert world.store.audit_trail(environment="summit", limit=1)[0].action == "refused"


def test_what_was_approved_is_what_runs(world):
    view = world.propose()
    bts = world.service.settings.environment("bts")
    world.service.engine.change(bts, ["latiss"], direction=Direction.UPGRADE, to="+1", actor="someone else")
    world.react(view, APPROVER_1)
    assert world.state(view) is RequestState.FAILED
    note = world.notifier.events[-1][2]
    assert "latiss at bts is not where it was when this was approved" in note
    assert "ask for a new request" in note


def test_a_failing_migration_fails_the_request_and_says_where_it_stopped(world):
    view = world.propose(schemas=("lsstcomcam",))
    world.react(view, APPROVER_1)
    assert world.state(view) is RequestState.FAILED
    finished = world.store.request(view.id)
    assert finished is not None
    assert finished.reached == {"lsstcomcam": []}, "one transaction: the first revision is rolled back too"


def _put_in(world: World, view: RequestView, state: RequestState, *, runner: str, silent_seconds: float = 0) -> None:
    assert world.store.transition(view.id, RequestState.REQUESTED, state, runner=runner,
                                  heartbeat_at=world.clock() - timedelta(seconds=silent_seconds))  # fmt: skip


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_a_run_whose_process_died_on_this_host_is_marked_interrupted(world):
    view = world.propose()
    _put_in(world, view, RequestState.RUNNING, runner=f"{socket.gethostname()}:{_dead_pid()}")
    world.service.recover_interrupted()
    assert world.state(view) is RequestState.INTERRUPTED
    assert "latiss now records empty (3 behind)" in world.notifier.events[-1][2]


@pytest.mark.parametrize(
    ("moved", "settled", "says"),
    [
        (
            ("latiss", "startrackerwide"),
            RequestState.SUCCEEDED,
            "latiss now records c0ffee000003 (head), its target; startrackerwide now records e00000000001 (head),"
            " its target",
        ),
        (
            ("latiss",),
            RequestState.INTERRUPTED,
            "latiss now records c0ffee000003 (head), its target; startrackerwide now records empty (1 behind),"
            " where it started",
        ),
    ],
)
@pytest.mark.slow
def test_a_dead_run_is_settled_by_what_its_version_tables_record(world, moved, settled, says):
    view = world.propose(schemas=("latiss", "startrackerwide"))
    _put_in(world, view, RequestState.RUNNING, runner=f"{socket.gethostname()}:{_dead_pid()}")
    bts = world.service.settings.environment("bts")
    for schema in moved:
        world.service.engine.change(bts, [schema], direction=Direction.UPGRADE, to=None, actor="the run that died")
    world.service.recover_interrupted()
    assert world.state(view) is settled
    assert says in world.notifier.events[-1][2]
    assert world.store.audit_trail(environment="bts", limit=1)[0].action == settled.value


def test_a_dead_run_whose_database_cannot_be_read_is_settled_once_it_can_be_not_guessed(world, server_url):
    view = world.propose()
    _put_in(world, view, RequestState.RUNNING, runner=f"{socket.gethostname()}:{_dead_pid()}")
    bts = str(world.service.settings.environment("bts").database_url)
    close_database(server_url, bts, closed=True)
    try:
        world.service.recover_interrupted()
        assert world.state(view) is RequestState.RUNNING
    finally:
        close_database(server_url, bts, closed=False)
    world.service.recover_interrupted()
    assert world.state(view) is RequestState.INTERRUPTED
    assert "latiss now records empty (3 behind), where it started" in world.notifier.events[-1][2]


def test_an_approved_request_that_never_started_is_interrupted_saying_nothing_ran(world):
    view = world.propose()
    _put_in(world, view, RequestState.APPROVED, runner=f"{socket.gethostname()}:{os.getpid()}")
    world.service.recover_interrupted()
    assert world.state(view) is RequestState.INTERRUPTED
    assert "it had not started, nothing ran" in world.notifier.events[-1][2]
    world.propose()


@pytest.mark.parametrize(("silent_seconds", "interrupted"), [(5, False), (600, True)])
def test_another_hosts_run_is_interrupted_only_when_it_has_gone_silent(world, silent_seconds, interrupted):
    view = world.propose()
    _put_in(world, view, RequestState.RUNNING, runner="consdb-bot-replica-2:7", silent_seconds=silent_seconds)
    world.service.recover_interrupted()
    assert world.state(view) is (RequestState.INTERRUPTED if interrupted else RequestState.RUNNING)


def test_a_withdrawal_handled_before_its_approval_still_wins(world):
    view = world.propose()
    world.react(view, APPROVER_1, added=False, event_ts="1700000002.0")
    world.react(view, APPROVER_1, added=True, event_ts="1700000001.0")
    assert world.state(view) is RequestState.REQUESTED


def test_a_request_that_cannot_be_posted_frees_its_environment(world):
    def refuse(_view):
        raise Refused("could not post the request in <#C0CONSDB01>: not_in_channel")

    world.notifier.posted = refuse
    with pytest.raises(Refused):
        world.propose()
    del world.notifier.posted
    assert world.propose().id == 2


def test_a_notifier_failing_mid_run_does_not_leave_the_request_running(world):
    def broken(*_args, **_kwargs):
        raise OSError("connection reset")

    world.notifier.progress = broken
    view = world.propose()
    world.react(view, APPROVER_1)
    assert world.state(view) is RequestState.SUCCEEDED


def test_news_of_a_run_is_typed_and_each_surface_says_it_its_own_way():
    excerpt = LogExcerpt(
        deployment="hinfo-latiss", namespace="consdb", pods=["hinfo-latiss-0"],
        problems=["ERROR Unable to process column visit1.foo", "WARNING slow"], committed=0, last_exposure=None,
        tail=[],
    )  # fmt: skip
    verdict = HinfoVerdict.of("latiss", excerpt, 10)
    assert (verdict.committed, verdict.column_lines, verdict.other_lines) == (0, 1, 1)
    assert blocks.event_line(verdict) == (
        "hinfo latiss, 10 min after the migration: :warning: no exposure committed (take a test image, then"
        " `logs hinfo`); 1 'Unable to process column' line, e.g. ERROR Unable to process column visit1.foo;"
        " 1 other error or warning line."
    )
    terminal = text.event_line(verdict)
    assert terminal.startswith("hinfo latiss, 10 min after the migration: no exposure committed")
    assert ":warning:" not in terminal
    assert "`" not in terminal
    gave_up = CommentNews("OSW-123", CommentFate.GIVEN_UP, 5, "HTTP 403")
    assert blocks.event_line(gave_up).startswith(":x: I gave up commenting on OSW-123 after 5 tries: HTTP 403.")
    assert text.event_line(gave_up) == (
        "gave up commenting on OSW-123 after 5 tries: HTTP 403; 'ticket OSW-123' still shows what happened"
    )


def test_an_ending_whose_write_was_answered_lost_is_recognised_as_done_once(world):
    view = world.propose()
    _put_in(world, view, RequestState.RUNNING, runner="consdb-bot-replica-2:7")
    request = world.store.request(view.id)
    assert request is not None
    ending: dict[str, object] = {"reached": {"latiss": []}, "added_columns": {}, "note": "the bot failed"}
    assert world.store.transition(view.id, RequestState.RUNNING, RequestState.FAILED, **ending)  # answer lost
    settled = world.service._record(request, RequestState.RUNNING, RequestState.FAILED, ending, summary="s", detail={})
    assert settled is not None
    assert (settled.state, settled.reached, settled.note) == (RequestState.FAILED, {"latiss": []}, "the bot failed")
    assert world.store.audit_trail(environment="bts", limit=1)[0].action == "failed"
    other = {**ending, "note": "something else"}
    assert (
        world.service._record(request, RequestState.RUNNING, RequestState.FAILED, other, summary="s", detail={}) is None
    )


OPERATOR = "operator@terminal"


def shown_in_the_terminal(world: World) -> None:
    """The notifier of the terminal: a request is shown where no reaction can reach it."""

    def posted(view: RequestView) -> None:
        world.notifier.events.append(("posted", view, ""))

    world.notifier.posted = posted


def test_a_request_shown_in_the_terminal_is_never_matched_by_a_reaction(world):
    shown_in_the_terminal(world)
    view = world.propose()
    assert (view.channel, view.message_ts) == (None, None)
    world.react(view, APPROVER_1)
    world.service.react(channel="", message_ts="", user=APPROVER_1, reaction="white_check_mark", added=True,
                        event_id="EvEmpty", event_ts="1700000000.5")  # fmt: skip
    assert world.state(view) is RequestState.REQUESTED
    with pytest.raises(Refused, match="already has a change under way"):
        world.propose(schemas=("startrackerwide",))


def test_yes_in_the_terminal_stands_as_the_approval_and_runs_it_as_slack_would(world):
    shown_in_the_terminal(world)
    view = world.propose()
    finished = world.service.approve_here(view.id, OPERATOR)
    assert finished.view.state is RequestState.SUCCEEDED
    assert isinstance(finished.result, ChangeResult)
    assert finished.result.ok
    assert finished.view.approvers == [OPERATOR]
    assert finished.view.reached == {"latiss": ["c0ffee000003"]}
    trail = world.store.audit_trail(environment="bts", limit=4)
    assert [(record.actor, record.action) for record in trail] == [
        ("consdb-bot", "succeeded"), ("consdb-bot", "approved"), (OPERATOR, "approved"), (REQUESTER, "requested"),
    ]  # fmt: skip
    assert trail[2].summary == f"approve given on #{view.id} with --yes in the terminal"
    assert world.notifier.kinds()[-1] == "finished"
    with pytest.raises(Refused, match="is succeeded: it cannot be approved"):
        world.service.approve_here(view.id, OPERATOR)
    down = world.service.propose(Proposal(Direction.DOWNGRADE, "bts", ["latiss"], "base", REQUESTER))
    assert world.service.approve_here(down.id, OPERATOR).view.reached == {"latiss": []}


def test_yes_in_the_terminal_refuses_a_request_that_expired(world):
    shown_in_the_terminal(world)
    view = world.propose()
    world.clock.moment += timedelta(minutes=61)
    with pytest.raises(Refused, match="is expired"):
        world.service.approve_here(view.id, OPERATOR)
    assert world.state(view) is RequestState.EXPIRED


def test_yes_in_the_terminal_restarts_pqserver_and_prepares_a_database(world):
    shown_in_the_terminal(world)
    view = world.service.propose_restart("bts", REQUESTER)
    finished = world.service.approve_here(view.id, OPERATOR)
    assert (finished.view.state, world.service.deployments.restarted) == (RequestState.SUCCEEDED, ["consdb-pq"])
    assert isinstance(finished.result, RestartResult)
    assert ("progress", "[1 s] rolled out") in [(kind, line) for kind, _, line in world.notifier.events]
    bts = world.service.settings.environment("bts")
    with psycopg.connect(str(bts.database_url).replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("DROP SCHEMA cdb")
    prepare = world.service.propose_prepare("bts", ["latiss"], REQUESTER)
    done = world.service.approve_here(prepare.id, OPERATOR)
    assert done.view.state is RequestState.SUCCEEDED
    assert isinstance(done.result, PrepareResult)
    assert "schema cdb" in done.result.created.text()
