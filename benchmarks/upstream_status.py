"""``status`` on lsst-dm/consdb's own tree: 11 schemas in 6 databases, against ``alembic current``.

The databases are prepared as upstream prepares one (``cdb``, pg_sphere, the reader roles) and
brought to upstream's heads by upstream's own ``alembic -n SECTION upgrade head``. Where upstream's
env.py cannot run at the pinned lsst-sdm-schemas (``efd_scheduler`` has no Felis model; the star
trackers' models have no ``ccdexposure``, which env.py makes a view of), the section's head is
written into its version table directly, and plain Alembic is timed on the sections where it runs.
Both run on a copy of the tree as a git checkout has it: the sections' ``env.py`` are symbolic links
there, which the copy in ``../shared/`` holds as one-line files.

Usage: ``.venv/bin/python benchmarks/upstream_status.py [--rounds N]`` with ``../shared/`` beside
the clone; it prints a Markdown table. It needs the PostgreSQL server the tests use
(``CONSDB_BOT_TEST_DATABASE_URL``), with pg_sphere (``../shared/tools/install-pgsphere``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from subprocess import DEVNULL

import psycopg
import yaml
from psycopg import sql

from benchmarks.databases import databases, url_of
from benchmarks.engine import CONSDB_BOT, ENVIRONMENTS, timed
from bot.config import load_settings
from bot.engine.runner import model_directory
from bot.engine.service import Engine
from bot.engine.tree import MigrationTree

SHARED = Path(__file__).resolve().parents[2] / "shared"
SECTIONS: list[str] = yaml.safe_load((SHARED / "contract" / "config.yaml").read_text())["schemas"]


def checkout(folder: Path) -> Path:
    """A copy of upstream's tree with its one-line link files made links again, as git makes them."""
    root = folder / "consdb"
    shutil.copytree(SHARED / "upstream" / "consdb", root)
    for path in root.glob("alembic/*/*"):
        target = path.read_text().strip() if path.stat().st_size < 100 else ""
        if target and (path.parent / target).is_file():
            path.unlink()
            path.symlink_to(target)
    return root


def prepare(upstream: Path, database: str, sections: list[str]) -> list[str]:
    """What upstream's docker/alembic-setup.sql gives a database, then every section at its head;
    the sections where upstream's env.py runs."""
    tree = MigrationTree(upstream / "alembic.ini")
    schemas = ["cdb", "efd", *(tree.schema(section).schema_name for section in sections)]
    with psycopg.connect(url_of(database), autocommit=True) as connection:
        for schema in schemas:
            connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_sphere")
        for role in ("usdf", "oods"):
            if not connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                connection.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    runnable = []
    with model_directory("installed") as model:
        for section in sections:
            upgrade = subprocess.run(
                [sys.executable, "-m", "alembic", "-n", section, "upgrade", "head"],
                check=False, capture_output=True, cwd=upstream,
                env={**os.environ, "CONSDB_URL": url_of(database), "SDM_SCHEMAS_DIR": str(model)},
            )  # fmt: skip
            if upgrade.returncode == 0:
                runnable.append(section)
                continue
            schema = tree.schema(section)
            table = sql.Identifier(schema.version_table_schema, schema.version_table)
            with psycopg.connect(url_of(database), autocommit=True) as connection:
                connection.execute(sql.SQL("CREATE TABLE {} (version_num varchar(32) PRIMARY KEY)").format(table))
                connection.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(table), (schema.heads[0],))
    return runnable


def alembic_current(upstream: Path, section: str, database: str, model: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "alembic", "-n", section, "current"],
        check=True, capture_output=True, cwd=upstream,
        env={**os.environ, "CONSDB_URL": url_of(database), "SDM_SCHEMAS_DIR": str(model)},
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    sections = SECTIONS
    with tempfile.TemporaryDirectory() as folder, databases(1) as (template,):
        upstream = checkout(Path(folder))
        modelled = prepare(upstream, template, sections)
        with databases(len(ENVIRONMENTS), template=template) as names:
            config = Path(folder) / "consdb-bot.yaml"
            lines = [
                f"migrations: {{alembic_ini: {upstream / 'alembic.ini'}}}",
                f"schemas: [{', '.join(sections)}]",
                "environments:",
            ]
            for env, database in zip(ENVIRONMENTS, names, strict=True):
                lines += [f"  {env}:", f"    database_url: {url_of(database)}"]
            config.write_text("\n".join(lines) + "\n")
            settings = load_settings(config)
            engine = Engine(settings)
            environments = list(settings.environments.values())
            statuses = engine.status(environments, sections)
            assert len(statuses) == 66
            assert all(status.state == "head" for status in statuses), [s.summary for s in statuses]
            warm = statistics.median(timed(lambda: engine.status(environments, sections)) for _ in range(rounds))
            command = [CONSDB_BOT, "status", "--config", str(config)]
            cold = statistics.median(
                timed(lambda: subprocess.run(command, check=True, stdout=DEVNULL)) for _ in range(rounds)
            )
            with model_directory("installed") as model:
                plain = timed(lambda: [alembic_current(upstream, s, d, model) for d in names for s in modelled])
    per_pair_plain = plain / (len(modelled) * len(names))
    rows = [
        ("status, 66 pairs, in the running bot", f"{warm * 1000:.0f} ms"),
        ("status, 66 pairs, `consdb-bot status` (new process)", f"{cold * 1000:.0f} ms"),
        (f"`alembic -n SECTION current`, {len(modelled)} sections x 6, {len(modelled) * 6} times", f"{plain:.1f} s"),
        ("`consdb-bot status` against plain Alembic, per pair", f"{per_pair_plain * 66 / cold:.0f} times faster"),
    ]
    print("| measure (upstream tree) | result |\n|---|---|")
    for measure, result in rows:
        print(f"| {measure} | {result} |")


if __name__ == "__main__":
    main()
