"""A rollout's faults as a database engineer at Rubin meets them, on the real replica pair: two replicas (usdf-int
and usdf-prod) following the Summit, the bot killed between them, and the ways on afterwards."""

from __future__ import annotations

import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bot.config import load_settings
from bot.engine.database import lock_key
from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION
from bot.sandbox.standins.slack import FakeSlack
from bot.services.replica_watch import ReplicaAlert, ReplicaWatch
from bot.services.replicas import disabling
from bot.store import Store
from tests import test_rollout, test_rollout_slack
from tests.conftest import EXTERNAL_TREE, PASSWORD, REPO, TREES, Result
from tests.support.bot_process import BotProcess
from tests.support.replica import ReplicaPair, wait_for
from tests.support.slack_bot import APPROVER_2, DBA, request_state
from tests.test_rollout import (
    COLUMN_ADDED,
    FIRST,
    TABLE_MADE,
    TREE,
    enabled,
    insert,
    recorded_step,
    stuck_at_the_replica,
    versions,
)
from tests.test_rollout_slack import approve, blocks_of, request_rollout

INT_SUBSCRIPTION = "usdf_int_exposurelog"
rollout_config = test_rollout.rollout_config
"""summit and usdf-prod on the replica pair (the fixture of the rollout's own tests)."""
rollout_bot, jira = test_rollout_slack.rollout_bot, test_rollout_slack.jira
"""The bot with the same, in Slack (the fixtures of the rollout's Slack tests)."""


@dataclass
class TwoReplicas:
    """The pair's usdf database as usdf-prod, and a second database on the usdf server as usdf-int, which
    subscribes to the same publication with its own subscription."""

    pair: ReplicaPair
    int_database: str
    config: Path

    def usdf_int(self) -> psycopg.Connection:
        return psycopg.connect(self.pair.servers.usdf.url(self.int_database), autocommit=True)

    def enabled(self) -> dict[str, bool]:
        """Each replica's subscription: enabled or not."""
        query = "SELECT subenabled FROM pg_subscription WHERE subname = %s"
        with self.usdf_int() as db:
            int_enabled = db.execute(query, (INT_SUBSCRIPTION,)).fetchone()
        with self.pair.usdf() as db:
            prod_enabled = db.execute(query, (SUBSCRIPTION,)).fetchone()
        assert int_enabled is not None
        assert prod_enabled is not None
        return {"usdf-int": bool(int_enabled[0]), "usdf-prod": bool(prod_enabled[0])}

    def args(self, *more: str) -> list[str]:
        return ["rollout", "latiss", "--ticket", "OSW-123", *more, "--yes", "--config", str(self.config)]


def _versioned(db: psycopg.Connection) -> None:
    db.execute("CREATE SCHEMA IF NOT EXISTS cdb")
    db.execute("CREATE TABLE cdb.cdb_latiss_version (version_num varchar(32) PRIMARY KEY)")
    db.execute("INSERT INTO cdb.cdb_latiss_version VALUES (%s)", (FIRST,))


@pytest.fixture
def two_replicas(tmp_path: Path, replica: ReplicaPair, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwoReplicas]:
    """summit, with usdf-int and usdf-prod both replicas of it and configured here, all at the tree's first
    revision and replicating."""
    servers = replica.servers
    database = f"usdf_int_{secrets.token_hex(5)}"
    servers.usdf.create_database(database)
    url = servers.usdf.url(database).replace("postgres@", f"postgres:{PASSWORD}@")
    monkeypatch.setenv("SUMMIT_DATABASE_URL", replica.summit_url)
    monkeypatch.setenv("USDF_PROD_DATABASE_URL", replica.usdf_url)
    monkeypatch.setenv("USDF_INT_DATABASE_URL", url)
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            _versioned(db)
    publisher = f"host=127.0.0.1 port={servers.summit.port} user=postgres dbname={replica.summit_database}"
    config = tmp_path / "consdb-bot.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp_path / 'state.sqlite3'}\n"
        f"migrations: {{alembic_ini: {TREE / 'alembic.ini'}, sdm_schemas: {EXTERNAL_TREE},"
        " connect_timeout_seconds: 2, lock_timeout: 10min}\n"
        "schemas: [latiss]\n"
        "environments:\n"
        "  summit:\n"
        "    database_url: ${SUMMIT_DATABASE_URL}\n"
        "    approvals: {required: 1, approvers: [U0APPROVE1]}\n"
        "  usdf-int:\n"
        "    database_url: ${USDF_INT_DATABASE_URL}\n"
        "    approvals: {required: 1, approvers: [U0APPROVE1]}\n"
        f"    replica: {{of: summit, subscription: {INT_SUBSCRIPTION}, publication: {PUBLICATION}, verify_seconds: 20}}\n"
        "  usdf-prod:\n"
        "    database_url: ${USDF_PROD_DATABASE_URL}\n"
        "    approvals: {required: 1, approvers: [U0APPROVE1]}\n"
        f"    replica: {{of: summit, subscription: {SUBSCRIPTION}, publication: {PUBLICATION}, verify_seconds: 20}}\n"
    )
    two = TwoReplicas(replica, database, config)
    with two.usdf_int() as db:
        db.execute("CREATE SCHEMA cdb_latiss")
        db.execute("CREATE TABLE cdb_latiss.exposure (id bigint PRIMARY KEY, note text)")
        _versioned(db)
        db.execute(
            sql.SQL("CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {}").format(
                sql.Identifier(INT_SUBSCRIPTION), sql.Literal(publisher), sql.Identifier(PUBLICATION)
            )
        )
    insert(replica, range(1, 3), seeing=False)
    for connect in (two.usdf_int, replica.usdf):
        wait_for(
            "both replicas to have the first rows",
            lambda connect=connect: _rows(connect, "SELECT id FROM cdb_latiss.exposure ORDER BY id"),
            lambda rows: rows == [(1,), (2,)],
        )
        wait_for(  # the rows can come while a table is still "synchronised, catching up": a rollout waits for ready
            "every table of the replica's subscription to be ready",
            lambda connect=connect: _rows(connect, "SELECT srrelid FROM pg_subscription_rel WHERE srsubstate <> 'r'"),
            lambda rows: rows == [],
        )
    try:
        yield two
    finally:
        with two.usdf_int() as db:
            name = sql.Identifier(INT_SUBSCRIPTION)
            db.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(name))
            db.execute(sql.SQL("ALTER SUBSCRIPTION {} SET (slot_name = NONE)").format(name))
            db.execute(sql.SQL("DROP SUBSCRIPTION {}").format(name))
        with psycopg.connect(servers.usdf.url(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
        # The slot the subscription leaves at the Summit goes with the pair's own.


def _rows(
    connect: Callable[[], psycopg.Connection], query: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    with connect() as db:
        return db.execute(query, params).fetchall()


def test_a_failure_at_the_second_replica_keeps_both_paused_says_each_side_and_finishing_it_resumes_both(
    consdb_bot: Callable[..., Result], two_replicas: TwoReplicas
):
    pair = two_replicas.pair
    with pair.usdf() as usdf:  # in the way of the second revision at usdf-prod alone
        usdf.execute("CREATE TABLE cdb_latiss.exposure_flexdata (id bigint PRIMARY KEY)")
    stuck = consdb_bot(*two_replicas.args())
    assert stuck.code == 1, stuck.text
    assert f"usdf-int: replica migrated (latiss at {COLUMN_ADDED} (succeeded))" in stuck.out
    assert "usdf-prod: replica migration failed; the subscription stays disabled" in stuck.out
    assert f"usdf-int: latiss at {COLUMN_ADDED} (succeeded)" in stuck.out
    assert f"usdf-prod: latiss at {FIRST} (failed)" in stuck.out
    assert f"subscription {INT_SUBSCRIPTION} at usdf-int, {SUBSCRIPTION} at usdf-prod stays disabled" in stuck.out
    assert two_replicas.enabled() == {"usdf-int": False, "usdf-prod": False}

    insert(pair, range(3, 5), seeing=True)  # written while both are paused
    with pair.usdf() as usdf:
        usdf.execute("DROP TABLE cdb_latiss.exposure_flexdata")
    finished = consdb_bot(*two_replicas.args())
    assert finished.code == 0, finished.text
    assert f"usdf-int: replica migrated (already at latiss {COLUMN_ADDED})" in finished.out
    assert f"usdf-prod: replica migrated (latiss at {COLUMN_ADDED} (succeeded))" in finished.out
    assert two_replicas.enabled() == {"usdf-int": True, "usdf-prod": True}
    expected = [(i, None if i < 3 else i / 10) for i in range(1, 5)]
    for connect in (two_replicas.usdf_int, pair.usdf):
        wait_for(
            "every row at both replicas",
            lambda connect=connect: _rows(connect, "SELECT id, seeing FROM cdb_latiss.exposure ORDER BY id"),
            lambda rows: rows == expected,
        )


def test_a_bot_killed_while_the_second_replica_migrates_migrates_it_when_it_goes_on(
    consdb_bot: Callable[..., Result], two_replicas: TwoReplicas
):
    """kill -9 while usdf-prod's migration waits on a lock, usdf-int's done: the rollout goes on by migrating
    usdf-prod, never by enabling a subscription whose replica lacks the Summit's new table and column."""
    pair = two_replicas.pair
    holder = pair.usdf()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS SHARE MODE")
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", *two_replicas.args()], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(
            "usdf-prod's migration to wait on the lock",
            lambda: pair.at_usdf(
                "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, 'consdb-bot-run-')"
                " AND wait_event_type = 'Lock'"
            ),
            lambda rows: rows == [(1,)],
        )
        bot.kill()
        bot.communicate()
    finally:
        holder.rollback()
        holder.close()
    assert versions(two_replicas.usdf_int) == [COLUMN_ADDED]
    assert two_replicas.enabled() == {"usdf-int": False, "usdf-prod": False}

    again = consdb_bot(*two_replicas.args())
    assert f"usdf-prod: replica migrated (latiss at {COLUMN_ADDED} (succeeded))" in again.out, again.text
    assert "usdf-prod: replication verified" in again.out
    assert recorded_step(two_replicas.config)[1] == "verified"
    assert versions(pair.summit) == versions(pair.usdf) == versions(two_replicas.usdf_int) == [COLUMN_ADDED]
    assert two_replicas.enabled() == {"usdf-int": True, "usdf-prod": True}


def test_a_bot_killed_between_pausing_two_replicas_pauses_the_second_before_the_summit_migrates(
    consdb_bot: Callable[..., Result], two_replicas: TwoReplicas
):
    """kill -9 while disabling usdf-prod's subscription waits on someone's lock, usdf-int's disabled: the
    rollout goes on by disabling usdf-prod's too, never by migrating the Summit while it replicates."""
    pair = two_replicas.pair
    holder = pair.usdf()
    holder.autocommit = False
    holder.execute(sql.SQL("ALTER SUBSCRIPTION {} SET (synchronous_commit = off)").format(sql.Identifier(SUBSCRIPTION)))
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", *two_replicas.args()], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(
            "disabling usdf-prod's subscription to wait on the lock",
            lambda: pair.at_usdf(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'consdb-bot replication'"
                " AND wait_event_type = 'Lock'"
            ),
            lambda rows: rows == [(1,)],
        )
        bot.kill()
        bot.communicate()
        # Its server ends the session of the dead bot (as client_connection_check_interval would).
        pair.at_usdf(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'consdb-bot replication'"
        )
    finally:
        holder.rollback()
        holder.close()
    assert two_replicas.enabled() == {"usdf-int": False, "usdf-prod": True}

    again = consdb_bot(*two_replicas.args())
    assert f"usdf-prod: subscription disabled (subscription {SUBSCRIPTION})" in again.out, again.text
    assert again.out.index("usdf-prod: subscription disabled") < again.out.index("summit: Summit migrated")
    assert "usdf-prod: replication verified" in again.out
    assert versions(pair.summit) == versions(pair.usdf) == versions(two_replicas.usdf_int) == [COLUMN_ADDED]
    assert two_replicas.enabled() == {"usdf-int": True, "usdf-prod": True}


def tree_with_a_new_head(root: Path) -> Path:
    """The rollout's tree with a fourth revision above its head (adds exposure.airmass); its alembic.ini."""
    versions_dir = root / "alembic" / "latiss" / "versions"
    versions_dir.mkdir(parents=True)
    (root / "alembic.ini").write_text((TREE / "alembic.ini").read_text())
    shared = TREES / "consdb_style" / "alembic"
    for name in ("env.py", "script.py.mako"):
        (versions_dir.parent / name).symlink_to((shared / name).resolve())
    for script in (TREE / "alembic" / "latiss" / "versions").glob("*.py"):
        (versions_dir / script.name).write_text(script.read_text())
    (versions_dir / "r00000000004_rev.py").write_text(
        '"""Add exposure.airmass"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "r00000000004"\ndown_revision = "r00000000003"\n\n\n'
        "def upgrade():\n"
        '    op.add_column("exposure", sa.Column("airmass", sa.Float), schema="cdb_latiss")\n\n\n'
        "def downgrade():\n"
        '    op.drop_column("exposure", "airmass", schema="cdb_latiss")\n'
    )
    return root / "alembic.ini"


def test_a_stuck_rollout_names_a_way_on_that_still_finishes_it_once_the_trees_head_has_moved(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair, tmp_path: Path
):
    stuck_at_the_replica(consdb_bot, rollout_config, replica)
    moved = tree_with_a_new_head(tmp_path / "tree")  # the bot is deployed with a newer tree meanwhile
    rollout_config.write_text(rollout_config.read_text().replace(str(TREE / "alembic.ini"), str(moved)))
    with replica.usdf() as usdf:
        usdf.execute("DROP TABLE cdb_latiss.exposure_flexdata")
    config = ("--config", str(rollout_config))
    to_head = consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", *config)
    assert to_head.code == 1
    way = f"`rollout latiss --to {COLUMN_ADDED} --ticket OSW-123`"
    assert f"Either finish it: {way}" in to_head.err
    finished = consdb_bot(*way.strip("`").split(), "--yes", *config)
    assert finished.code == 0, finished.text
    assert "usdf-prod: replication verified" in finished.out
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]
    assert enabled(replica)


def test_ctrl_c_during_the_summit_migration_says_the_subscription_stays_disabled_and_the_rollout_goes_on_later(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    holder = replica.summit()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS SHARE MODE")
    args = ["rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)]
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(
            "the Summit's migration to wait on the lock",
            lambda: _rows(
                replica.summit,
                "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, 'consdb-bot-run-')"
                " AND wait_event_type = 'Lock'",
            ),
            lambda rows: rows == [(1,)],
        )
        bot.send_signal(signal.SIGINT)
        out, err = bot.communicate(timeout=60)
    finally:
        holder.rollback()
        holder.close()
    assert bot.returncode == 1, out + err
    assert "recorded as interrupted" not in err  # a rollout is not: it goes on
    assert (
        "rollout #1 was stopped after 'subscription disabled' and is not over: it goes on from there at the next"
        " change run with --yes here, or when the bot starts; `status` shows the subscription meanwhile" in err
    )
    assert versions(replica.summit) == [FIRST]  # its migration rolled back
    assert not enabled(replica)
    again = consdb_bot(*args)
    assert "it goes on after 'subscription disabled'" in again.out
    assert "usdf-prod: replication verified" in again.out
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]


def test_a_rollout_whose_verification_fails_says_the_subscription_is_enabled_and_what_stops_the_marker(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    """The marker table at USDF made by hand with a column the Summit's lacks: its first copy never ends, so the
    marker never arrives. Both sides are migrated and the subscription runs again: nothing is held, and the ways
    on a stuck rollout (which would find nothing to do) are not offered."""
    rollout_config.write_text(rollout_config.read_text().replace("verify_seconds: 30", "verify_seconds: 2"))
    with replica.usdf() as usdf:
        usdf.execute(
            "CREATE TABLE cdb.replication_marker (subscription text PRIMARY KEY, token text NOT NULL,"
            " written_at timestamptz NOT NULL DEFAULT now(), site text NOT NULL)"
        )
    result = consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config))
    assert result.code == 1, result.text
    assert "usdf-prod: subscription enabled and refreshed" in result.out
    assert "it stopped: a marker row written at summit did not arrive at usdf-prod within 2 s" in result.out
    assert re.search(r"within 2 s\n  (Subscription usdf_exposurelog|The worker runs)", result.out)  # and why
    assert "subscription usdf_exposurelog at usdf-prod is enabled: nothing is held" in result.out
    assert "stays disabled" not in result.out
    assert "Either finish it" not in result.out
    assert enabled(replica)
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]


def publish_all_tables(replica: ReplicaPair) -> None:
    """The Summit's publication made FOR ALL TABLES, the replica's subscription taking it up as it is (both sides
    hold the same rows already)."""
    with replica.summit() as summit:
        summit.execute(sql.SQL("DROP PUBLICATION {}").format(sql.Identifier(PUBLICATION)))
        summit.execute(sql.SQL("CREATE PUBLICATION {} FOR ALL TABLES").format(sql.Identifier(PUBLICATION)))
    with replica.usdf() as usdf:
        usdf.execute(
            sql.SQL("ALTER SUBSCRIPTION {} REFRESH PUBLICATION WITH (copy_data = false)").format(
                sql.Identifier(SUBSCRIPTION)
            )
        )
    replica.wait_until_replicating()


def test_a_publication_for_all_tables_is_verified_by_the_marker_and_its_summit_can_be_taken_back(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    publish_all_tables(replica)
    stuck_at_the_replica(consdb_bot, rollout_config, replica)
    back = consdb_bot(
        "rollout", "latiss", "--to", FIRST, "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)
    )
    assert back.code == 0, back.text
    assert f"summit: Summit migrated (latiss at {FIRST} (succeeded))" in back.out
    assert "usdf-prod: replication verified (a marker row written at summit arrived in" in back.out
    assert versions(replica.summit) == versions(replica.usdf) == [FIRST]
    assert enabled(replica)
    insert(replica, range(1, 3), seeing=False)
    replica.wait_at_usdf("SELECT id FROM cdb_latiss.exposure ORDER BY id", [(1,), (2,)])


class _Silent:
    """An announcer for a watch that is not due to alert yet."""

    def replica_alert(self, alert: ReplicaAlert) -> None:
        raise AssertionError(f"not due yet: {alert}")


def test_a_rollout_approved_after_someone_disabled_the_subscription_is_refused_and_leaves_it_disabled(
    rollout_bot: BotProcess, slack: FakeSlack, replica: ReplicaPair
):
    """Asked while replication ran; then someone disables the subscription at USDF (a DBA looking into a
    problem), and the bot's replica watch sees it; then it is approved. The run checks again: it neither
    migrates anything nor enables the subscription that person disabled."""
    ts = request_rollout(rollout_bot, slack)
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(sql.Identifier(SUBSCRIPTION)))
    settings = load_settings(rollout_bot.config)
    store = Store(settings.state_url, clock=lambda: datetime.now(UTC))
    ReplicaWatch(settings, store, _Silent(), clock=lambda: datetime.now(UTC)).watch("usdf-prod")
    assert disabling(store, "usdf-prod") is not None  # seen disabled, by no one the bot knows

    approve(rollout_bot, APPROVER_2, ts, "EvFirst")
    approve(rollout_bot, DBA, ts, "EvSecond")
    failed = request_state(slack, 1, "failed", kind="Rollout")
    assert "replication is not running as it must before a rollout" in blocks_of(failed)
    assert f"usdf-prod: subscription {SUBSCRIPTION} is disabled" in blocks_of(failed)
    assert versions(replica.summit) == versions(replica.usdf) == [FIRST]
    assert not enabled(replica)


def test_a_rollout_going_on_after_a_kill_ends_the_dead_runs_session_at_the_replica_first(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    """kill -9 while the replica's migration waits on a lock that stays held: the dead run's session at USDF
    still waits there, its transaction open. Going on, the bot ends it first (as it does at the Summit), so
    the resumed migration does not queue behind a ghost holding its half-made changes until the lock goes."""
    rollout_config.write_text(
        rollout_config.read_text().replace(
            "connect_timeout_seconds: 2", "connect_timeout_seconds: 2, lock_timeout: 10min"
        )
    )
    holder = replica.usdf()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS SHARE MODE")
    args = ["rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)]

    def waiting(name: str | None = None) -> list[tuple[object, ...]]:
        return replica.at_usdf(
            "SELECT application_name FROM pg_stat_activity WHERE starts_with(application_name, 'consdb-bot-run-')"
            " AND wait_event_type = 'Lock' AND (%s::text IS NULL OR application_name = %s)",
            (name, name),
        )

    try:
        bot = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=REPO, stdout=subprocess.PIPE, text=True)
        [(dead,)] = wait_for("the replica's migration to wait on the lock", waiting, lambda rows: len(rows) == 1)
        bot.kill()
        bot.communicate()
        results: list[Result] = []
        again = threading.Thread(target=lambda: results.append(consdb_bot(*args)))
        again.start()
        resumed = wait_for(
            "the resumed migration to wait on the lock", waiting, lambda rows: any(row != (dead,) for row in rows)
        )
        assert (dead,) not in resumed
    finally:
        holder.rollback()
        holder.close()
    again.join()
    assert "usdf-prod: replication verified" in results[0].out, results[0].text
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]


def test_a_rollout_approved_after_the_replica_was_migrated_by_hand_changes_nothing(
    rollout_bot: BotProcess, slack: FakeSlack, replica: ReplicaPair
):
    """Asked with both sides at the first revision; then someone runs Alembic at USDF by hand; then it is
    approved. The run checks both sides before it pauses anything: the Summit is not migrated and the
    subscription not disabled for a rollout that would stop at the replica."""
    ts = request_rollout(rollout_bot, slack)
    with replica.usdf() as usdf:
        usdf.execute("UPDATE cdb.cdb_latiss_version SET version_num = %s", (TABLE_MADE,))
    approve(rollout_bot, APPROVER_2, ts, "EvFirst")
    approve(rollout_bot, DBA, ts, "EvSecond")
    failed = request_state(slack, 1, "failed", kind="Rollout")
    assert f"usdf-prod: latiss is {TABLE_MADE} (1 behind), neither the rollout's start nor its target" in blocks_of(
        failed
    )
    assert "Nothing was changed" in blocks_of(failed)
    assert versions(replica.summit) == [FIRST]
    assert enabled(replica)


def test_a_summit_that_refuses_its_migration_before_it_begins_gets_its_subscription_back_at_once(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    """Someone else's run holds the Summit's latiss lock: nothing is migrated there, so the subscription
    paused for it is enabled again at once, as after a Summit migration rolled back; nothing stays held."""
    with replica.summit() as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", lock_key("cdb_latiss"))
        result = consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config))
    assert result.code == 1, result.text
    assert "summit: Summit migration failed, rolled back; subscription enabled again" in result.out
    assert "cdb_latiss at summit is being changed by" in result.out
    assert "stays disabled" not in result.out
    assert enabled(replica)
    assert versions(replica.summit) == versions(replica.usdf) == [FIRST]
    again = consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config))
    assert again.code == 0, again.text  # nothing holds the Summit


def test_taking_the_summit_back_that_fails_keeps_the_subscription_disabled_while_the_sides_differ(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    """Stuck with the Summit migrated and usdf-prod not; taking the Summit back fails and is rolled back:
    the Summit is still ahead of its replica, so enabling the subscription would stop replication."""
    stuck_at_the_replica(consdb_bot, rollout_config, replica)
    with replica.summit() as summit:  # in the way of the downgrade at the Summit alone
        summit.execute("CREATE VIEW cdb_latiss.seeing AS SELECT id, seeing FROM cdb_latiss.exposure")
    back = consdb_bot(
        "rollout", "latiss", "--to", FIRST, "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)
    )
    assert back.code == 1, back.text
    assert f"latiss at {COLUMN_ADDED} (failed)" in back.out
    assert "subscription enabled again" not in back.out
    assert "subscription usdf_exposurelog at usdf-prod stays disabled" in back.out
    assert not enabled(replica)
    assert versions(replica.summit) == [COLUMN_ADDED]
    assert versions(replica.usdf) == [FIRST]
    held = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(rollout_config))
    assert held.code == 1
    assert "usdf-prod is held by rollout #1" in held.err  # and its ways on


@pytest.mark.slow
def test_a_subscription_whose_worker_outlives_its_disable_is_held_by_the_rollout_that_disabled_it(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    """A long query at USDF holds a lock the apply worker waits on: disabled, the worker runs on past the
    bot's wait (30 s), and the rollout stops. The subscription it disabled is still the rollout's: the
    rollout holds both sides, and finishing it is a way on that the bot takes."""
    holder = replica.usdf()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS EXCLUSIVE MODE")
    try:
        insert(replica, range(1, 2), seeing=False)  # the apply worker waits on the lock to write it
        wait_for(
            "the apply worker to wait on the lock",
            lambda: pair_waits(replica),
            lambda rows: rows == [(1,)],
        )
        stopped = consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config))
    finally:
        holder.rollback()
        holder.close()
    assert stopped.code == 1, stopped.text
    assert "is disabled, but its worker" in stopped.out, stopped.text
    assert versions(replica.summit) == [FIRST]
    held = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(rollout_config))
    assert "usdf-prod is held by rollout #1" in held.err
    finished = consdb_bot(
        "rollout", "latiss", "--to", COLUMN_ADDED, "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)
    )
    assert finished.code == 0, finished.text
    assert enabled(replica)
    replica.wait_at_usdf("SELECT id FROM cdb_latiss.exposure", [(1,)])


def pair_waits(replica: ReplicaPair) -> list[tuple[object, ...]]:
    """The subscription's workers at USDF that wait on a lock."""
    return replica.at_usdf(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication worker'"
        " AND wait_event_type = 'Lock'"
    )


def test_a_bot_killed_after_a_rollout_stopped_but_before_it_was_settled_settles_it_with_the_ways_on(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    """The bot recorded that the replica's migration failed, then died before the request was settled (while
    telling Slack, say): the request is running, its runner gone (set so here, that moment being too short
    to kill it in). The next start (here: the next change in a terminal) settles it as it would have been,
    stuck with its ways on, and takes no step again."""
    stuck_at_the_replica(consdb_bot, rollout_config, replica)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with sqlite3.connect(rollout_config.parent / "state.sqlite3") as state:
        state.execute(
            "UPDATE change_requests SET state = 'running', runner = ?, finished_at = NULL",
            (f"{socket.gethostname()}:{gone.stdout.strip()}",),
        )
    held = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(rollout_config))
    assert "usdf-prod is held by rollout #1, which stopped with its subscription disabled" in held.err
    assert "the bot failed" not in held.err
    assert "Either finish it" in held.err
    with sqlite3.connect(rollout_config.parent / "state.sqlite3") as state:
        settled = state.execute("SELECT state, step, note FROM change_requests WHERE id = 1").fetchone()
    assert settled[:2] == ("failed", "replica-failed")
    assert "Either finish it" in settled[2]
    assert not enabled(replica)
    assert versions(replica.usdf) == [FIRST]


def kill_when_waiting(args: list[str], connect: Callable[[], psycopg.Connection], application: str) -> None:
    """Start the terminal's rollout, and kill -9 it once a session of ``application`` waits on a lock there."""
    bot = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=REPO, stdout=subprocess.PIPE, text=True)
    wait_for(
        f"{application} to wait on the lock",
        lambda: _rows(
            connect,
            "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, %s)"
            " AND wait_event_type = 'Lock'",
            (application,),
        ),
        lambda rows: rows == [(1,)],
    )
    bot.kill()
    bot.communicate()


def test_a_bot_killed_during_the_summit_migration_goes_on_from_the_pause(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    args = ["rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)]
    holder = replica.summit()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS SHARE MODE")
    try:
        kill_when_waiting(args, replica.summit, "consdb-bot-run-")
    finally:
        holder.rollback()
        holder.close()
    assert recorded_step(rollout_config)[1] == "paused"
    assert not enabled(replica)
    again = consdb_bot(*args)
    assert "it goes on after 'subscription disabled'" in again.out
    assert f"summit: Summit migrated (latiss at {COLUMN_ADDED} (succeeded))" in again.out
    assert "usdf-prod: replication verified" in again.out
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]


def test_a_bot_killed_after_the_resume_before_the_marker_arrived_verifies_when_it_goes_on(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair
):
    """The marker table published and subscribed before, as an earlier rollout leaves it; writing the marker
    row at the Summit waits on a lock there, and the bot is killed then."""
    marker = (
        "CREATE TABLE cdb.replication_marker (subscription text PRIMARY KEY, token text NOT NULL,"
        " written_at timestamptz NOT NULL DEFAULT now())"
    )
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            db.execute(marker)
    with replica.summit() as summit:
        summit.execute(
            sql.SQL("ALTER PUBLICATION {} ADD TABLE cdb.replication_marker").format(sql.Identifier(PUBLICATION))
        )
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} REFRESH PUBLICATION").format(sql.Identifier(SUBSCRIPTION)))
    replica.wait_until_replicating()
    args = ["rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)]
    holder = replica.summit()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb.replication_marker IN SHARE MODE")
    try:
        kill_when_waiting(args, replica.summit, "consdb-bot replication")
    finally:
        holder.rollback()
        holder.close()
    assert recorded_step(rollout_config)[1] == "resumed"
    assert enabled(replica)
    again = consdb_bot(*args)
    assert "it goes on after 'subscription enabled and refreshed'" in again.out
    assert "usdf-prod: replication verified" in again.out
    assert recorded_step(rollout_config)[1] == "verified"


L1, L2 = "l00000000001", "l00000000002"


def two_schema_tree(root: Path) -> Path:
    """The rollout's tree with lsstcam beside latiss: cdb_lsstcam.exposure as the replica pair has it, then a
    revision that makes cdb_lsstcam.exposure_quicklook, and fails where a table public.hold_lsstcam exists;
    its alembic.ini."""
    ini = (TREE / "alembic.ini").read_text()
    section = "[lsstcam]\nscript_location = alembic/lsstcam\nconsdb.schema_name = cdb_lsstcam\n\n"
    root.mkdir()
    (root / "alembic.ini").write_text(ini.replace("[loggers]", section + "[loggers]"))
    shared = TREES / "consdb_style" / "alembic"
    for schema in ("latiss", "lsstcam"):
        (root / "alembic" / schema / "versions").mkdir(parents=True)
        for name in ("env.py", "script.py.mako"):
            (root / "alembic" / schema / name).symlink_to((shared / name).resolve())
    for script in (TREE / "alembic" / "latiss" / "versions").glob("*.py"):
        (root / "alembic" / "latiss" / "versions" / script.name).write_text(script.read_text())
    revisions = {
        L1: (None, "CREATE TABLE IF NOT EXISTS cdb_lsstcam.exposure (id bigint PRIMARY KEY, note text)",
             "DROP TABLE cdb_lsstcam.exposure"),
        L2: (L1, "DO $$ BEGIN IF to_regclass('public.hold_lsstcam') IS NOT NULL THEN RAISE 'held'; END IF; END $$;"
                 " CREATE TABLE cdb_lsstcam.exposure_quicklook (id bigint PRIMARY KEY)",
             "DROP TABLE cdb_lsstcam.exposure_quicklook"),
    }  # fmt: skip
    for revision, (down, up_sql, down_sql) in revisions.items():
        (root / "alembic" / "lsstcam" / "versions" / f"{revision}_rev.py").write_text(
            f'"""{revision}"""\n\nfrom alembic import op\n\n'
            f"revision = {revision!r}\ndown_revision = {down!r}\n\n\n"
            f"def upgrade():\n    op.execute({up_sql!r})\n\n\ndef downgrade():\n    op.execute({down_sql!r})\n"
        )
    return root / "alembic.ini"


def test_a_two_schema_rollout_halted_at_the_summit_stays_paused_and_finishing_it_migrates_the_rest(
    consdb_bot: Callable[..., Result], rollout_config: Path, replica: ReplicaPair, tmp_path: Path
):
    """latiss and lsstcam: latiss's Summit migration commits, lsstcam's fails there. The Summit is half
    migrated, so the subscription stays disabled; finishing it migrates lsstcam at the Summit, publishes
    what both made, and migrates both at the replica."""
    ini = two_schema_tree(tmp_path / "tree")
    text = rollout_config.read_text().replace(str(TREE / "alembic.ini"), str(ini))
    rollout_config.write_text(text.replace("schemas: [latiss]", "schemas: [latiss, lsstcam]"))
    replica.create_table("cdb_lsstcam", "exposure")
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            db.execute("CREATE TABLE cdb.cdb_lsstcam_version (version_num varchar(32) PRIMARY KEY)")
            db.execute("INSERT INTO cdb.cdb_lsstcam_version VALUES (%s)", (L1,))
    with replica.summit() as summit:
        summit.execute(
            sql.SQL("ALTER PUBLICATION {} ADD TABLE cdb_lsstcam.exposure").format(sql.Identifier(PUBLICATION))
        )
        summit.execute("CREATE TABLE public.hold_lsstcam ()")  # lsstcam's second revision fails there
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} REFRESH PUBLICATION").format(sql.Identifier(SUBSCRIPTION)))
    replica.wait_until_replicating()
    config = ("--ticket", "OSW-123", "--yes", "--config", str(rollout_config))

    halted = consdb_bot("rollout", "latiss", "lsstcam", *config)
    assert halted.code == 1, halted.text
    assert "summit: Summit migration failed half way; the subscription stays disabled" in halted.out
    assert f"summit: latiss at {COLUMN_ADDED} (succeeded); lsstcam at {L1} (failed)" in halted.out
    assert "Either finish it: `rollout latiss lsstcam --ticket OSW-123`" in halted.out
    assert not enabled(replica)
    held = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(rollout_config))
    assert "usdf-prod is held by rollout #1" in held.err

    with replica.summit() as summit:
        summit.execute("DROP TABLE public.hold_lsstcam")
    finished = consdb_bot("rollout", "latiss", "lsstcam", *config)
    assert finished.code == 0, finished.text
    assert f"summit: Summit migrated (lsstcam at {L2} (succeeded))" in finished.out
    assert "added cdb_latiss.exposure_flexdata, cdb_lsstcam.exposure_quicklook" in finished.out
    assert "usdf-prod: replication verified" in finished.out
    assert versions(replica.usdf) == [COLUMN_ADDED]
    assert replica.at_usdf("SELECT version_num FROM cdb.cdb_lsstcam_version") == [(L2,)]
    assert enabled(replica)
