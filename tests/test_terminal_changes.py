"""Upgrades, downgrades and stamps from the terminal, on real PostgreSQL databases."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bot.engine.database import lock_key
from tests.conftest import BUNDLED_SCHEMAS, EXTERNAL_TREE, REPO, libpq, schema_dump, write_config


def test_upgrade_needs_yes_and_changes_nothing_without_it(consdb_bot, bundled):
    result = consdb_bot("upgrade", "bts", "latiss", "--config", str(bundled))
    assert result.code == 1
    assert "8ebb60eda79d  Create cdb_latiss" in result.out
    assert "nothing was changed" in result.err
    assert "add --yes" in result.err
    assert "empty (2 behind)" in consdb_bot("status", "bts", "latiss", "--config", str(bundled)).out


@pytest.mark.slow
def test_upgrade_of_every_schema_reaches_head_and_matches_the_model(consdb_bot, bundled):
    result = consdb_bot("upgrade", "bts", "--yes", "--config", str(bundled))
    assert result.code == 0, result.text
    assert "upgrade at bts: done" in result.out
    status = consdb_bot("status", "bts", "--config", str(bundled), "--json")
    assert {row["schema"]: row["state"] for row in json.loads(status.out)} == dict.fromkeys(BUNDLED_SCHEMAS, "head")
    drift = consdb_bot("drift", "bts", "--config", str(bundled))
    assert drift.code == 0, drift.text
    assert drift.out.count("matches its revision") == len(BUNDLED_SCHEMAS)


def test_progress_names_each_revision_as_it_is_applied(consdb_bot, bundled):
    result = consdb_bot("upgrade", "bts", "lsstcam", "--yes", "--config", str(bundled))
    assert result.code == 0
    lines = [line.strip() for line in result.out.splitlines()]
    assert "lsstcam: base → dbd7607b3634  Create cdb_lsstcam as in sdm_schemas 30.2026.2800" in lines
    assert "lsstcam: dbd7607b3634 → e72a1ea985e6  sdm_schemas 30.2026.4300" in lines


@pytest.mark.slow
def test_plan_sql_is_what_upgrade_runs(consdb_bot, bundled):
    plan = json.loads(consdb_bot("plan", "bts", "latiss", "--config", str(bundled), "--json").out)[0]
    upgrade = json.loads(consdb_bot("upgrade", "bts", "latiss", "--yes", "--config", str(bundled), "--json").out)
    executed = upgrade["outcomes"][0]["executed"]
    assert _schema_changes(_split(plan["sql"])) == _schema_changes(executed)
    assert len(_schema_changes(executed)) > 20


def _split(sql: str) -> list[str]:
    return [statement for statement in sql.split(";\n") if statement.strip()]


def _schema_changes(statements: list[str]) -> list[str]:
    """Statements that change the ConsDB schema, normalised: not the version table, not lookups."""
    kept = []
    for statement in statements:
        text = " ".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
        text = " ".join(text.split())
        if re.match(r"(CREATE|ALTER|DROP|COMMENT|GRANT)\b", text, re.IGNORECASE) and "_version" not in text:
            kept.append(text)
    return kept


def test_failing_revision_leaves_the_schema_exactly_as_it_was(consdb_bot, external):
    assert (
        consdb_bot("upgrade", "bts", "lsstcomcam", "--to", "d00000000001", "--yes", "--config", str(external)).code == 0
    )
    url = os.environ["BTS_DATABASE_URL"]
    before = schema_dump(url, "cdb_lsstcomcam")
    result = consdb_bot("upgrade", "bts", "lsstcomcam", "--yes", "--config", str(external))
    assert result.code == 1
    assert "FAILED at revision d00000000001 → d00000000002  Half-done change that fails" in result.out
    assert "no_such_function" in result.out
    assert "still at d00000000001" in result.out
    assert schema_dump(url, "cdb_lsstcomcam") == before


@pytest.mark.slow
def test_a_second_upgrade_of_a_schema_is_refused_while_one_runs(consdb_bot, external, tmp_path: Path):
    url = os.environ["BTS_DATABASE_URL"]
    barrier = 4242
    with psycopg.connect(libpq(url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (barrier,))
        first = _blocked_upgrade(holder, barrier, external)
        second = consdb_bot("upgrade", "bts", "startrackerwide", "--yes", "--config", str(external))
        holder.execute("SELECT pg_advisory_unlock(%s)", (barrier,))
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert second.code == 1
    # One change at a time per environment, whichever surface asked: the rule, not the schema lock.
    assert "bts already has a change under way: request #1" in second.err
    assert "is running" in second.err
    assert "--wait queues behind it" in second.err
    assert consdb_bot("status", "bts", "startrackerwide", "--config", str(external)).out.count("(head)") == 1


def test_wait_queues_a_terminal_change_behind_the_environments_open_request(consdb_bot, external):
    url = os.environ["BTS_DATABASE_URL"]
    barrier = 4243
    with psycopg.connect(libpq(url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (barrier,))
        first = _blocked_upgrade(holder, barrier, external)
        second = subprocess.Popen(
            [sys.executable, "-m", "bot", "downgrade", "bts", "startrackerwide", "base", "--wait", "--yes",
             "--config", str(external)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert second.stderr is not None
        said = second.stderr.readline()  # it says so before it waits: then it is waiting
        assert said.startswith("waiting behind request #1 (running, by "), said
        holder.execute("SELECT pg_advisory_unlock(%s)", (barrier,))
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, out + err
    assert "downgrade at bts: done" in out  # planned once the first had ended, from where it left the schema
    audit = consdb_bot("audit", "bts", "--config", str(external)).out
    assert "#2 downgrade succeeded" in audit


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_terminal_change_stopped_mid_run_is_rolled_back_recorded_and_frees_its_environment(
    consdb_bot, external, stop
):
    url = os.environ["BTS_DATABASE_URL"]
    barrier = 4244
    with psycopg.connect(libpq(url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (barrier,))
        running = _blocked_upgrade(holder, barrier, external)
        running.send_signal(stop)  # the terminal's process only: its child is stopped by it
        out, err = running.communicate(timeout=60)
        holder.execute("SELECT pg_advisory_unlock(%s)", (barrier,))
    assert running.returncode == 1, out + err
    assert "stopping: the migration under way is rolled back; where the change stands follows" in err
    assert "(head)" not in consdb_bot("status", "bts", "startrackerwide", "--config", str(external)).out  # rolled back
    audit = consdb_bot("audit", "bts", "--config", str(external)).out
    assert "#1 was interrupted" in audit
    again = consdb_bot("upgrade", "bts", "startrackerwide", "--yes", "--config", str(external))
    assert again.code == 0, again.text  # nothing holds bts any more


@pytest.mark.slow
def test_a_terminal_change_stopped_mid_run_says_so_in_json_with_json(external):
    with psycopg.connect(libpq(os.environ["BTS_DATABASE_URL"]), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(4244)")
        running = _blocked_upgrade(holder, 4244, external, "--json")
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=60)
        holder.execute("SELECT pg_advisory_unlock(4244)")
    assert running.returncode == 1, out + err
    assert err == "stopping: the migration under way is rolled back; where the change stands follows\n"
    value = json.loads(out)
    assert value["error"].startswith("The bot stopped while this ran: nothing was applied")
    assert (value["exit"], value["answer"]["state"]) == (1, "interrupted")


def _blocked_upgrade(holder: psycopg.Connection, barrier: int, external: Path, *more: str) -> subprocess.Popen:
    """A terminal upgrade of startrackerwide, running and waiting at the barrier lock ``holder`` holds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "upgrade", "bts", "startrackerwide", "--options", f"barrier={barrier}", "--yes",
         "--config", str(external), *more],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _wait_until_blocked_on(holder, barrier, process)
    return process


def _wait_until_blocked_on(connection: psycopg.Connection, key: int, process: subprocess.Popen) -> None:
    """Until the migration waits for our lock: a condition PostgreSQL reports, not a guess."""
    for _ in range(600):
        if _waiting_on(connection, key):
            return
        assert process.poll() is None, process.communicate()
        connection.execute("SELECT pg_sleep(0.05)")
    raise AssertionError("the first upgrade never reached the barrier")


def _waiting_on(connection: psycopg.Connection, key: int) -> int:
    """Sessions of this database waiting for advisory lock ``key``."""
    row = connection.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (key,),
    ).fetchone()
    return row[0] if row else 0


def test_options_reach_the_migration_scripts(consdb_bot, external):
    result = consdb_bot("upgrade", "bts", "startrackerwide", "--options", "note=from-the-terminal", "--yes",
                        "--config", str(external))  # fmt: skip
    assert result.code == 0, result.text
    with psycopg.connect(libpq(os.environ["BTS_DATABASE_URL"])) as connection:
        comment = connection.execute("SELECT obj_description('cdb_startrackerwide.exposure'::regclass)").fetchone()
    assert comment == ("from-the-terminal",)


def test_view_readers_are_granted_select(consdb_bot, bundled, server_url):
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute("DO $$ BEGIN CREATE ROLE consdb_test_reader; EXCEPTION WHEN duplicate_object THEN END $$")
    result = consdb_bot("upgrade", "bts", "latiss", "--options", "view_readers=consdb_test_reader", "--yes",
                        "--config", str(bundled))  # fmt: skip
    assert result.code == 0, result.text
    with psycopg.connect(libpq(os.environ["BTS_DATABASE_URL"])) as connection:
        grants = connection.execute(
            "SELECT table_name FROM information_schema.role_table_grants"
            " WHERE grantee = 'consdb_test_reader' AND privilege_type = 'SELECT' ORDER BY table_name"
        ).fetchall()
    assert grants == [("ccdvisit1",), ("visit1",)]


def test_external_tree_with_its_own_python_folder_and_types(consdb_bot, external):
    result = consdb_bot("upgrade", "bts", "latiss", "--yes", "--config", str(external))
    assert result.code == 0, result.text
    with psycopg.connect(libpq(os.environ["BTS_DATABASE_URL"])) as connection:
        kind = connection.execute(
            "SELECT udt_name FROM information_schema.columns"
            " WHERE table_schema = 'cdb_latiss' AND table_name = 'exposure' AND column_name = 'position'"
        ).fetchone()
    assert kind == ("sky_position",)
    history = consdb_bot("history", "latiss", "--config", str(external))
    assert "a1b2c3000002 -> c0ffee000003 (head)  Add exposure_time  ← bts" in history.out


def test_relative_steps_up_and_down(consdb_bot, external):
    config = ("--config", str(external))
    assert consdb_bot("upgrade", "bts", "latiss", "--to", "+2", "--yes", *config).code == 0
    assert "a1b2c3000002 (1 behind)" in consdb_bot("status", "bts", "latiss", *config).out
    assert consdb_bot("downgrade", "bts", "latiss", "-1", "--yes", *config).code == 0
    assert "a1b2c3000001 (2 behind)" in consdb_bot("status", "bts", "latiss", *config).out
    below = consdb_bot("downgrade", "bts", "latiss", "-2", "--yes", *config)
    assert below.code == 1
    assert "-2 would go below base" in below.err
    assert "downgrade ENV latiss base" in below.err
    assert consdb_bot("downgrade", "bts", "latiss", "base", "--yes", *config).code == 0
    assert "empty (3 behind)" in consdb_bot("status", "bts", "latiss", *config).out


def test_several_heads_need_an_explicit_target(consdb_bot, external):
    config = ("--config", str(external))
    refused = consdb_bot("upgrade", "bts", "lsstcam", "--yes", *config)
    assert refused.code == 1
    assert "lsstcam has 2 heads (b0000000000a, b0000000000b)" in refused.err
    assert "--to REV" in refused.err
    assert consdb_bot("upgrade", "bts", "lsstcam", "--to", "b0000000000a", "--yes", *config).code == 0
    assert "b0000000000a (1 behind)" in consdb_bot("status", "bts", "lsstcam", *config).out
    assert consdb_bot("upgrade", "bts", "lsstcam", "--to", "heads", "--yes", *config).code == 0
    assert "b0000000000a, b0000000000b (head)" in consdb_bot("status", "bts", "lsstcam", *config).out


def test_unknown_and_ambiguous_revisions_are_refused(consdb_bot, external):
    config = ("--config", str(external))
    unknown = consdb_bot("plan", "bts", "latiss", "--to", "ffff", *config)
    assert unknown.code == 1
    assert "latiss has no revision 'ffff'" in unknown.err
    assert "history latiss" in unknown.err
    ambiguous = consdb_bot("plan", "bts", "latiss", "--to", "a1b2", *config)
    assert ambiguous.code == 1
    assert "Multiple revisions start with 'a1b2'" in ambiguous.err
    assert consdb_bot("plan", "bts", "latiss", "--to", "c0ffee", *config).code == 0


@pytest.mark.slow
def test_unversioned_database_is_refused_until_stamped(consdb_bot, bundled):
    config = ("--config", str(bundled))
    assert consdb_bot("upgrade", "bts", "startrackerwide", "--yes", *config).code == 0
    with psycopg.connect(libpq(os.environ["BTS_DATABASE_URL"]), autocommit=True) as connection:
        connection.execute("DROP TABLE cdb.cdb_startrackerwide_version")
    assert "unversioned" in consdb_bot("status", "bts", "startrackerwide", *config).out
    refused = consdb_bot("upgrade", "bts", "startrackerwide", "--yes", *config)
    assert refused.code == 1
    assert "stamp bts startrackerwide REV" in refused.err
    assert consdb_bot("stamp", "bts", "startrackerwide", "head", "--yes", *config).code == 0
    assert "2c2567f48db5 (head)" in consdb_bot("status", "bts", "startrackerwide", *config).out


def test_unreachable_database_is_named_without_its_password(consdb_bot, bundled, monkeypatch):
    monkeypatch.setenv("BTS_DATABASE_URL", "postgresql://consdb:s3cr3t-Pa55@127.0.0.1:1/consdb")
    status = consdb_bot("status", "bts", "--config", str(bundled))
    assert status.code == 0
    assert "unreachable: cannot reach postgresql://consdb:***@127.0.0.1:1/consdb" in status.out
    refused = consdb_bot("upgrade", "bts", "--yes", "--config", str(bundled))
    assert refused.code == 1
    assert "unreachable" in refused.err or "cannot reach" in refused.err


def _external_with(external: Path, **migrations: str) -> Path:
    """The external configuration with some ``migrations`` settings changed."""
    text = external.read_text()
    settings = ", ".join(f"{key}: {value}" for key, value in migrations.items())
    external.write_text(text.replace("connect_timeout_seconds: 2}", f"connect_timeout_seconds: 2, {settings}}}"))
    return external


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        (
            {"run_timeout_seconds": "1"},
            "stopped at the time limit (migrations.run_timeout_seconds)",
        ),
        (
            {"lock_timeout": "200ms", "lock_retry_seconds": "1"},
            "each waiting 200ms for its lock): an advisory lock was held by pid",
        ),
    ],
)
def test_time_limits_stop_a_blocked_migration_and_leave_the_schema_as_it_was(consdb_bot, external, setting, says):
    config = _external_with(external, **setting)
    with psycopg.connect(libpq(os.environ["BTS_DATABASE_URL"]), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(4343)")
        result = consdb_bot(
            "upgrade", "bts", "startrackerwide", "--options", "barrier=4343", "--yes", "--config", str(config)
        )
        assert _waiting_on(holder, 4343) == 0, "the migration's session must be gone once the run is reported over"
    assert result.code == 1
    assert says in result.out
    assert "empty (1 behind)" in consdb_bot("status", "bts", "startrackerwide", "--config", str(config)).out


def test_wait_queues_behind_the_holder_of_the_schema_lock(consdb_bot, external):
    url = os.environ["BTS_DATABASE_URL"]
    namespace, schema_key = lock_key("cdb_startrackerwide")
    with psycopg.connect(libpq(url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (namespace, schema_key))
        waiting = subprocess.Popen(
            [sys.executable, "-m", "bot", "upgrade", "bts", "startrackerwide", "--wait", "--yes", "--config", str(external)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _wait_until_blocked_on(holder, schema_key, waiting)
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", (namespace, schema_key))
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, out + err
    assert "e00000000001 (head)" in consdb_bot("status", "bts", "startrackerwide", "--config", str(external)).out


def test_drift_works_for_a_consdb_style_tree(consdb_bot, external):
    assert consdb_bot("upgrade", "bts", "latiss", "--to", "+2", "--yes", "--config", str(external)).code == 0
    result = consdb_bot("drift", "bts", "latiss", "--config", str(external))
    assert result.code == 0, result.text
    assert "bts/latiss: matches its revision a1b2c3000002" in result.out


@pytest.mark.slow
def test_tables_with_no_recorded_revision_are_unversioned(consdb_bot, bundled):
    config = ("--config", str(bundled))
    assert consdb_bot("upgrade", "bts", "startrackerwide", "--yes", *config).code == 0
    assert consdb_bot("stamp", "bts", "startrackerwide", "base", "--yes", *config).code == 0
    assert "unversioned" in consdb_bot("status", "bts", "startrackerwide", *config).out
    refused = consdb_bot("upgrade", "bts", "startrackerwide", "--yes", *config)
    assert refused.code == 1
    assert "stamp bts startrackerwide REV" in refused.err


def test_several_heads_as_a_downgrade_target_is_a_clear_refusal(consdb_bot, external):
    config = ("--config", str(external))
    assert consdb_bot("upgrade", "bts", "lsstcam", "--to", "heads", "--yes", *config).code == 0
    refused = consdb_bot("downgrade", "bts", "lsstcam", "heads", "--yes", *config)
    assert refused.code == 1
    assert "lsstcam:" in refused.err
    assert "Traceback" not in refused.text
    assert consdb_bot("downgrade", "bts", "lsstcam", "b00000000001", "--yes", *config).code == 0


def test_plan_uses_the_environments_migration_options(consdb_bot, bundled, server_url):
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute("DO $$ BEGIN CREATE ROLE consdb_test_reader; EXCEPTION WHEN duplicate_object THEN END $$")
    text = bundled.read_text().replace(
        "    approvals: {required: 1",
        "    migration_options: {view_readers: consdb_test_reader}\n    approvals: {required: 1",
    )
    bundled.write_text(text)
    plan = consdb_bot("plan", "bts", "latiss", "--sql", "--config", str(bundled))
    assert 'GRANT SELECT ON "cdb_latiss"."visit1" TO "consdb_test_reader"' in plan.out


def test_an_upgrade_already_done_is_nothing_to_do(consdb_bot, bundled):
    assert consdb_bot("upgrade", "bts", "startrackerwide", "--yes", "--config", str(bundled)).code == 0
    again = consdb_bot("upgrade", "bts", "startrackerwide", "--yes", "--config", str(bundled))
    assert again.code == 0
    assert "nothing to do at bts" in again.out


def test_the_terminal_meets_the_same_policy(consdb_bot, bundled):
    text = bundled.read_text().replace(
        "    approvals: {required: 1", "    requires_ticket: true\n    approvals: {required: 1"
    )
    bundled.write_text(text)
    refused = consdb_bot("upgrade", "bts", "startrackerwide", "--yes", "--config", str(bundled))
    assert refused.code == 1
    assert "bts changes need a Jira ticket" in refused.err
    assert (
        consdb_bot("upgrade", "bts", "startrackerwide", "--ticket", "OSW-9", "--yes", "--config", str(bundled)).code
        == 0
    )


@pytest.fixture
def chain(tmp_path: Path, new_database, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Summit and the USDF environments on the ConsDB-style tree, each with a database of its own.
    startrackerwide stands for an efd_* schema: kept at USDF only, so proven at usdf-dev, not the Summit."""
    for variable in ("SUMMIT_DATABASE_URL", "USDF_DEV_DATABASE_URL", "USDF_PROD_DATABASE_URL"):
        url = new_database()
        with psycopg.connect(libpq(url), autocommit=True) as connection:
            connection.execute("CREATE SCHEMA cdb")
        monkeypatch.setenv(variable, url)
    config = write_config(
        tmp_path / "consdb-bot.yaml",
        environments={
            "summit": "SUMMIT_DATABASE_URL", "usdf-dev": "USDF_DEV_DATABASE_URL", "usdf-prod": "USDF_PROD_DATABASE_URL",
        },
        schemas=["latiss", "lsstcam", "lsstcomcam", "startrackerwide"],
        alembic_ini=str(EXTERNAL_TREE / "alembic.ini"),
        sdm_schemas=str(EXTERNAL_TREE),
        extra="    requires_tested_on: [summit, usdf-dev]\n",
    )  # fmt: skip
    config.write_text(
        config.read_text().replace("  summit:\n", "  summit:\n    schemas: [latiss, lsstcam, lsstcomcam]\n")
    )
    return config


def test_usdf_prod_waits_for_the_summit_however_far_ahead_usdf_dev_is(consdb_bot, chain):
    assert consdb_bot("upgrade", "summit", "latiss", "--to", "+1", "--yes", "--config", str(chain)).code == 0
    assert consdb_bot("upgrade", "usdf-dev", "latiss", "--yes", "--config", str(chain)).code == 0
    refused = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(chain))
    assert refused.code == 1
    assert (
        "usdf-prod: latiss must first reach c0ffee000003 at summit, which is 2 revisions behind it (at a1b2c3000001)"
        in refused.err
    )
    assert "Run `migrate summit latiss --to c0ffee000003` first." in refused.err
    assert "empty (3 behind)" in consdb_bot("status", "usdf-prod", "latiss", "--config", str(chain)).out
    passed = consdb_bot("upgrade", "usdf-prod", "latiss", "--to", "a1b2c3000001", "--yes", "--config", str(chain))
    assert passed.code == 0, passed.text


def test_a_schema_the_summit_does_not_keep_is_proven_at_usdf_dev(consdb_bot, chain):
    refused = consdb_bot("upgrade", "usdf-prod", "startrackerwide", "--yes", "--config", str(chain))
    assert refused.code == 1
    assert "usdf-prod: startrackerwide must first reach e00000000001 at usdf-dev, which is 1 revision behind it" in (
        refused.err
    )
    assert consdb_bot("upgrade", "usdf-dev", "startrackerwide", "--yes", "--config", str(chain)).code == 0
    passed = consdb_bot("upgrade", "usdf-prod", "startrackerwide", "--yes", "--config", str(chain))
    assert passed.code == 0, passed.text


def test_the_summits_database_is_the_proof_even_when_changed_outside_the_bot(consdb_bot, chain, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(chain.read_text().replace("state.sqlite3", "another-bot.sqlite3"))
    assert consdb_bot("upgrade", "summit", "latiss", "--yes", "--config", str(elsewhere)).code == 0
    assert consdb_bot("audit", "summit", "--config", str(chain)).out.strip() == "no audit records yet"
    passed = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(chain))
    assert passed.code == 0, passed.text


def test_where_the_summit_cannot_be_read_the_bots_records_stand_in(consdb_bot, chain, monkeypatch):
    summit = os.environ["SUMMIT_DATABASE_URL"]
    monkeypatch.delenv("SUMMIT_DATABASE_URL")
    refused = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(chain))
    assert refused.code == 1
    assert (
        "where the bot has no record of changing latiss, nor can it read the database: not configured here"
        " (set SUMMIT_DATABASE_URL)"
    ) in refused.err
    monkeypatch.setenv("SUMMIT_DATABASE_URL", summit)
    assert consdb_bot("upgrade", "summit", "latiss", "--to", "a1b2c3000002", "--yes", "--config", str(chain)).code == 0
    monkeypatch.delenv("SUMMIT_DATABASE_URL")
    refused = consdb_bot("upgrade", "usdf-prod", "latiss", "--yes", "--config", str(chain))
    assert "which is 1 revision behind it by the bot's records (its database cannot be read here)" in refused.err
    passed = consdb_bot("upgrade", "usdf-prod", "latiss", "--to", "a1b2c3000002", "--yes", "--config", str(chain))
    assert passed.code == 0, passed.text


def test_a_schema_an_environment_does_not_keep_is_not_kept_here(consdb_bot, chain):
    status = consdb_bot("status", "summit", "--config", str(chain))
    rows = [line.split(None, 2) for line in status.out.splitlines()[2:]]
    assert ["summit", "startrackerwide", "not kept here"] in rows
    assert ["summit", "latiss", "empty (3 behind)"] in rows
    as_json = json.loads(consdb_bot("status", "summit", "startrackerwide", "--json", "--config", str(chain)).out)
    assert [(row["state"], row["summary"]) for row in as_json] == [("not-kept", "not kept here")]
    refused = consdb_bot("upgrade", "summit", "startrackerwide", "--yes", "--config", str(chain))
    assert refused.code == 2
    assert "summit does not keep startrackerwide" in refused.err
    assert "schemas at summit: latiss, lsstcam, lsstcomcam" in refused.err
