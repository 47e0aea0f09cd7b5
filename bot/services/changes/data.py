"""After a migration, the data: ``check data ENV INSTRUMENT`` and the hinfo watch's look at the database.

Which exposures: those observed since the latest migration of the instrument's schema there that the
bot ran and that succeeded (an upgrade, or a rollout from that environment or that migrated it as a
replica; when it finished), or in
the last ``--since``. Which columns: those that migration added to the tables hinfo writes (its
request's ``added_columns``, read from what it executed). How a row's time is told is said in
:mod:`bot.engine.exposures`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.config import Environment, Settings
from bot.engine.exposures import CCDEXPOSURE, EXPOSURE, WRITTEN_BY_HINFO, read_exposures
from bot.engine.service import Direction, Engine
from bot.engine.status import database_url
from bot.errors import ConfigError, ConsdbBotError
from bot.services.changes.requests import ROLLOUT
from bot.services.changes.served import touches
from bot.store import Store, aware
from bot.store.models import ChangeRequest
from bot.words import plural

MIGRATIONS = (Direction.UPGRADE.value, ROLLOUT)
"""The kinds of request that add columns."""
DATA_CHECKED = "checked data"
HINFO_WATCHED = "hinfo watched"
"""The audit actions of a ``check data`` and of an hinfo watch's verdict (their detail: the schema, and
whether the new columns are written), which the rollout board reads."""
UNRECORDED_SECONDS = 30 * 60
"""Without ``--since`` and with no migration recorded, the exposures of this last while."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """The change whose new columns are checked: its request, the range it moved the schema, when it
    finished, and what it added (table: columns)."""

    request_id: int
    kind: str
    range: str
    finished_at: datetime
    added: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class NewColumn:
    """A column the migration added: in how many of ``rows`` it is filled (None: not in its table now)."""

    table: str
    column: str
    filled: int | None
    rows: int

    @property
    def name(self) -> str:
        """``dimm_seeing`` for an exposure column, ``ccdexposure.ccd_temp`` for another table's."""
        return self.column if self.table == EXPOSURE else f"{self.table}.{self.column}"

    @property
    def empty(self) -> bool:
        """Rows were written and none fills it: hinfo does not write it."""
        return self.filled == 0 and self.rows > 0

    @property
    def missing(self) -> bool:
        return self.filled is None


@dataclass(frozen=True)
class DataCheck:
    """The exposures written at an environment since a moment, and the new columns they fill.

    ``first`` and ``last`` name exposures as ``day_obs/seq_num``; ``ccd_rows`` is None where the schema
    has no ccdexposure table; ``unchecked`` holds the new columns of tables hinfo does not write."""

    environment: str
    schema: str
    timezone: str
    at: datetime
    since: datetime
    since_seconds: int | None
    """The ``--since`` window (or the default one when no migration is recorded); None: since the migration."""
    migration: Migration | None
    exposures: int
    first: str | None
    last: str | None
    ccd_rows: int | None
    columns: list[NewColumn]
    unchecked: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> list[NewColumn]:
        return [column for column in self.columns if column.empty]

    @property
    def missing(self) -> list[NewColumn]:
        return [column for column in self.columns if column.missing]

    @property
    def ok(self) -> bool:
        """Exposures were written, and each new column is there and filled in some of them."""
        return self.exposures > 0 and not self.empty and not self.missing


def check_data(
    settings: Settings, engine: Engine, store: Store, environment: str, instrument: str, *,
    since_seconds: int | None, at: datetime,
) -> DataCheck:  # fmt: skip
    """``check data``: since the latest migration recorded (or the last ``since_seconds``)."""
    env = settings.environment(environment)
    (schema,) = settings.schemas_at(env, [settings.schema_named(instrument)])
    # A replica's schemas are migrated by the rollout of the environment it replicates.
    places = [env.key, *([settings.environment(env.replica.of).key] if env.replica else [])]
    request = store.last_succeeded(
        MIGRATIONS, environments=places, where=lambda found: schema in found.schemas and touches(found, env.key)
    )
    migration = _migration(request, schema) if request else None
    if since_seconds is None and migration is not None:
        since = migration.finished_at
    else:
        since_seconds = since_seconds or UNRECORDED_SECONDS
        since = at - timedelta(seconds=since_seconds)
    return _read(settings, engine, env, schema, since, since_seconds, migration, at)


def data_after(
    settings: Settings, engine: Engine, request: ChangeRequest, schema: str, *, at: datetime
) -> DataCheck | str:
    """The hinfo watch's look: the exposures since ``request`` finished and the columns it added; or why
    the database could not be read (the watch says so, and goes on)."""
    env = settings.environment(request.environment)
    migration = _migration(request, schema)
    try:
        return _read(settings, engine, env, schema, migration.finished_at, None, migration, at)
    except ConsdbBotError as error:
        return error.message
    except Exception as error:
        log.exception("the data of %s at %s could not be checked", schema, env.key)
        return type(error).__name__


def _migration(request: ChangeRequest, schema: str) -> Migration:
    added = (request.added_columns or {}).get(schema, {})
    return Migration(
        request.id, request.kind, str((request.ranges or {}).get(schema, "")),
        aware(request.finished_at or request.created_at), {table: list(columns) for table, columns in added.items()},
    )  # fmt: skip


def _read(
    settings: Settings, engine: Engine, env: Environment, schema: str, since: datetime, since_seconds: int | None,
    migration: Migration | None, at: datetime,
) -> DataCheck:  # fmt: skip
    url = database_url(env)
    if isinstance(url, str):
        raise ConfigError(f"{env.key}: {url}")
    added = migration.added if migration else {}
    read = read_exposures(
        url, engine.tree.schema(schema).schema_name, since=since, place=env.key,
        columns={table: columns for table, columns in added.items() if table in WRITTEN_BY_HINFO},
        connect_timeout=settings.migrations.connect_timeout_seconds,
    )  # fmt: skip
    rows = {EXPOSURE: read.exposures, CCDEXPOSURE: read.ccd_rows or 0}
    return DataCheck(
        environment=env.key, schema=schema, timezone=env.timezone, at=at, since=since, since_seconds=since_seconds,
        migration=migration, exposures=read.exposures,
        first=f"{read.first[0]}/{read.first[1]}" if read.first else None,
        last=f"{read.last[0]}/{read.last[1]}" if read.last else None, ccd_rows=read.ccd_rows,
        columns=[NewColumn(filled.table, filled.column, filled.filled, rows[filled.table]) for filled in read.columns],
        unchecked={table: columns for table, columns in added.items() if table not in WRITTEN_BY_HINFO},
    )  # fmt: skip


def data_summary(check: DataCheck) -> str:
    """What a check found, in one line (the audit trail's, the rollout board's)."""
    head = f"{check.schema} at {check.environment}: {plural(check.exposures, 'exposure')} since the migration"
    if check.ok:
        return f"{head}, the new columns filled" if check.columns else f"{head} (the migration added no column)"
    if not check.exposures:
        return f"{head}"
    empty = ", ".join(column.name for column in check.empty)
    missing = ", ".join(column.name for column in check.missing)
    return head + (f"; empty: {empty}" if empty else "") + (f"; missing: {missing}" if missing else "")
