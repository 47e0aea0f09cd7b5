"""Online migrations: an index on a table holding rows is built concurrently after the transaction, a foreign key
is added NOT VALID and validated on its own, and the version table moves only once every phase is done; a phase
that fails leaves a state the bot names, refuses to build on, and finishes on the next upgrade."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from bot.config import Settings, load_settings
from bot.engine.service import ChangeResult, Direction, Engine, Outcome, Progress
from bot.engine.status import SchemaStatus, State
from bot.errors import Refused
from bot.services.changes.recovery import _against_plan
from bot.services.results_text import change_text
from bot.store.models import ChangeRequest, RequestState
from tests.conftest import libpq, write_config
from tests.support.trees import bundled_copy

FIRST, HEAD = "dbd7607b3634", "e72a1ea985e6"
"""lsstcam's revisions in the bundled tree: the schema as made, then four indexes on its tables."""
LATER = "0411ine00001"
CAMERA_ROW = "INSERT INTO cdb_lsstcam.ccdexposure_camera (ccdexposure_id, day_obs, seq_num, detector) VALUES (%s, 20261202, %s, 0)"
INDEXES = [
    "idx_ccdexposure_camera_ccdexposure_id", "idx_ccdexposure_flexdata_obs_id_key",
    "idx_ccdexposure_quicklook_ccdexposure_id", "idx_ccdvisit1_quicklook_ccdvisit_id",
]  # fmt: skip
LATER_REVISION = f'''"""A column, a unique index and a foreign key, on tables that hold rows

Revision ID: {LATER}
Revises: {HEAD}
"""

import sqlalchemy as sa
from alembic import op

revision = "{LATER}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("exposure", sa.Column("online_note", sa.String(32)), schema="cdb_lsstcam")
    op.create_index("idx_exposure_name_unique", "exposure", ["exposure_name"], unique=True,
                    schema="cdb_lsstcam")
    op.create_foreign_key("fk_camera_ccdexposure", "ccdexposure_camera", "ccdexposure", ["ccdexposure_id"],
                          ["ccdexposure_id"], source_schema="cdb_lsstcam", referent_schema="cdb_lsstcam")


def downgrade() -> None:
    op.drop_constraint("fk_camera_ccdexposure", "ccdexposure_camera", schema="cdb_lsstcam")
    op.drop_index("idx_exposure_name_unique", table_name="exposure", schema="cdb_lsstcam")
    op.drop_column("exposure", "online_note", schema="cdb_lsstcam")
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The bundled tree, with an lsstcam revision after its head (:data:`LATER_REVISION`)."""
    return bundled_copy(tmp_path, ("lsstcam", f"{LATER}_online.py", LATER_REVISION))


@pytest.fixture
def bts(tmp_path: Path, tree: Path, new_database: Callable[[], str]) -> tuple[Settings, str]:
    """The settings of a bts whose lsstcam is at its first revision, with rows in the tables the indexes are on."""
    url = new_database()
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["lsstcam"],
        alembic_ini=str(tree / "alembic.ini"),
    )  # fmt: skip
    settings = load_settings(config, environ={"BTS_DATABASE_URL": url})
    done = Engine(settings).change(
        settings.environment("bts"), ["lsstcam"], direction=Direction.UPGRADE, to=FIRST, actor="test"
    )
    assert done.ok, change_text(done)
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(
            "INSERT INTO cdb_lsstcam.exposure (exposure_id, exposure_name, controller, day_obs, seq_num)"
            " SELECT n, 'MC_O_20261201_' || n, 'O', 20261201, n FROM generate_series(1, 200) AS n"
        )
        connection.execute(
            "INSERT INTO cdb_lsstcam.ccdexposure (ccdexposure_id, exposure_id, day_obs, seq_num, detector)"
            " SELECT n, 1 + n % 200, 20261201, 1 + n % 200, n % 189 FROM generate_series(1, 2000) AS n"
        )
        connection.execute(
            "INSERT INTO cdb_lsstcam.ccdexposure_camera (ccdexposure_id, day_obs, seq_num, detector)"
            " SELECT n, 20261201, 1 + n % 200, n % 189 FROM generate_series(1, 2000) AS n"
        )
    return settings, libpq(url)


def upgrade(settings: Settings, to: str | None, said: list[str] | None = None) -> ChangeResult:
    def progress(news: Progress) -> None:
        if said is not None:
            said.append(news.text)

    return Engine(settings).change(
        settings.environment("bts"), ["lsstcam"], direction=Direction.UPGRADE, to=to, actor="test",
        on_progress=progress,
    )  # fmt: skip


def one(url: str, query: str, *args: object) -> object:
    with psycopg.connect(url) as connection:
        row = connection.execute(query, args).fetchone()  # type: ignore[arg-type]
    return row[0] if row else None


def versions(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute("SELECT version_num FROM cdb.cdb_lsstcam_version")]


def leftovers(url: str) -> list[str | None]:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT to_regclass('cdb.cdb_lsstcam_version_pending')::text, to_regclass('cdb.cdb_lsstcam_version_phases')::text"
        ).fetchone()
    assert row is not None
    return list(row)


def index_validity(url: str, name: str) -> bool | None:
    return one(  # type: ignore[return-value]
        url, "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", f"cdb_lsstcam.{name}"
    )


def test_the_indexes_of_tables_holding_rows_are_built_concurrently_after_the_transaction(bts):
    settings, url = bts
    said: list[str] = []
    result = upgrade(settings, HEAD, said)
    assert result.ok, change_text(result)
    assert versions(url) == [HEAD]
    assert all(index_validity(url, name) for name in INDEXES)
    assert leftovers(url) == [None, None], "the run's own tables are gone"
    executed = result.outcomes[0].executed
    assert f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEXES[0]} ON cdb_lsstcam.ccdexposure_camera" in "\n".join(
        executed
    )
    assert not any(statement.startswith("CREATE INDEX idx_") for statement in executed)
    assert f"{FIRST} → {HEAD}  sdm_schemas 30.2026.4300" in said
    left = [line for line in said if line.endswith(": left for after the transaction")]
    built = [line for line in said if "(built concurrently): done (" in line]
    assert left[0] == (
        "index idx_ccdexposure_camera_ccdexposure_id on cdb_lsstcam.ccdexposure_camera (built concurrently): left"
        " for after the transaction"
    )
    assert (len(left), len(built)) == (4, 4)
    assert said.index(left[-1]) < said.index(built[0]), "built once the transaction committed"
    assert said[-1] == "every phase done: the version table moved"


def test_a_writer_is_not_held_back_while_an_index_is_built(bts):
    """An old transaction that wrote to ccdexposure_camera keeps the index build waiting (CONCURRENTLY waits for
    it); meanwhile a new writer's row goes in at once, where a plain CREATE INDEX would have queued it."""
    settings, url = bts
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO cdb_lsstcam.exposure (exposure_id, exposure_name, controller, day_obs, seq_num)"
            " VALUES (1000001, 'MC_O_20261202_1', 'O', 20261202, 1), (1000002, 'MC_O_20261202_2', 'O', 20261202, 2)"
        )
        connection.execute(
            "INSERT INTO cdb_lsstcam.ccdexposure (ccdexposure_id, exposure_id, day_obs, seq_num, detector)"
            " VALUES (999999, 1000001, 20261202, 1, 0), (1000000, 1000002, 20261202, 2, 0)"
        )
    with psycopg.connect(url) as old:
        old.execute(CAMERA_ROW, (999999, 1))
        results: list[ChangeResult] = []
        running = threading.Thread(target=lambda: results.append(upgrade(settings, HEAD)))
        running.start()
        with psycopg.connect(url, autocommit=True) as watcher:
            while watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%%'"
                " AND wait_event_type IS NOT NULL AND wait_event_type <> 'Client'"
            ).fetchone() != (1,):
                assert running.is_alive(), "the upgrade ended without waiting for the old transaction"
                watcher.execute("SELECT pg_sleep(0.05)")
            writer = psycopg.connect(url, autocommit=True, options="-c statement_timeout=5s")
            with writer:
                writer.execute(CAMERA_ROW, (1000000, 2))
            assert running.is_alive(), "the index is still being built while the writer's row went in"
        old.commit()
    running.join()
    assert results[0].ok, change_text(results[0])
    assert versions(url) == [HEAD]


def test_a_failed_phase_is_named_blocks_a_downgrade_and_the_next_upgrade_finishes_it(bts):
    settings, url = bts
    assert upgrade(settings, HEAD).ok
    with psycopg.connect(url, autocommit=True) as connection:  # a duplicate the unique index will refuse
        connection.execute("UPDATE cdb_lsstcam.exposure SET exposure_name = 'MC_O_20261201_1' WHERE exposure_id = 2")
    failed = upgrade(settings, LATER)
    assert not failed.ok
    outcome = failed.outcomes[0]
    assert outcome.outcome is Outcome.FAILED
    assert "could not create unique index" in (outcome.error or "")
    text = change_text(failed)
    assert (
        f"not rolled back: an online run to {LATER} committed its transaction; not yet done: index"
        " idx_exposure_name_unique on cdb_lsstcam.exposure (built concurrently); foreign key fk_camera_ccdexposure"
        " of cdb_lsstcam.ccdexposure_camera (validated). The version table moves once they are: `upgrade bts"
        " lsstcam` finishes it"
    ) in text, text
    assert "rolled back;" not in text
    assert versions(url) == [HEAD], "the version table waits for every phase"
    assert one(url, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'online_note'") == 1
    assert index_validity(url, "idx_exposure_name_unique") is False, "the failed build left it INVALID"
    assert one(url, "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_camera_ccdexposure'") is False

    (status,) = Engine(settings).status([settings.environment("bts")], ["lsstcam"])
    assert status.summary.startswith(f"{HEAD[:12]} (1 behind); an online run to {LATER} committed its transaction")

    with pytest.raises(Refused) as refused:
        Engine(settings).change(
            settings.environment("bts"), ["lsstcam"], direction=Direction.DOWNGRADE, to=FIRST, actor="test"
        )
    assert "nothing was run" in refused.value.message
    assert refused.value.hint == "Finish it first (`upgrade bts lsstcam`), then downgrade."

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE cdb_lsstcam.exposure SET exposure_name = 'MC_O_20261201_2' WHERE exposure_id = 2")
    said: list[str] = []
    finished = upgrade(settings, None, said)
    assert finished.ok, change_text(finished)
    assert "an earlier run left phases undone: finishing them first" in said
    assert versions(url) == [LATER]
    assert index_validity(url, "idx_exposure_name_unique") is True, "dropped and built again"
    assert one(url, "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_camera_ccdexposure'") is True
    assert leftovers(url) == [None, None]


def test_a_foreign_key_is_added_not_valid_then_validated(bts):
    settings, url = bts
    result = upgrade(settings, LATER)
    assert result.ok, change_text(result)
    executed = "\n".join(result.outcomes[0].executed)
    assert "FOREIGN KEY(ccdexposure_id) REFERENCES cdb_lsstcam.ccdexposure (ccdexposure_id) NOT VALID" in executed
    assert "ALTER TABLE cdb_lsstcam.ccdexposure_camera VALIDATE CONSTRAINT fk_camera_ccdexposure" in executed
    assert one(url, "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_camera_ccdexposure'") is True
    assert versions(url) == [LATER]


def test_a_schema_made_from_nothing_runs_as_alembic_runs_it(tmp_path, tree, new_database):
    """Every table is new, so every index is built in the transaction, and no table of the bot's is made."""
    url = new_database()
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["lsstcam"],
        alembic_ini=str(tree / "alembic.ini"),
    )  # fmt: skip
    settings = load_settings(config, environ={"BTS_DATABASE_URL": url})
    said: list[str] = []
    result = upgrade(settings, HEAD, said)
    assert result.ok, change_text(result)
    assert not [line for line in said if "phase" in line or "concurrently" in line]
    assert "CREATE INDEX idx_ccdexposure_camera_ccdexposure_id ON cdb_lsstcam.ccdexposure_camera" in "\n".join(
        result.outcomes[0].executed
    )
    assert leftovers(libpq(url)) == [None, None]


def test_a_run_stopped_in_a_phase_leaves_a_named_state_that_the_next_upgrade_finishes(tmp_path, tree, new_database):
    """The time limit stops the child while an index is being built (behind an old transaction): its transaction
    had committed, so the schema is not rolled back; the state says so, and the next upgrade ends it."""
    url = new_database()
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["lsstcam"],
        alembic_ini=str(tree / "alembic.ini"),
    )  # fmt: skip
    config.write_text(
        config.read_text().replace(
            "connect_timeout_seconds: 2}", "connect_timeout_seconds: 2, run_timeout_seconds: 20}"
        )
    )
    settings = load_settings(config, environ={"BTS_DATABASE_URL": url})
    assert upgrade(settings, FIRST).ok
    url = libpq(url)
    with psycopg.connect(url) as old:
        old.execute("LOCK TABLE cdb_lsstcam.ccdexposure_camera IN ROW EXCLUSIVE MODE")  # a writer, still open
        stopped = upgrade(settings, HEAD)
        old.rollback()
    outcome = stopped.outcomes[0]
    assert outcome.outcome is Outcome.FAILED
    assert outcome.error == "stopped at the time limit (migrations.run_timeout_seconds)"
    assert f"an online run to {HEAD} committed its transaction; not yet done: index" in outcome.unfinished
    assert versions(url) == [FIRST]
    assert leftovers(url) == ["cdb.cdb_lsstcam_version_pending", "cdb.cdb_lsstcam_version_phases"]

    finished = upgrade(settings, HEAD)
    assert finished.ok, change_text(finished)
    assert versions(url) == [HEAD]
    assert all(index_validity(url, name) for name in INDEXES)
    assert leftovers(url) == [None, None]


def test_a_revision_that_opts_out_runs_as_alembic_runs_it(bts, tree):
    settings, url = bts
    script = tree / "versions" / "lsstcam" / "e72a1ea985e6_sdm_schemas_30_2026_4300.py"
    script.write_text(script.read_text() + "\nconsdb_bot_online = False  # its indexes in the transaction\n")
    plan = Engine(settings).plan(settings.environment("bts"), ["lsstcam"], to=HEAD, with_sql=True)
    assert "-- Phase" not in plan[0].sql
    said: list[str] = []
    result = upgrade(settings, HEAD, said)
    assert result.ok, change_text(result)
    assert not [line for line in said if "concurrently" in line]
    assert f"CREATE INDEX {INDEXES[0]} ON cdb_lsstcam.ccdexposure_camera" in "\n".join(result.outcomes[0].executed)
    assert versions(url) == [HEAD]


def test_a_request_interrupted_with_phases_left_is_not_said_to_have_applied_nothing():
    """The bot stopped while an online run was in its phases: the next start settles the request from the
    database, which records the start revision, but the run's transaction is committed."""
    request = ChangeRequest(binding={"lsstcam": {"from": [FIRST], "to": [HEAD]}})
    status = SchemaStatus(
        "bts", "lsstcam", State.BEHIND, current=(FIRST,), behind=1,
        unfinished=f"an online run to {HEAD} committed its transaction; not yet done: index x",
    )  # fmt: skip
    state, reached, said = _against_plan(request, [status], {"lsstcam": [FIRST]})
    assert state is RequestState.INTERRUPTED
    assert reached == {"lsstcam": [FIRST]}
    assert not said.startswith("nothing was applied")
    assert said == (
        f"lsstcam now records {FIRST} (1 behind); an online run to {HEAD} committed its transaction; not yet done:"
        " index x, not yet its target: its transaction committed, not every phase is done"
    )


def test_a_foreign_key_whose_rows_do_not_hold_is_left_not_valid_and_named(bts):
    settings, url = bts
    assert upgrade(settings, HEAD).ok
    with psycopg.connect(url, autocommit=True) as connection:  # a camera row whose ccdexposure is gone
        connection.execute("SET session_replication_role = replica")  # as a bulk load would, past the old key
        connection.execute("DELETE FROM cdb_lsstcam.ccdexposure WHERE ccdexposure_id = 7")
    failed = upgrade(settings, LATER)
    outcome = failed.outcomes[0]
    assert outcome.outcome is Outcome.FAILED
    assert 'violates foreign key constraint "fk_camera_ccdexposure"' in (outcome.error or "")
    assert outcome.unfinished.endswith(
        "not yet done: foreign key fk_camera_ccdexposure of cdb_lsstcam.ccdexposure_camera (validated). The version"
        " table moves once they are: `upgrade bts lsstcam` finishes it"
    ), outcome.unfinished
    assert index_validity(url, "idx_exposure_name_unique") is True, "the phase before it is done, and stays done"
    assert one(url, "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_camera_ccdexposure'") is False
    assert versions(url) == [HEAD]

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DELETE FROM cdb_lsstcam.ccdexposure_camera WHERE ccdexposure_id = 7")
    said: list[str] = []
    assert upgrade(settings, LATER, said).ok
    assert [line for line in said if "concurrently" in line] == [], "the index built before is not built again"
    assert one(url, "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_camera_ccdexposure'") is True
    assert versions(url) == [LATER]
    assert leftovers(url) == [None, None]


def test_a_failed_move_of_the_version_table_is_named_and_the_next_upgrade_moves_it(bts):
    """The last phase (the version table moved, the run's tables dropped) fails: every index is built, the version
    table still says where the run started, and the state says the move is what is left."""
    settings, url = bts
    with psycopg.connect(url, autocommit=True) as connection:  # a DBA's guard on the version table, say
        connection.execute(
            "CREATE FUNCTION cdb.refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN RAISE EXCEPTION 'the version table is frozen'; END$$"
        )
        connection.execute(
            "CREATE TRIGGER frozen BEFORE DELETE ON cdb.cdb_lsstcam_version FOR EACH ROW EXECUTE FUNCTION cdb.refuse()"
        )
    failed = upgrade(settings, HEAD)
    outcome = failed.outcomes[0]
    assert outcome.outcome is Outcome.FAILED
    assert "the version table is frozen" in (outcome.error or "")
    assert outcome.unfinished.startswith(
        f"an online run to {HEAD} committed its transaction; not yet done: the version table's move."
    ), outcome.unfinished
    assert versions(url) == [FIRST]
    assert all(index_validity(url, name) for name in INDEXES)

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP TRIGGER frozen ON cdb.cdb_lsstcam_version")
    said: list[str] = []
    assert upgrade(settings, HEAD, said).ok
    assert [line for line in said if "concurrently" in line] == [], "nothing is built again"
    assert "every phase done: the version table moved" in said
    assert versions(url) == [HEAD]
    assert leftovers(url) == [None, None]


EDGE = "0411ine00002"
EDGE_REVISION = f'''"""What an online run must not take out of its transaction as it is

Revision ID: {EDGE}
Revises: {LATER}
"""

import sqlalchemy as sa
from alembic import op

revision = "{EDGE}"
down_revision = "{LATER}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("idx_exposure_mc", "exposure", ["seq_num"], schema="cdb_lsstcam",
                    postgresql_where=sa.text("exposure_name LIKE 'MC%'"))
    op.execute("CREATE INDEX idx_exposure_script ON cdb_lsstcam.exposure (day_obs); SELECT 1")
    op.create_index("idx_camera_a", "ccdexposure_camera", ["day_obs"], schema="cdb_lsstcam")
    op.create_index("idx_camera_b", "ccdexposure_camera", ["seq_num"], schema="cdb_lsstcam")
    op.drop_index("idx_camera_a", table_name="ccdexposure_camera", schema="cdb_lsstcam")
    op.create_index("idx_camera_c", "ccdexposure_camera", ["detector"], schema="cdb_lsstcam")
    op.create_table("scratch", sa.Column("id", sa.Integer, primary_key=True), schema="cdb_lsstcam")


def downgrade() -> None:
    op.drop_table("scratch", schema="cdb_lsstcam")
    op.drop_index("idx_camera_c", table_name="ccdexposure_camera", schema="cdb_lsstcam")
    op.drop_index("idx_camera_b", table_name="ccdexposure_camera", schema="cdb_lsstcam")
    op.drop_index("idx_exposure_script", table_name="exposure", schema="cdb_lsstcam")
    op.drop_index("idx_exposure_mc", table_name="exposure", schema="cdb_lsstcam")
'''


def test_percent_signs_scripts_and_an_index_dropped_later_in_the_run(bts, tree):
    """A ``%`` in an index's predicate is built as written; a script of several statements runs in the
    transaction as it is; an index a later statement of the run drops is built in the transaction first, and
    the phases after it keep their own places."""
    settings, url = bts
    (tree / "versions" / "lsstcam" / f"{EDGE}_edges.py").write_text(EDGE_REVISION)
    said: list[str] = []
    result = upgrade(settings, EDGE, said)
    assert result.ok, change_text(result)
    assert versions(url) == [EDGE]
    definition = one(url, "SELECT pg_get_indexdef(to_regclass('cdb_lsstcam.idx_exposure_mc'))")
    assert "'MC%'::text" in str(definition), definition
    assert index_validity(url, "idx_exposure_script") is True
    assert index_validity(url, "idx_camera_a") is None
    assert index_validity(url, "idx_camera_b") is True
    assert index_validity(url, "idx_camera_c") is True
    assert (
        "index idx_camera_a on cdb_lsstcam.ccdexposure_camera (built concurrently): done in the transaction, as a"
        " later statement needs it"
    ) in said
    assert not [line for line in said if "idx_exposure_script" in line], "the script was left as it is"
    assert leftovers(url) == [None, None]


def test_a_database_publishing_all_its_tables_runs_as_alembic_runs_it(bts):
    """The run's own tables would be published to a subscriber that has none: the run keeps to its transaction."""
    settings, url = bts
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE PUBLICATION everything FOR ALL TABLES")
    try:
        said: list[str] = []
        result = upgrade(settings, HEAD, said)
        assert result.ok, change_text(result)
        assert (
            'publication everything publishes every table of "cdb"."cdb_lsstcam_version"\'s schema, so this run'
            " keeps its work in its one transaction, as Alembic runs it"
        ) in said
        assert not [line for line in said if "concurrently" in line]
        assert versions(url) == [HEAD]
        assert all(index_validity(url, name) for name in INDEXES)
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("DROP PUBLICATION everything")
