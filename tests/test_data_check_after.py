"""The data check a while after a migration elsewhere than at a test stand (the Summit): a job in the state
database, ``data_check_minutes`` after the migration, that says in the request's thread what ``check data``
says and records it as ``check data`` does. In-process on real PostgreSQL (ConsDB and the bot's state), the
clock the test's and the scheduler never leading: the job is looked at, and its task run by the test; then
a bot in Slack, stopped before the job is due and started again after it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot.clients.deployments import Deployments
from bot.config import load_settings
from bot.engine.service import Direction, Engine
from bot.render import blocks, text
from bot.services.changes import ChangeService, Proposal, RequestEvent, RequestView
from bot.services.changes.data import DATA_CHECKED, check_data
from bot.services.scheduler import Scheduler
from bot.services.tickets import TicketService
from bot.store import Store
from bot.store.models import RequestState
from bot.terminal import cli
from tests.conftest import Result, close_database, libpq
from tests.support.bot_process import BotProcess
from tests.support.clock import Clock
from tests.support.replica import ReplicaPair
from tests.support.slack_bot import (
    APPROVER_1,
    BTS_CHANNEL,
    DBA,
    REQUESTER,
    SUMMIT_CHANNEL,
    hold_bts,
    posted_request,
    request_state,
)
from tests.support.trees import bundled_copy, columns_revision
from tests.test_check_data import MIGRATED_AT, at, exposure
from tests.test_rollout import FIRST, TREE

APPROVER, CHANNEL = "U0APPROVE1", "C0SUMMIT01"
ADDED = "a11ce0000001"
COLUMNS = "`dimm_seeing_new` filled 3/3, `fid_note` empty 0/3, `ccdexposure.ccd_temp_new` filled 6/6"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The bundled tree, with a latiss revision after its head adding two exposure columns and a ccdexposure one."""
    added = {
        "exposure": [("dimm_seeing_new", "Float"), ("fid_note", "Text")],
        "ccdexposure": [("ccd_temp_new", "Float")],
    }
    return bundled_copy(tmp_path, columns_revision("latiss", "05689cf3f8f0", ADDED, added))


@dataclass
class Threads:
    """The requests' threads: each request posted in one, and what the service tells them."""

    events: list[tuple[RequestView, RequestEvent]] = field(default_factory=list)

    def posted(self, request: RequestView) -> tuple[str, str]:
        return CHANNEL, f"1700000000.{request.id:06d}"

    def updated(self, request: RequestView) -> None:
        pass

    def progress(self, request: RequestView, event: RequestEvent) -> None:
        self.events.append((request, event))

    def finished(self, request: RequestView, result: object, *, note: str) -> None:
        pass

    def said(self, start: str) -> list[RequestEvent]:
        return [event for _, event in self.events if text.event_line(event).startswith(start)]


@dataclass
class World:
    config: Path
    service: ChangeService
    scheduler: Scheduler
    store: Store
    clock: Clock
    threads: Threads
    places: dict[str, str]

    def migrate(self, environment: str = "summit", *, rollout: bool = False) -> RequestView:
        """latiss migrated there at the clock's moment (with its replicas: ``rollout``), asked and approved as in
        Slack, under OSW-123."""
        proposal = Proposal(Direction.UPGRADE, environment, ["latiss"], None, REQUESTER, ticket="OSW-123")
        view = self.service.propose_rollout(proposal) if rollout else self.service.propose(proposal)
        self.service.react(
            channel=CHANNEL, message_ts=view.message_ts or "", user=APPROVER, reaction="white_check_mark",
            added=True, event_id=f"Ev{view.id}", event_ts=f"{1700000000 + view.id}.0",
        )  # fmt: skip
        request = self.store.request(view.id)
        assert request is not None
        assert request.state == RequestState.SUCCEEDED, request.note
        return view


def configure(path: Path, tree: Path, *, minutes: float = 60) -> Path:
    """bts, a test stand, and the Summit, each with an hinfo for latiss; the Summit's data check ``minutes`` after."""
    path.write_text(f"""
state_url: ${{CONSDB_BOT_STATE_URL}}
migrations: {{alembic_ini: {tree / "alembic.ini"}, connect_timeout_seconds: 2}}
schemas: [latiss]
environments:
  bts:
    test_stand: true
    database_url: ${{BTS_DATABASE_URL}}
    hinfo: {{latiss: consdb-hinfo-latiss}}
    approvals: {{required: 1, approvers: [{APPROVER}]}}
  summit:
    timezone: America/Santiago
    database_url: ${{SUMMIT_DATABASE_URL}}
    hinfo: {{latiss: consdb-hinfo-latiss}}
    data_check_minutes: {minutes}
    approvals: {{required: 1, approvers: [{APPROVER}]}}
""")
    return path


@pytest.fixture
def places(new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """bts, the Summit and the bot's state, each a PostgreSQL database, named as the configuration reads them."""
    found = {
        "BTS_DATABASE_URL": new_database(), "SUMMIT_DATABASE_URL": new_database(),
        "CONSDB_BOT_STATE_URL": new_database().replace("postgresql://", "postgresql+psycopg://"),
    }  # fmt: skip
    for name, value in found.items():
        monkeypatch.setenv(name, value)
    return found


@contextmanager
def world_of(config: Path, places: dict[str, str]) -> Iterator[World]:
    settings = load_settings(config, environ=places)
    clock, threads = Clock(MIGRATED_AT), Threads()
    store = Store(str(settings.state_url), clock=clock)
    store.upgrade()
    scheduler = Scheduler(store, poll_seconds=60)
    scheduler.open()  # never leads: the jobs are looked at, and their tasks run by the tests
    service = ChangeService(
        settings, Engine(settings), store, threads, scheduler=scheduler,
        tickets=TicketService(settings, store, None, clock=clock), deployments=Deployments(settings.kubernetes),
        group_members=lambda _group: set(), standing=lambda _env, _requester: None, launch=lambda run: run(),
        clock=clock,
    )  # fmt: skip
    service.register()
    try:
        yield World(config, service, scheduler, store, clock, threads, places)
    finally:
        scheduler.close()


@pytest.fixture
def world(tmp_path: Path, tree: Path, places: dict[str, str]) -> Iterator[World]:
    with world_of(configure(tmp_path / "consdb-bot.yaml", tree), places) as made:
        yield made


def written_after_the_migration(world: World) -> None:
    """One exposure before the migration and three after, two detectors each; none fills fid_note."""
    summit = world.places["SUMMIT_DATABASE_URL"]
    exposure(summit, "latiss", 11, at(-10), detectors=2)
    for seq_num, minutes in ((12, 2), (13, 4), (14, 6)):
        exposure(summit, "latiss", seq_num, at(minutes), detectors=2, dimm_seeing_new=0.8, ccd_temp_new=-101.0)


def test_the_summit_is_checked_data_check_minutes_after_its_migration_in_its_thread_and_its_ticket(world):
    view = world.migrate()
    assert world.scheduler.job_ids() == [f"data-check-{view.id}"]
    assert world.scheduler.next_run(f"data-check-{view.id}") == at(60)
    written_after_the_migration(world)

    world.clock.moment = at(60)
    world.service.check_data_after(view.id, ["latiss"])
    [verdict] = world.threads.said("Data of latiss at summit")
    lines = text.event_line(verdict).splitlines()
    assert lines[0] == "Data of latiss at summit, 60 min after the migration:"
    checked = check_data(world.service.settings, world.service.engine, world.store, "summit", "latiss",
                         since_seconds=None, at=world.clock())  # fmt: skip
    assert lines[1:] == text.data_text(checked).splitlines(), "what `check data summit latiss` says"
    assert lines[1] == (
        "latiss at summit: 3 exposures since 11:00 -03 (20261201/12\N{EN DASH}14), 6 ccdexposure rows; new columns:"
        " dimm_seeing_new filled 3/3, fid_note empty 0/3, ccdexposure.ccd_temp_new filled 6/6"
    )
    in_slack = blocks.event_line(verdict)
    assert COLUMNS in in_slack
    assert (
        ":warning: `fid_note` is empty in all 3 exposure rows: hinfo does not fill it (`logs hinfo latiss summit`"
        " shows why)" in in_slack
    )
    assert in_slack.count(":warning:") == 1

    [record] = world.store.ticket_records("OSW-123", [DATA_CHECKED])
    assert (record.actor, record.environment, record.request_id) == ("consdb-bot", "summit", view.id)
    assert record.detail == {"schema": "latiss", "ok": False}
    assert record.summary == "latiss at summit: 3 exposures since the migration; empty: fid_note"


def test_a_late_check_says_how_late_and_a_filled_column_passes(world):
    view = world.migrate()
    written_after_the_migration(world)
    with psycopg.connect(libpq(world.places["SUMMIT_DATABASE_URL"])) as summit:
        summit.execute("UPDATE cdb_latiss.exposure SET fid_note = 'ok' WHERE seq_num = 14")
    world.clock.moment = at(95)  # the bot was down when it was due
    world.service.check_data_after(view.id, ["latiss"])
    [verdict] = world.threads.said("Data of latiss at summit, 95 min after the migration:")
    assert "new columns: dimm_seeing_new filled 3/3, fid_note filled 1/3" in text.event_line(verdict)
    assert ":warning:" not in blocks.event_line(verdict)
    [record] = world.store.ticket_records("OSW-123", [DATA_CHECKED])
    assert record.detail == {"schema": "latiss", "ok": True}


def test_a_database_that_cannot_be_read_is_said_in_the_thread(world, server_url):
    view = world.migrate()
    world.clock.moment = at(60)
    summit = world.places["SUMMIT_DATABASE_URL"]
    close_database(server_url, summit, closed=True)
    try:
        world.service.check_data_after(view.id, ["latiss"])
    finally:
        close_database(server_url, summit, closed=False)
    [verdict] = world.threads.said("Data of latiss at summit")
    said = blocks.event_line(verdict)
    assert said.startswith("Data of latiss at summit, 60 min after the migration: :warning: The database could not"
                           " be read: cannot reach")  # fmt: skip
    assert said.endswith(". `check data summit latiss` reads it again.")
    [record] = world.store.ticket_records("OSW-123", [DATA_CHECKED])
    assert record.detail == {"schema": "latiss", "ok": False}
    assert record.summary.startswith("latiss at summit: the database was not read: cannot reach")


def test_no_check_at_zero_minutes(tmp_path, tree, places):
    with world_of(configure(tmp_path / "consdb-bot.yaml", tree, minutes=0), places) as world:
        world.migrate()
        assert world.scheduler.job_ids() == []


def test_a_test_stand_gets_the_hinfo_watch_not_the_data_check(world):
    view = world.migrate("bts")
    assert world.scheduler.job_ids() == [f"hinfo-watch-{view.id}"]


def test_a_migration_from_a_terminal_has_no_thread_and_no_check(world, consdb_bot, monkeypatch):
    monkeypatch.setattr(cli, "now", world.clock)
    done: Result = consdb_bot("upgrade", "summit", "latiss", "--yes", "--config", str(world.config))
    assert done.code == 0, done.text
    assert world.scheduler.job_ids() == []


def replica_config(tmp_path: Path, replica: ReplicaPair, *, summit_hinfo: bool) -> Path:
    """The Summit and usdf-prod, its replica, each with latiss recorded at its first revision; the Summit's
    hinfo configured when ``summit_hinfo``."""
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            db.execute("CREATE SCHEMA cdb")
            db.execute("CREATE TABLE cdb.cdb_latiss_version (version_num varchar(32) PRIMARY KEY)")
            db.execute("INSERT INTO cdb.cdb_latiss_version VALUES (%s)", (FIRST,))
    hinfo = "    hinfo: {latiss: consdb-hinfo-latiss}\n" if summit_hinfo else ""
    config = tmp_path / "consdb-bot.yaml"
    config.write_text(f"""
state_url: ${{CONSDB_BOT_STATE_URL}}
migrations: {{alembic_ini: {TREE / "alembic.ini"}, connect_timeout_seconds: 2}}
schemas: [latiss]
environments:
  summit:
    database_url: {replica.summit_url}
{hinfo}    approvals: {{required: 1, approvers: [{APPROVER}]}}
  usdf-prod:
    database_url: {replica.usdf_url}
    approvals: {{required: 1, approvers: [{APPROVER}]}}
    replica: {{of: summit, subscription: usdf_exposurelog, publication: usdfpub, verify_seconds: 30}}
""")
    return config


@pytest.mark.slow
def test_a_rollout_is_checked_at_the_summit(tmp_path, replica: ReplicaPair, places):
    """The Summit and its replica migrated as one rollout: the check looks at the Summit, the rollout's
    environment, with the column the Summit's migration added. The replica pair's exposure table is not
    ConsDB's (no obs_start): the thread says why its exposures cannot be told, and the job goes on."""
    config = replica_config(tmp_path, replica, summit_hinfo=True)
    with world_of(config, places) as world:
        view = world.migrate(rollout=True)
        request = world.store.request(view.id)
        assert request is not None
        assert (request.kind, request.environment, request.added_columns) == (
            "rollout",
            "summit",
            {"latiss": {"exposure": ["seeing"]}},
        )
        assert world.scheduler.next_run(f"data-check-{view.id}") == at(60)
        world.clock.moment = at(60)
        world.service.check_data_after(view.id, ["latiss"])
        [verdict] = world.threads.said("Data of latiss at summit, 60 min after the migration:")
    assert "The database could not be read: cdb_latiss.exposure at summit has no" in text.event_line(verdict)


@pytest.mark.slow
def test_check_data_at_a_replica_counts_from_the_rollout_that_migrated_it(tmp_path, replica: ReplicaPair, places):
    """usdf-prod, the replica a rollout migrated: ``check data usdf-prod latiss`` looks at the exposures since
    that rollout and the column it added there, as ``restart pqserver`` takes it for usdf-prod's latest change."""
    config = replica_config(tmp_path, replica, summit_hinfo=False)
    with world_of(config, places) as world:
        view = world.migrate(rollout=True)
        with replica.usdf() as usdf:  # the columns that tell when an exposure was observed, as ConsDB's have
            usdf.execute("ALTER TABLE cdb_latiss.exposure ADD COLUMN exposure_id bigint, ADD COLUMN day_obs int,"
                         " ADD COLUMN seq_num int, ADD COLUMN obs_start timestamp")  # fmt: skip
            usdf.execute(
                "INSERT INTO cdb_latiss.exposure (id, note, seeing, exposure_id, day_obs, seq_num, obs_start)"
                " VALUES (1, 'after', 0.8, 2026120100012, 20261201, 12, %s)",
                ((at(2) + timedelta(seconds=37)).replace(tzinfo=None),),
            )
        checked = check_data(world.service.settings, world.service.engine, world.store, "usdf-prod", "latiss",
                             since_seconds=None, at=at(60))  # fmt: skip
    assert checked.migration is not None
    assert (checked.migration.request_id, checked.migration.kind) == (view.id, "rollout")
    assert (checked.since, checked.exposures) == (MIGRATED_AT, 1)
    assert [(column.name, column.filled, column.rows) for column in checked.columns] == [("seeing", 1, 1)]


@pytest.fixture
def summit_checked(config: Path, tree: Path) -> Path:
    """The Slack tests' configuration on the tree above, the Summit with an hinfo for latiss and its data
    check an hour after a migration."""
    text = config.read_text().replace(
        "migrations: {connect_timeout_seconds: 2}",
        f"migrations: {{alembic_ini: {tree / 'alembic.ini'}, connect_timeout_seconds: 2}}",
    )
    summit = f"    channel: {SUMMIT_CHANNEL}\n"
    assert summit in text
    config.write_text(text.replace(summit, summit + "    hinfo: {latiss: consdb-hinfo-latiss}\n"
                                   "    data_check_minutes: 60\n"))  # fmt: skip
    return config


@pytest.mark.slow
def test_in_slack_the_check_outlives_a_restart_and_is_said_in_the_summits_thread(
    summit_checked, slack, databases, kube, tmp_path
):
    """Migrated at bts, then at the Summit at 14:00; hinfo writes three exposures; the bot is stopped, and
    started again at 15:01, when the check is due: its thread says what the database has."""
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(summit_checked, slack.url, environ=environ, clock_at=MIGRATED_AT) as first:
        hold_bts(first, slack)
        first.command("migrate bts latiss", user=REQUESTER, channel=BTS_CHANNEL)
        ts = posted_request(slack, 1).reply["ts"]
        first.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvBts")
        request_state(slack, 1, "succeeded")
        first.command("migrate summit latiss --ticket OSW-123", user=REQUESTER, channel=SUMMIT_CHANNEL)
        ts = posted_request(slack, 2).reply["ts"]
        for user, event_id in ((APPROVER_1, "EvSummit1"), (DBA, "EvSummit2")):
            first.reaction("white_check_mark", user=user, channel=SUMMIT_CHANNEL, ts=ts, event_id=event_id)
        request_state(slack, 2, "succeeded")
    assert not [c for c in slack.calls() if c.args.get("thread_ts") == ts and c.text.startswith("Data of")]
    summit = databases["SUMMIT_DATABASE_URL"]
    for seq_num in (12, 13, 14):  # written after the migration, whenever the bot's run ended
        exposure(summit, "latiss", seq_num, at(seq_num + 10), detectors=1, dimm_seeing_new=0.8, ccd_temp_new=-1.0)

    with BotProcess(summit_checked, slack.url, environ=environ, clock_at=at(61)):
        verdict = slack.wait_for(
            lambda calls: next(
                (c for c in calls if c.args.get("thread_ts") == ts and c.text.startswith("Data of latiss")), None
            )
        )
    assert verdict.args["channel"] == SUMMIT_CHANNEL
    assert re.match(r"Data of latiss at summit, 6[01] min after the migration:\n", verdict.text)
    shown = json.dumps(verdict.args["blocks"], ensure_ascii=False)
    assert re.search(
        r"latiss at summit: 3 exposures since 14:0\d \+00 \(20261201/12\u201314\), 3 ccdexposure rows; new columns:"
        r" `dimm_seeing_new` filled 3/3, `fid_note` empty 0/3, `ccdexposure.ccd_temp_new` filled 3/3",
        shown,
    )
    assert ":warning: `fid_note` is empty in all 3 exposure rows" in shown
    [record] = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}", clock=Clock()).ticket_records("OSW-123", [DATA_CHECKED])
    assert (record.actor, record.environment, record.request_id) == ("consdb-bot", "summit", 2)
    assert record.detail == {"schema": "latiss", "ok": False}
