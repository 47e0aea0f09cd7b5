"""The replica watch on a real Summit → USDF replica, its alerts as the Slack stand-in receives them, and
time moved by the test: a subscription disabled longer than ``alert_after_minutes`` (by someone in psql,
or left so by a rollout stopped half way) alerts the replica's channel, again at each interval while it
stays disabled, and no more once it is enabled."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from psycopg import sql
from slack_sdk import WebClient

from bot.config import load_settings
from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION
from bot.sandbox.standins.slack import BOT_TOKEN, FakeSlack
from bot.services.replica_watch import ReplicaWatch
from bot.services.replicas import disabling
from bot.services.scheduler import Scheduler
from bot.slack.notifier import SlackAnnouncer
from bot.store import Store
from tests.conftest import EXTERNAL_TREE, TREES, Result
from tests.support.clock import START, Clock
from tests.support.replica import ReplicaPair

TREE = TREES / "replica_style"
FIRST, COLUMN_ADDED = "r00000000001", "r00000000003"
USDF_CHANNEL = "C0USDF0001"
ALERT_AFTER = timedelta(minutes=30)


@dataclass
class Watched:
    """The watch of the bot's process, on the test's clock, posting to the Slack stand-in."""

    config: Path
    clock: Clock
    store: Store
    slack: FakeSlack

    def sweep(self) -> None:
        """One scheduled look, by a watch made afresh (as after a restart: all it knows is in the state)."""
        settings = load_settings(self.config)
        announcer = SlackAnnouncer(WebClient(token=BOT_TOKEN, base_url=self.slack.url), self.store, clock=self.clock)
        ReplicaWatch(settings, self.store, announcer, clock=self.clock).watch("usdf-prod")

    def alerts(self) -> list[str]:
        """What the replica's channel was told, each message's text and blocks."""
        return [
            call.text + "\n" + str(call.args["blocks"])
            for call in self.slack.calls("chat.postMessage")
            if call.args["channel"] == USDF_CHANNEL
        ]


@pytest.fixture
def watched(tmp_path: Path, replica: ReplicaPair, monkeypatch: pytest.MonkeyPatch) -> Iterator[Watched]:
    """summit and usdf-prod on the replica pair, both at the tree's first revision; usdf-prod alerts
    after 30 minutes in its own channel."""
    monkeypatch.setenv("SUMMIT_DATABASE_URL", replica.summit_url)
    monkeypatch.setenv("USDF_PROD_DATABASE_URL", replica.usdf_url)
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            db.execute("CREATE SCHEMA cdb")
            db.execute("CREATE TABLE cdb.cdb_latiss_version (version_num varchar(32) PRIMARY KEY)")
            db.execute("INSERT INTO cdb.cdb_latiss_version VALUES (%s)", (FIRST,))
    config = tmp_path / "consdb-bot.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp_path / 'state.sqlite3'}\n"
        f"migrations: {{alembic_ini: {TREE / 'alembic.ini'}, sdm_schemas: {EXTERNAL_TREE}, connect_timeout_seconds: 2}}\n"
        "schemas: [latiss]\n"
        "slack: {announce_channel: C0ANNOUNCE}\n"
        "environments:\n"
        "  summit:\n"
        "    database_url: ${SUMMIT_DATABASE_URL}\n"
        "    approvals: {required: 1, approvers: [U0APPROVE1]}\n"
        "  usdf-prod:\n"
        "    database_url: ${USDF_PROD_DATABASE_URL}\n"
        f"    channel: {USDF_CHANNEL}\n"
        "    approvals: {required: 1, approvers: [U0APPROVE1]}\n"
        f"    replica: {{of: summit, subscription: {SUBSCRIPTION}, publication: {PUBLICATION}, alert_after_minutes: 30}}\n"
    )
    clock = Clock()
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite3'}", clock=clock)
    store.upgrade()
    with FakeSlack() as slack:
        yield Watched(config, clock, store, slack)


def alter_subscription(replica: ReplicaPair, action: str) -> None:
    """What someone does in psql at USDF."""
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} " + action).format(sql.Identifier(SUBSCRIPTION)))


def test_the_bot_watches_each_replica_with_a_channel_on_its_scheduler(watched):
    scheduler = Scheduler(watched.store, poll_seconds=60)
    scheduler.open()  # never leads: the job is looked at, and its task run by the tests
    try:
        ReplicaWatch(
            load_settings(watched.config),
            watched.store,
            SlackAnnouncer(WebClient(), watched.store, clock=watched.clock),
            clock=watched.clock,
        ).register(scheduler)
        assert scheduler.job_ids() == ["replica-watch-usdf-prod"]
    finally:
        scheduler.close()


def test_a_subscription_disabled_in_psql_is_alerted_after_alert_after_again_each_interval_until_enabled(
    watched: Watched, replica: ReplicaPair, consdb_bot: Callable[..., Result]
):
    watched.sweep()
    alter_subscription(replica, "DISABLE")
    watched.sweep()  # first seen disabled now: the count starts here
    with replica.summit() as summit:
        summit.execute("INSERT INTO cdb_latiss.exposure SELECT n, repeat('x', 100) FROM generate_series(1, 1000) n")

    watched.clock.moment = START + ALERT_AFTER - timedelta(minutes=1)
    watched.sweep()
    assert watched.alerts() == []
    status = consdb_bot("status", "usdf-prod", "--config", str(watched.config)).out
    assert "  subscription: disabled outside the bot (seen disabled since 2026-11-24 14:00:00 UTC)" in status

    watched.clock.moment = START + ALERT_AFTER
    watched.sweep()
    [alert] = watched.alerts()
    assert alert.startswith(
        f":rotating_light: Subscription {SUBSCRIPTION} at usdf-prod has been disabled for 30m"
        " (disabled outside the bot; first seen disabled Tue 2026-11-24 14:00 +00)."
    )
    held = re.search(rf"Rows written at summit meanwhile wait there, in its replication slot {SUBSCRIPTION}"
                     r" \(([\d.]+) (kB|MB) of WAL kept for it so far\), and reach usdf-prod only once it is enabled",
                     alert)  # fmt: skip
    assert held, alert
    assert float(held[1]) * {"kB": 1024, "MB": 1024**2}[held[2]] > 100 * 1000, "the thousand rows written are kept"
    assert (
        f"If nothing needs it disabled, enable it at usdf-prod: `ALTER SUBSCRIPTION {SUBSCRIPTION} ENABLE`,"
        f" then `ALTER SUBSCRIPTION {SUBSCRIPTION} REFRESH PUBLICATION`."
    ) in alert
    assert "I say this again every 30m while it stays disabled." in alert

    watched.clock.moment = START + ALERT_AFTER * 1.5
    watched.sweep()
    assert len(watched.alerts()) == 1, "not at every sweep"
    watched.clock.moment = START + ALERT_AFTER * 2
    watched.sweep()
    assert len(watched.alerts()) == 2
    assert "has been disabled for 1h (disabled outside the bot;" in watched.alerts()[1]

    alter_subscription(replica, "ENABLE")
    for intervals in (3, 4):
        watched.clock.moment = START + ALERT_AFTER * intervals
        watched.sweep()
    assert len(watched.alerts()) == 2
    status = consdb_bot("status", "usdf-prod", "--config", str(watched.config)).out
    assert "  subscription: enabled" in status


def test_a_rollout_stopped_half_way_is_alerted_naming_its_request_and_the_ways_on_until_enabled(
    watched: Watched, replica: ReplicaPair, consdb_bot: Callable[..., Result]
):
    with replica.usdf() as usdf:  # in the way at the replica alone: its migration fails, the Summit's not
        usdf.execute("CREATE TABLE cdb_latiss.exposure_flexdata (id bigint PRIMARY KEY)")
    rollout = consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(watched.config))
    assert "usdf-prod: replica migration failed; the subscription stays disabled" in rollout.out
    disabled = disabling(watched.store, "usdf-prod")  # when the rollout disabled it
    assert disabled is not None

    watched.clock.moment = disabled.since + ALERT_AFTER
    watched.sweep()
    [alert] = watched.alerts()
    since = f"{disabled.since:%a %Y-%m-%d %H:%M} +00"
    assert f"has been disabled for 30m (disabled by consdb-bot for request #1 at {since})." in alert
    assert "Rollout request #1 stopped half way (replica migration failed; the subscription stays disabled):" in alert
    assert f"subscription {SUBSCRIPTION} at usdf-prod stays disabled" in alert
    assert f"Either finish it: `rollout latiss --to {COLUMN_ADDED} --ticket OSW-123`" in alert
    assert f"or take the Summit back: `rollout latiss --to {FIRST} --ticket OSW-123`" in alert

    watched.clock.moment = disabled.since + ALERT_AFTER * 2
    watched.sweep()
    assert len(watched.alerts()) == 2
    assert "Rollout request #1 stopped half way" in watched.alerts()[1]

    alter_subscription(replica, "ENABLE")  # a way on taken
    watched.clock.moment = disabled.since + ALERT_AFTER * 3
    watched.sweep()
    assert len(watched.alerts()) == 2
