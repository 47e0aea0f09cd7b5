"""What the benchmarks share: the PostgreSQL server the tests use, throwaway databases on it, and
percentiles of what was measured."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

SERVER = os.environ.get("CONSDB_BOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def url_of(database: str) -> str:
    return make_url(SERVER).set(database=database).render_as_string(hide_password=False)


@contextmanager
def databases(count: int, *, template: str | None = None, file_copy: bool = False) -> Iterator[list[str]]:
    """``count`` new databases (copies of ``template``, if given), dropped afterwards whatever happens.

    ``file_copy`` copies the template's files (between two checkpoints) instead of writing them through the
    WAL: a copy of a large template then leaves no WAL behind to be checkpointed during what is measured."""
    names = [f"consdb_bench_{secrets.token_hex(4)}" for _ in range(count)]
    copy = sql.SQL(" TEMPLATE {}").format(sql.Identifier(template)) if template else sql.SQL("")
    if file_copy:
        copy += sql.SQL(" STRATEGY FILE_COPY")
    with psycopg.connect(SERVER, autocommit=True) as connection:
        for name in names:
            connection.execute(sql.SQL("CREATE DATABASE {}{}").format(sql.Identifier(name), copy))
    try:
        yield names
    finally:
        with psycopg.connect(SERVER, autocommit=True) as connection:
            for name in names:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of the sorted measurements fall (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
