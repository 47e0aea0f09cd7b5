"""A migration that waits behind a long reader gives way: it waits ``lock_timeout`` at most, rolls back,
and tries again after a backoff, so that the table's writers are never held up for longer; meanwhile its
progress names who holds the lock, and past ``lock_retry_seconds`` it fails saying so, the schema as it was.

Driven through the engine against real PostgreSQL with the ConsDB-style test tree, whose lsstcam revision
``b0000000000a`` adds a column to ``cdb_lsstcam.exposure``. The readers are real sessions, held by the
test (an open transaction, or a query waiting on an advisory lock the test holds): nothing sleeps.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest

from bot.config import parse_settings
from bot.engine.database import DatabaseUrl
from bot.engine.locks import shown_query
from bot.engine.progress import RevisionFollower
from bot.engine.service import ChangeResult, Direction, Engine, Outcome, Progress
from bot.engine.tree import MigrationTree
from tests.conftest import EXTERNAL_TREE, PASSWORD, libpq
from tests.support.clock import pause

START, TARGET = "b00000000001", "b0000000000a"
READ = "SELECT count(*) FROM cdb_lsstcam.exposure"
HELD_QUERY = 4848
"""The advisory lock the test holds to keep a reader's query running."""


@dataclass
class Migration:
    """An upgrade of the test tree, run on a thread of its own, its progress lines collected."""

    engine: Engine
    url: str
    lines: list[str] = field(default_factory=list)
    results: list[ChangeResult] = field(default_factory=list)
    seen: threading.Condition = field(default_factory=threading.Condition)

    def upgrade(self, schemas: list[str], to: str | None = None) -> ChangeResult:
        env = self.engine.settings.environment("bts")
        return self.engine.change(
            env, schemas, direction=Direction.UPGRADE, to=to, actor="the test", on_progress=self._progress
        )

    def start(self, schemas: list[str], to: str | None) -> threading.Thread:
        thread = threading.Thread(target=lambda: self.results.append(self.upgrade(schemas, to)), daemon=True)
        thread.start()
        return thread

    def _progress(self, progress: Progress) -> None:
        with self.seen:
            self.lines.append(f"{progress.schema}: {progress.text}")
            self.seen.notify_all()

    def wait_for_line(self, pattern: str) -> str:
        """The first progress line that matches, once the run has said it."""
        with self.seen:
            found = self.seen.wait_for(
                lambda: next((line for line in self.lines if re.search(pattern, line)), None), 60
            )
        assert found, f"never said {pattern!r}; said:\n" + "\n".join(self.lines)
        return found


def settings_text(url: str, *, timezone: str, lock_retry_seconds: float) -> str:
    return f"""
migrations: {{alembic_ini: {EXTERNAL_TREE / "alembic.ini"}, sdm_schemas: {EXTERNAL_TREE}, connect_timeout_seconds: 2,
  lock_timeout: 200ms, lock_retry_seconds: {lock_retry_seconds}}}
schemas: [latiss, lsstcam]
environments:
  bts:
    database_url: {url}
    timezone: {timezone}
    approvals: {{required: 1, approvers: [U0APPROVE1]}}
"""


@pytest.fixture
def migrating(new_database) -> Callable[..., Migration]:
    """A fresh database with lsstcam at ``START`` (its ``exposure`` made), and an engine to move it."""

    def make(*, timezone: str = "UTC", lock_retry_seconds: float = 120) -> Migration:
        url = new_database()
        with psycopg.connect(libpq(url), autocommit=True) as connection:
            connection.execute("CREATE SCHEMA cdb")
        settings = parse_settings(
            settings_text(url, timezone=timezone, lock_retry_seconds=lock_retry_seconds), environ={}
        )
        migration = Migration(Engine(settings), url)
        assert migration.upgrade(["lsstcam"], START).ok
        return migration

    return make


@pytest.fixture
def holder() -> Iterator[Callable[[str], psycopg.Connection]]:
    """Connections the test opens to the database, closed after (so their locks are released)."""
    opened: list[psycopg.Connection] = []

    def open_(url: str, *, autocommit: bool = False) -> psycopg.Connection:
        connection = psycopg.connect(libpq(url), autocommit=autocommit)
        opened.append(connection)
        return connection

    yield open_
    for connection in opened:
        connection.close()


def revisions(url: str, schema: str) -> list[str]:
    with psycopg.connect(libpq(url)) as connection:
        return [row[0] for row in connection.execute(f"SELECT version_num FROM cdb.cdb_{schema}_version")]


def columns(url: str) -> list[str]:
    with psycopg.connect(libpq(url)) as connection:
        query = (
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'cdb_lsstcam' AND table_name = 'exposure' ORDER BY ordinal_position"
        )
        return [row[0] for row in connection.execute(query)]


def until_waiting_on_advisory(connection: psycopg.Connection, pid: int) -> None:
    """Until session ``pid`` waits for the advisory lock the test holds: a condition PostgreSQL reports."""
    for _ in range(1200):
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted", (pid,)
        ).fetchone()
        if row and row[0]:
            return
        pause(0.05)
    raise AssertionError(f"session {pid} never waited for the test's advisory lock")


def test_a_migration_behind_a_long_query_lets_writers_through_says_who_holds_it_and_succeeds_once_it_ends(
    migrating, holder
):
    migration = migrating(timezone="America/Santiago")
    url = migration.url
    gate = holder(url, autocommit=True)
    gate.execute("SELECT pg_advisory_lock(%s)", (HELD_QUERY,))
    # An analyst's long query: it holds ACCESS SHARE on exposure for as long as the test holds its gate.
    analyst = holder(url)
    running = threading.Thread(
        target=lambda: (
            analyst.execute(f"SELECT count(*), pg_advisory_lock_shared({HELD_QUERY}) FROM cdb_lsstcam.exposure"),
            analyst.commit(),
        ),
        daemon=True,
    )
    running.start()
    until_waiting_on_advisory(gate, analyst.info.backend_pid)

    upgrade = migration.start(["lsstcam"], TARGET)
    waiting = migration.wait_for_line(f"held by pid {analyst.info.backend_pid}")
    assert re.fullmatch(
        rf"lsstcam: waiting for a lock on cdb_lsstcam.exposure held by pid {analyst.info.backend_pid}"
        r" \(query started \d\d:\d\d:\d\d -0[34], `SELECT count\(\*\), pg_advisory_lock_shared\(4848\) FROM"
        r" cdb_lsstcam.exposure`\)",
        waiting,
    ), waiting
    migration.wait_for_line(r"lock not granted in 200ms, rolled back: retrying in \d+\.\d s \(attempt 2\)")

    # hinfo's INSERT goes through while the query still runs: the migration does not queue it behind itself.
    writer = holder(url, autocommit=True)
    writer.execute("SET statement_timeout = '30s'")
    writer.execute("INSERT INTO cdb_lsstcam.exposure (exposure_id) VALUES (1)")
    assert running.is_alive(), "the analyst's query was still running when the insert went through"

    gate.execute("SELECT pg_advisory_unlock(%s)", (HELD_QUERY,))
    running.join(60)
    upgrade.join(120)
    (result,) = migration.results
    assert result.ok, result
    assert revisions(url, "lsstcam") == [TARGET]
    assert columns(url) == ["exposure_id", "band"]
    assert [line for line in migration.lines if "held by pid" in line] == [waiting], "told once per holder"
    assert sum("Branch A: add band" in line for line in migration.lines) == 1
    assert result.outcomes[0].applied == [f"{START} → {TARGET}  Branch A: add band"]


def test_a_migration_whose_lock_is_never_granted_gives_up_naming_the_holder_and_leaves_the_schema_as_it_was(
    migrating, holder
):
    migration = migrating(lock_retry_seconds=1)
    url = migration.url
    before = columns(url)
    # An open transaction that read exposure and never ends: ACCESS SHARE held until it does.
    reader = holder(url)
    reader.execute(READ)
    pid = reader.info.backend_pid

    result = migration.upgrade(["latiss", "lsstcam"], "heads")

    latiss, lsstcam = result.outcomes
    assert latiss.outcome is Outcome.SUCCEEDED, "the schema migrated before stays migrated"
    assert revisions(url, "latiss") == ["c0ffee000003"]
    assert sum("Add seq_num" in line for line in migration.lines) == 1, "a committed schema is not run again"
    assert lsstcam.outcome is Outcome.FAILED
    assert re.fullmatch(
        rf"gave up after \d+ s \(\d+ attempts?, each waiting 200ms for its lock\): a lock on cdb_lsstcam.exposure"
        rf" was held by pid {pid} \(idle in transaction, its last query started \d\d:\d\d:\d\d UTC, `{re.escape(READ)}`\);"
        r" run it when that session's transaction ends, or raise migrations.lock_retry_seconds",
        lsstcam.error or "",
    ), lsstcam.error
    assert lsstcam.recorded_after == (START,)
    assert revisions(url, "lsstcam") == [START]
    assert columns(url) == before
    assert reader.info.transaction_status is psycopg.pq.TransactionStatus.INTRANS, "the reader was never disturbed"


def test_a_revision_told_before_a_rollback_is_not_told_again_and_counts_only_once_applied_again():
    tree = MigrationTree.from_setting(str(EXTERNAL_TREE / "alembic.ini")).schema("latiss")
    planned = [info for info in reversed(tree.newest_first())]
    told: list[str] = []
    follower = RevisionFollower(tree, planned, up=True, report=told.append)
    first, second, third = (info.revision for info in planned)
    version = "cdb.cdb_latiss_version"

    follower(f"INSERT INTO {version} (version_num) VALUES ('{first}') RETURNING {version}.version_num")
    follower(f"UPDATE {version} SET version_num='{second}' WHERE {version}.version_num = '{first}'")
    follower.retry()
    assert follower.applied == []
    assert follower.running == f"base → {first}  Create exposure with a sky position"
    follower(f"INSERT INTO {version} (version_num) VALUES ('{first}') RETURNING {version}.version_num")
    follower(f"UPDATE {version} SET version_num='{second}' WHERE {version}.version_num = '{first}'")
    follower(f"UPDATE {version} SET version_num='{third}' WHERE {version}.version_num = '{second}'")

    assert len(told) == 3, told
    assert follower.applied == told
    assert follower.running is None


def test_a_blocking_query_is_shown_short_on_one_line_without_passwords():
    url = DatabaseUrl.parse(f"postgresql://consdb:{PASSWORD}@db.example/consdb", key="test")
    query = (
        f"SELECT dblink('postgresql://reader:hunter22@usdf/consdb',\n  'SELECT 1'), '{PASSWORD}'"
        " FROM `cdb_lsstcam`.exposure WHERE exposure_id > 0 AND day_obs = 20261124 ORDER BY seq_num"
    )
    shown = shown_query(query, url.redact)
    assert shown == "SELECT dblink('postgresql://reader:***@usdf/consdb', 'SELECT 1'), '***' FROM 'c…"
    assert shown_query("ALTER ROLE hinfo PASSWORD 'n0t-for-slack'", url.redact) == "ALTER ROLE hinfo PASSWORD ***"
    assert shown_query("<insufficient privilege>", url.redact) == ""
