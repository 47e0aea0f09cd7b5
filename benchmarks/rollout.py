"""A rollout on a real Summit → USDF logical replica while the Summit is written to.

Each round makes the pair as the sandbox does (two private PostgreSQL servers, ``bot/sandbox/replica.py``):
the summit and usdf-prod databases at latiss's first bundled revision, the summit publishing its cdb_latiss
tables, usdf-prod subscribing. A writer inserts an exposure row at the Summit every ``--every`` ms from
before ``consdb-bot rollout latiss --yes --json`` (a new process) until after it, and a watcher asks
usdf-prod every 10 ms how far it has got. Reported, per round:

- the pause: the subscription disabled until enabled again (the bot's audit), against the Summit's and
  the replica's migrations (the rollout's step times, and Alembic's own part of each);
- rows written at the Summit and rows at usdf-prod: the same rows, each once, no apply error;
- the lag after enable: from the audit's enable until usdf-prod has every row written before it.

Usage: ``.venv/bin/python benchmarks/rollout.py [--rounds 3] [--every 10]``. It needs PostgreSQL's
server programs (``initdb``, ``postgres``), not the test server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import psycopg

from bot.application.wiring import state_store
from bot.config import load_settings
from bot.engine.rollout import RolloutStep
from bot.engine.service import Direction, Engine
from bot.sandbox.postgres import PrivatePostgres
from bot.sandbox.replica import (
    PUBLICATION,
    SUBSCRIPTION,
    libpq,
    publisher_settings,
    replicate,
    subscriber_settings,
)
from bot.sandbox.run import OLDER
from bot.services.replicas import SUBSCRIPTION_DISABLED, SUBSCRIPTION_ENABLED
from bot.store import aware, now

CONSDB_BOT = str(Path(sys.executable).parent / "consdb-bot")
DAY_OBS = 20261121
INSERT = (
    "INSERT INTO cdb_latiss.exposure (exposure_id, exposure_name, controller, day_obs, seq_num)"
    " VALUES (%s, %s, 'O', %s, %s)"
)
REPLICATED = "SELECT coalesce(max(seq_num), 0), count(*), count(DISTINCT seq_num) FROM cdb_latiss.exposure"
SETTLED = (
    "SELECT now() - a.backend_start > current_setting('wal_retrieve_retry_interval')::interval"
    " FROM pg_stat_subscription s JOIN pg_stat_activity a USING (pid) WHERE s.subname = %s AND s.relid IS NULL"
)
"""Whether the apply worker started longer ago than ``wal_retrieve_retry_interval`` (5 s). PostgreSQL 15's
launcher starts no worker within that time of the last one it started: an ENABLE sooner after the
subscription's first start waits the whole interval, which a replica long in service does not."""
MARGIN_SECONDS = 1.0
"""How long the writer writes before the rollout starts and after it ends."""


@dataclass
class Round:
    pause: float
    summit_migration: float
    summit_upgrade: float
    """Alembic's own upgrade, in the migration's child process (the rest: the child's start)."""
    replica_migration: float
    replica_upgrade: float
    rest: float
    """The pause less the two migrations: the other steps in it (publish, record, tell)."""
    written: int
    during_pause: int
    replicated: int
    distinct: int
    apply_errors: int
    lag: float


class Writer(threading.Thread):
    """Inserts exposure rows one at a time at the Summit, each committed, noting when."""

    def __init__(self, url: str, every: float) -> None:
        super().__init__()
        self.url, self.every, self.stop = url, every, threading.Event()
        self.committed: list[float] = []  # seq_num n committed at committed[n - 1]

    def run(self) -> None:
        with psycopg.connect(libpq(self.url), autocommit=True) as db:
            while not self.stop.wait(self.every):
                seq = len(self.committed) + 1
                db.execute(INSERT, (DAY_OBS * 100_000 + seq, f"AT_O_{DAY_OBS}_{seq:06d}", DAY_OBS, seq))
                self.committed.append(time.time())


class Watcher(threading.Thread):
    """Asks usdf-prod every 10 ms for the highest seq_num it has, noting when."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, self.stop = url, threading.Event()
        self.seen: list[tuple[float, int]] = []

    def run(self) -> None:
        with psycopg.connect(libpq(self.url), autocommit=True) as db:
            while not self.stop.wait(0.01):
                row = db.execute(REPLICATED).fetchone()
                assert row is not None
                self.seen.append((time.time(), row[0]))


def wait_until(what: str, done: Callable[[], bool], seconds: float = 120) -> None:
    """Until ``done()`` holds, asked every 50 ms; fails after ``seconds``."""
    deadline, pause = time.monotonic() + seconds, threading.Event()
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {seconds:.0f} s")
        pause.wait(0.05)


def prepare(folder: Path, summit: PrivatePostgres, usdf: PrivatePostgres) -> Path:
    """Both databases at latiss's first revision, one behind the bundled head (which adds four indexes),
    as the sandbox starts them, and replicating; the rollout's configuration."""
    summit_url, usdf_url = summit.create_database("summit"), usdf.create_database("usdf_prod")
    config = folder / "consdb-bot.yaml"
    config.write_text(
        f"state_url: sqlite:///{folder / 'state.sqlite3'}\n"
        "schemas: [latiss]\n"
        "environments:\n"
        f"  summit: {{database_url: '{summit_url}'}}\n"
        f"  usdf-prod:\n    database_url: '{usdf_url}'\n"
        f"    replica: {{of: summit, subscription: {SUBSCRIPTION}, publication: {PUBLICATION}}}\n"
    )
    settings = load_settings(config, environ={})
    engine = Engine(settings)
    for place in ("summit", "usdf-prod"):
        result = engine.change(settings.environment(place), ["latiss"], direction=Direction.UPGRADE, to=OLDER["latiss"],
                               actor="benchmarks/rollout.py")  # fmt: skip
        assert result.ok, result
    replicate(summit, summit_url, usdf_url)
    ready = (
        "SELECT bool_and(r.srsubstate = 'r') FROM pg_subscription_rel r"
        " JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = %s"
    )
    with psycopg.connect(libpq(usdf_url), autocommit=True) as db:
        wait_until("the first copy of every table", lambda: db.execute(ready, (SUBSCRIPTION,)).fetchone() == (True,))
        wait_until("the apply worker to be settled", lambda: db.execute(SETTLED, (SUBSCRIPTION,)).fetchone() == (True,))
    return config


def one_round(every: float) -> Round:
    with (
        tempfile.TemporaryDirectory() as folder,
        PrivatePostgres(publisher_settings()) as summit,
        PrivatePostgres(subscriber_settings()) as usdf,
    ):
        config = prepare(Path(folder), summit, usdf)
        writer, watcher = Writer(summit.url("summit"), every), Watcher(usdf.url("usdf_prod"))
        writer.start()
        watcher.start()
        threading.Event().wait(MARGIN_SECONDS)
        command = [CONSDB_BOT, "rollout", "latiss", "--ticket", "OSW-123", "--yes", "--json", "--config", str(config)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the rollout failed:\n{done.stdout}{done.stderr}")
        threading.Event().wait(MARGIN_SECONDS)
        writer.stop.set()
        writer.join()
        written = len(writer.committed)
        wait_until("usdf-prod to have every row", lambda: bool(watcher.seen) and watcher.seen[-1][1] == written)
        watcher.stop.set()
        watcher.join()
        return measured(config, json.loads(done.stdout), writer, watcher)


def measured(config: Path, rollout: dict[str, Any], writer: Writer, watcher: Watcher) -> Round:
    """The round's figures: the pause from the bot's audit, the migrations from the rollout's answer
    (``--json``), the rows from usdf-prod itself."""
    steps = {step["step"]: step["seconds"] for step in rollout["steps"]}
    settings = load_settings(config, environ={})
    audit = state_store(settings, clock=now).audit_trail(environment="usdf-prod")
    at = {record.action: aware(record.at).timestamp() for record in audit}
    disabled, enabled = at[SUBSCRIPTION_DISABLED], at[SUBSCRIPTION_ENABLED]
    before_enable = sum(1 for committed in writer.committed if committed < enabled)
    arrived = next(when for when, seq in watcher.seen if when > enabled and seq >= before_enable)
    with psycopg.connect(libpq(watcher.url), autocommit=True) as db:
        _, replicated, distinct = db.execute(REPLICATED).fetchone() or (0, 0, 0)
        errors = "SELECT apply_error_count FROM pg_stat_subscription_stats WHERE subname = %s"
        (apply_errors,) = db.execute(errors, (SUBSCRIPTION,)).fetchone() or (None,)
    return Round(
        pause=enabled - disabled,
        summit_migration=steps[RolloutStep.SUMMIT_MIGRATED],
        summit_upgrade=rollout["summit_change"]["outcomes"][0]["seconds"],
        replica_migration=steps[RolloutStep.REPLICAS_MIGRATED],
        replica_upgrade=rollout["replica_changes"]["usdf-prod"]["outcomes"][0]["seconds"],
        rest=enabled - disabled - steps[RolloutStep.SUMMIT_MIGRATED] - steps[RolloutStep.REPLICAS_MIGRATED],
        written=len(writer.committed),
        during_pause=sum(1 for committed in writer.committed if disabled <= committed < enabled),
        replicated=replicated,
        distinct=distinct,
        apply_errors=apply_errors,
        lag=arrived - enabled,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--every", type=float, default=10, help="ms between the writer's rows")
    arguments = parser.parse_args()
    print("| round | pause | Summit migrated (Alembic) | replica migrated (Alembic) | rest of the pause"
          " | rows written (in the pause) | at usdf-prod (distinct) | apply errors | lag after enable |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    rounds = []
    for number in range(1, arguments.rounds + 1):
        r = one_round(arguments.every / 1000)
        rounds.append(r)
        print(
            f"| {number} | {times(r)} | {r.written} ({r.during_pause}) | {r.replicated} ({r.distinct})"
            f" | {r.apply_errors} | {r.lag * 1000:.0f} ms |"
        )
    middle = Round(**{f.name: statistics.median(getattr(r, f.name) for r in rounds) for f in fields(Round)})
    same = all(r.written == r.replicated == r.distinct and r.apply_errors == 0 for r in rounds)
    rows = "the same in every round, none twice" if same else "NOT the same in every round"
    print(f"| median | {times(middle)} | {rows} | | | {middle.lag * 1000:.0f} ms |")


def times(r: Round) -> str:
    """The pause, each migration with Alembic's own part, and the rest of the pause."""
    return (
        f"{r.pause:.2f} s | {r.summit_migration:.2f} s ({r.summit_upgrade:.2f} s)"
        f" | {r.replica_migration:.2f} s ({r.replica_upgrade:.2f} s) | {r.rest:.2f} s"
    )


if __name__ == "__main__":
    main()
