"""Where each environment's schemas stand, read from version tables and script files only."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

import psycopg

from bot.config import Environment, Unset
from bot.engine.database import DatabaseUrl, RecordedVersion, VersionTable, connect, first_line, read_versions
from bot.engine.prepare import Needs, lacking, schema_needs, tree_needs
from bot.engine.tree import MigrationTree, RevisionInfo, SchemaTree
from bot.errors import ConfigError, ConsdbBotError


class State(StrEnum):
    HEAD = "head"
    BEHIND = "behind"
    EMPTY = "empty"
    UNVERSIONED = "unversioned"
    NOT_PREPARED = "not-prepared"
    UNKNOWN_REVISION = "unknown-revision"
    UNREACHABLE = "unreachable"
    NOT_CONFIGURED = "not-configured"
    NOT_IN_TREE = "not-in-tree"
    """The migration tree has no section for this configured schema."""
    NOT_KEPT = "not-kept"
    """The environment does not hold this schema (its ``schemas`` leave it out): nothing to read."""


@dataclass(frozen=True)
class SchemaStatus:
    environment: str
    schema: str
    state: State
    current: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()
    behind: int | None = None
    """Revisions to head; None where that is not known (not configured, unreachable, unversioned...)."""
    detail: str = ""
    current_revisions: list[RevisionInfo] = field(default_factory=list)
    unfinished: str = ""
    """What an online run committed and left undone, and the command that finishes it (empty: nothing)."""

    @property
    def summary(self) -> str:
        """The one-line answer a user wants: where it is and how far from head."""
        return f"{self._where}; {self.unfinished}" if self.unfinished else self._where

    @property
    def _where(self) -> str:  # noqa: PLR0911 - one case each
        at = ", ".join(revision[:12] for revision in self.current)
        match self.state:
            case State.HEAD:
                return f"{at} (head)"
            case State.BEHIND:
                return f"{at or 'base'} ({self.behind} behind)"
            case State.EMPTY:
                return f"empty ({self.behind} behind)"
            case State.NOT_KEPT:
                return "not kept here"
            case State.NOT_CONFIGURED:  # its detail says so, and what to set
                return self.detail or "not configured here"
            case State.NOT_PREPARED:
                return f"not prepared: {self.detail}"
            case _:
                return f"{self.state.value}: {self.detail}" if self.detail else self.state.value


def database_url(env: Environment) -> DatabaseUrl | str:
    """The environment's URL, or the reason there is none here."""
    if isinstance(env.database_url, Unset):
        return f"not configured here (set {env.database_url.variable})"
    if not env.database_url:
        return "no database_url in the configuration"
    return DatabaseUrl.parse(env.database_url, key=f"environments.{env.key}.database_url")


def version_tables(trees: Sequence[SchemaTree]) -> list[VersionTable]:
    return [VersionTable(tree.schema_name, tree.version_table_schema, tree.version_table) for tree in trees]


def classify(env: Environment, tree: SchemaTree, recorded: RecordedVersion) -> SchemaStatus:
    """Compare what the database records with the script graph."""
    unfinished = recorded.unfinished.text(f"upgrade {env.key} {tree.section}") if recorded.unfinished else ""
    status = functools.partial(
        SchemaStatus, environment=env.key, schema=tree.section, heads=tree.heads, unfinished=unfinished
    )
    if not recorded.revisions:
        if recorded.unversioned and recorded.unfinished is None:  # an online run from base has tables, unfinished
            return status(
                state=State.UNVERSIONED,
                detail=f"{tree.schema_name} exists but {tree.version_table_schema}.{tree.version_table}"
                " records no revision (stamp it first)",
            )
        return status(state=State.EMPTY, behind=len(tree.pending(current=(), target=tree.heads)))
    unknown = [revision for revision in recorded.revisions if revision not in tree.revisions]
    if unknown:
        return status(
            state=State.UNKNOWN_REVISION,
            current=recorded.revisions,
            detail=f"records {', '.join(unknown)}, which these scripts do not have"
            " (the database is ahead of them, or on another branch)",
        )
    pending = tree.pending(current=recorded.revisions, target=tree.heads)
    return status(
        state=State.BEHIND if pending else State.HEAD,
        current=recorded.revisions,
        behind=len(pending),
        current_revisions=[tree.info(revision) for revision in recorded.revisions],
    )


def environment_status(
    env: Environment,
    schemas: Sequence[str],
    trees: Mapping[str, SchemaTree],
    absent: Mapping[str, str],
    *,
    connect_timeout: int,
) -> list[SchemaStatus]:
    """Each schema's status; those the environment does not keep, or the tree lacks (``absent``, with the
    reason), are not looked for in its database."""
    readable = [trees[schema] for schema in schemas if env.keeps(schema) and schema in trees]
    read = {status.schema: status for status in _read_statuses(env, readable, connect_timeout)}
    return [
        read.get(schema)
        or (
            SchemaStatus(env.key, schema, State.NOT_IN_TREE, detail=absent[schema])
            if env.keeps(schema)
            else SchemaStatus(env.key, schema, State.NOT_KEPT)
        )
        for schema in schemas
    ]


def _read_statuses(env: Environment, trees: Sequence[SchemaTree], connect_timeout: int) -> list[SchemaStatus]:
    if not trees:
        return []
    try:
        url = database_url(env)
    except ConsdbBotError as error:
        url = error.message
    if isinstance(url, str):
        return [SchemaStatus(env.key, tree.section, State.NOT_CONFIGURED, detail=url) for tree in trees]
    try:
        with connect(url, connect_timeout=connect_timeout) as connection:
            recorded = read_versions(connection, version_tables(trees))
            fresh = [tree for tree, versions in zip(trees, recorded, strict=True) if not versions.table_exists]
            missing = lacking(connection, tree_needs(fresh)) if fresh else Needs()
    except ConsdbBotError as error:
        return [SchemaStatus(env.key, tree.section, State.UNREACHABLE, detail=error.message) for tree in trees]
    except psycopg.Error as error:
        detail = f"cannot read the version tables of {url}: {url.redact(first_line(error))}"
        return [SchemaStatus(env.key, tree.section, State.UNREACHABLE, detail=detail) for tree in trees]
    statuses = [classify(env, tree, versions) for tree, versions in zip(trees, recorded, strict=True)]
    return [_unless_unprepared(status, tree, missing) for status, tree in zip(statuses, trees, strict=True)]


def _unless_unprepared(status: SchemaStatus, tree: SchemaTree, missing: Needs) -> SchemaStatus:
    """An empty schema whose database lacks what its tree needs first is said to be not prepared."""
    lacks = schema_needs(tree) & missing
    if status.state is not State.EMPTY or not lacks:
        return status
    return dataclasses.replace(status, state=State.NOT_PREPARED, detail=f"missing {lacks.text()}")


def status_of(
    environments: Sequence[Environment],
    tree: MigrationTree,
    schemas: Sequence[str],
    *,
    connect_timeout: int,
) -> list[SchemaStatus]:
    """Status of every (environment, schema) pair; databases are read in parallel. A configured schema
    the tree has no section for is told as such, and every other schema still answers."""
    trees: dict[str, SchemaTree] = {}
    absent: dict[str, str] = {}
    for schema in schemas:
        if not any(env.keeps(schema) for env in environments):
            continue
        try:
            trees[schema] = tree.schema(schema)
        except ConfigError as error:
            absent[schema] = error.message
            continue
        _ = trees[schema].graph.heads
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(environments)))) as pool:
        per_environment = pool.map(
            lambda env: environment_status(env, schemas, trees, absent, connect_timeout=connect_timeout), environments
        )
        return [status for statuses in per_environment for status in statuses]
