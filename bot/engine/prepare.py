"""What a database must hold before a tree's first revision can run, and giving it that.

A ConsDB tree assumes a prepared database (lsst-dm/consdb's ``docker/alembic-setup.sql``): the
schema of its version tables, the schemas its revisions write into, pg_sphere where they use it,
and the roles they grant to. None of that is a revision, so the bot learns it from the tree as it
is, without changing it: each section's ``consdb.schema_name`` and version-table schema, and the
text of its env.py and revision files (never imported, as :mod:`bot.engine.tree` reads them), where
``GRANT ... TO role`` names a role, ``IN SCHEMA name`` a schema, and pg_sphere's type
(``cdb_pgsphere``, ``SPoly``, ``pg_sphere``) the extension. A schema the tree creates itself
(``CREATE SCHEMA name`` in a revision; in env.py, a computed name is its version-table schema, as
the bundled env.py does) is not needed beforehand. A tree may also say so outright in its ini:
``consdb.roles``, ``consdb.extensions`` and ``consdb.schemas`` (comma-separated).

Scratch databases (drift, generate) and ``prepare`` use the same function; ``status`` uses the
same check, one catalog query per database.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import errors, sql

from bot.engine.database import DatabaseUrl, connect, first_line
from bot.engine.tree import SchemaTree
from bot.errors import Refused

PG_SPHERE = "pg_sphere"
_USES_PG_SPHERE = re.compile(r"cdb_pgsphere|\bSPoly\b|\bpg_sphere\b|\bspoly\b")
_NAME = r"(\"?)([A-Za-z_][A-Za-z0-9_$]*)\1"
_GRANTEE = re.compile(r"\bGRANT\b[^;\"'\n]*?\bTO\s+" + _NAME, re.IGNORECASE)
_IN_SCHEMA = re.compile(r"\bIN\s+SCHEMA\s+" + _NAME, re.IGNORECASE)
_CREATE_SCHEMA = r"\bCREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?"
_CREATES_SCHEMA = re.compile(_CREATE_SCHEMA + _NAME, re.IGNORECASE)
_CREATES_COMPUTED_SCHEMA = re.compile(_CREATE_SCHEMA + r"\{", re.IGNORECASE)
_NOT_ROLES = {"public", "current_user", "current_role", "session_user", "group", "role"}


@dataclass(frozen=True)
class Needs:
    """Schemas, extensions and roles, each in the order first met."""

    schemas: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.schemas or self.extensions or self.roles)

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            _merged(self.schemas, other.schemas),
            _merged(self.extensions, other.extensions),
            _merged(self.roles, other.roles),
        )

    def __and__(self, other: Needs) -> Needs:
        """What both hold, in this one's order."""
        return Needs(
            tuple(name for name in self.schemas if name in other.schemas),
            tuple(name for name in self.extensions if name in other.extensions),
            tuple(name for name in self.roles if name in other.roles),
        )

    def text(self) -> str:
        """``schema cdb, pg_sphere, role usdf``: what a person reads."""
        schemas = [f"schema {name}" for name in self.schemas]
        return ", ".join(schemas + list(self.extensions) + [f"role {name}" for name in self.roles])


def tree_needs(trees: Iterable[SchemaTree]) -> Needs:
    """Everything the given sections need of their database, together."""
    return functools.reduce(Needs.__or__, (schema_needs(tree) for tree in trees), Needs())


@functools.lru_cache(maxsize=256)
def schema_needs(tree: SchemaTree) -> Needs:
    """What one section needs: read once per tree object (a re-read tree is a new object)."""
    schemas = [tree.version_table_schema, tree.schema_name]
    extensions = _ini_list(tree, "consdb.extensions")
    roles = _ini_list(tree, "consdb.roles")
    created: set[str] = set()
    env_text = _read(tree.env_script)
    if _CREATES_COMPUTED_SCHEMA.search(env_text):
        created.add(tree.version_table_schema)
    for text in [env_text, *(_read(info.path) for info in tree.revisions.values())]:
        if PG_SPHERE not in extensions and _USES_PG_SPHERE.search(text):
            extensions.append(PG_SPHERE)
        roles += [match[1] for match in _GRANTEE.findall(text) if match[1].lower() not in _NOT_ROLES]
        schemas += [match[1] for match in _IN_SCHEMA.findall(text)]
        created |= {match[1] for match in _CREATES_SCHEMA.findall(text)}
    needed = [schema for schema in schemas if schema not in created] + _ini_list(tree, "consdb.schemas")
    return Needs(_merged(needed), _merged(extensions), _merged(roles))


def lacking(connection: psycopg.Connection, needs: Needs) -> Needs:
    """What of ``needs`` the connected database (and its server, for roles) does not have: one query."""
    row = connection.execute(
        "SELECT array(SELECT nspname::text FROM pg_namespace WHERE nspname = ANY(%s)),"
        " array(SELECT extname::text FROM pg_extension WHERE extname = ANY(%s)),"
        " array(SELECT rolname::text FROM pg_roles WHERE rolname = ANY(%s))",
        (list(needs.schemas), list(needs.extensions), list(needs.roles)),
    ).fetchone()
    assert row is not None
    schemas, extensions, roles = (set(names) for names in row)
    return Needs(
        tuple(name for name in needs.schemas if name not in schemas),
        tuple(name for name in needs.extensions if name not in extensions),
        tuple(name for name in needs.roles if name not in roles),
    )


def prepare_database(url: DatabaseUrl, trees: Sequence[SchemaTree], *, connect_timeout: int) -> Needs:
    """Give the database at ``url`` what ``trees`` need before their first revision; say what was created.

    Only what is missing is created, each idempotently: schemas and extensions ``IF NOT EXISTS``,
    roles ``NOLOGIN`` (they only receive grants) and only when absent.
    """
    with connect(url, connect_timeout=connect_timeout) as connection:
        missing = lacking(connection, tree_needs(trees))
        for role in missing.roles:
            _create(connection, url, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)), f"role {role}")
        for schema in missing.schemas:
            statement = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            _create(connection, url, statement, f"schema {schema}")
        for extension in missing.extensions:
            statement = sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
            _create(connection, url, statement, f"extension {extension}")
    return missing


def _create(connection: psycopg.Connection, url: DatabaseUrl, statement: sql.Composed, what: str) -> None:
    try:
        connection.execute(statement)
    except errors.DuplicateObject:
        return  # made meanwhile by someone else: what was wanted
    except psycopg.Error as error:
        raise Refused(
            f"could not create {what} in {url}: {url.redact(first_line(error))}",
            hint="Create it as a superuser (roles need CREATEROLE; extensions must be installed on the server),"
            " then try again.",
        ) from None


def _ini_list(tree: SchemaTree, key: str) -> list[str]:
    return [item.strip() for item in (tree.config.get_main_option(key) or "").split(",") if item.strip()]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _merged(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in groups for name in group))


@dataclass(frozen=True)
class PrepareResult:
    """What ``prepare`` created in an environment's database (nothing, when nothing was missing)."""

    environment: str
    schemas: tuple[str, ...]
    created: Needs

    @property
    def ok(self) -> bool:
        return True
