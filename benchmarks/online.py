"""The writer's stall during a schema migration: consdb-bot against plain Alembic, on the same tree and data.

cdb_lsstcam is brought to dbd7607b3634 (the bundled tree's first lsstcam revision) and filled: ``--rows``
rows in ``ccdexposure`` and ``ccdexposure_camera`` (200 per exposure, as LSSTCam has), keys and NOT NULL
columns only, by ``INSERT ... SELECT`` over ``generate_series`` with the foreign-key triggers off
(``session_replication_role = replica``; the rows are consistent by construction), then frozen and
analysed. That database is the template of every round's copy (a second one, brought to the bundled head,
for the cases on top of it); both are dropped at the end.

Each case is one migration of a fresh copy, run by ``consdb-bot upgrade bench lsstcam --yes`` (a new
process) and by ``alembic -n lsstcam upgrade head`` (CONSDB_URL set, as the tree's env.py reads it), on a
copy of the bundled tree holding the case's revision on top of the bundled head:

- ``indexes``: the bundled upgrade, dbd7607b3634 to the head (four indexes, one on ccdexposure_camera);
- ``default``: a NOT NULL column with a server default added to ccdexposure_camera;
- ``foreign-key``: a new foreign key, ccdexposure_camera (day_obs, seq_num) to exposure;
- ``rename``: a column of ccdexposure_camera renamed;
- ``long-reader``: a column added to exposure (visit1 dropped and made again, as upstream does) while a
  reader holds ACCESS SHARE on exposure: a transaction that read it, then sleeps ``--reader-seconds`` (30, an
  analyst's query: longer than the bot takes to reach its ``ALTER TABLE``, so that what happens does not hang
  on how soon it does). The bot's ``lock_timeout`` is its default unless ``--lock-timeout`` says otherwise.

A writer (its own connection, autocommit) inserts one exposure, one ccdexposure row and one
ccdexposure_camera row every 10 ms, as hinfo does, from a second before the migration until a second
after, timing each insert. Reported per case and tool (median of the rounds): the inserts' p50, p99 and
max latency, the rows written, the migration's wall time (its process's start included) and whether it
brought the schema to the case's revision.

Usage: ``.venv/bin/python benchmarks/online.py [--rounds 3] [--rows N | --big] [--cases indexes,rename]``;
it prints a Markdown table. It needs the PostgreSQL server the tests use (``CONSDB_BOT_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchmarks.databases import SERVER, databases, percentile, url_of

REPO = Path(__file__).resolve().parents[1]
CONSDB_BOT = str(Path(sys.executable).parent / "consdb-bot")
SCHEMA = "cdb_lsstcam"
FIRST, HEAD = "dbd7607b3634", "e72a1ea985e6"
DETECTORS = 200
"""ccdexposure rows per exposure: LSSTCam's 189 science, 8 wavefront and 8 guider sensors, about."""
EXPOSURES_PER_NIGHT = 1000
WRITER_DAY_OBS = 20991231
"""The writer's night, after every filled one."""
MARGIN_SECONDS = 1.0
"""How long the writer writes before the migration starts and after it ends."""
EVERY_SECONDS = 0.01
CASE_SECONDS = 1800
"""A migration still running after this long is killed: the benchmark always ends."""


def fill_statements(rows: int) -> list[str]:
    """The exposures of ``rows`` ccdexposure rows (1000 a night from 2025-01-01), those rows, and as many
    ccdexposure_camera rows; ids as LSSTCam's (day_obs * 100000 + seq_num, that * 1000 + detector)."""
    night = f"to_char(date '2025-01-01' + i / {EXPOSURES_PER_NIGHT}, 'YYYYMMDD')::int"
    exposures = f"""SELECT {night} AS day_obs, i % {EXPOSURES_PER_NIGHT} + 1 AS seq_num, k AS detector
        FROM generate_series(0, {rows - 1}) AS j, LATERAL (SELECT j / {DETECTORS} AS i, j % {DETECTORS} AS k) AS n"""
    return [
        f"""INSERT INTO {SCHEMA}.exposure (exposure_id, exposure_name, controller, day_obs, seq_num)
        SELECT day_obs::bigint * 100000 + seq_num, format('MC_O_%s_%s', day_obs, lpad(seq_num::text, 6, '0')), 'O',
               day_obs, seq_num
        FROM ({exposures}) AS e WHERE detector = 0""",
        f"""INSERT INTO {SCHEMA}.ccdexposure (ccdexposure_id, exposure_id, day_obs, seq_num, detector)
        SELECT (day_obs::bigint * 100000 + seq_num) * 1000 + detector, day_obs::bigint * 100000 + seq_num,
               day_obs, seq_num, detector
        FROM ({exposures}) AS e""",
        f"""INSERT INTO {SCHEMA}.ccdexposure_camera (day_obs, seq_num, detector, ccdexposure_id)
        SELECT day_obs, seq_num, detector, ccdexposure_id FROM {SCHEMA}.ccdexposure""",
    ]


WRITES = [
    f"INSERT INTO {SCHEMA}.exposure (exposure_id, exposure_name, controller, day_obs, seq_num)"
    " VALUES (%(exposure_id)s, %(name)s, 'O', %(day_obs)s, %(seq_num)s)",
    f"INSERT INTO {SCHEMA}.ccdexposure (ccdexposure_id, exposure_id, day_obs, seq_num, detector)"
    " VALUES (%(ccdexposure_id)s, %(exposure_id)s, %(day_obs)s, %(seq_num)s, 0)",
    f"INSERT INTO {SCHEMA}.ccdexposure_camera (day_obs, seq_num, detector, ccdexposure_id)"
    " VALUES (%(day_obs)s, %(seq_num)s, 0, %(ccdexposure_id)s)",
]

REVISION_FILE = '''"""{label}

Revision ID: {revision}
Revises: {head}
Create Date: 2026-11-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cdb_views import create_views, drop_views, view_definition

revision: str = "{revision}"
down_revision: str | Sequence[str] | None = "{head}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "{schema}"
EXPOSURE_COLUMNS = {exposure_columns!r}


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    revision: str | None = None
    """The case's own revision on top of the bundled head; none: the bundled upgrade itself."""
    upgrade: str = ""
    downgrade: str = ""
    reader: bool = False

    @property
    def target(self) -> str:
        return self.revision or HEAD

    @property
    def start(self) -> str:
        return FIRST if self.revision is None else HEAD


CASES = [
    Case("indexes", "four indexes (the bundled upgrade)"),
    Case(
        "default",
        "a NOT NULL column with a default, ccdexposure_camera",
        "b0e1c0000002",
        'op.add_column("ccdexposure_camera", sa.Column("bench_gain", sa.Double(), server_default=sa.text("1.0"),'
        " nullable=False), schema=SCHEMA)",
        'op.drop_column("ccdexposure_camera", "bench_gain", schema=SCHEMA)',
    ),
    Case(
        "foreign-key",
        "a foreign key, ccdexposure_camera → exposure",
        "b0e1c0000003",
        'op.create_foreign_key("fk_ccdexposure_camera_exposure_ds", "ccdexposure_camera", "exposure",'
        ' ["day_obs", "seq_num"], ["day_obs", "seq_num"], source_schema=SCHEMA, referent_schema=SCHEMA)',
        'op.drop_constraint("fk_ccdexposure_camera_exposure_ds", "ccdexposure_camera", schema=SCHEMA,'
        ' type_="foreignkey")',
    ),
    Case(
        "rename",
        "a column of ccdexposure_camera renamed",
        "b0e1c0000004",
        'op.alter_column("ccdexposure_camera", "ccd_temp", new_column_name="ccd_temperature", schema=SCHEMA)',
        'op.alter_column("ccdexposure_camera", "ccd_temperature", new_column_name="ccd_temp", schema=SCHEMA)',
    ),
    Case(
        "long-reader",
        "a column added to exposure, behind a reader of it",
        "b0e1c0000005",
        'drop_views(SCHEMA, ["visit1"])\n'
        '    op.add_column("exposure", sa.Column("bench_seeing", sa.Double()), schema=SCHEMA)\n'
        '    create_views(SCHEMA, {"visit1": view_definition(SCHEMA, "visit1", [*EXPOSURE_COLUMNS, "bench_seeing"])})',
        'drop_views(SCHEMA, ["visit1"])\n'
        '    op.drop_column("exposure", "bench_seeing", schema=SCHEMA)\n'
        '    create_views(SCHEMA, {"visit1": view_definition(SCHEMA, "visit1", EXPOSURE_COLUMNS)})',
        reader=True,
    ),
]
TOOLS = ["consdb-bot", "alembic"]


@dataclass(frozen=True)
class Result:
    p50: float
    p99: float
    max: float
    rows: int
    wall: float
    outcome: str


class Writer(threading.Thread):
    """Inserts an exposure, a ccdexposure row and a ccdexposure_camera row every 10 ms, timing each insert."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.latencies: list[float] = []
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as db:
                seq_num = 0
                while not self.stop.wait(EVERY_SECONDS):
                    seq_num += 1
                    exposure_id = WRITER_DAY_OBS * 100_000 + seq_num
                    values = {
                        "exposure_id": exposure_id,
                        "ccdexposure_id": exposure_id * 1000,
                        "name": f"MC_O_{WRITER_DAY_OBS}_{seq_num:06d}",
                        "day_obs": WRITER_DAY_OBS,
                        "seq_num": seq_num,
                    }
                    for statement in WRITES:
                        began = time.perf_counter()
                        db.execute(statement, values)
                        self.latencies.append(time.perf_counter() - began)
        except psycopg.Error as error:
            self.error = error


class Reader(threading.Thread):
    """An analyst's long query: a transaction that read exposure (so holds ACCESS SHARE on it), open ``seconds``."""

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.url, self.seconds, self.holding = url, seconds, threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url) as db:
            db.execute(f"SELECT count(*) FROM {SCHEMA}.exposure").fetchone()
            self.holding.set()
            db.execute("SELECT pg_sleep(%s)", (self.seconds,))


def alembic_command(ini: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "alembic", "-c", str(ini), "-n", "lsstcam", *args]


def run_checked(command: list[str], **environment: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, **environment})
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def vacuum(database: str) -> None:
    """Frozen and analysed, so that no round's copy pays for hint bits, visibility or statistics."""
    with psycopg.connect(url_of(database), autocommit=True) as db:
        db.execute(f"VACUUM (FREEZE, ANALYZE) {SCHEMA}.exposure, {SCHEMA}.ccdexposure, {SCHEMA}.ccdexposure_camera")


def fill(database: str, rows: int) -> None:
    """``rows`` ccdexposure and ccdexposure_camera rows, and their exposures, in one transaction."""
    with psycopg.connect(url_of(database)) as db:
        db.execute("SET LOCAL session_replication_role = replica")
        for statement in fill_statements(rows):
            db.execute(statement)
    vacuum(database)


@contextmanager
def templates(base_ini: Path, rows: int, starts: set[str]) -> Iterator[dict[str, str]]:
    """The filled database at each revision in ``starts`` (FIRST, HEAD), dropped afterwards."""
    with ExitStack() as stack:
        (filled,) = stack.enter_context(databases(1))
        run_checked(alembic_command(base_ini, "upgrade", FIRST), CONSDB_URL=url_of(filled))
        began = time.perf_counter()
        fill(filled, rows)
        print(f"filled {rows:,} rows in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        made = {FIRST: filled}
        if HEAD in starts:
            (at_head,) = stack.enter_context(databases(1, template=filled, file_copy=True))
            run_checked(alembic_command(base_ini, "upgrade", HEAD), CONSDB_URL=url_of(at_head))
            vacuum(at_head)
            made[HEAD] = at_head
        yield made


def exposure_columns(database: str) -> list[str]:
    with psycopg.connect(url_of(database)) as db:
        rows = db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'exposure'"
            " ORDER BY ordinal_position",
            (SCHEMA,),
        ).fetchall()
    return [name for (name,) in rows]


def tree_for(folder: Path, case: Case, columns: list[str]) -> Path:
    """A copy of the bundled tree with the case's revision on top of the head; its alembic.ini."""
    tree = folder / f"tree-{case.key}"
    shutil.copytree(REPO / "migrations", tree, ignore=shutil.ignore_patterns("__pycache__"))
    if case.revision is not None:
        text = REVISION_FILE.format(
            label=case.label,
            revision=case.revision,
            head=HEAD,
            schema=SCHEMA,
            exposure_columns=columns,
            upgrade=f"    {case.upgrade}",
            downgrade=f"    {case.downgrade}",
        )
        (tree / "versions" / "lsstcam" / f"{case.revision}_bench_{case.key.replace('-', '_')}.py").write_text(text)
    return tree / "alembic.ini"


def command_for(
    tool: str, folder: Path, ini: Path, database: str, lock_timeout: str | None
) -> tuple[list[str], dict[str, str]]:
    """The migration's command and its environment; the bot's ``lock_timeout`` its default unless given."""
    if tool == "alembic":
        return alembic_command(ini, "upgrade", "head"), {"CONSDB_URL": url_of(database)}
    config = folder / "consdb-bot.yaml"
    locks = f", lock_timeout: '{lock_timeout}'" if lock_timeout else ""
    config.write_text(
        f"state_url: sqlite:///{folder / 'state.sqlite3'}\n"
        f"migrations: {{alembic_ini: '{ini}'{locks}}}\n"
        "schemas: [lsstcam]\n"
        f"environments:\n  bench: {{database_url: '{url_of(database)}'}}\n"
    )
    return [CONSDB_BOT, "upgrade", "bench", "lsstcam", "--yes", "--config", str(config)], {}


def migrate(command: list[str], environment: dict[str, str]) -> tuple[float, int, str]:
    """The command's wall time, exit code and output; killed (its process group) after CASE_SECONDS."""
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **environment},
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=CASE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output += f"\nkilled after {CASE_SECONDS} s"
    return time.perf_counter() - began, process.returncode, output


def outcome(database: str, case: Case, code: int, output: str) -> str:
    """Whether the schema reached the case's revision, and if not the migration's last words."""
    with psycopg.connect(url_of(database)) as db:
        row = db.execute(f"SELECT version_num FROM cdb.{SCHEMA}_version").fetchone()
    if row == (case.target,) and code == 0:
        return "done"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1] if lines else "")
    return f"not done (exit {code}): {said.rsplit(': ', 1)[-1][:120]}"


def one_run(
    folder: Path, case: Case, tool: str, ini: Path, template: str, reader_seconds: float, lock_timeout: str | None
) -> Result:
    with databases(1, template=template, file_copy=True) as (database,):
        with psycopg.connect(SERVER, autocommit=True) as server:
            server.execute("CHECKPOINT")
        command, environment = command_for(tool, folder, ini, database, lock_timeout)
        writer = Writer(url_of(database))
        reader = Reader(url_of(database), reader_seconds) if case.reader else None
        writer.start()
        if reader is not None:
            reader.start()
            reader.holding.wait(30)
        threading.Event().wait(MARGIN_SECONDS)
        wall, code, output = migrate(command, environment)
        threading.Event().wait(MARGIN_SECONDS)
        writer.stop.set()
        writer.join(CASE_SECONDS)
        if reader is not None:
            reader.join(reader_seconds + CASE_SECONDS)
        if writer.error is not None:
            raise SystemExit(f"{case.key}, {tool}: the writer failed: {writer.error}")
        ordered = sorted(writer.latencies)
        return Result(
            p50=percentile(ordered, 0.5) * 1000,
            p99=percentile(ordered, 0.99) * 1000,
            max=ordered[-1] * 1000,
            rows=len(ordered),
            wall=wall,
            outcome=outcome(database, case, code, output),
        )


def median(results: list[Result]) -> Result:
    """Each figure's median over the rounds; the outcomes as they were (with their counts if they differ)."""
    outcomes = Counter(result.outcome for result in results)
    said = (
        next(iter(outcomes))
        if len(outcomes) == 1
        else "; ".join(f"{o} ({n} of {len(results)})" for o, n in outcomes.items())
    )
    return Result(
        p50=statistics.median(r.p50 for r in results),
        p99=statistics.median(r.p99 for r in results),
        max=statistics.median(r.max for r in results),
        rows=int(statistics.median(r.rows for r in results)),
        wall=statistics.median(r.wall for r in results),
        outcome=said,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--rows", type=int, default=3_000_000, help="rows in ccdexposure_camera")
    size.add_argument("--big", action="store_true", help="30,000,000 rows")
    parser.add_argument("--cases", default=",".join(case.key for case in CASES), help="comma-separated")
    parser.add_argument("--reader-seconds", type=float, default=30, help="how long the long reader holds exposure")
    parser.add_argument("--lock-timeout", help="the bot's migrations.lock_timeout (default: the bot's own, 40ms)")
    arguments = parser.parse_args()
    rows = 30_000_000 if arguments.big else arguments.rows
    known = {case.key: case for case in CASES}
    unknown = set(arguments.cases.split(",")) - set(known)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; known: {', '.join(known)}")
    cases = [case for case in CASES if case.key in arguments.cases.split(",")]
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as name,
        templates(REPO / "migrations" / "alembic.ini", rows, {case.start for case in cases}) as made,
    ):
        folder = Path(name)
        columns = exposure_columns(made[FIRST])
        table = []
        for case in cases:
            ini = tree_for(folder, case, columns)
            results: dict[str, list[Result]] = {tool: [] for tool in TOOLS}
            for _ in range(arguments.rounds):
                for tool in TOOLS:
                    result = one_run(
                        folder, case, tool, ini, made[case.start], arguments.reader_seconds, arguments.lock_timeout
                    )
                    print(f"{case.key}, {tool}: {result}", file=sys.stderr)
                    results[tool].append(result)
            table += [(case, tool, median(results[tool])) for tool in TOOLS]
    exposures = -(-rows // DETECTORS)
    print(
        f"{rows:,} rows in ccdexposure and ccdexposure_camera ({exposures:,} exposures),"
        f" median of {arguments.rounds} rounds; the writer's inserts, every {EVERY_SECONDS * 1000:.0f} ms:\n"
    )
    print("| case | tool | p50 | p99 | max | rows written | migration | outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for case, tool, r in table:
        print(
            f"| {case.label} | {tool} | {r.p50:.1f} ms | {r.p99:.1f} ms | {r.max:,.0f} ms | {r.rows:,}"
            f" | {r.wall:.1f} s | {r.outcome.replace('|', '/')} |"
        )
    print(f"\ntook {time.perf_counter() - began:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
