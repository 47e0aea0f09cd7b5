"""Does pqserver see the new schema? Asked after a restart, through its own schema API.

``GET {url}/consdb/schema/{instrument}`` lists an instrument's tables and
``GET {url}/consdb/schema/{instrument}/{table}`` its columns (``{column: [type, doc]}``).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.config import Environment

Expected = dict[str, dict[str, list[str]]]
"""Per schema, per table, the columns a migration added."""


class Seen(StrEnum):
    """What the schema check found."""

    NOT_ASKED = "not asked"
    """No ``pqserver_url`` here: nothing was asked."""
    ANSWERS = "answers"
    """Nothing to look for (no columns added): pqserver answers, with this many tables per instrument."""
    LISTS_ALL = "lists all"
    MISSING = "missing"
    UNKNOWN_TABLE = "unknown table"
    NO_ANSWER = "no answer"
    FAILED = "failed"
    """The check itself failed in the bot (``detail`` names the error)."""


@dataclass(frozen=True)
class SchemaCheck:
    """What pqserver lists of what a migration added, or why it could not say: for the renderers."""

    environment: str
    seen: Seen
    tables: dict[str, int] = field(default_factory=dict)
    """ANSWERS: how many tables pqserver lists per instrument asked."""
    added: int = 0
    """LISTS_ALL: the columns the migration added, all listed."""
    missing: list[str] = field(default_factory=list)
    """MISSING: ``cdb_schema.table.column`` of each added column pqserver does not list."""
    detail: str = ""
    """UNKNOWN_TABLE: the URL that was not found; NO_ANSWER: why; FAILED: the error's name."""

    @property
    def worrying(self) -> bool:
        """Whether someone should look at pqserver."""
        return self.seen in (Seen.MISSING, Seen.UNKNOWN_TABLE, Seen.NO_ANSWER, Seen.FAILED)


def schema_check(env: Environment, expected: Expected, *, timeout: float) -> SchemaCheck:
    """What pqserver lists of what the migration added, or why it could not say."""
    if not env.pqserver_url:
        return SchemaCheck(env.key, Seen.NOT_ASKED)
    try:
        return _compare(env, env.pqserver_url.rstrip("/"), expected, timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, TypeError, AttributeError) as error:
        return _trouble(env, error)


def _compare(env: Environment, base: str, expected: Expected, timeout: float) -> SchemaCheck:
    if not expected:
        tables = {schema: len(_get(f"{base}/consdb/schema/{schema}", timeout)) for schema in env.hinfo}
        return SchemaCheck(env.key, Seen.ANSWERS, tables=tables)
    missing = [
        f"cdb_{schema}.{table}.{column}"
        for schema, tables in expected.items()
        for table, columns in tables.items()
        for column in sorted(set(columns) - set(_get(f"{base}/consdb/schema/{schema}/{table}", timeout)))
    ]
    if missing:
        return SchemaCheck(env.key, Seen.MISSING, missing=missing)
    added = sum(len(columns) for tables in expected.values() for columns in tables.values())
    return SchemaCheck(env.key, Seen.LISTS_ALL, added=added)


def _trouble(env: Environment, error: Exception) -> SchemaCheck:
    if isinstance(error, urllib.error.HTTPError) and error.code == 404:
        return SchemaCheck(env.key, Seen.UNKNOWN_TABLE, detail=str(error.url))
    reason = f"HTTP {error.code}" if isinstance(error, urllib.error.HTTPError) else str(getattr(error, "reason", error))
    return SchemaCheck(env.key, Seen.NO_ANSWER, detail=reason)


def _get(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())
