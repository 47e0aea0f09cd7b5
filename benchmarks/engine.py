"""Engine benchmarks, measured side by side with plain Alembic on the bundled tree in one run.

1. ``status`` over the bundled tree's 10 schemas in 6 databases (60 pairs), against
   ``alembic -n SCHEMA current`` once per pair (which runs env.py and loads Felis every time).
2. An upgrade of the 10 schemas from empty, against ``alembic -n SCHEMA upgrade head`` per schema.

Usage: ``.venv/bin/python benchmarks/engine.py [--rounds N]``; it prints a Markdown table.
It needs the PostgreSQL server the tests use (``CONSDB_BOT_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.databases import databases, url_of
from bot.config import load_settings
from bot.engine.service import Engine
from bot.engine.tree import BUNDLED_INI, MigrationTree

SCHEMAS = [
    schema
    for schema in load_settings(
        Path(__file__).resolve().parents[1] / "deploy" / "consdb-bot.example.yaml", environ={}
    ).schemas
    if MigrationTree(BUNDLED_INI).has(schema)
]
PAIRS = len(SCHEMAS) * 6
ENVIRONMENTS = ["bts", "tts", "summit", "usdf-dev", "usdf-int", "usdf-prod"]
PAIRS = len(SCHEMAS) * len(ENVIRONMENTS)
CONSDB_BOT = str(Path(sys.executable).parent / "consdb-bot")


def write_config(folder: Path, environments: dict[str, str]) -> Path:
    lines = ["schemas: [" + ", ".join(SCHEMAS) + "]", "environments:"]
    for name, database in environments.items():
        lines += [f"  {name}:", f"    database_url: {url_of(database)}"]
    path = folder / "consdb-bot.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def run(command: list[str], **environment: str) -> None:
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **environment})


def alembic(schema: str, database: str, *args: str) -> None:
    run([sys.executable, "-m", "alembic", "-c", str(BUNDLED_INI), "-n", schema, *args], CONSDB_URL=url_of(database))


def status_benchmark(folder: Path, rounds: int) -> list[tuple[str, str]]:
    with databases(1) as (template,):
        for schema in SCHEMAS:
            alembic(schema, template, "upgrade", "head")
        with databases(len(ENVIRONMENTS), template=template) as names:
            config = write_config(folder, dict(zip(ENVIRONMENTS, names, strict=True)))
            settings = load_settings(config)
            engine = Engine(settings)
            environments = list(settings.environments.values())
            statuses = engine.status(environments, SCHEMAS)
            assert len(statuses) == PAIRS
            assert all(status.state == "head" for status in statuses)
            warm = statistics.median(timed(lambda: engine.status(environments, SCHEMAS)) for _ in range(rounds))
            cold = statistics.median(
                timed(lambda: run([CONSDB_BOT, "status", "--config", str(config)])) for _ in range(rounds)
            )
            plain = timed(lambda: [alembic(s, d, "current") for d in names for s in SCHEMAS])
    return [
        (f"status, {PAIRS} pairs, in the running bot", f"{warm * 1000:.0f} ms"),
        (f"status, {PAIRS} pairs, `consdb-bot status` (new process)", f"{cold * 1000:.0f} ms"),
        (f"`alembic -n SCHEMA current`, {PAIRS} times", f"{plain:.1f} s"),
        ("`consdb-bot status` against plain Alembic", f"{plain / cold:.0f} times faster"),
    ]


def upgrade_benchmark(folder: Path, rounds: int) -> list[tuple[str, str]]:
    ours, plain = [], []
    for _ in range(rounds):
        with databases(2) as (mine, theirs):
            config = write_config(folder, {"bench": mine})
            ours.append(
                timed(lambda config=config: run([CONSDB_BOT, "upgrade", "bench", "--yes", "--config", str(config)]))
            )
            plain.append(
                timed(lambda theirs=theirs: [alembic(schema, theirs, "upgrade", "head") for schema in SCHEMAS])
            )
    mine_median, theirs_median = statistics.median(ours), statistics.median(plain)
    return [
        (f"upgrade of {len(SCHEMAS)} schemas from empty, `consdb-bot upgrade --yes`", f"{mine_median:.1f} s"),
        (f"the same, `alembic -n SCHEMA upgrade head`, {len(SCHEMAS)} times", f"{theirs_median:.1f} s"),
        ("difference", f"{(mine_median / theirs_median - 1) * 100:+.0f}%"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        rows = status_benchmark(Path(folder), rounds) + upgrade_benchmark(Path(folder), rounds)
    print("| measure | result |\n|---|---|")
    for measure, result in rows:
        print(f"| {measure} | {result} |")


if __name__ == "__main__":
    main()
