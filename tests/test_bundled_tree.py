"""The bundled tree, run by plain Alembic: it must stand on its own, as upstream's does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.engine.tree import BUNDLED_INI, MigrationTree
from tests.conftest import BUNDLED_SCHEMAS, schema_dump


def alembic(url: str, schema: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CONSDB_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(BUNDLED_INI), "-n", schema, *args],
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("schema", BUNDLED_SCHEMAS)
def test_head_matches_the_pinned_felis_model_and_every_revision_round_trips(schema, new_database):
    url = new_database()
    assert alembic(url, schema, "upgrade", "head").returncode == 0
    check = alembic(url, schema, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    revisions = MigrationTree(BUNDLED_INI).schema(schema).newest_first()
    for revision in revisions:
        at = schema_dump(url, f"cdb_{schema}")
        assert alembic(url, schema, "downgrade", "-1").returncode == 0, f"downgrade of {revision.short}"
        assert alembic(url, schema, "upgrade", "+1").returncode == 0, f"re-upgrade of {revision.short}"
        assert schema_dump(url, f"cdb_{schema}") == at, f"{revision.short} does not round-trip"
        assert alembic(url, schema, "downgrade", "-1").returncode == 0


def test_views_exist_exactly_where_the_model_has_their_base_tables(new_database):
    """Star trackers have no ccdexposure (nor a visit1 in their model): they get no views, and no crash."""
    url = new_database()
    for schema in ("startrackerwide", "latiss"):
        assert alembic(url, schema, "upgrade", "head").returncode == 0
    dump = schema_dump(url, "cdb_startrackerwide") + schema_dump(url, "cdb_latiss")
    assert "CREATE VIEW cdb_startrackerwide" not in dump
    assert "CREATE VIEW cdb_latiss.visit1" in dump
    assert "CREATE VIEW cdb_latiss.ccdvisit1" in dump
