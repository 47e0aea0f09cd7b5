"""pqserver restarts and hinfo excerpts from the terminal, through the official Kubernetes client and a
kubeconfig, against the Kubernetes API stand-in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clients.deployments import Deployments
from bot.config import load_settings
from bot.sandbox.standins.hinfo import AT_COMMITTED, AT_CONSUMER, AT_EXCEPTION, AT_MESSAGE, log_line
from bot.sandbox.standins.kubernetes import Deployment, FakeKube, PodLog
from tests.conftest import write_config
from tests.support.helm import objects

WROTE = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
HEADER = "ATHeaderService_header_AT_O_20261121_{:06d}.yaml".format
HINFO_LINES = [
    log_line(WROTE, AT_CONSUMER, "Consumer started"),
    log_line(WROTE, AT_COMMITTED, f"Committed to exposure and ccdexposure table: {HEADER(41)} (20261121/41)"),
    log_line(WROTE, 642, f"Unable to process column: dimm_seeing (resource=s3://{HEADER(42)})", level="ERROR"),
    log_line(WROTE, AT_COMMITTED, f"Committed to exposure and ccdexposure table: {HEADER(42)} (20261121/42)"),
    log_line(WROTE, AT_EXCEPTION, f"Exception while handling s3://{HEADER(43)}", level="ERROR"),
    log_line(WROTE, AT_MESSAGE, f"Received Kafka message for resource: s3://{HEADER(44)}"),
]
"""hinfo's lines as upstream's logs them (``lsst.consdb.utils.setup_logging``'s format)."""


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    with FakeKube() as fake:
        fake.add(Deployment("consdb-pq"))
        now = time.time()
        fake.add(Deployment("consdb-hinfo-latiss", replicas=1,
                            logs=PodLog(len(HINFO_LINES), HINFO_LINES.__getitem__, lambda i: now - 60 + i)))  # fmt: skip
        monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kubeconfig", ["base", "summit"])))
        yield fake


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BTS_DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    extra = (
        "    kubernetes: {context: base, namespace: consdb}\n"
        "    pqserver: consdb-pq\n"
        "    hinfo: {latiss: consdb-hinfo-latiss, lsstcam: consdb-hinfo-lsstcam}\n"
        "kubernetes: {poll_seconds: 0.01, rollout_timeout_seconds: 30}\n"
    )
    path = write_config(tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss"])
    path.write_text(path.read_text() + extra)
    return path


def test_restart_rolls_the_deployment_like_kubectl_and_waits_for_it(consdb_bot, kube, config):
    result = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert result.code == 0, result.text
    assert kube.state.deployments["consdb-pq"].restarted_at is not None
    lines = [line.strip().partition("] ")[2] for line in result.out.splitlines() if line.strip().startswith("[")]
    assert lines[:3] == [
        "0 of 2 new replicas have been updated",
        "1 of 2 new replicas have been updated",
        "1 old replicas are pending termination",
    ]
    assert "consdb-pq in consdb: restarted in" in result.out
    audit = consdb_bot("audit", "--config", str(config)).out  # a request like Slack's, approved with --yes
    assert "consdb-bot: #1 restart succeeded" in audit
    assert "approve given on #1 with --yes in the terminal" in audit


def test_a_rollout_that_never_becomes_ready_fails_with_events_and_log_tails(consdb_bot, kube, config):
    kube.state.deployments["consdb-pq"].stuck = True
    result = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert result.code == 1
    assert "FAILED to restart" in result.out
    assert "exceeded its progress deadline" in result.out
    assert "Warning BackOff Pod/consdb-pq-2-1: Back-off restarting failed container" in result.out
    assert "last lines of consdb-pq-2-1:" in result.out


def test_a_paused_deployment_is_refused(consdb_bot, kube, config):
    kube.state.deployments["consdb-pq"].paused = True
    result = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert result.code == 1
    assert "is paused" in result.err
    assert "kubectl rollout resume deployment/consdb-pq -n consdb" in result.err


@pytest.mark.parametrize(
    ("arrange", "says"),
    [
        (lambda kube: kube.state.forbidden.add(("patch", "deployments")),
         "the bot may not patch deployments in consdb at bts (403"),
        (lambda kube: kube.state.deployments.pop("consdb-pq"), "no deployment named consdb-pq in namespace consdb at bts"),
        (lambda kube: setattr(kube.state, "failing", 5), "answered 500 to get deployments: etcdserver: request timed out"),
    ],
)  # fmt: skip
def test_kubernetes_refusals_say_what_to_do(consdb_bot, kube, config, arrange, says):
    arrange(kube)
    result = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert result.code == 1
    assert says in result.err


def test_bad_credentials_are_named(consdb_bot, kube, config, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig(tmp_path / "wrong", ["base"], token="expired")))
    result = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert result.code == 1
    assert "did not accept the bot's credentials (401)" in result.err


def test_restart_needs_yes(consdb_bot, kube, config):
    result = consdb_bot("restart", "pqserver", "bts", "--config", str(config))
    assert result.code == 1
    assert "nothing was restarted" in result.err
    assert kube.state.deployments["consdb-pq"].restarted_at is None


def test_hinfo_excerpt_puts_problems_first_and_counts_committed_exposures(consdb_bot, kube, config):
    result = consdb_bot("logs", "hinfo", "latiss", "bts", "--config", str(config))
    assert result.code == 0, result.text
    out = result.out
    assert out.index("2 error or warning lines") < out.index("2 exposures committed")
    assert "the last 20261121/42 (day_obs/seq_num)" in out
    assert "Unable to process column: dimm_seeing" in out
    log_requests = [path for method, path in kube.state.requests if path.endswith("/log")]
    assert log_requests == ["/api/v1/namespaces/consdb/pods/consdb-hinfo-latiss-1-0/log"]


def test_a_committed_line_without_its_day_obs_seq_num_ending_is_read_from_its_header_file(consdb_bot, kube, config):
    """Upstream's line ends with (day_obs/seq_num); one that does not still names its header file."""
    now = time.time()
    lines = [
        log_line(WROTE, AT_COMMITTED, f"Committed to exposure and ccdexposure table: {HEADER(7)} (20261121/7)"),
        log_line(WROTE, AT_COMMITTED, f"Committed to exposure and ccdexposure table: {HEADER(8)}"),
    ]
    kube.add(Deployment("consdb-hinfo-lsstcam", replicas=1, logs=PodLog(2, lines.__getitem__, lambda i: now - 9 + i)))
    out = consdb_bot("logs", "hinfo", "lsstcam", "bts", "--config", str(config)).out
    assert "2 exposures committed to exposure and ccdexposure, the last 20261121/8 (day_obs/seq_num)" in out


def test_a_deployment_whose_name_begins_with_anothers_is_read_as_itself(consdb_bot, kube, config):
    now = time.time()
    lines = [log_line(WROTE, AT_COMMITTED, f"Committed to exposure and ccdexposure table: {HEADER(9)} (20261121/9)")]
    kube.add(Deployment("consdb-hinfo-latiss-summit", replicas=1, logs=PodLog(1, lines.__getitem__, lambda i: now)))
    config.write_text(
        config.read_text().replace("lsstcam: consdb-hinfo-lsstcam", "lsstcam: consdb-hinfo-latiss-summit")
    )
    out = consdb_bot("logs", "hinfo", "lsstcam", "bts", "--config", str(config)).out
    assert "1 exposure committed to exposure and ccdexposure, the last 20261121/9" in out


def test_excerpt_reads_only_the_tail_asked_for(consdb_bot, kube, config):
    result = consdb_bot("logs", "hinfo", "latiss", "bts", "--lines", "2", "--config", str(config))
    assert "0 exposures committed" in result.out
    assert (
        f"ERROR 2026-11-21 14:00:00,000 consdb.hinfo (hinfo.py:913) - Exception while handling s3://{HEADER(43)}"
        in (result.out)
    )
    grep = consdb_bot("logs", "hinfo", "latiss", "bts", "--grep", "ERROR", "--config", str(config))
    assert "2 exposures committed to exposure and ccdexposure, the last 20261121/42" in grep.out
    assert f"last lines:\n  {HINFO_LINES[2]}\n  {HINFO_LINES[4]}\n" in grep.out


def test_unknown_instrument_lists_the_known_ones(consdb_bot, kube, config):
    result = consdb_bot("logs", "hinfo", "startrackerwide", "bts", "--config", str(config))
    assert result.code == 2
    assert "instruments with hinfo at bts: latiss, lsstcam" in result.err


def test_the_role_of_the_chart_grants_all_the_bot_needs(consdb_bot, kube, config):
    role = objects("base")["Role"]
    kube.state.allowed = {(verb, resource) for rule in role["rules"] for resource in rule["resources"]
                          for verb in rule["verbs"]}  # fmt: skip
    assert consdb_bot("logs", "hinfo", "latiss", "bts", "--config", str(config)).code == 0
    assert consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config)).code == 0
    kube.state.deployments["consdb-pq"].stuck = True
    stuck = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert "Warning BackOff" in stuck.out
    assert "403" not in stuck.text


def test_a_slow_api_server_is_given_up_on_at_the_configured_timeout(consdb_bot, kube, config):
    config.write_text(
        config.read_text().replace(
            "kubernetes: {poll_seconds: 0.01", "kubernetes: {request_timeout_seconds: 0.3, poll_seconds: 0.01"
        )
    )
    kube.state.held = threading.Event()
    try:
        result = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    finally:
        kube.state.held.set()
    assert result.code == 1
    assert "the Kubernetes API of bts did not answer" in result.err
    assert "try again" in result.err


def test_deployments_sharing_a_selector_keep_their_own_pods_and_events(consdb_bot, kube, config):
    shared = {"app.kubernetes.io/name": "consdb"}
    kube.state.deployments["consdb-pq"].labels = shared
    kube.state.deployments["consdb-hinfo-latiss"].labels = shared
    kube.add(Deployment("consdb-pq-worker", labels=shared, crashing=True))
    kube.state.deployments["consdb-pq"].stuck = True
    logs = consdb_bot("logs", "hinfo", "latiss", "bts", "--config", str(config))
    assert logs.code == 0, logs.text
    assert "(consdb-hinfo-latiss-1-0)" in logs.out
    restart = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert "Pod/consdb-pq-2-1: Back-off" in restart.out
    assert "consdb-pq-worker" not in restart.out


def test_several_pods_are_merged_in_the_order_they_wrote(consdb_bot, kube, config):
    now = time.time()
    lines = [
        log_line(WROTE, AT_COMMITTED, f"Committed to exposure and ccdexposure table: {HEADER(i)} (20261121/{i})")
        for i in range(6)
    ]
    kube.add(Deployment("consdb-hinfo-lsstcam", replicas=2, logs=PodLog(6, lines.__getitem__, lambda i: now - 60 + i)))
    result = consdb_bot("logs", "hinfo", "lsstcam", "bts", "--config", str(config))
    assert "6 exposures committed to exposure and ccdexposure, the last 20261121/5" in result.out
    tail = result.out.split("last lines:\n")[1].splitlines()
    assert tail[-2:] == [
        f"  [consdb-hinfo-lsstcam-1-0] {lines[4]}",
        f"  [consdb-hinfo-lsstcam-1-1] {lines[5]}",
    ]


def test_a_log_that_cannot_be_read_does_not_cost_the_verdict(consdb_bot, kube, config):
    kube.state.deployments["consdb-pq"].stuck = True
    kube.state.deployments["consdb-pq"].log_error = 400
    result = consdb_bot("restart", "pqserver", "bts", "--yes", "--config", str(config))
    assert result.code == 1
    assert "FAILED to restart" in result.out
    assert "exceeded its progress deadline" in result.out
    assert "(no log: the Kubernetes API of bts answered 400" in result.out


def test_the_watch_after_a_migration_counts_from_its_end_though_the_clusters_clock_runs_ahead(
    tmp_path, monkeypatch, config
):
    """Kubernetes counts ``sinceSeconds`` from its own clock when it answers; the watch still sees the
    first exposure after the migration, and not the complaint hinfo made just before it."""
    migrated = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    lines = [
        (migrated - timedelta(seconds=5), log_line(migrated, 642, "Unable to process column: fid_note", level="ERROR")),
        (migrated + timedelta(seconds=1), HINFO_LINES[1]),
        (migrated + timedelta(seconds=9), HINFO_LINES[3]),
    ]
    bot_now = migrated + timedelta(seconds=30)
    cluster_now = bot_now + timedelta(seconds=8)  # a late answer: sinceSeconds 30 alone would miss the first
    with FakeKube(now=cluster_now.timestamp) as fake:
        fake.add(Deployment("consdb-hinfo-latiss", replicas=1, logs=PodLog(
            len(lines), lambda i: lines[i][1], lambda i: lines[i][0].timestamp())))  # fmt: skip
        monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kubeconfig", ["base"])))
        settings = load_settings(config)
        excerpt = Deployments(settings.kubernetes).watch(settings.environment("bts"), "latiss", migrated, now=bot_now)
    assert excerpt.committed == 2
    assert excerpt.last_exposure == "20261121/42"
    assert excerpt.problems == [], "hinfo's complaint before the migration is not the migration's"
