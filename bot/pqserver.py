"""Does pqserver see the new schema? Asked after a restart, through its own schema API.

``GET {url}/consdb/schema/{instrument}`` lists an instrument's tables and
``GET {url}/consdb/schema/{instrument}/{table}`` its columns (``{column: [type, doc]}``).
"""

from __future__ import annotations

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
    base = env.pqserver_url.rstrip("/")
    try:
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
    except (urllib.error.URLError, OSError, ValueError) as error:
        return (
            f":warning: pqserver at {env.key} did not answer the schema check ({_reason(error)}); look at it by hand."
        )
    added = sum(len(columns) for tables in expected.values() for columns in tables.values())
    if missing:
        return f":warning: pqserver at {env.key} does not list {', '.join(missing)}: is it the restarted one?"
    return f"pqserver at {env.key} lists all {added} column(s) the migration added."


def _get(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    return str(getattr(error, "reason", error))
