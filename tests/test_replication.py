"""The replication primitives against a real Summit → USDF replica: the subscription's state at the
replica and its slot at the publisher, disable / enable / refresh, the publication's tables, and the
marker row that proves changes arrive."""

from __future__ import annotations

from dataclasses import replace

import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.config import Replica
from bot.engine.database import DatabaseUrl
from bot.engine.replication import (
    MARKER,
    ReplicaLink,
    ReplicationStalled,
    Table,
    add_to_publication,
    disable_subscription,
    drop_from_publication,
    enable_subscription,
    prepare_marker,
    publication_tables,
    read_health,
    read_subscription,
    refresh_publication,
    verify_replication,
)
from bot.errors import DatabaseUnreachable, OperationFailed, Refused
from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION
from bot.sandbox.standins.local_server import free_port
from tests.conftest import PASSWORD
from tests.support.replica import wait_for

EXPOSURE = Table("cdb_latiss", "exposure")
VISIT = Table("cdb_latiss", "visit")


def link_of(replica, **changes) -> ReplicaLink:
    """usdf-prod's link as its configuration makes it, ``changes`` made."""
    configured = ReplicaLink.configured(
        Replica(of="summit", subscription=SUBSCRIPTION, publication=PUBLICATION),
        publisher=DatabaseUrl.parse(replica.summit_url, key="environments.summit.database_url"),
        subscriber=DatabaseUrl.parse(replica.usdf_url, key="environments.usdf-prod.database_url"),
        subscriber_place="usdf-prod",
        connect_timeout=5,
    )
    return replace(configured, **changes)


@pytest.fixture
def link(replica) -> ReplicaLink:
    return link_of(replica)


def said(error: pytest.ExceptionInfo) -> str:
    """What the user reads, checked to carry no password."""
    text = str(error.value)
    assert PASSWORD not in text, text
    return text


def test_a_running_replica_reads_as_healthy_at_both_ends(link):
    health = read_health(link)

    subscription = health.subscription
    assert (subscription.name, subscription.enabled, subscription.publications) == (SUBSCRIPTION, True, (PUBLICATION,))
    assert subscription.worker is not None
    assert subscription.worker.pid > 0
    assert subscription.tables == (EXPOSURE,)
    assert subscription.not_ready == ()
    assert (subscription.apply_errors, subscription.sync_errors) == (0, 0), "PostgreSQL 15+ counts them"
    assert health.slot is not None
    assert health.slot.name == subscription.slot_name == SUBSCRIPTION
    assert health.slot.wal_status == "reserved"
    assert health.slot.retained_bytes is not None
    assert health.slot.retained_bytes >= 0
    assert health.slot.lag_bytes is not None
    assert health.slot.lag_bytes >= 0
    wait_for("the slot to be active", lambda: read_health(link).slot, lambda slot: slot is not None and slot.active)
    assert read_health(link).problems() == []
    assert read_health(link).healthy


def test_disable_stops_the_worker_before_it_returns_and_enable_starts_it_again(replica, link):
    disable_subscription(link)

    subscription = read_subscription(link)
    assert not subscription.enabled
    assert subscription.worker is None
    assert replica.subscription_workers() == [], "nothing can apply at usdf once disable has returned"
    assert read_health(link).problems()[0] == f"subscription {SUBSCRIPTION} is disabled"
    disable_subscription(link)  # a resumed rollout may disable again: nothing happens

    with replica.summit() as summit:
        summit.execute("INSERT INTO cdb_latiss.exposure SELECT n, 'paused' FROM generate_series(1, 100) AS n")
    retained = wait_for("the slot to let go", lambda: read_health(link).slot, lambda slot: not slot.active)
    assert retained.lag_bytes > 0, "the publisher keeps the paused changes for the replica"
    assert replica.at_usdf("SELECT count(*) FROM cdb_latiss.exposure") == [(0,)]

    enable_subscription(link)

    assert read_subscription(link).enabled
    replica.wait_at_usdf("SELECT count(*), count(DISTINCT id) FROM cdb_latiss.exposure", [(100, 100)])
    wait_for("the worker to run", lambda: read_subscription(link).worker, lambda worker: worker is not None)


def test_refresh_takes_up_a_table_added_to_the_publication(replica, link):
    replica.create_table(VISIT.schema, VISIT.name)
    with replica.summit() as summit:
        summit.execute("INSERT INTO cdb_latiss.visit VALUES (1, 'copied by the refresh')")

    assert add_to_publication(link, [VISIT, EXPOSURE]) == [VISIT], "only what it lacked"
    assert add_to_publication(link, [VISIT]) == [], "adding again changes nothing"
    assert publication_tables(link) == [EXPOSURE, VISIT]
    refresh_publication(link)

    replica.wait_at_usdf("SELECT id, note FROM cdb_latiss.visit", [(1, "copied by the refresh")])
    assert read_subscription(link).tables == (EXPOSURE, VISIT)


def test_refresh_of_a_disabled_subscription_is_refused_with_what_to_do(link):
    disable_subscription(link)

    with pytest.raises(Refused) as refused:
        refresh_publication(link)

    assert f"subscription {SUBSCRIPTION} at usdf-prod is disabled" in said(refused)
    assert "Enable it first" in refused.value.hint


def test_tables_leave_the_publication_and_a_missing_one_is_refused_with_nothing_added(replica, link):
    replica.create_table(VISIT.schema, VISIT.name)
    ghost = Table("cdb_latiss", "not_migrated_yet")

    with pytest.raises(Refused) as refused:
        add_to_publication(link, [VISIT, ghost])

    assert "cdb_latiss.not_migrated_yet does not exist at summit" in said(refused)
    assert "Migrate summit first" in refused.value.hint
    assert publication_tables(link) == [EXPOSURE], "all or nothing"
    add_to_publication(link, [VISIT])
    assert drop_from_publication(link, [VISIT, ghost]) == [VISIT]
    assert drop_from_publication(link, [VISIT]) == []
    assert publication_tables(link) == [EXPOSURE]


def test_names_reach_sql_quoted(replica, link):
    odd = Table("cdb_latiss", 'visit"; DROP TABLE cdb_latiss.exposure; --')
    replica.on_both(sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY)").format(odd.identifier))

    assert add_to_publication(link, [odd]) == [odd]

    assert publication_tables(link) == sorted([EXPOSURE, odd])
    hostile = link_of(replica, subscription='usdf"; DROP SUBSCRIPTION usdf_exposurelog; --')
    with pytest.raises(Refused) as refused:
        disable_subscription(hostile)
    assert 'there is no subscription usdf"; DROP' in said(refused)
    assert read_subscription(link).enabled


def test_a_missing_subscription_or_publication_is_refused_with_what_to_do(replica):
    with pytest.raises(Refused) as refused:
        read_health(link_of(replica, subscription="usdf_other"))
    assert said(refused).startswith("there is no subscription usdf_other in the database at usdf-prod")
    assert "environments.usdf-prod.replica.subscription" in refused.value.hint

    with pytest.raises(Refused) as refused:
        publication_tables(link_of(replica, publication="otherpub"))
    assert said(refused).startswith("there is no publication otherpub in the database at summit")


def test_an_unreachable_end_is_named_without_its_password(replica):
    gone = make_url(replica.summit_url).set(port=free_port()).render_as_string(hide_password=False)
    link = link_of(replica, publisher=DatabaseUrl.parse(gone, key="summit"))

    with pytest.raises(DatabaseUnreachable) as unreachable:
        publication_tables(link)

    assert "cannot reach postgresql://postgres:***@127.0.0.1:" in said(unreachable)


def test_the_marker_proves_replication_runs_and_stays_one_row_per_subscription(replica, link):
    assert prepare_marker(link) is True, "the subscription has yet to take the marker up"
    with pytest.raises(Refused) as refused:
        verify_replication(link, timeout_seconds=30)
    assert "does not replicate the marker table cdb.replication_marker yet" in said(refused)
    assert MARKER in publication_tables(link)
    refresh_publication(link)

    first = verify_replication(link, timeout_seconds=30)
    second = verify_replication(link, timeout_seconds=30)

    assert first.token != second.token
    assert second.seconds > 0
    assert second.apply_errors == 0
    assert second.health.subscription.worker is not None
    assert prepare_marker(link) is False, "prepared once is enough"
    marker = "SELECT subscription, token FROM cdb.replication_marker"
    with replica.summit() as summit:
        assert summit.execute(marker).fetchall() == [(SUBSCRIPTION, second.token)]
    assert replica.at_usdf(marker) == [(SUBSCRIPTION, second.token)]


def test_verifying_a_disabled_subscription_is_refused(link):
    prepare_marker(link)
    refresh_publication(link)
    disable_subscription(link)

    with pytest.raises(Refused) as refused:
        verify_replication(link, timeout_seconds=30)

    assert "is disabled: no change can arrive" in said(refused)


def test_the_runbook_in_order_loses_nothing_and_the_new_column_arrives(replica, link):
    prepare_marker(link)
    refresh_publication(link)
    with replica.summit() as summit:
        summit.execute("INSERT INTO cdb_latiss.exposure VALUES (1, 'before')")

    disable_subscription(link)
    with replica.summit() as summit:  # the Summit migrated: a column and a table
        summit.execute("ALTER TABLE cdb_latiss.exposure ADD COLUMN seeing real")
        summit.execute("CREATE TABLE cdb_latiss.visit (id bigint PRIMARY KEY, note text)")
        summit.execute("INSERT INTO cdb_latiss.exposure VALUES (2, 'paused', 0.7)")
        summit.execute("INSERT INTO cdb_latiss.visit VALUES (1, 'paused')")
    assert add_to_publication(link, [VISIT]) == [VISIT]
    with replica.usdf() as usdf:  # USDF migrated to the same revision
        usdf.execute("ALTER TABLE cdb_latiss.exposure ADD COLUMN seeing real")
        usdf.execute("CREATE TABLE cdb_latiss.visit (id bigint PRIMARY KEY, note text)")
    enable_subscription(link)
    refresh_publication(link)

    verified = verify_replication(link, timeout_seconds=60)

    assert verified.health.subscription.enabled
    assert replica.at_usdf("SELECT id, note, seeing FROM cdb_latiss.exposure ORDER BY id") == [
        (1, "before", None),
        (2, "paused", pytest.approx(0.7)),
    ]
    replica.wait_at_usdf("SELECT id, note FROM cdb_latiss.visit", [(1, "paused")])


def test_a_column_the_replica_lacks_stalls_replication_and_the_marker_says_so(replica, link):
    prepare_marker(link)
    refresh_publication(link)
    with replica.summit() as summit:  # the Summit migrated, USDF not
        summit.execute("ALTER TABLE cdb_latiss.exposure ADD COLUMN seeing real")
        summit.execute("INSERT INTO cdb_latiss.exposure VALUES (1, 'new column', 0.7)")

    with pytest.raises(ReplicationStalled) as stalled:
        verify_replication(link, timeout_seconds=2)

    assert "a marker row written at summit did not arrive at usdf-prod within 2 s" in said(stalled)
    assert isinstance(stalled.value, OperationFailed)
    errors = wait_for("an apply error", lambda: read_subscription(link).apply_errors, lambda count: count > 0)
    assert errors > 0
    assert replica.at_usdf("SELECT count(*) FROM cdb_latiss.exposure") == [(0,)]

    with replica.usdf() as usdf:  # USDF migrated too: the stuck row, and the marker after it, arrive
        usdf.execute("ALTER TABLE cdb_latiss.exposure ADD COLUMN seeing real")
    verify_replication(link, timeout_seconds=60)
    assert replica.at_usdf("SELECT id, seeing FROM cdb_latiss.exposure") == [(1, pytest.approx(0.7))]


def test_a_database_user_that_may_not_alter_the_subscription_is_refused_and_nothing_changes(replica):
    with replica.usdf() as usdf:
        if not usdf.execute("SELECT FROM pg_roles WHERE rolname = 'consdb_reader'").fetchone():
            usdf.execute("CREATE ROLE consdb_reader LOGIN")
    reader = make_url(replica.usdf_url).set(username="consdb_reader").render_as_string(hide_password=False)
    link = link_of(replica, subscriber=DatabaseUrl.parse(reader, key="environments.usdf-prod.database_url"))

    with pytest.raises(Refused) as refused:
        disable_subscription(link)

    assert f"the database user at usdf-prod may not disable subscription {SUBSCRIPTION}" in said(refused)
    assert "Nothing was changed" in refused.value.hint
    assert read_subscription(link).enabled
