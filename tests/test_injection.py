"""Hostile input that would reach SQL: options handed to migration scripts, and every identifier the
bot or the bundled tree writes into SQL.

Options are refused before anything runs unless the tree reads them and their values have a shape
that cannot carry SQL; the bundled tree's helpers refuse or quote a hostile role whoever let it through.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from psycopg import sql

from bot.engine.database import VersionTable, read_versions
from bot.engine.options import Declared, declared_options
from bot.engine.rewrite import RenameConstraintOp, _render_rename_constraint
from bot.engine.tree import BUNDLED_INI, MigrationTree
from migrations import cdb_views
from tests.conftest import BUNDLED_SECTIONS, from_shared, libpq, write_config
from tests.support.slack_bot import APPROVER_1, BTS_CHANNEL, REQUESTER, hold_bts, posted_request, request_state

INJECTION = 'view_readers=postgres"; CREATE TABLE public.pwned (id int); --'
"""The issue's injection, with its table filled in."""
READER = "consdb_test_reader"


def pwned(url: str) -> bool:
    """Whether the injected table was made."""
    with psycopg.connect(libpq(url)) as connection:
        return connection.execute("SELECT to_regclass('public.pwned') IS NOT NULL").fetchone()[0]


def schema_exists(url: str, schema: str) -> bool:
    with psycopg.connect(libpq(url)) as connection:
        return bool(connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone())


def reader_role(server_url: str) -> None:
    """Roles belong to the whole server: made when missing, never dropped."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"DO $$ BEGIN CREATE ROLE {READER}; EXCEPTION WHEN duplicate_object THEN END $$")


def first_answer(bot, slack, text: str, *, user: str = REQUESTER):
    """Send a command; the first thing the one who typed hears of it, or the request if one was posted."""
    before = len(slack.calls())
    bot.command(text, user=user)
    return slack.wait_for(
        lambda calls: next(
            (
                c
                for c in calls[before:]
                if (c.method == "chat.postEphemeral" and c.args.get("user") == user)
                or (c.method == "chat.postMessage" and "request #" in c.text)
            ),
            None,
        )
    )


def requests_posted(slack) -> list:
    return [c for c in slack.calls("chat.postMessage") if "request #" in c.text]


# Through the running bot


@pytest.mark.slow
def test_the_issues_injection_is_refused_before_a_request_is_posted(bot, slack, databases):
    bts = databases["BTS_DATABASE_URL"]
    hold_bts(bot, slack)
    answer = first_answer(bot, slack, f"migrate bts latiss --options '{INJECTION}'")
    assert answer.method == "chat.postEphemeral", f"a request was posted: {answer.text}"
    assert "view_readers takes PostgreSQL names separated by commas" in answer.text
    assert "--options view_readers=usdf,oods" in answer.text
    assert requests_posted(slack) == []
    assert not pwned(bts)
    assert not schema_exists(bts, "cdb_latiss")
    bot.command("audit bts")
    audit = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Audit trail"), None))
    assert "upgrade refused" in json.dumps(audit.args["blocks"])


@pytest.mark.slow
def test_an_unknown_option_is_refused_naming_the_known_ones(bot, slack):
    answer = first_answer(bot, slack, "migrate bts latiss --options colour=red")
    assert answer.method == "chat.postEphemeral", f"a request was posted: {answer.text}"
    assert "the migrations of latiss read no option colour; they read view_readers" in answer.text
    assert "--options view_readers=usdf,oods" in answer.text
    assert requests_posted(slack) == []


@pytest.mark.slow
def test_a_valid_view_readers_still_grants(bot, slack, databases, server_url):
    reader_role(server_url)
    hold_bts(bot, slack)
    bot.command(f"migrate bts latiss --options view_readers={READER}", user=REQUESTER)
    request = posted_request(slack, 1)
    assert f"view_readers={READER}" in json.dumps(request.args["blocks"])
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=request.reply["ts"], event_id="EvOk")
    request_state(slack, 1, "succeeded")
    with psycopg.connect(libpq(databases["BTS_DATABASE_URL"])) as connection:
        grants = connection.execute(
            "SELECT table_name FROM information_schema.role_table_grants"
            " WHERE grantee = %s AND privilege_type = 'SELECT' ORDER BY table_name",
            (READER,),
        ).fetchall()
    assert grants == [("ccdvisit1",), ("visit1",)]


# From the terminal


def test_the_terminal_refuses_the_injection_and_an_unknown_option_in_the_same_words(consdb_bot, bundled):
    url = os.environ["BTS_DATABASE_URL"]
    injected = consdb_bot("upgrade", "bts", "latiss", "--options", INJECTION, "--yes", "--config", str(bundled))
    assert injected.code == 2
    assert "view_readers takes PostgreSQL names separated by commas" in injected.err
    assert "--options view_readers=usdf,oods" in injected.err
    unknown = consdb_bot("plan", "bts", "latiss", "--options", "colour=red", "--config", str(bundled))
    assert unknown.code == 2
    assert "the migrations of latiss read no option colour; they read view_readers" in unknown.err
    assert not pwned(url)
    assert "empty (2 behind)" in consdb_bot("status", "bts", "latiss", "--config", str(bundled)).out


def test_a_tree_that_writes_an_option_into_its_sql_gets_no_quote_through(consdb_bot, external):
    """The test tree's startrackerwide puts ``note`` into a COMMENT between quotes, as a careless tree might."""
    url = os.environ["BTS_DATABASE_URL"]
    note = "note=x'; CREATE TABLE public.pwned (id int); --"
    refused = consdb_bot("upgrade", "bts", "startrackerwide", "--options", note, "--yes", "--config", str(external))
    assert refused.code == 2, refused.text
    assert "the value of note may hold only letters, digits and _ . , : / @ + -" in refused.err
    assert not pwned(url)
    assert not schema_exists(url, "cdb_startrackerwide")
    other = consdb_bot("plan", "bts", "latiss", "--options", "note=x", "--config", str(external))
    assert other.code == 2
    assert "the migrations of latiss read no option note: they take no --options" in other.err


def test_the_environments_options_are_checked_at_load_and_against_the_tree(consdb_bot, bundled):
    text = bundled.read_text()

    def configured(options: str) -> str:
        bundled.write_text(text.replace("    approvals:", f"    migration_options: {options}\n    approvals:"))
        result = consdb_bot("plan", "bts", "latiss", "--config", str(bundled))
        assert result.code == 2, result.text
        return result.err

    hostile = configured("{view_readers: 'postgres\"; DROP TABLE x; --'}")
    assert "migration_options" in hostile
    assert "the value of view_readers may hold only letters, digits and _ . , : / @ + -" in hostile
    unknown = configured("{colour: red}")
    assert "environments.bts.migration_options.colour: the migration tree reads no option colour" in unknown
    assert "(it reads: view_readers)" in unknown
    upper = configured("{view_readers: Usdf}")
    assert "environments.bts.migration_options.view_readers: view_readers takes PostgreSQL names" in upper


# What the trees declare


def test_the_bundled_tree_declares_view_readers_as_names_and_upstream_reads_none():
    bundled = MigrationTree(BUNDLED_INI)
    for section in BUNDLED_SECTIONS:
        assert declared_options(bundled.schema(section)) == Declared(
            frozenset({"view_readers"}), frozenset({"view_readers"})
        )
    ini = from_shared("upstream/consdb/alembic.ini")
    upstream, sections = MigrationTree(ini), Config(str(ini)).file_config.sections()
    for section in (
        name for name in sections if Config(str(ini), ini_section=name).get_main_option("consdb.schema_name")
    ):
        assert declared_options(upstream.schema(section)) == Declared(), section


# The bundled tree's helpers, whoever let a hostile role through


@pytest.mark.parametrize(
    ("x_arguments", "ini_readers"),
    [([INJECTION], None), ([], 'postgres"; CREATE TABLE public.pwned (id int); --'), (["view_readers=Usdf"], None)],
)
def test_the_bundled_helper_refuses_a_hostile_role(x_arguments: list[str], ini_readers: str | None):
    config = Config(str(BUNDLED_INI), ini_section="latiss")
    config.cmd_opts = Namespace(x=x_arguments)
    if ini_readers is not None:
        config.set_main_option("consdb.view_readers", ini_readers.replace("%", "%%"))
    with (
        EnvironmentContext(config, ScriptDirectory.from_config(config)),
        pytest.raises(ValueError, match="is not a plain role name"),
    ):
        cdb_views.view_readers()


def test_the_bundled_helper_quotes_every_identifier():
    assert cdb_views.quoted('postgres"; CREATE TABLE x; --') == '"postgres""; CREATE TABLE x; --"'
    assert cdb_views.quoted("cdb_latiss", "visit1") == '"cdb_latiss"."visit1"'


def test_a_hostile_role_in_the_ini_fails_the_revision_and_changes_nothing(
    consdb_bot, new_database: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    tree = tmp_path / "tree"
    shutil.copytree(BUNDLED_INI.parent, tree, ignore=shutil.ignore_patterns("__pycache__"))
    ini = tree / "alembic.ini"
    hostile = 'postgres"; CREATE TABLE public.pwned (id int); --'
    ini.write_text(ini.read_text().replace("consdb.view_readers =\n", f"consdb.view_readers = {hostile}\n"))
    url = new_database()
    monkeypatch.setenv("BTS_DATABASE_URL", url)
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss"], alembic_ini=str(ini)
    )
    result = consdb_bot("upgrade", "bts", "latiss", "--yes", "--config", str(config))
    assert result.code == 1
    assert "is not a plain role name" in result.err  # refused when its SQL is planned, before anything ran
    assert "nothing was granted" in result.err
    assert not pwned(url)
    assert not schema_exists(url, "cdb_latiss")


# Identifiers the bot itself writes into SQL


def test_version_tables_are_read_whatever_their_names_hold(new_database: Callable[[], str]):
    url = new_database()
    schema, table = 'we"ird; --', 'version"s'
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(
            sql.SQL("CREATE TABLE {} (version_num varchar(32) PRIMARY KEY)").format(sql.Identifier(schema, table))
        )
        connection.execute(sql.SQL("INSERT INTO {} VALUES ('abc123')").format(sql.Identifier(schema, table)))
        [recorded] = read_versions(connection, [VersionTable(schema, schema, table)])
    assert recorded.table_exists
    assert recorded.revisions == ("abc123",)


def test_a_generated_rename_quotes_names_as_sql_and_as_python():
    rendered = _render_rename_constraint(
        None, RenameConstraintOp("exposure", 'idx_"old', "Idx_New", schema="cdb_latiss", index=True)
    )
    statement = ast.literal_eval(rendered.removeprefix("op.execute(").removesuffix(")"))
    assert statement == 'ALTER INDEX cdb_latiss."idx_""old" RENAME TO "Idx_New"'
