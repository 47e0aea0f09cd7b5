"""Fixtures shared by the suite: a real PostgreSQL, throwaway databases, configurations, the CLI.

Tests read ``CONSDB_BOT_TEST_DATABASE_URL`` (default: the local server as ``postgres``) and fail
with a clear message when no server answers.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from alembic.config import Config
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.engine.tree import BUNDLED_INI
from bot.errors import ConfigError
from bot.terminal import cli
from tests.support import replica as replicas

# The running bot, its stand-ins and its configuration, for every test that drives it through Slack.
pytest_plugins = ["tests.support.slack_bot"]

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
REPO = Path(__file__).resolve().parents[1]
TREES = Path(__file__).resolve().parent / "trees"
EXTERNAL_TREE = TREES / "consdb_style"
EXAMPLE_CONFIG = REPO / "deploy" / "consdb-bot.example.yaml"
SHARED = REPO.parent / "shared"
"""The project's shared folder (the contract, the upstream tree), beside the clone as CI lays it."""
_BUNDLED_INI_FILE = Config(str(BUNDLED_INI)).file_config
BUNDLED_SECTIONS = [
    section for section in _BUNDLED_INI_FILE.sections() if _BUNDLED_INI_FILE.has_option(section, "consdb.schema_name")
]
"""Every schema of the bundled tree, in its ini's order."""
BUNDLED_SCHEMAS = [schema for schema in load_settings(EXAMPLE_CONFIG, environ={}).schemas if schema in BUNDLED_SECTIONS]
"""The example configuration's schemas that the bundled tree has (not efd_scheduler, which has no model)."""
# Every configured database URL carries this password (the local server trusts and ignores it):
# no output of the bot may ever show it.
PASSWORD = "s3cr3t-Pa55"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow run first, in their files' order: with ``-n 2 --dist worksteal`` the long ones
    start early and the short ones fill in around them, instead of a worker ending the run alone on one."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def from_shared(relative: str) -> Path:
    """A path under ``../shared/``; without that folder the test is skipped, with one line naming it.

    This is the only skip the suite has, and ``.ci/run`` counts any skip as a failure.
    """
    path = SHARED / relative
    if not SHARED.is_dir():
        pytest.skip(f"needs {SHARED} (not found): put a copy of shared/ beside the clone")
    return path


@pytest.fixture(scope="session")
def server_url() -> str:
    url = os.environ.get("CONSDB_BOT_TEST_DATABASE_URL", DEFAULT_SERVER)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as error:
        pytest.fail(
            f"The tests need a PostgreSQL server they may create databases on, at {url}.\n"
            f"Start one, or point CONSDB_BOT_TEST_DATABASE_URL at one. The server said: {error}",
            pytrace=False,
        )
    return url


@pytest.fixture
def new_database(server_url: str) -> Iterator[Callable[[], str]]:
    """Makes empty databases; returns their URLs (with the test password); drops them after."""
    made: list[str] = []

    def make() -> str:
        name = f"consdb_bot_test_{secrets.token_hex(5)}"
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        url = make_url(server_url).set(database=name, password=PASSWORD)
        return url.render_as_string(hide_password=False)

    yield make
    with psycopg.connect(server_url, autocommit=True) as connection:
        for name in made:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def replica_servers() -> Iterator[replicas.ReplicaServers]:
    """Two private PostgreSQL servers for the session: a summit with ``wal_level=logical``, and usdf."""
    with ExitStack() as stack:
        try:
            servers = stack.enter_context(replicas.replica_servers())
        except ConfigError as error:
            pytest.fail(f"The replica tests start two PostgreSQL servers of their own: {error}", pytrace=False)
        yield servers


@pytest.fixture
def replica(replica_servers: replicas.ReplicaServers) -> Iterator[replicas.ReplicaPair]:
    """A fresh summit database publishing ``usdfpub`` (``cdb_latiss.exposure``) and a fresh usdf
    database subscribed to it as ``usdf_exposurelog``, caught up; their URLs carry the test password."""
    with replicas.replica_pair(replica_servers, password=PASSWORD) as pair:
        yield pair


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def consdb_bot(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Runs the terminal in-process, as ``consdb-bot ARGS...``, and checks no password leaked."""
    monkeypatch.delenv("CONSDB_BOT_CONFIG", raising=False)

    def run(*args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = cli.run(list(args), out=out, err=err)
        result = Result(code, out.getvalue(), err.getvalue())
        assert PASSWORD not in result.text, f"the password leaked into the output:\n{result.text}"
        return result

    return run


def write_config(
    path: Path,
    *,
    environments: dict[str, str],
    schemas: list[str],
    alembic_ini: str = "bundled",
    sdm_schemas: str = "installed",
    extra: str = "",
) -> Path:
    """A configuration in the contract's shape; each environment's URL comes from ``<ENV>_DATABASE_URL``."""
    lines = [
        f"state_url: sqlite:///{path.parent / 'state.sqlite3'}",
        f"migrations: {{alembic_ini: {alembic_ini}, sdm_schemas: {sdm_schemas}, connect_timeout_seconds: 2}}",
        f"schemas: [{', '.join(schemas)}]",
        "environments:",
    ]
    for name, variable in environments.items():
        lines += [
            f"  {name}:",
            f"    database_url: ${{{variable}}}",
            "    approvals: {required: 1, approvers: [U0APPROVE1]}",
        ]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


@pytest.fixture
def bundled(tmp_path: Path, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration of the bundled tree with a fresh, empty bts database."""
    monkeypatch.setenv("BTS_DATABASE_URL", new_database())
    return write_config(tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=BUNDLED_SCHEMAS)


@pytest.fixture
def external(tmp_path: Path, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration of the ConsDB-style test tree with a fresh bts database, prepared as
    upstream prepares one (its env.py expects the ``cdb`` schema to exist)."""
    url = new_database()
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute("CREATE SCHEMA cdb")
    monkeypatch.setenv("BTS_DATABASE_URL", url)
    return write_config(
        tmp_path / "consdb-bot.yaml",
        environments={"bts": "BTS_DATABASE_URL"},
        schemas=["latiss", "lsstcam", "lsstcomcam", "startrackerwide"],
        alembic_ini=str(EXTERNAL_TREE / "alembic.ini"),
        sdm_schemas=str(EXTERNAL_TREE),
    )


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def schema_dump(url: str, schema: str) -> str:
    """The schema's DDL as pg_dump writes it: the yardstick for "left exactly as it was".

    pg_dump's ``\\restrict`` lines carry a new random key on every run, so they are left out.
    """
    dump = subprocess.run(
        ["pg_dump", "--schema-only", f"--schema={schema}", "--no-owner", libpq(url)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def close_database(server_url: str, url: str, *, closed: bool) -> None:
    """Refuse (or allow again) every connection to the database of ``url``, ending those it has: to the
    bot it is as if its database server had gone away."""
    name = make_url(url).database
    if name is None:
        raise ValueError(f"{url} names no database to close")
    with psycopg.connect(server_url, autocommit=True) as admin:
        allowed = sql.SQL("false" if closed else "true")
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(name), allowed))
        if closed:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
