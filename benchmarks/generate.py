"""``consdb-bot generate`` on a copy of the bundled tree: every schema with no change, and one schema with
a column added to ``exposure`` (views made again, proven up and down).

Usage: ``.venv/bin/python benchmarks/generate.py [--rounds N]``; it prints a Markdown table.
It needs the PostgreSQL server the tests use (``CONSDB_BOT_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("CONSDB_BOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONSDB_BOT = str(Path(sys.executable).parent / "consdb-bot")
SCHEMAS = "[latiss, lsstcomcam, lsstcomcamsim, lsstcam, startrackerwide, startrackernarrow, startrackerfast]"


def workshop(folder: Path, *, changed: bool) -> Path:
    """A tree copy, a model copy (changed or not) and a configuration; returns the configuration."""
    shutil.copytree(REPO / "migrations", folder / "tree", ignore=shutil.ignore_patterns("__pycache__"))
    model = folder / "sdm" / "yml"
    model.mkdir(parents=True)
    for path in Path(str(resources.files("lsst.sdm.schemas"))).glob("cdb_*.yaml"):
        shutil.copy(path, model / path.name)
    if changed:
        document = yaml.safe_load((model / "cdb_latiss.yaml").read_text())
        for table in document["tables"]:
            if table["name"] in ("exposure", "visit1"):
                name = table["name"]
                table["columns"].append({"name": "bench_seeing", "@id": f"#{name}.bench_seeing", "datatype": "double"})
        (model / "cdb_latiss.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    config = folder / "consdb-bot.yaml"
    config.write_text(
        f"migrations: {{alembic_ini: {folder / 'tree' / 'alembic.ini'}, sdm_schemas: {folder / 'sdm'},"
        f' scratch_url: "{SERVER}"}}\nschemas: {SCHEMAS}\nenvironments: {{}}\n'
    )
    return config


def timed(changed: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        config = workshop(Path(folder), changed=changed)
        started = time.perf_counter()
        command = [CONSDB_BOT, "--config", str(config), "generate", "-m", "bench"]
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    print("| `consdb-bot generate`, 7 schemas | median of", rounds, "|")
    print("|---|---|")
    for changed, label in ((False, "no schema changed: no file"), (True, "latiss: a column added to exposure")):
        print(f"| {label} | {statistics.median(timed(changed) for _ in range(rounds)):.1f} s |")


if __name__ == "__main__":
    main()
