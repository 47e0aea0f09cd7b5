"""`rollout` from the terminal, on a real Summit → USDF logical replica: the subscription paused, both
sides migrated, the new table published, the subscription resumed and refreshed, and every row the
Summit wrote before, during and after the pause at USDF, with the new column, once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION
from bot.store import Store
from bot.store.models import ChangeRequest, RequestState
from tests.conftest import EXTERNAL_TREE, REPO, TREES, Result
from tests.support.replica import ReplicaPair, wait_for

TREE = TREES / "replica_style"
FIRST, TABLE_MADE, COLUMN_ADDED = "r00000000001", "r00000000002", "r00000000003"


@pytest.fixture
def rollout_config(tmp_path: Path, replica: ReplicaPair, monkeypatch: pytest.MonkeyPatch) -> Path:
    """summit and usdf-prod on the replica pair, both at the tree's first revision; usdf-int, a replica
    with no database URL here."""
    monkeypatch.setenv("SUMMIT_DATABASE_URL", replica.summit_url)
    monkeypatch.setenv("USDF_PROD_DATABASE_URL", replica.usdf_url)
    monkeypatch.delenv("USDF_INT_DATABASE_URL", raising=False)
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            db.execute("CREATE SCHEMA cdb")
            db.execute("CREATE TABLE cdb.cdb_latiss_version (version_num varchar(32) PRIMARY KEY)")
            db.execute("INSERT INTO cdb.cdb_latiss_version VALUES (%s)", (FIRST,))
    replicated = "subscription: usdf_exposurelog, publication: usdfpub"
    path = tmp_path / "consdb-bot.yaml"
    path.write_text(
        f"state_url: sqlite:///{tmp_path / 'state.sqlite3'}\n"
        f"migrations: {{alembic_ini: {TREE / 'alembic.ini'}, sdm_schemas: {EXTERNAL_TREE}, connect_timeout_seconds: 2}}\n"
        "schemas: [latiss]\n"
        "environments:\n"
        "  summit:\n"
        "    database_url: ${SUMMIT_DATABASE_URL}\n"
        "    approvals: {required: 1, approvers: [U0APPROVE1]}\n"
        "  usdf-prod:\n"
        "    database_url: ${USDF_PROD_DATABASE_URL}\n"
        "    approvals: {required: 2, approvers: [U0APPROVE1, U0APPROVE2]}\n"
        f"    replica: {{of: summit, {replicated}, verify_seconds: 30}}\n"
        "  usdf-int:\n"
        "    database_url: ${USDF_INT_DATABASE_URL}\n"
        f"    replica: {{of: summit, {replicated}}}\n"
    )
    return path


def rollout(consdb_bot: Callable[..., Result], config: Path) -> Result:
    return consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(config))


def versions(connect: Callable[[], psycopg.Connection]) -> list[str]:
    with connect() as db:
        return [row[0] for row in db.execute("SELECT version_num FROM cdb.cdb_latiss_version")]


def enabled(replica: ReplicaPair) -> bool:
    return bool(replica.at_usdf("SELECT subenabled FROM pg_subscription WHERE subname = %s", (SUBSCRIPTION,))[0][0])


def recorded_step(config: Path) -> tuple[str, str, int]:
    with sqlite3.connect(config.parent / "state.sqlite3") as state:
        kind, step, required = state.execute("SELECT kind, step, required_approvals FROM change_requests").fetchone()
    return kind, step, required


def insert(replica: ReplicaPair, ids: range, *, seeing: bool) -> None:
    with replica.summit() as summit:
        for id_ in ids:
            if seeing:
                summit.execute(
                    "INSERT INTO cdb_latiss.exposure (id, note, seeing) VALUES (%s, %s, %s)",
                    (id_, f"row {id_}", id_ / 10),
                )
            else:
                summit.execute("INSERT INTO cdb_latiss.exposure (id, note) VALUES (%s, %s)", (id_, f"row {id_}"))


@pytest.mark.slow
def test_rollout_pauses_migrates_both_publishes_resumes_and_loses_nothing(consdb_bot, rollout_config, replica):
    insert(replica, range(1, 4), seeing=False)
    replica.wait_at_usdf("SELECT count(*) FROM cdb_latiss.exposure", [(3,)])
    # The replica's migration waits for this lock: while it is held the subscription is paused and the
    # Summit migrated, so rows written then are written during the pause, with the new column.
    holder = replica.usdf()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS SHARE MODE")
    paused: list[bool] = []

    def write_while_paused() -> None:
        try:
            with replica.summit() as summit:
                query = (
                    "SELECT count(*) FROM information_schema.columns"
                    " WHERE table_schema = 'cdb_latiss' AND table_name = 'exposure' AND column_name = 'seeing'"
                )
                wait_for("the Summit's new column", lambda: summit.execute(query).fetchone(), lambda row: row == (1,))
            insert(replica, range(4, 7), seeing=True)
            paused.append(not enabled(replica))
        finally:
            holder.rollback()

    writer = threading.Thread(target=write_while_paused)
    writer.start()
    result = rollout(consdb_bot, rollout_config)
    writer.join()
    holder.close()
    assert result.code == 0, result.text
    assert paused == [True]
    for said in (
        "usdf-prod: subscription disabled (subscription usdf_exposurelog)",
        f"summit: Summit migrated (latiss at {COLUMN_ADDED} (succeeded))",
        f"summit: publication updated (publication {PUBLICATION}: added cdb_latiss.exposure_flexdata)",
        f"usdf-prod: replica migrated (latiss at {COLUMN_ADDED} (succeeded))",
        "usdf-prod: subscription enabled and refreshed",
        "usdf-prod: replication verified (a marker row written at summit arrived in",
        "usdf-int: skipped, not configured here (set USDF_INT_DATABASE_URL)",
    ):
        assert said in result.out
    assert " s]" in result.out  # each step with its time
    assert "summit latiss: upgrade" in result.out
    assert "usdf-prod latiss: upgrade" in result.out
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]
    assert recorded_step(rollout_config) == ("rollout", "verified", 2)  # usdf-prod's approvals, the strictest
    with sqlite3.connect(rollout_config.parent / "state.sqlite3") as state:  # for `check data` to look at
        assert "seeing" in state.execute("SELECT added_columns FROM change_requests").fetchone()[0]
    insert(replica, range(7, 10), seeing=True)
    expected = [(i, f"row {i}", None if i < 4 else i / 10) for i in range(1, 10)]
    replica.wait_at_usdf("SELECT id, note, seeing FROM cdb_latiss.exposure ORDER BY id", expected)
    published = replica.at_usdf(
        "SELECT count(*) FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid"
        " WHERE s.subname = %s AND r.srrelid = 'cdb_latiss.exposure_flexdata'::regclass",
        (SUBSCRIPTION,),
    )
    assert published == [(1,)]
    errors = replica.at_usdf(
        "SELECT apply_error_count FROM pg_stat_subscription_stats WHERE subname = %s", (SUBSCRIPTION,)
    )
    assert errors == [(0,)]


def test_a_summit_migration_that_fails_is_rolled_back_and_replication_resumes(consdb_bot, rollout_config, replica):
    with replica.summit() as summit:  # the table the second revision makes is in its way at the Summit alone
        summit.execute("CREATE TABLE cdb_latiss.exposure_flexdata (id bigint PRIMARY KEY)")
    result = rollout(consdb_bot, rollout_config)
    assert result.code == 1, result.text
    assert "summit: Summit migration failed, rolled back; subscription enabled again" in result.out
    assert f"latiss at {FIRST} (failed)" in result.out
    assert versions(replica.summit) == versions(replica.usdf) == [FIRST]
    assert enabled(replica)
    assert recorded_step(rollout_config)[1] == "summit-failed"
    insert(replica, range(1, 2), seeing=False)
    replica.wait_at_usdf("SELECT id FROM cdb_latiss.exposure", [(1,)])


def stuck_at_the_replica(consdb_bot: Callable[..., Result], config: Path, replica: ReplicaPair) -> Result:
    """A rollout whose replica migration fails: a table in its way at the replica alone."""
    with replica.usdf() as usdf:
        usdf.execute("CREATE TABLE cdb_latiss.exposure_flexdata (id bigint PRIMARY KEY)")
    result = rollout(consdb_bot, config)
    assert result.code == 1, result.text
    return result


def test_a_replica_migration_that_fails_keeps_the_subscription_disabled_and_says_the_ways_on(
    consdb_bot, rollout_config, replica
):
    result = stuck_at_the_replica(consdb_bot, rollout_config, replica)
    assert "usdf-prod: replica migration failed; the subscription stays disabled" in result.out
    assert f"summit: latiss at {COLUMN_ADDED} (succeeded)" in result.out
    assert f"usdf-prod: latiss at {FIRST} (failed)" in result.out
    assert "subscription usdf_exposurelog at usdf-prod stays disabled" in result.out
    assert f"Either finish it: `rollout latiss --to {COLUMN_ADDED} --ticket OSW-123`" in result.out
    assert f"or take the Summit back: `rollout latiss --to {FIRST} --ticket OSW-123`" in result.out
    assert versions(replica.summit) == [COLUMN_ADDED]
    assert versions(replica.usdf) == [FIRST]
    assert not enabled(replica)
    assert recorded_step(rollout_config)[1] == "replica-failed"
    config = ("--config", str(rollout_config))
    for elsewhere in ("summit", "usdf-prod"):  # nothing but a way on touches either side meanwhile
        held = consdb_bot("upgrade", elsewhere, "latiss", "--ticket", "OSW-123", "--yes", *config)
        assert held.code == 1, held.text
        assert f"{elsewhere} is held by rollout #1, which stopped with its subscription disabled" in held.err
        assert f"Either finish it: `rollout latiss --to {COLUMN_ADDED} --ticket OSW-123`" in held.err
    other = consdb_bot("rollout", "latiss", "--to", TABLE_MADE, "--ticket", "OSW-123", "--yes", *config)
    assert other.code == 1
    assert "a rollout now either finishes it or takes the Summit back" in other.err


def test_finishing_a_stuck_rollout_migrates_the_replica_and_resumes_replication(consdb_bot, rollout_config, replica):
    stuck_at_the_replica(consdb_bot, rollout_config, replica)
    insert(replica, range(1, 4), seeing=True)  # written while the subscription is disabled
    with replica.usdf() as usdf:
        usdf.execute("DROP TABLE cdb_latiss.exposure_flexdata")
    finished = rollout(consdb_bot, rollout_config)
    assert finished.code == 0, finished.text
    for said in (
        "usdf-prod: subscription disabled (subscription usdf_exposurelog (it was disabled already))",
        f"summit: Summit migrated (already at latiss {COLUMN_ADDED})",
        f"usdf-prod: replica migrated (latiss at {COLUMN_ADDED} (succeeded))",
        "usdf-prod: replication verified",
    ):
        assert said in finished.out
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]
    assert enabled(replica)
    replica.wait_at_usdf("SELECT id, seeing FROM cdb_latiss.exposure ORDER BY id", [(i, i / 10) for i in range(1, 4)])
    assert consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(rollout_config)).code == 0


def test_taking_the_summit_back_after_a_stuck_rollout_resumes_replication(consdb_bot, rollout_config, replica):
    stuck_at_the_replica(consdb_bot, rollout_config, replica)
    back = consdb_bot(
        "rollout", "latiss", "--to", FIRST, "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)
    )
    assert back.code == 0, back.text
    assert f"summit: Summit migrated (latiss at {FIRST} (succeeded))" in back.out
    assert "publication updated (publication usdfpub: cdb_latiss.exposure_flexdata dropped" in back.out
    assert f"usdf-prod: replica migrated (already at latiss {FIRST})" in back.out
    assert versions(replica.summit) == versions(replica.usdf) == [FIRST]
    assert enabled(replica)
    insert(replica, range(1, 3), seeing=False)
    replica.wait_at_usdf("SELECT id FROM cdb_latiss.exposure ORDER BY id", [(1,), (2,)])


def test_a_rollout_is_refused_while_the_subscription_is_disabled_or_the_sides_differ(
    consdb_bot, rollout_config, replica
):
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(sql.Identifier(SUBSCRIPTION)))
    refused = rollout(consdb_bot, rollout_config)
    assert refused.code == 1
    assert "usdf-prod: subscription usdf_exposurelog is disabled" in refused.err
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} ENABLE").format(sql.Identifier(SUBSCRIPTION)))
        usdf.execute("UPDATE cdb.cdb_latiss_version SET version_num = %s", (TABLE_MADE,))
    apart = rollout(consdb_bot, rollout_config)
    assert apart.code == 1
    assert "the Summit and its replica are not at the same revisions" in apart.err
    assert versions(replica.summit) == [FIRST]


def test_a_rollout_whose_bot_was_killed_goes_on_from_its_last_step(rollout_config, replica, consdb_bot):
    """kill -9 while the replica's migration waits on a lock: the next start ends the dead run's session
    and goes on after the last recorded step (the publication updated), and nothing is lost."""
    insert(replica, range(1, 3), seeing=False)
    holder = replica.usdf()
    holder.autocommit = False
    holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS SHARE MODE")
    args = ["rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config)]
    bot = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        wait_for(
            "the replica's migration to wait on the lock",
            lambda: replica.at_usdf(
                "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, 'consdb-bot-run-')"
                " AND wait_event_type = 'Lock'"
            ),
            lambda rows: rows == [(1,)],
        )
        insert(replica, range(3, 5), seeing=True)  # the Summit is migrated; the subscription is disabled
        bot.kill()
        bot.communicate()
    finally:
        holder.rollback()
        holder.close()
    assert recorded_step(rollout_config)[1] == "published"
    assert not enabled(replica)
    # The next command that changes anything settles what a dead terminal left open first.
    again = consdb_bot(*args)
    assert "the bot stopped while this rollout ran; it goes on after 'publication updated'" in again.out
    assert f"usdf-prod: replica migrated (latiss at {COLUMN_ADDED} (succeeded))" in again.out
    assert "usdf-prod: replication verified" in again.out
    assert "nothing to do at summit" in again.err
    assert recorded_step(rollout_config)[1] == "verified"
    assert versions(replica.summit) == versions(replica.usdf) == [COLUMN_ADDED]
    expected = [(i, None if i < 3 else i / 10) for i in range(1, 5)]
    replica.wait_at_usdf("SELECT id, seeing FROM cdb_latiss.exposure ORDER BY id", expected)
    audit = consdb_bot("audit", "--config", str(rollout_config)).out
    assert "#1 the bot stopped while this rollout ran; it goes on after 'publication updated'" in audit


def test_a_replica_takes_no_other_change_while_a_rollout_that_touches_it_is_open(consdb_bot, rollout_config, replica):
    asked, expires = datetime(2026, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)  # open whatever the day
    store = Store(f"sqlite:///{rollout_config.parent / 'state.sqlite3'}", clock=lambda: asked)
    store.upgrade()
    store.add_request(
        ChangeRequest(
            kind="rollout", environment="summit", schemas=["latiss"], target=None, options={}, ticket="OSW-123",
            binding={"replicas": {"usdf-prod": {}}}, requester="ada", required_approvals=2,
            state=RequestState.REQUESTED, created_at=asked, expires_at=expires,
        )
    )  # fmt: skip
    held = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(rollout_config))
    assert held.code == 1
    assert "usdf-prod is part of rollout #1, which is requested" in held.err
    assert versions(replica.usdf) == [FIRST]


def test_the_summit_is_not_upgraded_alone_while_a_replica_follows_it(consdb_bot, rollout_config, replica):
    alone = consdb_bot("upgrade", "summit", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rollout_config))
    assert alone.code == 1
    assert "summit has logical replicas here (usdf-prod) that follow latiss" in alone.err
    assert "Use `rollout latiss --ticket OSW-123`" in alone.err
    assert versions(replica.summit) == [FIRST]
