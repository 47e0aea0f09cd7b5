"""``check tap``: does TAP serve each schema as the environment's database is migrated?

TAP serves what its ``TAP_SCHEMA`` says, and that is loaded by Felis from an sdm_schemas model, apart
from the migrations. So each schema's ``TAP_SCHEMA.columns`` rows are compared with the model at the
revision the environment's database records:

- at the tree's head, that is the configured Felis model (``migrations.sdm_schemas``, from which the
  tree's head is generated): every column, with what Felis sets of it (datatype, arraysize, unit, ...);
- behind head, the model is not at hand, but the tree is: it is replayed to that revision in a scratch
  database, as ``drift`` does, and the columns of the tables it makes are compared by name (its views,
  ``visit1`` and ``ccdvisit1``, show every column of their base tables, while TAP describes them as the
  model does, so they are left aside).

A schema whose revision is not known (empty, unreachable, ...) is not compared, and says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.clients.tap import sync_columns
from bot.config import Environment, Settings, Tap, require
from bot.engine.database import DatabaseUrl
from bot.engine.runner import model_directory, model_file, no_model
from bot.engine.service import Engine
from bot.engine.status import SchemaStatus, State
from bot.engine.tap import TapColumn, TapDifferences, compare, model_columns, served_columns
from bot.errors import ConfigError, ConsdbBotError, DatabaseUnreachable

UNMIGRATED = (State.EMPTY, State.NOT_PREPARED)
"""States of a schema with no revision recorded: TAP is not expected to serve it yet."""


@dataclass(frozen=True)
class TapCheck:
    """One schema: TAP's columns against the model at ``revisions``, or why they were not compared."""

    environment: str
    schema: str
    tap_schema: str
    """The schema's name in TAP_SCHEMA: the Felis model's name (``cdb_latiss``)."""
    revisions: tuple[str, ...]
    differences: TapDifferences | None = None
    names_only: bool = False
    """Behind head: compared with the tree replayed to ``revisions``, by column names only."""
    detail: str = ""
    """Why it was not compared."""
    unmigrated: bool = False
    """The database records no revision of it: there is nothing TAP should serve yet."""

    @property
    def current(self) -> bool:
        return self.differences is not None and self.differences.none


@dataclass(frozen=True)
class _Expected:
    tap_schema: str
    columns: list[TapColumn] | None
    """None until the tree is replayed (behind head)."""


def check_tap(settings: Settings, engine: Engine, env: Environment, names: Sequence[str]) -> list[TapCheck]:
    """Each schema asked for (none: every one the environment keeps) against what its TAP serves."""
    tap = _tap_of(env)
    statuses = engine.status([env], engine.schemas_at(env, list(names)))
    checks: dict[str, TapCheck] = {}
    expected: dict[str, _Expected] = {}
    sdm_schemas = require(settings.migrations.sdm_schemas, purpose="the Felis model")
    with model_directory(sdm_schemas) as folder:
        for status in statuses:
            if status.state is State.BEHIND:
                expected[status.schema] = _Expected(engine.tree.schema(status.schema).schema_name, None)
            elif status.state is not State.HEAD:
                checks[status.schema] = _unchecked(status, _database_name(engine, status.schema), status.summary)
            elif not (path := model_file(folder, engine.tree.schema(status.schema).schema_name)).is_file():
                checks[status.schema] = _unchecked(status, _database_name(engine, status.schema), no_model(path))
            else:
                try:
                    tap_schema, columns = model_columns(path, force_unbounded_arraysize=tap.force_unbounded_arraysize)
                except ConsdbBotError as error:
                    checks[status.schema] = _unchecked(status, _database_name(engine, status.schema), error.message)
                    continue
                expected[status.schema] = _Expected(tap_schema, columns)
    served = _served(env, tap, [wanted.tap_schema for wanted in expected.values()], settings)
    for status in statuses:
        if status.schema in checks:
            continue
        wanted = expected[status.schema]
        names_only = wanted.columns is None
        columns, tap_columns = wanted.columns or [], served[wanted.tap_schema]
        if names_only:
            try:
                made = engine.columns_at(env, status.schema, status.current)
            except ConsdbBotError as error:
                checks[status.schema] = _unchecked(status, wanted.tap_schema, error.message)
                continue
            # TAP describes the views (visit1, ccdvisit1) as the Felis model has them, not as the tree makes them.
            columns = [TapColumn(table, column) for table, listed in made.tables.items() for column in listed]
            tap_columns = [column for column in tap_columns if column.table not in made.views]
        differences = compare(columns, tap_columns, names_only=names_only)
        checks[status.schema] = TapCheck(
            env.key, status.schema, wanted.tap_schema, status.current, differences, names_only=names_only
        )
    return [checks[status.schema] for status in statuses]


def _database_name(engine: Engine, schema: str) -> str:
    """The schema's name in the database (``cdb_latiss``), which is the Felis model's; a schema the tree
    lacks keeps its configured name."""
    return engine.tree.schema(schema).schema_name if engine.tree.has(schema) else schema


def _tap_of(env: Environment) -> Tap:
    if env.tap is None:
        variable = f"{env.key.upper().replace('-', '_')}_TAP_SCHEMA_URL"
        raise ConfigError(
            f"{env.key} has no tap in the configuration, so where its TAP_SCHEMA is is not known here",
            hint=f'Add environments.{env.key}.tap: {{schema_url: "${{{variable}}}"}}'
            " (the TAP_SCHEMA database Felis loads; docs/configuration.md).",
        )
    purpose = f"check tap {env.key}"
    for value in (env.tap.schema_url, env.tap.sync_url, env.tap.token):
        if value is not None:
            require(value, purpose=purpose)
    if env.tap.schema_url is not None:
        DatabaseUrl.parse(require(env.tap.schema_url, purpose=purpose), key=f"environments.{env.key}.tap.schema_url")
    return env.tap


def _served(env: Environment, tap: Tap, tap_schemas: list[str], settings: Settings) -> dict[str, list[TapColumn]]:
    """What TAP serves of these schemas: read from its TAP_SCHEMA database, or asked of the service."""
    if not tap_schemas:
        return {}
    purpose = f"check tap {env.key}"
    if tap.schema_url is None:
        assert tap.sync_url is not None, "the configuration gives one of them"
        service = require(tap.sync_url, purpose=purpose)
        token = require(tap.token, purpose=purpose) if tap.token is not None else None
        rows = sync_columns(service, tap_schemas, token=token, timeout=tap.timeout_seconds)
        return {schema: [TapColumn.from_row(row) for row in found] for schema, found in rows.items()}
    key = f"environments.{env.key}.tap"
    url = DatabaseUrl.parse(require(tap.schema_url, purpose=purpose), key=f"{key}.schema_url")
    try:
        timeout = settings.migrations.connect_timeout_seconds
        return served_columns(url, tap, tap_schemas, connect_timeout=timeout, key=key)
    except DatabaseUnreachable as error:
        raise DatabaseUnreachable(
            f"cannot read {env.key}'s TAP_SCHEMA: {error.message}",
            hint=f"Check that the server is up, and {key}.schema_url (its URL, user and password, from the"
            " environment).",
        ) from None


def _unchecked(status: SchemaStatus, tap_schema: str, detail: str) -> TapCheck:
    unmigrated = status.state in UNMIGRATED
    return TapCheck(status.environment, status.schema, tap_schema, status.current, detail=detail, unmigrated=unmigrated)
