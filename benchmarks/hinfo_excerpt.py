"""An hinfo excerpt from a pod whose log holds 1,000,000 lines: time and memory of the bot.

The Kubernetes stand-in of the tests makes the pod log on demand; the bot asks for the tail only,
so neither time nor memory should grow with the log.

Measured two ways, for a 10-line log and a 1,000,000-line one: the excerpt inside a running bot
(the Slack path), and ``consdb-bot logs`` as a new process, start-up included.

Usage: ``.venv/bin/python benchmarks/hinfo_excerpt.py [--lines 1000000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bot.clients.kube import Cluster
from bot.config import parse_settings
from bot.sandbox.standins.kubernetes import Deployment, FakeKube, PodLog

CONSDB_BOT = str(Path(sys.executable).parent / "consdb-bot")


def hinfo_line(index: int) -> str:
    if index % 97 == 0:
        return f"2026-11-21T03:{index % 60:02d}:00Z WARNING hinfo: Unable to process column dimm_seeing ({index})"
    return (
        f"2026-11-21T03:{index % 60:02d}:00Z INFO hinfo: Committed to exposure and ccdexposure table"
        f" for day_obs=20261121 seq_num={index}"
    )


def in_the_bot(kube: FakeKube, folder: Path) -> tuple[float, float]:
    """The excerpt in a running bot process: seconds, and megabytes allocated while it ran."""
    os.environ["KUBECONFIG"] = str(kube.kubeconfig(folder / "kubeconfig", ["base"]))
    settings = parse_settings(CONFIG, environ={})
    cluster = Cluster(settings.environment("bts"), settings.kubernetes)
    cluster.excerpt("consdb-hinfo-latiss", since_seconds=900, lines=200)
    tracemalloc.start()
    began = time.perf_counter()
    cluster.excerpt("consdb-hinfo-latiss", since_seconds=900, lines=200)
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak


def new_process(kube: FakeKube, folder: Path) -> tuple[float, float]:
    """``consdb-bot logs hinfo latiss bts`` as a new process: seconds, and its peak resident memory."""
    config = folder / "consdb-bot.yaml"
    config.write_text(f"state_url: sqlite:///{folder}/state.sqlite3\n" + CONFIG)
    environ = {**os.environ, "KUBECONFIG": str(kube.kubeconfig(folder / "kubeconfig", ["base"]))}
    command = [
        sys.executable,
        "-c",
        PEAK_OF_CHILD,
        CONSDB_BOT,
        "logs",
        "hinfo",
        "latiss",
        "bts",
        "--config",
        str(config),
    ]
    began = time.perf_counter()
    done = subprocess.run(command, env=environ, capture_output=True, text=True, check=True)
    return time.perf_counter() - began, float(done.stdout.strip().splitlines()[-1])


PEAK_OF_CHILD = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True);"
    " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)
CONFIG = (
    "schemas: [latiss]\nenvironments:\n  bts:\n"
    "    kubernetes: {context: base, namespace: consdb}\n    hinfo: {latiss: consdb-hinfo-latiss}\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    print("| log of the pod | excerpt in the running bot | allocated meanwhile |"
          " `consdb-bot logs` as a new process | its peak memory |")  # fmt: skip
    print("|---|---|---|---|---|")
    for lines in (10, arguments.lines):
        now = time.time()
        with FakeKube() as kube, tempfile.TemporaryDirectory() as folder:
            log = PodLog(lines, hinfo_line, lambda index, lines=lines, now=now: now - lines + index)
            kube.add(Deployment("consdb-hinfo-latiss", replicas=1, logs=log))
            inside = [in_the_bot(kube, Path(folder)) for _ in range(arguments.rounds)]
            outside = [new_process(kube, Path(folder)) for _ in range(arguments.rounds)]
        print(
            f"| {lines:,} lines | {statistics.median(s for s, _ in inside) * 1000:.0f} ms"
            f" | {max(m for _, m in inside):.1f} MB | {statistics.median(s for s, _ in outside):.2f} s"
            f" | {max(m for _, m in outside):.0f} MB |"
        )


if __name__ == "__main__":
    main()
