"""Does pqserver see the new schema? Asked after a restart, through its own schema API.

``GET {url}/consdb/schema/{instrument}`` lists an instrument's tables and
``GET {url}/consdb/schema/{instrument}/{table}`` its columns (``{column: [type, doc]}``).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from bot.config import Environment

Expected = dict[str, dict[str, list[str]]]
"""Per schema, per table, the columns a migration added."""


def schema_check(env: Environment, expected: Expected, *, timeout: float) -> str:
    """One line for the thread: what pqserver lists of what the migration added, or why it could not say."""
    if not env.pqserver_url:
        return f"pqserver's view of the schema was not checked: environments.{env.key}.pqserver_url is not set."
    try:
        return _compare(env, env.pqserver_url.rstrip("/"), expected, timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, TypeError, AttributeError) as error:
        return _trouble(env, error)


def _compare(env: Environment, base: str, expected: Expected, timeout: float) -> str:
    if not expected:
        tables = {schema: _get(f"{base}/consdb/schema/{schema}", timeout) for schema in env.hinfo}
        counted = ", ".join(f"{schema}: {len(found)} tables" for schema, found in tables.items())
        return f"pqserver at {env.key} answers ({counted or 'no instrument asked'})."
    missing = [
        f"cdb_{schema}.{table}.{column}"
        for schema, tables in expected.items()
        for table, columns in tables.items()
        for column in sorted(set(columns) - set(_get(f"{base}/consdb/schema/{schema}/{table}", timeout)))
    ]
    if missing:
        return f":warning: pqserver at {env.key} does not list {', '.join(missing)}: is it the restarted one?"
    added = sum(len(columns) for tables in expected.values() for columns in tables.values())
    return f"pqserver at {env.key} lists all {added} column(s) the migration added."


def _trouble(env: Environment, error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError) and error.code == 404:
        return f":warning: pqserver at {env.key} does not know a table the migration changed (HTTP 404: {error.url})."
    reason = f"HTTP {error.code}" if isinstance(error, urllib.error.HTTPError) else str(getattr(error, "reason", error))
    return f":warning: pqserver at {env.key} did not answer the schema check ({reason}); look at it by hand."


def _get(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())
