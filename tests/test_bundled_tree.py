"""The bundled tree, run by plain Alembic: it must stand on its own, as upstream's does."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import psycopg
import pytest
import yaml

from bot.engine.tree import BUNDLED_INI, MigrationTree
from tests.conftest import BUNDLED_SECTIONS, from_shared, libpq, schema_dump


def alembic(url: str, schema: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CONSDB_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(BUNDLED_INI), "-n", schema, *args],
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("section", BUNDLED_SECTIONS)
@pytest.mark.slow
def test_head_matches_the_pinned_felis_model_and_every_revision_round_trips(section, new_database):
    url = new_database()
    assert alembic(url, section, "upgrade", "head").returncode == 0
    check = alembic(url, section, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    tree = MigrationTree(BUNDLED_INI).schema(section)
    for revision in tree.newest_first():
        at = schema_dump(url, tree.schema_name)
        assert alembic(url, section, "downgrade", "-1").returncode == 0, f"downgrade of {revision.short}"
        assert alembic(url, section, "upgrade", "+1").returncode == 0, f"re-upgrade of {revision.short}"
        assert schema_dump(url, tree.schema_name) == at, f"{revision.short} does not round-trip"
        assert alembic(url, section, "downgrade", "-1").returncode == 0


def test_the_tree_has_every_schema_of_the_contract_that_has_a_model():
    contract = yaml.safe_load(from_shared("contract/config.yaml").read_text())["schemas"]
    installed = Path(str(resources.files("lsst.sdm.schemas")))
    model_names = {schema: schema if schema.startswith("efd_") else f"cdb_{schema}" for schema in contract}
    without_model = [schema for schema, name in model_names.items() if not (installed / f"{name}.yaml").is_file()]
    assert without_model == ["efd_scheduler"]
    assert sorted(BUNDLED_SECTIONS) == sorted(set(contract) - {"efd_scheduler"})
    efd = MigrationTree(BUNDLED_INI).schema("efd_lsstcam")
    assert (efd.schema_name, efd.version_table_schema, efd.version_table) == (
        "efd_lsstcam",
        "cdb",
        "efd_lsstcam_version",
    )


def view_columns(url: str, schema: str, table: str) -> list[str]:
    with psycopg.connect(libpq(url)) as connection:
        rows = connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
            " ORDER BY ordinal_position",
            (schema, table),
        ).fetchall()
    return [name for (name,) in rows]


def test_views_exist_exactly_where_the_model_has_their_base_tables(new_database):
    """Star trackers have no ccdexposure (nor a visit1 in their model): they get no views, and no crash."""
    url = new_database()
    for schema in ("startrackerwide", "latiss"):
        assert alembic(url, schema, "upgrade", "head").returncode == 0
    dump = schema_dump(url, "cdb_startrackerwide") + schema_dump(url, "cdb_latiss")
    assert "CREATE VIEW cdb_startrackerwide" not in dump
    assert "CREATE VIEW cdb_latiss.visit1" in dump
    assert "CREATE VIEW cdb_latiss.ccdvisit1" in dump


def test_views_show_every_column_and_every_row_of_their_base_tables_as_upstream(new_database):
    url = new_database()
    assert alembic(url, "lsstcam", "upgrade", "head").returncode == 0
    exposure = view_columns(url, "cdb_lsstcam", "exposure")
    ccdexposure = view_columns(url, "cdb_lsstcam", "ccdexposure")
    assert view_columns(url, "cdb_lsstcam", "visit1") == ["visit_id" if c == "exposure_id" else c for c in exposure]
    renamed = {"ccdexposure_id": "ccdvisit_id", "exposure_id": "visit_id"}
    assert view_columns(url, "cdb_lsstcam", "ccdvisit1") == [renamed.get(c, c) for c in ccdexposure]

    with psycopg.connect(libpq(url), autocommit=True) as connection:
        for exposure_id, seq_num, sees_sky in ((2026112100001, 1, False), (2026112100002, 2, None)):
            connection.execute(
                "INSERT INTO cdb_lsstcam.exposure (exposure_id, exposure_name, controller, day_obs, seq_num,"
                " can_see_sky) VALUES (%s, %s, 'O', 20261121, %s, %s)",
                (exposure_id, f"MC_O_20261121_{seq_num:06d}", seq_num, sees_sky),
            )
            connection.execute(
                "INSERT INTO cdb_lsstcam.ccdexposure (ccdexposure_id, exposure_id, day_obs, seq_num, detector)"
                " VALUES (%s, %s, 20261121, %s, 94)",
                (exposure_id * 1000 + 94, exposure_id, seq_num),
            )
        visits = connection.execute("SELECT visit_id FROM cdb_lsstcam.visit1 ORDER BY visit_id").fetchall()
        ccdvisits = connection.execute(
            "SELECT ccdvisit_id, visit_id FROM cdb_lsstcam.ccdvisit1 ORDER BY ccdvisit_id"
        ).fetchall()
    assert visits == [(2026112100001,), (2026112100002,)]
    assert ccdvisits == [(2026112100001094, 2026112100001), (2026112100002094, 2026112100002)]
