"""The test replica itself: two real PostgreSQL servers on this machine, rows that really replicate
from the summit's publication ``usdfpub`` to usdf's subscription ``usdf_exposurelog``."""

from __future__ import annotations

from psycopg import sql

from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION


def test_a_row_inserted_at_the_summit_arrives_at_usdf(replica):
    assert replica.servers.summit.port != replica.servers.usdf.port
    with replica.summit() as summit:
        assert summit.execute("SHOW wal_level").fetchone() == ("logical",)
        summit.execute("INSERT INTO cdb_latiss.exposure VALUES (2026112400001, 'first light')")

    replica.wait_at_usdf("SELECT id, note FROM cdb_latiss.exposure", [(2026112400001, "first light")])


def test_a_table_added_to_the_publication_replicates_after_refresh_publication(replica):
    replica.create_table("cdb_latiss", "visit")
    with replica.summit() as summit:
        summit.execute("INSERT INTO cdb_latiss.visit VALUES (1, 'before it was published')")
        summit.execute(sql.SQL("ALTER PUBLICATION {} ADD TABLE cdb_latiss.visit").format(sql.Identifier(PUBLICATION)))
    subscribed = "SELECT srrelid::regclass::text FROM pg_subscription_rel ORDER BY 1"
    assert replica.at_usdf(subscribed) == [("cdb_latiss.exposure",)], "usdf takes up a table only on refresh"

    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} REFRESH PUBLICATION").format(sql.Identifier(SUBSCRIPTION)))
    with replica.summit() as summit:
        summit.execute("INSERT INTO cdb_latiss.visit VALUES (2, 'after')")

    replica.wait_at_usdf(
        "SELECT id, note FROM cdb_latiss.visit ORDER BY id", [(1, "before it was published"), (2, "after")]
    )
    assert replica.at_usdf(subscribed) == [("cdb_latiss.exposure",), ("cdb_latiss.visit",)]


def test_rows_written_while_the_subscription_is_disabled_arrive_after_enable(replica):
    subscription = sql.Identifier(SUBSCRIPTION)
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(subscription))
    replica.wait_until_stopped()
    with replica.summit() as summit:
        for exposure in range(1, 51):
            summit.execute("INSERT INTO cdb_latiss.exposure VALUES (%s, 'paused')", (exposure,))
    assert replica.at_usdf("SELECT count(*) FROM cdb_latiss.exposure") == [(0,)], "nothing applies while disabled"

    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} ENABLE").format(subscription))

    replica.wait_at_usdf("SELECT count(*), count(DISTINCT id) FROM cdb_latiss.exposure", [(50, 50)])
