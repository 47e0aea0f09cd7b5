"""A Summit → USDF logical replica on this machine, as the sandbox makes it: the summit's private server
publishes its ConsDB tables, and a database on a second server subscribes. The sandbox and
``benchmarks/rollout.py`` make it so.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.sandbox.postgres import PrivatePostgres

SUMMIT_SETTINGS = {"wal_level": "logical", "max_replication_slots": "10", "max_wal_senders": "10"}
"""The summit's server publishes: a logical replica subscribes to it."""
PUBLICATION, SUBSCRIPTION = "usdfpub", "usdf_exposurelog"


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
