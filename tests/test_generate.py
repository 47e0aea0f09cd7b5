"""``consdb-bot generate`` on copies of the bundled tree, against real and made-up changes of the Felis
model, proven on PostgreSQL databases holding rows."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import black
import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.engine.database import DatabaseUrl
from bot.engine.generate import BLACK_MODE, compare, model_metadata
from tests.conftest import PASSWORD, REPO, libpq

pytestmark = pytest.mark.slow

INSTALLED_MODEL = Path(str(resources.files("lsst.sdm.schemas")))
PUBLISHED_4300 = {"latiss": "05689cf3f8f0", "lsstcam": "e72a1ea985e6"}


class Workshop:
    """A copy of the bundled tree, a copy of the installed model to edit, a configuration, and a bts database."""

    def __init__(self, folder: Path, scratch: str, bts: str, run: Callable[..., Any]) -> None:
        self.folder, self.bts, self.run = folder, bts, run
        self.tree = folder / "tree"
        shutil.copytree(REPO / "migrations", self.tree, ignore=shutil.ignore_patterns("__pycache__"))
        self.model = folder / "sdm"
        (self.model / "yml").mkdir(parents=True)
        for path in INSTALLED_MODEL.glob("cdb_*.yaml"):
            shutil.copy(path, self.model / "yml" / path.name)
        self.config = folder / "consdb-bot.yaml"
        self.config.write_text(f"""
state_url: sqlite:///{folder / "state.sqlite3"}
migrations: {{alembic_ini: {self.tree / "alembic.ini"}, scratch_url: "{scratch}", connect_timeout_seconds: 5}}
schemas: [latiss, lsstcam, startrackerwide]
environments:
  bts: {{database_url: "{bts}", test_stand: true, approvals: {{approvers: [U0APPROVE1]}}}}
""")

    def consdb_bot(self, *args: str) -> Any:
        return self.run(*args, "--config", str(self.config))

    def generate(self, *args: str) -> Any:
        return self.consdb_bot("generate", *args, "--sdm-schemas", str(self.model))

    def forget(self, revision: str) -> None:
        """Take a revision out of the tree, as if it had not been written yet."""
        (path,) = self.tree.glob(f"versions/*/{revision}_*.py")
        path.unlink()

    def edit(self, schema: str, change: Callable[[dict[str, dict[str, Any]]], None]) -> None:
        path = self.model / "yml" / f"cdb_{schema}.yaml"
        document = yaml.safe_load(path.read_text())
        change({table["name"]: table for table in document["tables"]})
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def written(self, schema: str) -> list[Path]:
        """The revisions of ``schema`` that the bundled tree does not have."""
        bundled = {path.name for path in (REPO / "migrations" / "versions" / schema).glob("*.py")}
        return sorted(path for path in (self.tree / "versions" / schema).glob("*.py") if path.name not in bundled)

    def left_to_do(self, schema: str) -> list[Any]:
        """What still differs between the bts database and the edited model."""
        return compare(
            DatabaseUrl.parse(self.bts, key="bts"), f"cdb_{schema}", model_metadata(self.model, f"cdb_{schema}")
        )


@pytest.fixture
def scratch(server_url: str) -> str:
    """Where ``generate`` makes (and drops) its scratch databases: the test server itself."""
    return make_url(server_url).set(password=PASSWORD).render_as_string(hide_password=False)


@pytest.fixture
def workshop(tmp_path: Path, scratch: str, new_database, consdb_bot) -> Workshop:
    return Workshop(tmp_path, scratch, new_database(), consdb_bot)


def column(table: str, name: str, datatype: str = "double", **more: Any) -> dict[str, Any]:
    return {"name": name, "@id": f"#{table}.{name}", "datatype": datatype, "nullable": True, "description": f"{name}.",
            **more}  # fmt: skip


def insert_row(url: str, schema: str, table: str, values: dict[str, Any]) -> None:
    """A row with ``values``, and any value of the right type in every other NOT NULL column."""
    samples = {"bigint": 7, "integer": 7, "smallint": 7, "boolean": True, "double precision": 1.5, "real": 1.5,
               "character varying": "x", "character": "x", "text": "x"}  # fmt: skip
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        required = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s"
            " AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL",
            (schema, table),
        ).fetchall()
        row = {name: samples.get(kind, "2026-11-21 12:00:00") for name, kind in required} | values
        names = ", ".join(row)
        marks = ", ".join(["%s"] * len(row))
        connection.execute(f"INSERT INTO {schema}.{table} ({names}) VALUES ({marks})", list(row.values()))


def one_value(url: str, query: str) -> Any:
    with psycopg.connect(libpq(url)) as connection:
        found = connection.execute(query).fetchone()
        return found[0] if found else None


def columns(url: str, table: str) -> set[str]:
    with psycopg.connect(libpq(url)) as connection:
        rows = connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'cdb_latiss' AND table_name = %s",
            (table,),
        ).fetchall()
    return {name for (name,) in rows}


def without_id_and_date(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines()
            if not line.startswith(("Revision ID:", "Create Date:", "revision: str"))]  # fmt: skip


def bodies(path: Path) -> dict[str, str]:
    """The upgrade and downgrade functions as syntax, whatever their layout."""
    tree = ast.parse(path.read_text())
    return {node.name: ast.dump(node) for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_the_published_step_from_2800_to_4300_comes_out_as_written_and_keeps_the_rows(workshop):
    for revision in PUBLISHED_4300.values():
        workshop.forget(revision)
    assert workshop.consdb_bot("upgrade", "bts", "latiss", "--yes").code == 0
    insert_row(
        workshop.bts, "cdb_latiss", "exposure", {"exposure_id": 2026112100001, "day_obs": 20261121, "seq_num": 1}
    )

    result = workshop.generate("-m", "sdm_schemas 30.2026.4300", "latiss", "lsstcam", "startrackerwide")
    assert result.code == 0, result.text
    assert "startrackerwide: no change in the model, no file" in result.out
    assert "  create index idx_ccdexposure_camera_ccdexposure_id on ccdexposure_camera" in result.out
    assert result.out.count("proven in a scratch database") == 2
    for schema, published in PUBLISHED_4300.items():
        (generated,) = workshop.written(schema)
        (original,) = (REPO / "migrations" / "versions" / schema).glob(f"{published}_*.py")
        assert bodies(generated) == bodies(original), f"{schema}: the generated revision differs from the published one"
        assert black.format_str(generated.read_text(), mode=BLACK_MODE) == generated.read_text()

    assert workshop.consdb_bot("upgrade", "bts", "latiss", "--yes").code == 0
    assert one_value(workshop.bts, "SELECT count(*) FROM cdb_latiss.exposure") == 1
    assert workshop.left_to_do("latiss") == []


def made_up_changes(tables: dict[str, dict[str, Any]]) -> None:
    """A column added to exposure (and its view), a column renamed, a table added, an index and a
    unique constraint renamed."""
    tables["exposure"]["columns"].append(column("exposure", "seeing_zenith_500nm"))
    tables["visit1"]["columns"].append(column("visit1", "seeing_zenith_500nm"))
    renamed = next(c for c in tables["exposure_quicklook"]["columns"] if c["name"] == "postisr_pixel_median")
    renamed.update({"name": "postisr_median", "@id": "#exposure_quicklook.postisr_median"})
    tables["ccdexposure_camera"]["indexes"][0]["name"] = "idx_ccdexposure_camera_by_exposure"
    unique = next(c for c in tables["exposure"]["constraints"] if c["name"] == "un_exposure_exposure_id")
    unique["name"] = "un_exposure_id"


def add_dimm_table(workshop: Workshop) -> None:
    path = workshop.model / "yml" / "cdb_latiss.yaml"
    document = yaml.safe_load(path.read_text())
    document["tables"].append({
        "name": "exposure_dimm", "@id": "#exposure_dimm", "description": "DIMM seeing of each exposure.",
        "primaryKey": ["#exposure_dimm.exposure_id"],
        "columns": [column("exposure_dimm", "exposure_id", "long", nullable=False), column("exposure_dimm", "seeing")],
        "constraints": [{"name": "fk_exposure_dimm_exposure_id", "@id": "#exposure_dimm.fk", "@type": "ForeignKey",
                         "columns": ["#exposure_dimm.exposure_id"], "referencedColumns": ["#exposure.exposure_id"]}],
    })  # fmt: skip
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_made_up_changes_are_written_as_a_person_would_clean_them_up_and_again_the_same_way(
    workshop, tmp_path, scratch, consdb_bot
):
    assert workshop.consdb_bot("upgrade", "bts", "latiss", "--yes").code == 0
    exposure = {"exposure_id": 2026112100001, "day_obs": 20261121, "seq_num": 1, "can_see_sky": False}
    insert_row(workshop.bts, "cdb_latiss", "exposure", exposure)
    insert_row(workshop.bts, "cdb_latiss", "exposure_quicklook",
               {"exposure_id": 2026112100001, "day_obs": 20261121, "seq_num": 1, "postisr_pixel_median": 1234.5})  # fmt: skip
    workshop.edit("latiss", made_up_changes)
    add_dimm_table(workshop)

    unconfirmed = workshop.generate("-m", "DIMM seeing", "latiss", "lsstcam")
    assert unconfirmed.code == 1
    assert "exposure_quicklook.postisr_pixel_median → postisr_median (FLOAT)" in unconfirmed.err
    assert "--rename exposure_quicklook.postisr_pixel_median:postisr_median" in unconfirmed.err
    assert workshop.written("latiss") == []

    mistaken = workshop.generate("-m", "DIMM seeing", "latiss", "--rename", "exposure.nope:other")
    assert mistaken.code == 1
    assert "probable renames: exposure_quicklook.postisr_pixel_median:postisr_median" in mistaken.err

    rename = "exposure_quicklook.postisr_pixel_median:postisr_median"
    result = workshop.generate("-m", "DIMM seeing", "latiss", "lsstcam", "--rename", rename)
    assert result.code == 0, result.text
    assert "lsstcam: no change in the model, no file" in result.out
    assert "views ccdvisit1, visit1 dropped and made again" in result.out
    (path,) = workshop.written("latiss")
    text = path.read_text()
    upgrade = text[text.index("def upgrade") : text.index("def downgrade")]
    steps = [
        'drop_views("cdb_latiss", VIEWS)',
        '"exposure_dimm"',
        '"seeing_zenith_500nm"',
        'new_column_name="postisr_median"',
        "ALTER INDEX cdb_latiss.idx_ccdexposure_camera_ccdexposure_id RENAME TO idx_ccdexposure_camera_by_exposure",
        "ALTER TABLE cdb_latiss.exposure RENAME CONSTRAINT un_exposure_exposure_id TO un_exposure_id",
        'create_views("cdb_latiss", UPGRADED_VIEWS)',
    ]
    assert [upgrade.index(step) for step in steps] == sorted(upgrade.index(step) for step in steps)
    assert "drop_column" not in upgrade
    upgraded = text[text.index("UPGRADED_VIEWS = {") : text.index("DOWNGRADED_VIEWS = {")]
    downgraded = text[text.index("DOWNGRADED_VIEWS = {") : text.index("def upgrade")]
    assert '"seeing_zenith_500nm"' in upgraded
    assert '"seeing_zenith_500nm"' not in downgraded
    assert "WHERE" not in upgraded

    assert workshop.consdb_bot("upgrade", "bts", "latiss", "--yes").code == 0
    assert workshop.left_to_do("latiss") == []
    assert one_value(workshop.bts, "SELECT postisr_median FROM cdb_latiss.exposure_quicklook") == 1234.5
    assert one_value(workshop.bts, "SELECT count(*) FROM cdb_latiss.visit1") == 1
    exposure = columns(workshop.bts, "exposure")
    assert columns(workshop.bts, "visit1") == {"visit_id" if c == "exposure_id" else c for c in exposure}
    assert workshop.consdb_bot("downgrade", "bts", "latiss", "-1", "--yes").code == 0
    assert one_value(workshop.bts, "SELECT postisr_pixel_median FROM cdb_latiss.exposure_quicklook") == 1234.5

    # The same change, in another copy of the tree and model, gives the same file but for its id and date.
    other = Workshop(tmp_path / "other", scratch, workshop.bts, consdb_bot)
    other.edit("latiss", made_up_changes)
    add_dimm_table(other)
    assert other.generate("-m", "DIMM seeing", "latiss", "--rename", rename).code == 0
    (again,) = other.written("latiss")
    assert without_id_and_date(again) == without_id_and_date(path)


def test_views_stay_as_they_are_when_exposure_and_ccdexposure_do_not_change(workshop):
    workshop.edit("latiss", lambda tables: tables["exposure_quicklook"]["columns"].append(
        column("exposure_quicklook", "sky_brightness")))  # fmt: skip
    result = workshop.generate("-m", "sky brightness", "latiss")
    assert result.code == 0, result.text
    assert "dropped and made again" not in result.out
    (path,) = workshop.written("latiss")
    assert "VIEWS" not in path.read_text()
    assert "add column exposure_quicklook.sky_brightness FLOAT" in result.out


def test_in_slack_the_new_revisions_come_as_files_in_a_thread_and_the_bots_tree_stays_as_it_is(bot, slack, tmp_path):
    model = tmp_path / "sdm" / "yml"
    model.mkdir(parents=True)
    for path in INSTALLED_MODEL.glob("cdb_*.yaml"):
        shutil.copy(path, model / path.name)
    document = yaml.safe_load((model / "cdb_latiss.yaml").read_text())
    quicklook = next(table for table in document["tables"] if table["name"] == "exposure_quicklook")
    quicklook["columns"].append(column("exposure_quicklook", "sky_brightness"))
    (model / "cdb_latiss.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    bundled = sorted((REPO / "migrations" / "versions").rglob("*.py"))

    bot.command(f'generate -m "sky brightness" latiss lsstcam --sdm-schemas {model.parent}', user="U0REQUEST1")
    summary = slack.wait_for(
        lambda calls: next((c for c in calls if c.text == "Generated migrations: sky brightness"), None)
    )
    shown = str(summary.args["blocks"])
    assert "latiss: wrote versions/latiss/" in shown
    assert "add column exposure_quicklook.sky_brightness FLOAT" in shown
    assert "lsstcam: no change in the model, no file" in shown
    upload = slack.wait_for(lambda calls: next((c for c in calls if c.method == "files.completeUploadExternal"), None))
    assert upload.args["thread_ts"] == summary.reply["ts"]
    assert "sky_brightness" in b"".join(slack.state.uploads.values()).decode()
    assert sorted((REPO / "migrations" / "versions").rglob("*.py")) == bundled
