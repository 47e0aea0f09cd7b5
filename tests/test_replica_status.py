"""Replicas seen at a glance, on a real Summit → USDF replica: ``status``'s replica lines (subscription
enabled or disabled and since when, lag, apply errors, revisions agreeing) and ``replica tables``, in
the terminal (text, --json, exit status) and in Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from bot.config import load_settings
from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION
from bot.sandbox.standins.kubernetes import FakeKube
from bot.sandbox.standins.slack import FakeSlack
from bot.services.replicas import disable
from bot.store import Store
from tests.support.bot_process import BotProcess
from tests.support.clock import START, Clock
from tests.support.replica import ReplicaPair

FIRST, SECOND = "8ebb60eda79d", "05689cf3f8f0"
"""The bundled tree's latiss revisions, in order."""
SINCE = f"{START:%Y-%m-%d %H:%M:%S} UTC"


def replica_config(path: Path, *, summit: bool = True) -> Path:
    """summit and usdf-prod (a replica of summit) keep latiss; without ``summit``, its URL is unset."""
    path.write_text(f"""
state_url: sqlite:///{path.parent / "state.sqlite3"}
migrations: {{connect_timeout_seconds: 2}}
schemas: [latiss]
environments:
  summit:
    database_url: ${{{"SUMMIT_DATABASE_URL" if summit else "NO_SUMMIT_DATABASE_URL"}}}
    channel: C0SUMMIT01
    approvals: {{required: 1, approvers: [U0APPROVE1]}}
  usdf-prod:
    database_url: ${{USDF_PROD_DATABASE_URL}}
    channel: C0CONSDB01
    approvals: {{required: 1, approvers: [U0APPROVE1]}}
    replica: {{of: summit, subscription: {SUBSCRIPTION}, publication: {PUBLICATION}}}
""")
    return path


@pytest.fixture
def configured(replica: ReplicaPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SUMMIT_DATABASE_URL", replica.summit_url)
    monkeypatch.setenv("USDF_PROD_DATABASE_URL", replica.usdf_url)
    return replica_config(tmp_path / "consdb-bot.yaml")


def at_revisions(replica: ReplicaPair, *, summit: str, usdf: str) -> None:
    """latiss's version table at each end, as Alembic keeps it (not published: each end has its own)."""
    version = sql.Identifier("cdb", "cdb_latiss_version")
    replica.on_both(sql.SQL("CREATE SCHEMA IF NOT EXISTS cdb"))
    replica.on_both(sql.SQL("CREATE TABLE {} (version_num varchar(32) PRIMARY KEY)").format(version))
    for connect, revision in ((replica.summit, summit), (replica.usdf, usdf)):
        with connect() as connection:
            connection.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(version), (revision,))


def replica_lines(out: str) -> list[str]:
    """The lines after the status table."""
    return out.split("\n\nreplica ", 1)[1].splitlines()


def test_status_shows_a_running_replica_whose_revisions_agree(consdb_bot, configured, replica):
    at_revisions(replica, summit=SECOND, usdf=SECOND)

    result = consdb_bot("status", "--config", str(configured))

    assert result.code == 0, result.text
    assert ["usdf-prod", "latiss", f"{SECOND} (head)"] in [line.split(None, 2) for line in result.out.splitlines()]
    lines = replica_lines(result.out)
    assert lines[0] == f"usdf-prod: subscription {SUBSCRIPTION} to summit's publication {PUBLICATION}"
    assert lines[1] == "  subscription: enabled, worker running"
    assert lines[2].startswith("  lag: ")
    assert "not yet confirmed by the replica" in lines[2]
    assert lines[3].startswith("  apply errors: none")
    assert lines[4] == "  revisions: summit and usdf-prod agree on every schema (1)"
    assert len(lines) == 5


def test_status_says_when_the_bot_disabled_the_subscription_and_the_lag_behind_it(consdb_bot, configured, replica):
    settings = load_settings(configured)
    store = Store(str(settings.state_url), clock=Clock())
    store.upgrade()
    disable(settings, store, settings.environment("usdf-prod"), actor="U0APPROVE1")
    with replica.summit() as summit:
        summit.execute("INSERT INTO cdb_latiss.exposure SELECT n, repeat('x', 100) FROM generate_series(1, 1000) n")

    result = consdb_bot("status", "usdf-prod", "--config", str(configured))

    assert result.code == 0, result.text
    lines = replica_lines(result.out)
    assert lines[1] == f"  subscription: disabled (since {SINCE})"
    assert lines[2].startswith("  lag: "), lines
    assert " kB not yet confirmed by the replica" in lines[2], "the thousand rows written since"
    as_json = json.loads(consdb_bot("status", "usdf-prod", "--json", "--config", str(configured)).out)
    (shown,) = as_json["replicas"]
    assert (shown["enabled"], shown["disabled_since"], shown["worker_running"]) == (False, START.isoformat(), False)
    assert shown["lag_bytes"] > 100 * 1000, "the thousand rows written since are not confirmed"


def test_a_subscription_disabled_by_someone_else_is_disabled_since_unknown(consdb_bot, configured, replica):
    with replica.usdf() as usdf:
        usdf.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(sql.Identifier(SUBSCRIPTION)))

    result = consdb_bot("status", "usdf-prod", "--config", str(configured))

    assert replica_lines(result.out)[1] == "  subscription: disabled (since unknown)"


def test_status_names_each_schema_whose_revisions_differ(consdb_bot, configured, replica):
    at_revisions(replica, summit=SECOND, usdf=FIRST)

    result = consdb_bot("status", "--config", str(configured))

    assert result.code == 0, result.text
    assert f"  revisions of latiss differ: summit {SECOND}, usdf-prod {FIRST}" in replica_lines(result.out)
    (shown,) = json.loads(consdb_bot("status", "--json", "--config", str(configured)).out)["replicas"]
    assert shown["revisions"] == [
        {"schema": "latiss", "publisher": [SECOND], "replica": [FIRST], "agree": False, "detail": ""}
    ]


def test_the_status_json_keeps_its_rows_and_adds_the_replicas(consdb_bot, configured, replica):
    at_revisions(replica, summit=SECOND, usdf=SECOND)

    as_json = json.loads(consdb_bot("status", "--json", "--config", str(configured)).out)

    assert sorted(as_json) == ["replicas", "schemas"]
    assert [(row["environment"], row["schema"], row["state"]) for row in as_json["schemas"]] == [
        ("summit", "latiss", "head"),
        ("usdf-prod", "latiss", "head"),
    ]
    (shown,) = as_json["replicas"]
    assert {key: shown[key] for key in ("environment", "of", "subscription", "publication", "enabled")} == {
        "environment": "usdf-prod", "of": "summit", "subscription": SUBSCRIPTION, "publication": PUBLICATION,
        "enabled": True,
    }  # fmt: skip
    assert shown["apply_errors"] == 0
    assert shown["problems"] == []
    assert shown["revisions"][0]["agree"] is True
    summit_only = json.loads(consdb_bot("status", "summit", "--json", "--config", str(configured)).out)
    assert isinstance(summit_only, list), "without a replica shown, the rows as before"


def test_status_says_the_summit_is_not_configured_here(consdb_bot, replica, tmp_path, monkeypatch):
    monkeypatch.setenv("USDF_PROD_DATABASE_URL", replica.usdf_url)
    config = replica_config(tmp_path / "consdb-bot.yaml", summit=False)

    result = consdb_bot("status", "--config", str(config))

    assert result.code == 0, result.text
    lines = replica_lines(result.out)
    assert lines[1] == "  subscription: enabled, worker running", "the replica's end is read all the same"
    assert lines[2] == "  lag: unknown: summit's database is not configured here (set NO_SUMMIT_DATABASE_URL)"
    assert lines[4] == "  revisions of latiss: not compared (summit: not configured here (set NO_SUMMIT_DATABASE_URL))"


def test_replica_tables_warns_of_a_consdb_table_missing_from_the_publication(consdb_bot, configured, replica):
    replica.create_table("cdb_latiss", "visit")

    result = consdb_bot("replica", "tables", "--config", str(configured))

    assert result.code == 1, result.text
    assert "cdb_latiss.exposure  published" in result.out
    assert "cdb_latiss.visit     MISSING" in result.out
    assert (
        f"warning: 1 ConsDB table missing from {PUBLICATION}: cdb_latiss.visit."
        " Rows written to them never reach usdf-prod; add them to the publication,"
        " and the runbook's rebuild truncate list must follow it."
    ) in result.out
    as_json = json.loads(consdb_bot("replica", "tables", "usdf-prod", "--json", "--config", str(configured)).out)
    assert as_json == [
        {
            "environment": "usdf-prod", "of": "summit", "publication": PUBLICATION, "schemas": ["cdb_latiss"],
            "published": [{"schema": "cdb_latiss", "name": "exposure"}],
            "consdb": [{"schema": "cdb_latiss", "name": "exposure"}, {"schema": "cdb_latiss", "name": "visit"}],
            "detail": "",
        }
    ]  # fmt: skip


def test_replica_tables_with_every_table_published_lists_the_bots_marker_apart(consdb_bot, configured, replica):
    replica.create_table("cdb", "replication_marker")
    with replica.summit() as summit:
        summit.execute(
            sql.SQL("ALTER PUBLICATION {} ADD TABLE cdb.replication_marker").format(sql.Identifier(PUBLICATION))
        )

    result = consdb_bot("replica", "tables", "usdf-prod", "--config", str(configured))

    assert result.code == 0, result.text
    assert "cdb.replication_marker  published (the bot's marker)" in result.out
    assert "every ConsDB table at summit is published" in result.out
    refused = consdb_bot("replica", "tables", "summit", "--config", str(configured))
    assert refused.code == 1
    assert "summit is not a replica" in refused.err


@pytest.fixture
def replica_bot(replica: ReplicaPair, tmp_path: Path, slack: FakeSlack, kube: FakeKube) -> Iterator[BotProcess]:
    config = replica_config(tmp_path / "consdb-bot.yaml")
    environ = {"SUMMIT_DATABASE_URL": replica.summit_url, "USDF_PROD_DATABASE_URL": replica.usdf_url}
    with BotProcess(config, slack.url, environ=environ) as process:
        yield process


def test_slack_shows_the_replica_under_the_status_and_its_tables(replica_bot, slack, replica):
    at_revisions(replica, summit=SECOND, usdf=FIRST)
    replica.create_table("cdb_latiss", "visit")

    replica_bot.command("status")
    status = slack.wait_for(lambda calls: next((c for c in calls if c.text == "ConsDB status"), None))
    shown = json.dumps(status.args["blocks"])
    assert "latiss  05689cf3 head  8ebb60ed -1" in shown
    assert "*Replicas*" in shown
    assert "subscription: enabled, worker running" in shown
    assert f"revisions of latiss differ: summit {SECOND}, usdf-prod {FIRST}" in shown

    replica_bot.command("replica tables")
    tables = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Replica tables"), None))
    shown = json.dumps(tables.args["blocks"])
    assert "cdb_latiss.visit     MISSING" in shown
    assert "the runbook's rebuild truncate list must follow it" in shown
