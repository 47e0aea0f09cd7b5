"""The bot as Slack drives it, for the tests of every capability: the stand-ins it talks to, its
configuration, a running ``consdb-bot serve``, and what tests wait for in Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.sandbox.standins.hinfo import AT_COMMITTED, log_line
from bot.sandbox.standins.kubernetes import Deployment, FakeKube, PodLog
from bot.sandbox.standins.pqserver import FakePqServer
from bot.sandbox.standins.slack import Call, FakeSlack
from tests.conftest import PASSWORD, libpq
from tests.support.bot_process import BotProcess

BTS_CHANNEL, SUMMIT_CHANNEL = "C0BTS00001", "C0SUMMIT01"
REQUESTER, APPROVER_1, APPROVER_2, STRANGER, DBA = "U0REQUEST1", "U0APPROVE1", "U0APPROVE2", "U0STRANGER", "U0DBA00001"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.state.groups["S0DBA"] = [DBA]
        yield fake
        assert PASSWORD not in json.dumps([call.args for call in fake.calls()]), "a password reached Slack"


@pytest.fixture
def databases(new_database: Callable[[], str]) -> dict[str, str]:
    return {"BTS_DATABASE_URL": new_database(), "SUMMIT_DATABASE_URL": new_database()}


@pytest.fixture
def pqserver(databases: dict[str, str]) -> Iterator[FakePqServer]:
    """bts's pqserver, serving its database; restarted with its deployment."""
    with FakePqServer(databases["BTS_DATABASE_URL"]) as fake:
        yield fake


@pytest.fixture
def config(tmp_path: Path, pqserver: FakePqServer) -> Path:
    path = tmp_path / "consdb-bot.yaml"
    path.write_text(f"""
state_url: sqlite:///{tmp_path / "state.sqlite3"}
migrations: {{connect_timeout_seconds: 2}}
schemas: [latiss, lsstcam, startrackerwide]
slack: {{announce_channel: {BTS_CHANNEL}}}
environments:
  bts:
    aliases: [base]
    test_stand: true
    database_url: ${{BTS_DATABASE_URL}}
    channel: {BTS_CHANNEL}
    approvals: {{required: 1, approvers: [{APPROVER_1}, {APPROVER_2}]}}
    kubernetes: {{context: base, namespace: consdb}}
    pqserver: consdb-pq
    pqserver_url: {pqserver.url}
    hinfo: {{latiss: consdb-hinfo-latiss}}
    hinfo_watch_minutes: 0.005
  summit:
    database_url: ${{SUMMIT_DATABASE_URL}}
    channel: {SUMMIT_CHANNEL}
    approvals: {{required: 2, approvers: [{APPROVER_1}], usergroup: S0DBA}}
    requires_ticket: true
    requires_tested_on: bts
kubernetes: {{poll_seconds: 0.01}}
""")
    return path


WROTE = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
COMMITTED = (
    "Committed to exposure and ccdexposure table: ATHeaderService_header_AT_O_20261121_{0:06d}.yaml (20261121/{0})"
)
"""What hinfo says of each exposure it writes, as upstream's does (the kube stand-in stamps them now)."""


@pytest.fixture
def kube(tmp_path: Path, pqserver: FakePqServer) -> Iterator[FakeKube]:
    with FakeKube() as fake:
        fake.add(Deployment("consdb-pq", on_restart=pqserver.restart))
        lines = [log_line(WROTE, AT_COMMITTED, COMMITTED.format(seq_num)) for seq_num in range(50)]
        fake.add(
            Deployment("consdb-hinfo-latiss", replicas=1, logs=PodLog(50, lines.__getitem__, lambda _i: time.time()))
        )
        fake.kubeconfig(tmp_path / "kubeconfig", ["base", "summit"])
        yield fake


@pytest.fixture
def bot(
    config: Path, slack: FakeSlack, databases: dict[str, str], kube: FakeKube, tmp_path: Path
) -> Iterator[BotProcess]:
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ) as process:
        yield process


def posted_request(slack: FakeSlack, number: int) -> Call:
    return slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "chat.postMessage" and f"request #{number}:" in c.text), None
        )
    )


def request_state(slack: FakeSlack, number: int, state: str, *, kind: str = "Upgrade") -> Call:
    return slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "chat.update" and c.text.startswith(f"{kind} request #{number}:")
             and c.text.endswith(f": {state}")), None,
        )
    )  # fmt: skip


def ephemeral_to(slack: FakeSlack, user: str, containing: str) -> Call:
    return slack.wait_for(
        lambda calls: next(
            (
                c
                for c in calls
                if c.method == "chat.postEphemeral" and c.args.get("user") == user and containing in c.text
            ),
            None,
        )
    )


def hold_bts(bot: BotProcess, slack: FakeSlack, user: str = REQUESTER) -> None:
    """Book BTS from now, as the process asks before a change there (or it needs one more approval)."""
    bot.command("book bts now 2h", user=user)
    ephemeral_to(slack, user, "of bts booked")


def revisions(url: str, schema: str) -> list[str]:
    """What the version table records; nothing when there is none."""
    with psycopg.connect(libpq(url)) as connection:
        exists = connection.execute("SELECT to_regclass(%s)", (f"cdb.cdb_{schema}_version",)).fetchone()
        if not exists or exists[0] is None:
            return []
        return [row[0] for row in connection.execute(f"SELECT version_num FROM cdb.cdb_{schema}_version")]
