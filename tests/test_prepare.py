"""What a database needs before a tree's first revision: status says what is missing, upgrades wait
for it, ``prepare`` creates it (terminal and Slack), and scratch databases get it (drift on the
upstream tree). And what a section needs beside it: its Felis model, or one line saying it has none."""

from __future__ import annotations

import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import black
import psycopg
import pytest

from bot.sandbox.standins.slack import FakeSlack
from tests.conftest import EXTERNAL_TREE, from_shared, libpq, write_config
from tests.support.bot_process import BotProcess
from tests.support.slack_bot import APPROVER_1, BTS_CHANNEL, REQUESTER, posted_request, request_state


@pytest.fixture
def reader_role(server_url: str) -> Iterator[str]:
    """A role no other test knows, dropped afterwards (roles belong to the whole server)."""
    name = f"consdb_bot_reader_{secrets.token_hex(4)}"
    yield name
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def needy_tree(tmp_path: Path, reader_role: str) -> Path:
    """The ConsDB-style test tree, declaring in its ini that it also needs pg_sphere and a reader role."""
    root = tmp_path / "tree"
    shutil.copytree(EXTERNAL_TREE, root, symlinks=True)
    ini = root / "alembic.ini"
    text = ini.read_text()
    ini.write_text(
        text.replace("[latiss]\n", f"[latiss]\nconsdb.extensions = pg_sphere\nconsdb.roles = {reader_role}\n")
    )
    return ini


@pytest.fixture
def bts_url(new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = new_database()
    monkeypatch.setenv("BTS_DATABASE_URL", url)
    return url


@pytest.fixture
def needy(tmp_path: Path, needy_tree: Path, bts_url: str) -> Path:
    return write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss"],
        alembic_ini=str(needy_tree), sdm_schemas=str(EXTERNAL_TREE),
    )  # fmt: skip


def test_prepare_in_the_terminal_creates_only_what_is_missing_then_upgrades_run(
    consdb_bot, needy, reader_role, bts_url
):
    config = ("--config", str(needy))
    missing = f"not prepared: missing schema cdb, pg_sphere, role {reader_role}"
    assert missing in consdb_bot("status", "bts", *config).out

    upgrade = consdb_bot("upgrade", "bts", "latiss", "--yes", *config)
    assert upgrade.code == 1
    assert f"cdb_latiss at bts is {missing}; nothing was run" in upgrade.err
    assert "prepare bts latiss" in upgrade.err

    asked = consdb_bot("prepare", "bts", *config)
    assert asked.code == 1
    assert "nothing was created" in asked.err
    assert "add --yes" in asked.err.lower()
    assert missing in consdb_bot("status", "bts", *config).out

    prepared = consdb_bot("prepare", "bts", "--yes", *config)
    assert prepared.code == 0, prepared.text
    assert f"prepare at bts: created schema cdb, pg_sphere, role {reader_role}" in prepared.out
    with psycopg.connect(libpq(bts_url)) as connection:
        assert connection.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (reader_role,)).fetchone() == (
            False,
        )
        assert connection.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_sphere'").fetchone() == (1,)

    again = consdb_bot("prepare", "bts", "--yes", *config)
    assert again.code == 1
    assert "nothing to do at bts" in again.err
    assert "empty (" in consdb_bot("status", "bts", "latiss", *config).out
    assert consdb_bot("upgrade", "bts", "latiss", "--yes", *config).code == 0
    audit = consdb_bot("audit", *config).out  # a request like Slack's, approved with --yes
    assert "consdb-bot: #1 prepare succeeded" in audit
    assert "prepare database requested" in audit


def test_status_on_the_upstream_tree_names_what_the_database_lacks(consdb_bot, tmp_path, bts_url):
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"},
        schemas=["latiss", "efd_latiss"], alembic_ini=str(from_shared("upstream/consdb/alembic.ini")),
    )  # fmt: skip
    status = consdb_bot("status", "bts", "--config", str(config))
    assert status.code == 0, status.text
    # The roles usdf and oods belong to the whole server: other tests may have made them already.
    rows = {line.split()[1]: " ".join(line.split()[2:]) for line in status.out.splitlines()[2:]}
    assert rows["latiss"].startswith("not prepared: missing schema cdb, schema cdb_latiss, pg_sphere")
    assert rows["efd_latiss"].startswith("not prepared: missing schema efd, schema efd_latiss")


@pytest.mark.slow
def test_drift_on_the_upstream_tree_builds_its_model_in_a_prepared_scratch_database(consdb_bot, tmp_path, bts_url):
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"},
        schemas=["latiss", "efd_latiss"], alembic_ini=str(from_shared("upstream/consdb/alembic.ini")),
    )  # fmt: skip
    options = ("--config", str(config))
    assert consdb_bot("prepare", "bts", "--yes", *options).code == 0
    upgrade = consdb_bot("upgrade", "bts", "--yes", *options)
    assert upgrade.code == 0, upgrade.text
    drift = consdb_bot("drift", "bts", *options)
    assert drift.code == 0, drift.text
    assert "does not exist" not in drift.text
    assert "bts/latiss: matches its revision" in drift.out
    assert "bts/efd_latiss: matches its revision" in drift.out


def test_prepare_in_slack_is_a_request_approved_like_a_migration(needy, slack: FakeSlack, reader_role, bts_url):
    text = needy.read_text().replace("    approvals:", f"    channel: {BTS_CHANNEL}\n    approvals:")
    needy.write_text(text + f"slack: {{announce_channel: {BTS_CHANNEL}}}\n")
    environ = {"BTS_DATABASE_URL": bts_url}
    with BotProcess(needy, slack.url, environ=environ) as bot:
        bot.command("prepare bts latiss", user=REQUESTER, channel=BTS_CHANNEL)
        request = posted_request(slack, 1)
        assert request.text == "Prepare request #1: bts: requested"
        assert f"create schema cdb, pg_sphere, role {reader_role}" in str(request.args["blocks"])
        ts = request.reply["ts"]
        bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvP1")
        request_state(slack, 1, "succeeded", kind="Prepare")
        outcome = f"prepare at bts: created schema cdb, pg_sphere, role {reader_role}"
        slack.wait_for(lambda calls: [c for c in calls if c.args.get("thread_ts") == ts and outcome in c.text])
        with psycopg.connect(libpq(bts_url)) as connection:
            assert connection.execute("SELECT to_regnamespace('cdb') IS NOT NULL").fetchone() == (True,)

        bot.command("prepare bts", user=REQUESTER, channel=BTS_CHANNEL)
        slack.wait_for(lambda calls: [c for c in calls if "nothing to do at bts" in c.text])


@pytest.mark.slow
def test_a_section_without_a_felis_model_says_so_in_one_line_and_the_others_answer(consdb_bot, tmp_path, bts_url):
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"},
        schemas=["efd_latiss", "efd_scheduler"], alembic_ini=str(from_shared("upstream/consdb/alembic.ini")),
    )  # fmt: skip
    options = ("--config", str(config))
    missing = "efd_scheduler: no Felis model: {}".format
    model = resources.files("lsst.sdm.schemas") / "efd_scheduler.yaml"
    line = missing(f"{model} does not exist")
    assert consdb_bot("prepare", "bts", "--yes", *options).code == 0

    plan = consdb_bot("plan", "bts", "--sql", *options)
    assert plan.code == 0, plan.text
    assert f"bts/{line}" in plan.out.splitlines()
    assert "CREATE TABLE efd_latiss.exposure_efd" in plan.out

    upgrade = consdb_bot("upgrade", "bts", "--yes", *options)
    assert upgrade.code == 1
    assert line in upgrade.out.splitlines()
    assert [row for row in upgrade.out.splitlines() if row.startswith("efd_scheduler")] == [line]
    assert "efd_latiss: upgrade done" in upgrade.out

    generated = consdb_bot("generate", "-m", "nothing new", "efd_scheduler", *options)
    assert generated.code == 0, generated.text
    assert generated.out.splitlines() == [line]


@pytest.mark.slow
def test_generate_on_the_upstream_tree_writes_the_pins_new_indexes_as_upstream_writes_its_files(
    consdb_bot, tmp_path, bts_url
):
    tree = tmp_path / "consdb"
    shutil.copytree(from_shared("upstream/consdb"), tree, copy_function=shutil.copyfile)
    for path in [tree, *tree.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss"],
        alembic_ini=str(tree / "alembic.ini"),
    )  # fmt: skip
    options = ("--config", str(config))
    assert consdb_bot("prepare", "bts", "--yes", *options).code == 0
    assert consdb_bot("upgrade", "bts", "--yes", *options).code == 0

    generated = consdb_bot("generate", "-m", "sdm_schemas pin", "latiss", *options)
    assert generated.code == 0, generated.text
    indexes = [line.strip() for line in generated.out.splitlines() if line.strip().startswith("create index")]
    assert len(indexes) == 4, generated.out
    assert "drop column" not in generated.out, "pgs_region is upstream's own column, not the model's"
    (path,) = (tree / "alembic" / "latiss" / "versions").glob("*_sdm_schemas_pin.py")
    text = path.read_text()
    assert "from typing import Sequence, Union" in text
    assert 'down_revision: Union[str, None] = "68b3d07af9e6"' in text
    assert text == black.format_str(text, mode=black.Mode(line_length=110))
    assert max(len(line) for line in text.splitlines()) <= 110

    assert consdb_bot("upgrade", "bts", "--yes", *options).code == 0
    drift = consdb_bot("drift", "bts", *options)
    assert drift.code == 0, drift.text
