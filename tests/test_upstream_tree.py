"""lsst-dm/consdb's own tree, unchanged (``../shared/upstream/consdb``): all eleven sections and every
command, in the terminal and through Slack, on PostgreSQL with pg_sphere; and upstream's own checks
(its ``tests/validate_schema_migrations.py`` comparison and ``alembic check``) on what the bot did.

Upstream's tree at 87b5eeb cannot run two kinds of section, with its own Alembic as with the bot:
its env.py makes the visit views from ``ccdexposure``, which the star-tracker models do not have
(``KeyError``), and the pinned lsst-sdm-schemas has no ``efd_scheduler.yaml``. Commands that run
env.py answer for those in one line; every other section answers as usual.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from tests.conftest import Result, from_shared, libpq, write_config
from tests.support.bot_process import BotProcess
from tests.support.slack_bot import APPROVER_1, BTS_CHANNEL, REQUESTER, ephemeral_to, posted_request, request_state

pytestmark = pytest.mark.slow

INSTRUMENTS = ["latiss", "lsstcomcam", "lsstcomcamsim", "lsstcam"]
STARTRACKERS = ["startrackerwide", "startrackernarrow", "startrackerfast"]
EFD = ["efd_latiss", "efd_lsstcomcam", "efd_lsstcam"]
NO_MODEL = "efd_scheduler"
SECTIONS = INSTRUMENTS + STARTRACKERS + EFD + [NO_MODEL]
RUNNABLE = INSTRUMENTS + EFD
SCHEMA = {section: section if section.startswith("efd_") else f"cdb_{section}" for section in SECTIONS}
# Upstream's efd_* env.py keeps its version tables in schema efd; the instrument ones use cdb.
VERSION_TABLE = {
    section: f"{'efd' if section.startswith('efd_') else 'cdb'}.{SCHEMA[section]}_version" for section in SECTIONS
}
MODEL = Path(str(resources.files("lsst.sdm.schemas")))
# What the pinned lsst-sdm-schemas adds over upstream's head: four indexes per instrument schema,
# and columns of efd_lsstcam (the other efd_* models are as upstream's head has them).
PINNED_INDEXES = 4
PINNED_CHANGES = [*INSTRUMENTS, "efd_lsstcam"]


def upstream_ini() -> Path:
    return from_shared("upstream/consdb/alembic.ini")


def prepare_as_upstream(url: str) -> None:
    """What upstream's docker/alembic-setup.sql gives a database (the cdb schema, pg_sphere, the roles
    usdf and oods), plus the schemas its revisions write into, as its validate_schema_migrations.py adds.

    Roles belong to the whole server: made when missing, never dropped.
    """
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        for schema in ["cdb", "efd", *SCHEMA.values()]:
            connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_sphere")
        for role in ("usdf", "oods"):
            # Tests running side by side may make the role first: that is as good.
            with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))


def recorded(url: str, section: str) -> list[str]:
    """The revisions the section's own version table records (none without the table)."""
    with psycopg.connect(libpq(url)) as connection:
        if connection.execute("SELECT to_regclass(%s)", (VERSION_TABLE[section],)).fetchone()[0] is None:
            return []
        query = sql.SQL("SELECT version_num FROM {}").format(sql.Identifier(*VERSION_TABLE[section].split(".")))
        return [row[0] for row in connection.execute(query)]


def status_line(result: Result, section: str) -> str:
    return next(line for line in result.out.splitlines() if line.split()[1:2] == [section])


def forget(url: str, section: str) -> None:
    """The version table emptied, as in a database whose schema was made without Alembic."""
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(*VERSION_TABLE[section].split("."))))


def one_line(result: Result, needle: str) -> str:
    """The single line that says why a section was not run; nothing else in the answer names it
    (the tail of env.py's log, ``  | ...``, is shown as it was)."""
    lines = [line for line in result.text.splitlines() if needle in line and not line.startswith("  | ")]
    assert len(lines) == 1, result.text
    return lines[0]


def one_error_line(result: Result, needle: str) -> str:
    """The one line of a command that failed for the section it names."""
    assert result.code == 1, result.text
    return one_line(result, needle)


def no_model_line(result: Result) -> str:
    """The one line for efd_scheduler: the pinned lsst-sdm-schemas has no model of it."""
    return one_line(result, f"no Felis model: {MODEL / 'efd_scheduler.yaml'} does not exist")


@pytest.fixture
def upstream_db(new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = new_database()
    prepare_as_upstream(url)
    monkeypatch.setenv("BTS_DATABASE_URL", url)
    return url


@pytest.fixture
def upstream(tmp_path: Path, upstream_db: str) -> Callable[..., list[str]]:
    """``consdb-bot --config C`` for a configuration of upstream's tree as it is, in ../shared."""
    config = write_config(
        tmp_path / "consdb-bot.yaml",
        environments={"bts": "BTS_DATABASE_URL"},
        schemas=SECTIONS,
        alembic_ini=str(upstream_ini()),
    )
    return lambda *args: ["--config", str(config), *args]


def test_status_history_and_plan_with_sql_answer_for_every_section(upstream, consdb_bot):
    status = consdb_bot(*upstream("status"))
    assert status.code == 0, status.text
    for section in SECTIONS:
        assert "empty" in status_line(status, section)
        history = consdb_bot(*upstream("history", section))
        assert history.code == 0, history.text
        assert "(head)" in history.out

    for section in RUNNABLE:
        plan = consdb_bot(*upstream("plan", "bts", section, "--sql"))
        assert plan.code == 0, plan.text
        assert f"CREATE TABLE {SCHEMA[section]}.exposure" in plan.out
        assert f"INSERT INTO {VERSION_TABLE[section]}" in plan.out
    for section in STARTRACKERS:
        line = one_error_line(consdb_bot(*upstream("plan", "bts", section, "--sql")), "KeyError")
        assert f"KeyError '{SCHEMA[section]}.ccdexposure' in alembic/env.py" in line
    no_model_line(consdb_bot(*upstream("plan", "bts", NO_MODEL, "--sql")))
    both = consdb_bot(*upstream("plan", "bts", "efd_lsstcam", NO_MODEL, "--sql"))
    no_model_line(both)
    assert "CREATE TABLE efd_lsstcam.exposure_efd" in both.out  # the other section still answers


def test_upgrade_downgrade_and_stamp_every_section_that_upstream_can_run(upstream, upstream_db, consdb_bot):
    upgrade = consdb_bot(*upstream("upgrade", "bts", *RUNNABLE, "--yes"))
    assert upgrade.code == 0, upgrade.text
    status = consdb_bot(*upstream("status"))
    for section in RUNNABLE:
        assert "(head)" in status_line(status, section)
        assert len(recorded(upstream_db, section)) == 1

    for section in ("lsstcam", "efd_lsstcam"):
        head = recorded(upstream_db, section)
        down = consdb_bot(*upstream("downgrade", "bts", section, "-1", "--yes"))
        assert down.code == 0, down.text
        assert "(1 behind)" in status_line(consdb_bot(*upstream("status")), section)
        below = recorded(upstream_db, section)
        refused = consdb_bot(*upstream("stamp", "bts", section, f"{section}@head", "--yes"))
        assert "does not match the model at" in one_error_line(refused, "does not match")
        assert recorded(upstream_db, section) == below
        # A schema whose revision went unrecorded (made without Alembic) is stamped where it stands.
        forget(upstream_db, section)
        stamp = consdb_bot(*upstream("stamp", "bts", section, below[0], "--yes"))
        assert stamp.code == 0, stamp.text
        assert recorded(upstream_db, section) == below
        assert consdb_bot(*upstream("upgrade", "bts", section, "--yes")).code == 0
        assert recorded(upstream_db, section) == head

    for section in STARTRACKERS:
        for command in (("upgrade", "bts", section), ("stamp", "bts", section, "head")):
            line = one_error_line(consdb_bot(*upstream(*command, "--yes")), "KeyError")
            assert f"'{SCHEMA[section]}.ccdexposure'" in line
        assert recorded(upstream_db, section) == []
    no_model_line(consdb_bot(*upstream("upgrade", "bts", NO_MODEL, "--yes")))
    assert "empty" in status_line(consdb_bot(*upstream("status")), NO_MODEL)


def record(url: str, section: str, revision: str) -> None:
    """A version table as a database made elsewhere has it (production holds efd_scheduler at its head)."""
    table = sql.Identifier(*VERSION_TABLE[section].split("."))
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (version_num varchar(32) PRIMARY KEY)").format(table))
        connection.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(table), (revision,))


def test_drift_finds_nothing_on_a_database_the_bot_brought_to_head(upstream, upstream_db, consdb_bot):
    assert consdb_bot(*upstream("upgrade", "bts", *RUNNABLE, "--yes")).code == 0
    drift = consdb_bot(*upstream("drift", "bts", *RUNNABLE))
    assert drift.code == 0, drift.text
    for section in RUNNABLE:
        assert f"bts/{section}: matches its revision" in drift.out

    record(upstream_db, NO_MODEL, "25e0b617aab8")
    no_model_line(consdb_bot(*upstream("drift", "bts", NO_MODEL)))
    record(upstream_db, "startrackerwide", "b7c7dc55439d")
    line = one_error_line(consdb_bot(*upstream("drift", "bts", "startrackerwide")), "KeyError")
    assert "'cdb_startrackerwide.ccdexposure'" in line


# Upstream's own checks ------------------------------------------------------------------------------


# Upstream's tests/validate_schema_migrations.py compares a live schema with its Felis model (the check
# of its stage 3, on a live database). The script as a whole also starts a private PostgreSQL through
# testing.postgresql, whose initdb refuses to run as root, as CI runs; so its comparison runs here, on
# the bot's database, in a Python of its own with upstream's python/ on its path, as where upstream's
# package is installed (the script adds it too, but after felis has imported the lsst namespace).
_UPSTREAM_COMPARISON = """
import importlib.util, json, sys
import sqlalchemy as sa
spec = importlib.util.spec_from_file_location("validate_schema_migrations", sys.argv[1])
validate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(validate)
with sa.create_engine(sys.argv[2]).connect() as connection:
    differences = validate._compare_schema(connection, validate._load_metadata(sys.argv[3]), sys.argv[4])
print(json.dumps(validate._normalize_diffs(differences)))
"""


def model_differences(url: str, section: str) -> list[str]:
    """What upstream's validate_schema_migrations.py finds between the live schema and the pinned model."""
    script = from_shared("upstream/consdb/tests/validate_schema_migrations.py")
    database = sa.make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    model = MODEL / f"{SCHEMA[section]}.yaml"
    compared = subprocess.run(
        [sys.executable, "-c", _UPSTREAM_COMPARISON, str(script), database, str(model), SCHEMA[section]],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(script.parents[1] / "python")},
    )
    assert compared.returncode == 0, compared.stderr
    return json.loads(compared.stdout)


def copy_of_upstream(tmp_path: Path) -> Path:
    """A writable copy of upstream's tree; ../shared stays as it is."""
    copy = tmp_path / "consdb"
    shutil.copytree(upstream_ini().parent, copy)
    for path in copy.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    return copy


def with_links(tree: Path) -> None:
    """The tree as git checks it out with symlinks on, for upstream's own ``alembic``: the files that
    stand for links (``alembic/latiss/env.py`` reads ``../env.py``) become links again."""
    for section in (tree / "alembic").iterdir():
        for name in ("env.py", "script.py.mako"):
            stand_in = section / name
            if stand_in.is_file() and stand_in.read_text() == f"../{name}":
                stand_in.unlink()
                stand_in.symlink_to(f"../{name}")


def upstream_alembic(tree: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Upstream's Alembic, run as its README says: from the tree, with CONSDB_URL and SDM_SCHEMAS_DIR."""
    sdm = tree.parent / "sdm_schemas"
    if not sdm.exists():
        sdm.mkdir()
        (sdm / "yml").symlink_to(MODEL, target_is_directory=True)
    environ = {
        **os.environ,
        "CONSDB_URL": sa.make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        "SDM_SCHEMAS_DIR": str(sdm),
    }
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args], cwd=tree, env=environ, capture_output=True, text=True
    )


def test_at_upstreams_head_upstreams_check_finds_only_what_the_pinned_model_adds(upstream, upstream_db, consdb_bot):
    assert consdb_bot(*upstream("upgrade", "bts", *RUNNABLE, "--yes")).code == 0
    for section in INSTRUMENTS:
        differences = model_differences(upstream_db, section)
        assert len(differences) == PINNED_INDEXES, differences
        assert all(difference.startswith("('add_index'") for difference in differences), differences
    added = model_differences(upstream_db, "efd_lsstcam")
    assert added
    assert all(difference.startswith("('add_column', 'efd_lsstcam'") for difference in added), added
    for section in ("efd_latiss", "efd_lsstcomcam"):
        assert model_differences(upstream_db, section) == []


def test_generate_then_upgrade_leaves_nothing_for_upstreams_checks(tmp_path, upstream_db, consdb_bot):
    tree = copy_of_upstream(tmp_path)
    config = write_config(
        tmp_path / "generating.yaml",
        environments={"bts": "BTS_DATABASE_URL"},
        schemas=SECTIONS,
        alembic_ini=str(tree / "alembic.ini"),
    )
    before = {path.name for path in tree.rglob("versions/*.py")}
    generated = consdb_bot("--config", str(config), "generate", "-m", "indexes of the pinned model", *RUNNABLE)
    assert generated.code == 0, generated.text
    new_files = sorted(path for path in tree.rglob("versions/*.py") if path.name not in before)
    assert sorted(path.parent.parent.name for path in new_files) == sorted(PINNED_CHANGES)
    for path in new_files:
        text = path.read_text()
        assert "from typing import Sequence, Union" in text  # the tree's script.py.mako
        if path.parent.parent.name in INSTRUMENTS:
            assert text.count("op.create_index(") == PINNED_INDEXES, text
        black = subprocess.run([sys.executable, "-m", "black", "-l", "110", "--check", str(path)], capture_output=True)
        assert black.returncode == 0, black.stderr  # the tree's post_write_hooks formatted it

    cannot = consdb_bot("--config", str(config), "generate", "-m", "indexes", "startrackerwide")
    assert "KeyError 'cdb_startrackerwide.ccdexposure'" in one_error_line(cannot, "startrackerwide")
    no_model_line(consdb_bot("--config", str(config), "generate", "-m", "indexes", NO_MODEL))

    upgrade = consdb_bot("--config", str(config), "upgrade", "bts", *RUNNABLE, "--yes")
    assert upgrade.code == 0, upgrade.text
    for section in RUNNABLE:
        assert model_differences(upstream_db, section) == [], section
    with_links(tree)
    for section in RUNNABLE:
        check = upstream_alembic(tree, upstream_db, "-n", section, "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr


# Through Slack ---------------------------------------------------------------------------------------


@pytest.fixture
def databases(new_database: Callable[[], str]) -> dict[str, str]:
    url = new_database()
    prepare_as_upstream(url)
    return {"BTS_DATABASE_URL": url}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "consdb-bot.yaml"
    path.write_text(f"""
state_url: sqlite:///{tmp_path / "state.sqlite3"}
migrations: {{alembic_ini: {upstream_ini()}, connect_timeout_seconds: 2}}
schemas: [{", ".join(SECTIONS)}]
slack: {{announce_channel: {BTS_CHANNEL}}}
environments:
  bts:
    database_url: ${{BTS_DATABASE_URL}}
    channel: {BTS_CHANNEL}
    approvals: {{required: 1, approvers: [{APPROVER_1}]}}
""")
    return path


def said(slack, text: str) -> str:
    """Everything Slack was told (messages, blocks and uploaded files), once it includes ``text``."""

    def everything(calls: list) -> str:
        uploads = b"".join(slack.state.uploads.values()).decode(errors="replace")
        return json.dumps([call.args for call in calls], ensure_ascii=False) + uploads

    return slack.wait_for(lambda calls: text in everything(calls) and everything(calls))


def approved(bot: BotProcess, slack, number: int, command: str, *, kind: str, state: str) -> None:
    bot.command(command, user=REQUESTER)
    ts = posted_request(slack, number).reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id=f"Ev{number:04}")
    request_state(slack, number, state, kind=kind)


def test_every_command_through_slack(bot, slack, databases):
    url = databases["BTS_DATABASE_URL"]
    bot.command("status")
    for section in SECTIONS:
        assert section in said(slack, "ConsDB status")
    bot.command("history efd_lsstcam")
    said(slack, "efd_lsstcam: 3 revisions")
    bot.command("plan bts efd_latiss --sql")
    said(slack, "CREATE TABLE efd_latiss.exposure_efd")

    approved(bot, slack, 1, "migrate bts latiss efd_latiss", kind="Upgrade", state="succeeded")
    assert len(recorded(url, "latiss")) == len(recorded(url, "efd_latiss")) == 1
    head = recorded(url, "latiss")
    approved(bot, slack, 2, "downgrade bts latiss -1", kind="Downgrade", state="succeeded")
    below = recorded(url, "latiss")
    assert below not in ([], head)
    forget(url, "latiss")
    approved(bot, slack, 3, f"stamp bts latiss {below[0]}", kind="Stamp", state="succeeded")
    assert recorded(url, "latiss") == below
    bot.command("drift bts efd_latiss")
    said(slack, "bts/efd_latiss: matches its revision")

    shared = sorted(path.name for path in upstream_ini().parent.rglob("versions/*.py"))
    bot.command('generate -m "indexes of the pinned model" latiss efd_latiss', user=REQUESTER)
    said(slack, "Generated migrations: indexes of the pinned model")
    said(slack, "op.create_index(")  # the new revision, as a file in the thread
    assert sorted(path.name for path in upstream_ini().parent.rglob("versions/*.py")) == shared

    # Refused before a request is posted: its plan cannot be made, so there is nothing to approve.
    bot.command("migrate bts startrackerwide", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, "KeyError 'cdb_startrackerwide.ccdexposure' in alembic/env.py")
    bot.command(f"migrate bts {NO_MODEL}", user=REQUESTER)
    ephemeral_to(slack, REQUESTER, f"{NO_MODEL}: no Felis model: {MODEL / 'efd_scheduler.yaml'} does not exist")
    bot.command(f"plan bts efd_lsstcam {NO_MODEL} --sql")
    said(slack, f"no Felis model: {MODEL / 'efd_scheduler.yaml'} does not exist")
    said(slack, "CREATE TABLE efd_lsstcam.exposure_efd")  # the other section still answers
    assert recorded(url, "startrackerwide") == recorded(url, NO_MODEL) == []
