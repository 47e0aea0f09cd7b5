"""Every pqserver restart ends with pqserver's columns against the database's, for the tables the environment's
latest change touched; ``restart pqserver all`` restarts every environment that has the latest change, one at
a time, with a verdict each. From the terminal, through a kubeconfig to the Kubernetes stand-in, with a
pqserver stand-in per environment over HTTP, each serving its own database."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.config import load_settings, parse_settings
from bot.errors import ConfigError
from bot.sandbox.standins.kubernetes import Deployment, FakeKube
from bot.sandbox.standins.pqserver import FakePqServer
from bot.services.changes.requests import Draft
from bot.store import Store
from tests.conftest import EXTERNAL_TREE, libpq
from tests.support.bot_process import BotProcess
from tests.support.slack_bot import APPROVER_1, APPROVER_2, REQUESTER, posted_request, request_state

ENVIRONMENTS = ("bts", "summit", "usdf")
CHANNELS = {"bts": "C0BTS00001", "summit": "C0SUMMIT01", "usdf": "C0USDF0001"}
FIRST, SECOND = "a1b2c3000002", "c0ffee000003"
"""latiss in the ConsDB-style test tree: the second revision adds exposure.seq_num, the third exposure_time."""


@dataclass
class Place:
    url: str
    pqserver: FakePqServer
    deployment: Deployment


@pytest.fixture
def places(tmp_path: Path, new_database, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Place]]:
    """bts, the Summit and USDF, each with its database (prepared as upstream's env.py needs), its pqserver
    (restarted with its deployment), and its cluster's context."""
    with FakeKube() as kube:
        made: dict[str, Place] = {}
        servers = []
        for name in ENVIRONMENTS:
            url = new_database()
            with psycopg.connect(libpq(url), autocommit=True) as db:
                db.execute("CREATE SCHEMA cdb")
            monkeypatch.setenv(f"{name.upper()}_DATABASE_URL", url)
            pqserver = FakePqServer(url)
            servers.append(pqserver.__enter__())
            made[name] = Place(url, pqserver, kube.add(Deployment(f"consdb-pq-{name}", on_restart=pqserver.restart)))
        monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig(tmp_path / "kubeconfig", ["base", "summit", "usdf"])))
        try:
            yield made
        finally:
            for server in servers:
                server.__exit__(None, None, None)


@pytest.fixture
def config(tmp_path: Path, places: dict[str, Place]) -> Path:
    """The Summit's restarts need two approvals, the others' one: the strictest of them is the Summit's."""
    contexts = {"bts": "base", "summit": "summit", "usdf": "usdf"}
    environments = "".join(
        f"""  {name}:
    database_url: ${{{name.upper()}_DATABASE_URL}}
    approvals: {{required: 1, approvers: [U0APPROVE1]}}
    restart_approvals: {{required: {2 if name == "summit" else 1}, approvers: [U0APPROVE1, U0APPROVE2]}}
    kubernetes: {{context: {contexts[name]}, namespace: consdb}}
    channel: {CHANNELS[name]}
    pqserver: consdb-pq-{name}
    pqserver_url: {place.pqserver.url}
"""
        for name, place in places.items()
    )
    path = tmp_path / "consdb-bot.yaml"
    path.write_text(f"""state_url: sqlite:///{tmp_path / "state.sqlite3"}
migrations: {{alembic_ini: {EXTERNAL_TREE / "alembic.ini"}, sdm_schemas: {EXTERNAL_TREE}, connect_timeout_seconds: 2}}
schemas: [latiss, lsstcam, lsstcomcam, startrackerwide]
slack: {{announce_channel: {CHANNELS["bts"]}}}
kubernetes: {{poll_seconds: 0.01, rollout_timeout_seconds: 30}}
environments:
{environments}""")
    return path


@pytest.fixture
def run(consdb_bot, config: Path):
    def terminal(*args: str):
        return consdb_bot(*args, "--config", str(config))

    return terminal


def migrate(run, environment: str, to: str) -> None:
    result = run("upgrade", environment, "latiss", "--to", to, "--yes")
    assert result.code == 0, result.text


def asked(place: Place) -> None:
    """pqserver answers a client, and so reads latiss as it is now (as a running pqserver long has)."""
    with urllib.request.urlopen(place.pqserver.url + "/consdb/schema/latiss/exposure", timeout=5) as answer:
        json.loads(answer.read())


def test_a_restart_says_table_by_table_whether_pqserver_serves_what_the_latest_change_left(run, places):
    bts = places["bts"]
    migrate(run, "bts", FIRST)
    asked(bts)
    migrate(run, "bts", SECOND)
    on_restart, bts.deployment.on_restart = bts.deployment.on_restart, None  # pqserver_url is not the pod rolled
    wrong = run("restart", "pqserver", "bts", "--yes")
    assert wrong.code == 0, wrong.text  # the restart itself went well
    said = "warning: pqserver at bts does not serve what the database has, on the tables #2 upgrade latiss added columns to"
    assert said in wrong.out
    assert "    cdb_latiss.exposure: pqserver lacks exposure_time (double precision)\n" in wrong.out

    bts.deployment.on_restart = on_restart
    right = run("restart", "pqserver", "bts", "--yes")
    assert right.code == 0, right.text
    assert (
        "pqserver at bts agrees with the database on the tables #2 upgrade latiss added columns to:\n"
        "    cdb_latiss.exposure: agrees (5 columns)\n"
    ) in right.out


def test_after_a_downgrade_every_table_of_its_schema_is_compared(run, places):
    migrate(run, "bts", SECOND)
    asked(places["bts"])
    downgrade = run("downgrade", "bts", "latiss", FIRST, "--yes")
    assert downgrade.code == 0, downgrade.text
    places["bts"].deployment.on_restart = None
    result = run("restart", "pqserver", "bts", "--yes")
    assert "on every table of cdb_latiss (#2 downgrade latiss added no column):\n" in result.out
    assert "    cdb_latiss.exposure: pqserver has extra exposure_time (DOUBLE PRECISION)\n" in result.out


def test_restart_all_restarts_each_environment_that_has_the_latest_change_one_at_a_time(run, places):
    for name in ENVIRONMENTS:
        migrate(run, name, FIRST)
        asked(places[name])
    migrate(run, "bts", SECOND)
    migrate(run, "summit", SECOND)  # the latest change: #5; usdf has not had it

    unapproved = run("restart", "pqserver", "all")
    assert unapproved.code == 1
    assert (
        "nothing was restarted: this would roll deployment consdb-pq-bts at bts, consdb-pq-summit at summit,"
        " one at a time, after #5 upgrade latiss"
    ) in unapproved.err
    assert f"usdf: not restarted, latiss is at {FIRST}" in unapproved.text

    result = run("restart", "pqserver", "all", "--yes")
    assert result.code == 0, result.text
    out = result.out
    assert "restart of pqserver at 2 environments: 2 restarted" in out
    assert out.index("bts: restarted, and pqserver serves what the database has") < out.index(
        "summit: restarted, and pqserver serves what the database has"
    )
    assert "pqserver at summit agrees with the database on the tables #5 upgrade latiss added columns to" in out
    assert places["usdf"].deployment.restarted_at is None
    audit = run("audit").out
    assert "#6 restart succeeded" in audit
    requested = next(line for line in audit.splitlines() if "restart bts, summit" in line)
    assert " summit " in requested, "the request is the Summit's, the strictest of them"
    assert "approve given on #6 with --yes in the terminal" in audit


def test_a_restart_that_fails_at_one_environment_does_not_hide_the_others(run, places):
    for name in ENVIRONMENTS:
        migrate(run, name, SECOND)
    places["bts"].deployment.stuck = True
    result = run("restart", "pqserver", "all", "--yes")
    assert result.code == 1
    assert "restart of pqserver at 3 environments: 2 restarted" in result.out
    assert "\nbts: FAILED to restart\n" in result.out
    assert "Back-off restarting failed container" in result.out
    assert "summit: restarted, and pqserver serves what the database has" in result.out
    assert "usdf: restarted, and pqserver serves what the database has" in result.out
    assert "#4 restart failed: bts: FAILED to restart" in run("audit").out


def test_an_environment_with_another_change_open_at_its_turn_is_left_alone(run, places, config):
    for name in ENVIRONMENTS:
        migrate(run, name, SECOND)
    settings = load_settings(config, environ=dict(os.environ))
    usdf = settings.environment("usdf")
    store = Store(str(settings.state_url), clock=lambda: datetime.now(UTC))
    store.add_request(Draft(kind="upgrade", env=usdf, policy=usdf.approvals, requester="U0OTHER", ticket=None,
                            ranges={"latiss": "asked in Slack"}).request(at=datetime.now(UTC), booking=None,
                                                                         ticket=None, trace=None))  # fmt: skip
    result = run("restart", "pqserver", "all", "--yes")
    assert result.code == 1
    assert "usdf: not restarted: request #4 by U0OTHER is requested there" in result.out
    assert "summit: restarted, and pqserver serves what the database has" in result.out
    assert places["usdf"].deployment.restarted_at is None


def test_no_environment_may_be_called_all():
    with pytest.raises(ConfigError, match="'all' is no environment name"):
        parse_settings("schemas: [latiss]\nenvironments:\n  bts: {aliases: [ALL]}\n", environ={})


def test_restart_all_is_refused_when_no_change_is_recorded(run, places):
    result = run("restart", "pqserver", "all", "--yes")
    assert result.code == 1
    assert "the bot has recorded no change to restart pqserver after" in result.err
    assert all(place.deployment.restarted_at is None for place in places.values())


@pytest.mark.slow
def test_restart_all_in_slack_is_one_request_in_one_thread_approved_under_the_strictest_policy(
    run, places, config, slack
):
    migrate(run, "bts", SECOND)
    migrate(run, "summit", SECOND)
    with BotProcess(config, slack.url) as bot:
        bot.command("restart pqserver all", user=REQUESTER, channel=CHANNELS["bts"])
        request = posted_request(slack, 3)
        assert (request.text, request.args["channel"]) == ("Restart request #3: summit: requested", CHANNELS["summit"])
        shown = json.dumps(request.args["blocks"])
        assert "`bts` rollout restart of deployment consdb-pq-bts" in shown
        assert "`summit` rollout restart of deployment consdb-pq-summit" in shown
        assert f"`after` #2 upgrade latiss, which left latiss at {SECOND}" in shown
        assert "`usdf` skipped: latiss is at " in shown
        assert "Needs 2 more approvals of 2" in shown
        ts = request.reply["ts"]
        for user, event_id in ((APPROVER_1, "EvA1"), (APPROVER_2, "EvA2")):
            bot.reaction("white_check_mark", user=user, channel=CHANNELS["summit"], ts=ts, event_id=event_id)
        request_state(slack, 3, "succeeded", kind="Restart")
        outcome = slack.wait_for(
            lambda calls: next((c for c in calls if c.args.get("thread_ts") == ts and "2 restarted" in c.text), None)
        )
    thread = [c.text for c in slack.calls() if c.args.get("thread_ts") == ts]
    assert any(text.startswith("pqserver at bts agrees with the database") for text in thread)
    assert any(text.startswith("pqserver at summit agrees with the database") for text in thread)
    assert "bts: restarted, and pqserver serves what the database has" in outcome.text
    assert "summit: restarted, and pqserver serves what the database has" in outcome.text
    assert [c.text for c in slack.calls("chat.postMessage") if c.text.startswith("Restart request")] == [request.text]
    assert places["usdf"].deployment.restarted_at is None


def test_the_board_counts_where_a_restart_all_that_failed_elsewhere_restarted(run, places):
    for name in ENVIRONMENTS:
        assert run("upgrade", name, "latiss", "--to", SECOND, "--ticket", "OSW-123", "--yes").code == 0
    places["bts"].deployment.stuck = True
    assert run("restart", "pqserver", "all", "--yes").code == 1  # restarted at summit and usdf, not at bts
    board = run("board", "OSW-123")
    assert "[!] failed   pqserver restarted at bts, summit, usdf" in board.out
    places["bts"].deployment.stuck = False
    assert run("restart", "pqserver", "bts", "--yes").code == 0
    board = run("board", "OSW-123")
    assert board.code == 0, board.text
    assert "[x] done     pqserver restarted at bts, summit, usdf" in board.out
    assert "summit: #4 restart of all: restarted at summit" in board.out
