"""The record tells what the database did: a run's outcome, in the request, its thread, the audit trail
and Jira, is the version table's, whatever happened to Slack, the state database or the bot meanwhile.

Each test drives ``consdb-bot serve`` through Slack's stand-in against real PostgreSQL, with the test
tree's ``startrackerwide``, whose revision waits on an advisory lock the test holds (its barrier).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.sandbox.standins.jira import JIRA_TOKEN, FakeJira
from bot.sandbox.standins.slack import FakeSlack
from tests.conftest import EXTERNAL_TREE, libpq
from tests.support.bot_process import BotProcess
from tests.support.clock import pause
from tests.support.slack_bot import (
    APPROVER_1,
    APPROVER_2,
    BTS_CHANNEL,
    REQUESTER,
    STRANGER,
    hold_bts,
    posted_request,
    request_state,
)
from tests.support.tcp_proxy import TcpProxy

FINAL = ("succeeded", "failed", "interrupted", "rejected", "expired")
BARRIER = 4747
STARTRACKER_HEAD = "e00000000001"
LATISS_HEAD = "c0ffee000003"


def truth_config(tmp_path: Path, *, state_url: str, migrations: str = "", jira: bool = False) -> Path:
    """One environment, bts, on the test tree; no booking needed, one approval."""
    path = tmp_path / "consdb-bot.yaml"
    path.write_text(
        f"""
state_url: {state_url}
migrations: {{alembic_ini: {EXTERNAL_TREE / "alembic.ini"}, sdm_schemas: {EXTERNAL_TREE}, connect_timeout_seconds: 2{migrations}}}
schemas: [latiss, startrackerwide]
slack: {{announce_channel: {BTS_CHANNEL}}}
reports: {{daily_at: null, check_minutes: 0}}
environments:
  bts:
    database_url: ${{BTS_DATABASE_URL}}
    channel: {BTS_CHANNEL}
    approvals: {{required: 1, approvers: [{APPROVER_1}, {APPROVER_2}]}}
"""
        + ("jira:\n  url: ${JIRA_URL}\n  project: OSW\n  timeout_seconds: 1\n  retry_seconds: 0.5\n" if jira else "")
    )
    return path


@pytest.fixture
def bts(new_database) -> str:
    """The bts database, prepared as upstream prepares one (the test tree's env.py expects ``cdb``)."""
    url = new_database()
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute("CREATE SCHEMA cdb")
    return url


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.add_issue("OSW-123", "Add exposure_time")
        yield fake


def settled(slack: FakeSlack, number: int, *, kind: str = "Upgrade", timeout: float = 150) -> str:
    """How the request message finally shows the request: the first final state it is updated to."""
    prefix = f"{kind} request #{number}:"
    update = slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "chat.update" and c.text.startswith(prefix) and c.text.endswith(FINAL)),
            None,
        ),
        timeout=timeout,
    )
    return update.text.rsplit(": ", 1)[-1]


def thread(slack: FakeSlack, ts: str, containing: str) -> str:
    return slack.wait_for(
        lambda calls: next((c.text for c in calls if c.args.get("thread_ts") == ts and containing in c.text), None)
    )


def revisions(url: str, schema: str) -> list[str]:
    with psycopg.connect(libpq(url)) as connection:
        table = f"cdb.cdb_{schema}_version"
        if connection.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
            return []
        return [row[0] for row in connection.execute(f"SELECT version_num FROM {table}")]


def audit(consdb_bot: Callable[..., object], config: Path) -> list[dict]:
    result = consdb_bot("audit", "--json", "--limit", "50", "--config", str(config))
    return json.loads(result.out)  # type: ignore[attr-defined]


def waiting_on_barrier(url: str) -> int:
    """Sessions of the database waiting for the barrier: a run's transaction, still open."""
    with psycopg.connect(libpq(url)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (BARRIER,),
        ).fetchone()
    return row[0] if row else 0


def until(condition: Callable[[], object], what: str, *, polls: int = 1200) -> None:
    """Until PostgreSQL reports ``condition`` (looked at every 50 ms)."""
    for _ in range(polls):
        if condition():
            return
        pause(0.05)
    raise AssertionError(f"never saw {what}")


def run_behind_the_barrier(bot: BotProcess, slack: FakeSlack, url: str) -> tuple[psycopg.Connection, str]:
    """Request and approve ``startrackerwide``; returns once its run waits on the barrier the test holds."""
    holder = psycopg.connect(libpq(url), autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (BARRIER,))
    bot.command(f"migrate bts startrackerwide --options barrier={BARRIER}", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvRun")
    until(lambda: waiting_on_barrier(url), "the run waiting on the barrier")
    return holder, ts


@pytest.mark.slow
def test_a_run_that_committed_while_slack_rate_limited_its_progress_is_recorded_succeeded(
    tmp_path, slack, bts, jira, consdb_bot, monkeypatch
):
    """Finding 8: progress posts wait on Slack's 429s past the run's time limit, after the child committed."""
    config = truth_config(
        tmp_path, state_url=f"sqlite:///{tmp_path / 'state.sqlite3'}", migrations=", run_timeout_seconds: 5",
        jira=True,
    )  # fmt: skip
    environ = {"BTS_DATABASE_URL": bts, "JIRA_URL": jira.url, "JIRA_TOKEN": JIRA_TOKEN}
    with BotProcess(config, slack.url, environ=environ) as bot:
        bot.command("migrate bts latiss --ticket OSW-123", user=REQUESTER)
        ts = posted_request(slack, 1).reply["ts"]
        # Three lines' worth of 429s (each post is tried four times): the range, then two revisions.
        slack.rate_limit("chat.postMessage", times=12)
        bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvRL")
        assert settled(slack, 1) == "succeeded"
        assert revisions(bts, "latiss") == [LATISS_HEAD]
        outcome = thread(slack, ts, "upgrade at bts:")
        assert "latiss: upgrade done in" in outcome
        assert f"now at {LATISS_HEAD}" in outcome
        assert "FAILED" not in outcome
        assert "rolled back" not in outcome
        thread(slack, ts, "Commented on OSW-123.")
    comment = jira.bodies("OSW-123")[-1]
    assert comment.startswith("(/) *Upgrade at bts succeeded* (consdb-bot request #1)")
    assert f"Now at: latiss {{{{{LATISS_HEAD}}}}}" in comment
    monkeypatch.setenv("BTS_DATABASE_URL", bts)
    actions = [record["action"] for record in audit(consdb_bot, config) if record["request_id"] == 1]
    assert "succeeded" in actions
    assert "failed" not in actions


@pytest.fixture
def state_proxy(server_url: str) -> Iterator[TcpProxy]:
    url = make_url(server_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy


def state_behind(proxy: TcpProxy, new_database) -> str:
    """A PostgreSQL state database reached through the proxy."""
    return (
        make_url(new_database())
        .set(drivername="postgresql+psycopg", port=proxy.port)
        .render_as_string(hide_password=False)
    )


def lost_the_state_database(bot: BotProcess, proxy: TcpProxy, holder: psycopg.Connection, bts: str) -> None:
    """Cut the state database, let the run commit, and wait until the bot has failed to record it."""
    printed = bot.printed
    proxy.cut()
    holder.execute("SELECT pg_advisory_unlock(%s)", (BARRIER,))
    until(lambda: revisions(bts, "startrackerwide") == [STARTRACKER_HEAD], "the run committed")
    bot.wait_for_output(
        lambda line: ("state database" in line or "background work failed" in line) and '"INFO"' not in line,
        after=printed,
    )


@pytest.mark.slow
def test_a_run_that_committed_while_the_state_database_was_down_is_recorded_succeeded(
    tmp_path, slack, bts, state_proxy, new_database, consdb_bot, monkeypatch
):
    """Finding 9: the runner keeps the outcome until the state database answers again, then writes it."""
    config = truth_config(tmp_path, state_url=state_behind(state_proxy, new_database))
    with BotProcess(config, slack.url, environ={"BTS_DATABASE_URL": bts}) as bot:
        holder, ts = run_behind_the_barrier(bot, slack, bts)
        try:
            lost_the_state_database(bot, state_proxy, holder, bts)
        finally:
            state_proxy.restore()
            holder.close()
        assert settled(slack, 1) == "succeeded"
        assert f"now at {STARTRACKER_HEAD}" in thread(slack, ts, "upgrade at bts: done")
    monkeypatch.setenv("BTS_DATABASE_URL", bts)
    actions = [record["action"] for record in audit(consdb_bot, config) if record["request_id"] == 1]
    assert "succeeded" in actions
    assert "interrupted" not in actions


@pytest.mark.slow
def test_a_run_that_committed_before_its_bot_died_unrecorded_is_recovered_as_succeeded(
    tmp_path, slack, bts, state_proxy, new_database
):
    """Finding 9, recovery: the version table records the target, so the request succeeded."""
    config = truth_config(tmp_path, state_url=state_behind(state_proxy, new_database))
    first = BotProcess(config, slack.url, environ={"BTS_DATABASE_URL": bts}).start()
    try:
        holder, ts = run_behind_the_barrier(first, slack, bts)
        lost_the_state_database(first, state_proxy, holder, bts)
    finally:
        first.stop(kill=True)
        state_proxy.restore()
        holder.close()
    with BotProcess(config, slack.url, environ={"BTS_DATABASE_URL": bts}):
        assert settled(slack, 1) == "succeeded"
        note = thread(slack, ts, "The bot lost track of this run")
    assert f"startrackerwide now records {STARTRACKER_HEAD} (head), its target" in note


@pytest.mark.slow
def test_after_kill_9_the_runs_session_is_ended_before_the_request_is_settled(tmp_path, slack, bts):
    """Finding 12: the killed run's transaction waits on a lock; the next start ends it, then settles."""
    config = truth_config(
        tmp_path, state_url=f"sqlite:///{tmp_path / 'state.sqlite3'}", migrations=", lock_timeout: 2s"
    )
    first = BotProcess(config, slack.url, environ={"BTS_DATABASE_URL": bts}).start()
    holder, ts = run_behind_the_barrier(first, slack, bts)
    try:
        first.stop(kill=True)
        with BotProcess(config, slack.url, environ={"BTS_DATABASE_URL": bts}) as second:
            assert settled(slack, 1) == "interrupted"
            assert waiting_on_barrier(bts) == 0, "the run's transaction was still open when it was settled"
            note = thread(slack, ts, "The bot stopped while this ran")
            assert "nothing was applied: startrackerwide now records empty (1 behind), where it started" in note
            second.command("migrate bts startrackerwide", user=REQUESTER)
            again = posted_request(slack, 2).reply["ts"]
            second.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=again, event_id="EvAgain")
            assert settled(slack, 2) == "succeeded"
    finally:
        holder.close()
    assert revisions(bts, "startrackerwide") == [STARTRACKER_HEAD]


@pytest.mark.slow
def test_the_restart_reaction_counts_only_from_an_approver_who_is_not_the_requester(
    bot, slack, kube, config, databases, consdb_bot, monkeypatch
):
    """Finding 7: the requester's own 🔄 (here an approver asking) opens nothing; a stranger's neither."""
    hold_bts(bot, slack, user=APPROVER_1)
    bot.command("migrate bts startrackerwide", user=APPROVER_1, channel=BTS_CHANNEL)
    ts = posted_request(slack, 1).reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_2, channel=BTS_CHANNEL, ts=ts, event_id="EvM")
    request_state(slack, 1, "succeeded")
    for name, url in databases.items():
        monkeypatch.setenv(name, url)

    def ignored(user: str) -> list[str]:
        return [
            record["summary"] for record in audit(consdb_bot, config)
            if record["action"] == "ignored" and record["actor"] == user and record["request_id"] == 1
        ]  # fmt: skip

    for user, event_id in ((STRANGER, "EvR1"), (APPROVER_1, "EvR2")):
        bot.reaction("arrows_counterclockwise", user=user, channel=BTS_CHANNEL, ts=ts, event_id=event_id)
        until(lambda user=user: ignored(user), f"{user}'s restart reaction noted as ignored")
    assert ignored(STRANGER) == ["added :arrows_counterclockwise: on #1, which does not count (not an approver)"]
    assert ignored(APPROVER_1) == ["added :arrows_counterclockwise: on #1, which does not count (the requester)"]
    assert not [c for c in slack.calls("chat.postMessage") if c.text.startswith("Restart request")]
    assert not [c for c in slack.calls() if c.args.get("thread_ts") == ts and "pqserver was not restarted" in c.text]

    bot.reaction("arrows_counterclockwise", user=APPROVER_2, channel=BTS_CHANNEL, ts=ts, event_id="EvR3")
    assert request_state(slack, 2, "succeeded", kind="Restart")
    assert kube.state.deployments["consdb-pq"].restarted_at is not None
