"""Read-only terminal commands: status, history, plan, help, exit codes."""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG, REPO, write_config

TERMINAL_ACTOR = f"{getpass.getuser()}@{socket.gethostname()} (terminal)"


def test_status_works_with_only_bts_configured(consdb_bot, new_database, tmp_path, monkeypatch):
    monkeypatch.setenv("BTS_DATABASE_URL", new_database())
    for variable in ("TTS", "SUMMIT", "USDF_DEV", "USDF_INT", "USDF_PROD"):
        monkeypatch.delenv(f"{variable}_DATABASE_URL", raising=False)
    config = EXAMPLE_CONFIG
    result = consdb_bot("status", "--config", str(config))
    assert result.code == 0, result.text
    rows = [line.split(None, 2) for line in result.out.splitlines()[2:]]
    assert ["bts", "latiss", "empty (2 behind)"] in rows
    assert ["bts", "startrackerfast", "empty (1 behind)"] in rows
    assert ["bts", "efd_latiss", "not kept here"] in rows
    assert ["summit", "(all)", "not configured here (set SUMMIT_DATABASE_URL)"] in rows
    assert ["usdf-int", "(all)", "not configured here (set USDF_INT_DATABASE_URL)"] in rows
    scheduler = next(row for row in rows if row[:2] == ["usdf-dev", "efd_scheduler"])
    assert scheduler[2].endswith("alembic.ini has no section [efd_scheduler]"), "the bundled tree has no such model"
    assert sum(row[0] == "bts" for row in rows) == 11


@pytest.mark.slow
def test_a_configured_schema_the_tree_lacks_is_left_out_of_all_and_refused_when_named(
    consdb_bot, new_database, monkeypatch
):
    monkeypatch.setenv("USDF_DEV_DATABASE_URL", new_database())
    config = str(EXAMPLE_CONFIG)
    planned = consdb_bot("plan", "usdf-dev", "--config", config)
    assert planned.code == 0, planned.text
    assert "usdf-dev/efd_lsstcam: upgrade base" in planned.out
    assert "efd_scheduler" not in planned.out
    named = consdb_bot("plan", "usdf-dev", "efd_scheduler", "--config", config)
    assert named.code == 2
    assert "alembic.ini has no section [efd_scheduler]" in named.err


def test_status_verbose_shows_messages_and_script_paths(consdb_bot, bundled):
    assert consdb_bot("upgrade", "bts", "latiss", "--to", "+1", "--yes", "--config", str(bundled)).code == 0
    result = consdb_bot("status", "bts", "latiss", "-v", "--config", str(bundled))
    assert "8ebb60eda79d (1 behind)" in result.out
    assert "bts/latiss 8ebb60eda79d: Create cdb_latiss as in sdm_schemas 30.2026.2800" in result.out
    assert "migrations/versions/latiss/8ebb60eda79d_create_cdb_latiss" in result.out


def test_history_newest_first_with_environments(consdb_bot, bundled):
    assert consdb_bot("upgrade", "bts", "lsstcam", "--yes", "--config", str(bundled)).code == 0
    lines = consdb_bot("history", "cdb_lsstcam", "--config", str(bundled)).out.splitlines()
    assert lines[0] == "lsstcam: 2 revisions, newest first"
    assert lines[1] == "dbd7607b3634 -> e72a1ea985e6 (head)  sdm_schemas 30.2026.4300  ← bts"
    assert lines[2] == "base -> dbd7607b3634  Create cdb_lsstcam as in sdm_schemas 30.2026.2800"


@pytest.mark.slow
def test_plan_lists_revisions_lint_warnings_and_sql(consdb_bot, bundled):
    assert consdb_bot("upgrade", "bts", "latiss", "--to", "+1", "--yes", "--config", str(bundled)).code == 0
    result = consdb_bot("plan", "bts", "latiss", "--sql", "--config", str(bundled))
    assert result.code == 0
    assert "bts/latiss: upgrade 8ebb60eda79d → 05689cf3f8f0" in result.out
    assert (
        "note [index-concurrently] cdb_latiss.ccdexposure_camera: will build index"
        " idx_ccdexposure_camera_ccdexposure_id concurrently, after the transaction commits"
    ) in result.out
    assert "warning [index-not-concurrent]" not in result.out
    assert (
        "-- Phase 2, outside the transaction: index idx_ccdexposure_camera_ccdexposure_id on"
        " cdb_latiss.ccdexposure_camera (built concurrently)\nCREATE INDEX CONCURRENTLY IF NOT EXISTS"
        " idx_ccdexposure_camera_ccdexposure_id ON cdb_latiss.ccdexposure_camera (ccdexposure_id);"
    ) in result.out
    assert "UPDATE cdb.cdb_latiss_version_pending SET version_num='05689cf3f8f0'" in result.out
    assert "-- Phase 6, one transaction: cdb.cdb_latiss_version moves to where" in result.out
    data = json.loads(consdb_bot("plan", "bts", "latiss", "--json", "--config", str(bundled)).out)
    assert [revision["revision"] for revision in data[0]["revisions"]] == ["05689cf3f8f0"]
    assert len(data[0]["sql_digest"]) == 64


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["status", "mars"], 2, "unknown environment or schema 'mars'"),
        (["plan", "mars"], 2, "unknown environment 'mars'"),
        (["history", "hsc"], 2, "unknown schema 'hsc'"),
        (["upgrade"], 2, "the following arguments are required: ENV"),
        (["upgrade", "bts", "--to", "base", "--yes"], 1, "an upgrade cannot go to base"),
        (["upgrade", "bts", "latiss", "--to", "-1", "--yes"], 1, "Use `downgrade ENV latiss -1`"),
    ],
)
def test_refusals_and_usage_errors_have_the_contract_exit_codes(consdb_bot, bundled, args, code, says):
    result = consdb_bot(*args, "--config", str(bundled))
    assert result.code == code
    assert says in result.err


def test_a_wrong_configuration_exits_2_naming_the_problem(consdb_bot, tmp_path):
    config = write_config(
        tmp_path / "c.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss"], extra="colour: blue\n"
    )
    result = consdb_bot("status", "--config", str(config))
    assert result.code == 2
    assert "colour (line 8): unknown key" in result.err


def test_console_script_and_module_agree():
    console_script = str(Path(sys.executable).parent / "consdb-bot")
    for command in ([console_script, "--help"], [sys.executable, "-m", "bot", "--help"]):
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 0
        assert "usage: consdb-bot" in done.stdout
        assert "upgrade (migrate)" in done.stdout


def test_audit_lists_terminal_changes_newest_first(consdb_bot, bundled):
    config = ("--config", str(bundled))
    assert consdb_bot("upgrade", "bts", "startrackerwide", "--ticket", "OSW-7", "--yes", *config).code == 0
    assert consdb_bot("downgrade", "bts", "startrackerwide", "base", "--yes", *config).code == 0
    result = consdb_bot("audit", "bts", "--limit", "5", *config)
    assert result.code == 0
    lines = result.out.splitlines()
    # A terminal change is a request like Slack's: asked, approved (--yes), run, in the same records.
    assert [line.split(None, 4)[3:] for line in lines[:4]] == [
        ["succeeded", "consdb-bot: #2 downgrade succeeded"],
        ["approved", "consdb-bot: #2 approved"],
        ["approved", f"{TERMINAL_ACTOR}: approve given on #2 with --yes in the terminal"],
        ["requested", f"{TERMINAL_ACTOR}: downgrade startrackerwide requested"],
    ]
    assert "consdb-bot: #1 upgrade succeeded" in lines[4]
    records = json.loads(consdb_bot("audit", "--json", *config).out)
    assert records[4]["detail"] == {"reached": {"startrackerwide": ["2c2567f48db5"]}, "ticket": "OSW-7"}
