"""A Summit → USDF logical replica on this machine, as the sandbox makes it: the summit's private server
publishes its ConsDB tables, and a database on a second server subscribes. The sandbox,
``benchmarks/rollout.py`` and the tests' replica pair (``tests/support/replica.py``) make it so.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.sandbox.postgres import PrivatePostgres

PUBLICATION, SUBSCRIPTION = "usdfpub", "usdf_exposurelog"


def publisher_settings(*, slots: int = 10) -> dict[str, str]:
    """The summit's server publishes, a logical replica subscribes to it: ``slots`` replication slots (a
    subscription's own, and one for each table it is copying) and as many WAL senders."""
    return {"wal_level": "logical", "max_replication_slots": str(slots), "max_wal_senders": str(slots)}


def subscriber_settings(*, workers: int = 4, retry_interval: str = "5s") -> dict[str, str]:
    """The usdf server subscribes: up to ``workers`` logical replication workers (each subscription's apply
    worker and its table copies, out of twice as many background workers); a worker that stopped on an
    error, or a table waiting for its copy, is tried again after ``retry_interval``. The defaults are
    PostgreSQL's."""
    return {
        "max_logical_replication_workers": str(workers),
        "max_worker_processes": str(2 * workers),
        "wal_retrieve_retry_interval": retry_interval,
    }


def replicate(summit_server: PrivatePostgres, summit: str, usdf: str) -> None:
    """The summit publishes its ConsDB tables; usdf, migrated alike, subscribes and replicates them."""
    connection = f"host=127.0.0.1 port={summit_server.port} user=postgres dbname={make_url(summit).database}"
    with psycopg.connect(libpq(summit), autocommit=True) as db:
        tables = [
            sql.Identifier(schema, name)
            for schema, name in db.execute(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname LIKE 'cdb\\_%' ORDER BY 1, 2"
            )
        ]
        db.execute(
            sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
                sql.Identifier(PUBLICATION), sql.SQL(", ").join(tables)
            )
        )
    with psycopg.connect(libpq(usdf), autocommit=True) as db:
        db.execute(
            sql.SQL("CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {}").format(
                sql.Identifier(SUBSCRIPTION), sql.Literal(connection), sql.Identifier(PUBLICATION)
            )
        )


def libpq(url: str) -> str:
    """A SQLAlchemy URL as libpq reads it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
