"""The rollout board of a ticket: the process's steps in order, ticked by the bot from its state and by people
with ``done``; the next environment, what blocks it and the one command to run; in Slack one message per
ticket, updated in place. Real PostgreSQL throughout (the bot's state too), the Slack, Kubernetes and
pqserver stand-ins, and a copy of the bundled tree whose latiss has one more revision adding a column."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.engine.service import Direction, Engine
from bot.sandbox.replica import PUBLICATION, SUBSCRIPTION
from bot.sandbox.standins.kubernetes import FakeKube
from bot.sandbox.standins.pqserver import FakePqServer
from bot.sandbox.standins.slack import Call, FakeSlack
from bot.terminal import cli
from tests.conftest import EXTERNAL_TREE, Result
from tests.support.bot_process import BotProcess
from tests.support.clock import Clock
from tests.support.replica import ReplicaPair
from tests.support.slack_bot import (
    APPROVER_1,
    APPROVER_2,
    BTS_CHANNEL,
    REQUESTER,
    SUMMIT_CHANNEL,
    ephemeral_to,
    posted_request,
    request_state,
)
from tests.support.trees import bundled_copy, columns_revision
from tests.test_check_data import exposure
from tests.test_rollout import FIRST, TREE, stuck_at_the_replica

MIGRATED_AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
ADDED = "a11ce0000001"
PEOPLE_STEPS = "de-approval, po-approval, consdb-approval, consdb-merge, consdb-tag, announce, tap, sdm-merge"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The bundled tree, with a latiss revision after its head that adds ``exposure.dimm_seeing_new``."""
    return bundled_copy(
        tmp_path, columns_revision("latiss", "05689cf3f8f0", ADDED, {"exposure": [("dimm_seeing_new", "Float")]})
    )


@pytest.fixture
def places(new_database: Callable[[], str], tmp_path: Path, kube: FakeKube) -> dict[str, str]:
    """bts and the Summit, and the bot's own state, each a PostgreSQL database; Kubernetes for restarts."""
    return {
        "BTS_DATABASE_URL": new_database(), "SUMMIT_DATABASE_URL": new_database(),
        "CONSDB_BOT_STATE_URL": new_database(), "KUBECONFIG": str(tmp_path / "kubeconfig"),
    }  # fmt: skip


@pytest.fixture
def board_config(config: Path, tree: Path, places: dict[str, str]) -> Path:
    """The Slack tests' configuration with its state in PostgreSQL, on the tree above, the live boards caught
    up every second; bts and the Summit at latiss 05689cf3f8f0, one revision behind the tree's head."""
    text = config.read_text()
    for old, new in (
        (text.splitlines()[1], "state_url: ${CONSDB_BOT_STATE_URL}"),
        ("migrations: {connect_timeout_seconds: 2}",
         f"migrations: {{alembic_ini: {tree / 'alembic.ini'}, connect_timeout_seconds: 2}}"),
        (f"slack: {{announce_channel: {BTS_CHANNEL}}}", f"slack: {{announce_channel: {BTS_CHANNEL}, retry_seconds: 1}}"),
    ):  # fmt: skip
        assert old in text
        text = text.replace(old, new)
    config.write_text(text)
    settings = load_settings(config, environ=places)
    engine = Engine(settings)
    for environment in ("bts", "summit"):
        env = settings.environment(environment)
        result = engine.change(env, ["latiss"], direction=Direction.UPGRADE, to="05689cf3f8f0", actor="test")
        assert result.ok
    return config


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The terminal's clock: what it books, records and reads."""
    moment = Clock(MIGRATED_AT)
    monkeypatch.setattr(cli, "now", moment)
    return moment


@pytest.fixture
def terminal(
    consdb_bot: Callable[..., Result], board_config: Path, places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``consdb-bot ARGS... --config`` the board's configuration, with its databases' URLs."""
    for name, value in places.items():
        monkeypatch.setenv(name, value)
    return lambda *args: consdb_bot(*args, "--config", str(board_config))


def lines_of(result: Result) -> list[str]:
    return [line.strip() for line in result.out.splitlines()]


def step_line(result: Result, number: int) -> str:
    return next(line for line in lines_of(result) if line.startswith(f"{number}. "))


def shows(result: Result, *texts: str) -> None:
    assert result.code == 0, result.text
    for text in texts:
        assert text in result.out, f"{text!r} is not in:\n{result.out}"


@pytest.mark.slow
def test_the_board_follows_a_ticket_from_nothing_to_the_summit_in_the_terminal(terminal, clock, places, kube):
    shows(
        terminal("board", "OSW-123"), "OSW-123 (Jira not checked: JIRA_TOKEN is not set)",
        "1. [ ] not yet  sdm_schemas PR approved by Data Engineering", "4. [-] blocked  migrated at bts",
        "Next environment: bts", "Blocked: bts is not booked now", "Run: consdb-bot done OSW-123 de-approval",
    )  # fmt: skip
    for step in ("de-approval", "po-approval", "consdb-approval"):
        ticked = terminal("done", "OSW-123", step)
        shows(ticked, f"OSW-123: {step} ticked")
    shows(terminal("board", "OSW-123"), "Run: consdb-bot book bts now 2h OSW-123")
    shows(terminal("book", "bts", "now", "2h", "OSW-123"))
    shows(terminal("board", "OSW-123"), "Run: consdb-bot migrate bts --ticket OSW-123 --yes")

    shows(terminal("upgrade", "bts", "latiss", "--ticket", "OSW-123", "--yes"))
    board = terminal("board", "OSW-123")
    assert step_line(board, 4).startswith("4. [x] done     migrated at bts:")
    assert step_line(board, 4).endswith("(terminal), Tue 2026-12-01 14:00 +00")  # on the Summit's clock
    shows(board, f"#1 upgrade: latiss 05689cf3f8f0 → {ADDED}", "Run: consdb-bot restart pqserver bts --ticket OSW-123")

    clock.moment += timedelta(minutes=1)
    shows(terminal("restart", "pqserver", "bts", "--ticket", "OSW-123", "--yes"))
    assert step_line(terminal("board", "OSW-123"), 5).startswith("5. [x] done     pqserver restarted at bts:")

    clock.moment += timedelta(minutes=1)
    assert terminal("check", "data", "bts", "latiss").code == 1  # nothing written yet
    board = terminal("board", "OSW-123")
    assert step_line(board, 6) == "6. [!] failed   hinfo writes the new columns at bts"
    shows(board, "latiss at bts: 0 exposures since the migration", "Run: consdb-bot check data bts latiss")
    exposure(places["BTS_DATABASE_URL"], "latiss", 12, MIGRATED_AT + timedelta(minutes=3), dimm_seeing_new=0.8)
    clock.moment += timedelta(minutes=5)
    shows(terminal("check", "data", "bts", "latiss"))
    board = terminal("board", "OSW-123")
    assert step_line(board, 6).startswith("6. [x] done     hinfo writes the new columns at bts:")
    shows(board, "latiss at bts: 1 exposure since the migration, the new columns filled")

    for step in ("consdb-merge", "consdb-tag", "announce"):
        shows(terminal("done", "OSW-123", step))
    board = terminal("board", "OSW-123")
    shows(board, "10. [ ] not yet  migrated at summit", "Next environment: summit",
          "Run: consdb-bot migrate summit latiss --ticket OSW-123 --yes")  # fmt: skip
    assert "Blocked" not in board.out

    # The test stand taken back, outside the ticket: the Summit would be refused, and the board says why.
    shows(terminal("downgrade", "bts", "latiss", "-1", "--yes"))
    board = terminal("board", "OSW-123")
    assert step_line(board, 4).startswith("4. [x] done")
    shows(
        board, "10. [-] blocked  migrated at summit",
        f"Blocked: summit: latiss must first reach {ADDED} at bts, which is 1 revision behind it (at 05689cf3f8f0)",
    )  # fmt: skip
    value = json.loads(terminal("board", "OSW-123", "--json").out)
    assert [(step["key"], step["state"]) for step in value["steps"]] == [
        ("de-approval", "done"), ("po-approval", "done"), ("consdb-approval", "done"), ("test-stand", "done"),
        ("test-stand-pqserver", "done"), ("test-stand-data", "done"), ("consdb-merge", "done"), ("consdb-tag", "done"),
        ("announce", "done"), ("summit", "blocked"), ("tap", "not yet"), ("sdm-merge", "not yet"),
    ]  # fmt: skip
    assert (value["next_environment"], value["complete"]) == ("summit", False)
    assert value["next"] == {"words": "migrate summit latiss --ticket OSW-123", "change": True}
    shows(
        terminal("audit"),
        "step done        ",
        "OSW-123: consdb-merge done (consdb PR with the Alembic migration merged)",
    )


def test_a_step_is_ticked_once_and_bad_steps_are_usage_errors(terminal):
    first = terminal("done", "OSW-123", "Consdb-Merge")
    assert first.code == 0, first.text
    again = terminal("done", "OSW-123", "consdb-merge")
    assert again.code == 0
    assert again.out.startswith("OSW-123: consdb-merge was ticked already, by ")
    assert terminal("audit").out.count("step done") == 1

    unknown = terminal("done", "OSW-123", "merge")
    assert unknown.code == 2
    assert "error: 'merge' is not a step of the board" in unknown.err
    assert f"STEP one of: {PEOPLE_STEPS}" in unknown.err
    by_the_bot = terminal("done", "OSW-123", "test-stand")
    assert by_the_bot.code == 2
    assert "'test-stand' is a step the bot ticks itself" in by_the_bot.err

    as_json = json.loads(terminal("done", "OSW-123", "merge", "--json").out)
    assert as_json["error"] == "'merge' is not a step of the board (did you mean sdm-merge?)"
    for words, says in (
        (["done", "OSW-123"], "the following arguments are required: STEP"),
        (["done", "osw123", "tap"], "'osw123' is not a Jira key"),
        (["done", "OSW-123", "tap;drop"], "is not a step: letters, digits, _, . and - only"),
        (["board"], "the following arguments are required: TICKET"),
    ):
        refused = terminal(*words)
        assert refused.code == 2
        assert says in refused.err


def board_calls(slack: FakeSlack) -> list[Call]:
    return [
        call for call in slack.calls()
        if call.method in ("chat.postMessage", "chat.update") and call.text.startswith("Rollout board: OSW-123")
    ]  # fmt: skip


def shown(call: Call) -> str:
    return json.dumps(call.args.get("blocks"), ensure_ascii=False)


def live_board(slack: FakeSlack, *containing: str) -> Call:
    """The first call that showed the live board (in the announcement channel) with all of ``containing``."""
    return slack.wait_for(
        lambda calls: next(
            (call for call in board_calls(slack) if call.args.get("channel") == BTS_CHANNEL
             and all(text in shown(call) for text in containing)), None,
        )
    )  # fmt: skip


@pytest.mark.slow
def test_the_live_board_in_slack_is_one_message_updated_in_place(board_config, slack, places, terminal) -> None:
    with BotProcess(board_config, slack.url, environ=places, clock_at=MIGRATED_AT) as bot:
        bot.command("book bts now 2h OSW-123", user=REQUESTER)
        ephemeral_to(slack, REQUESTER, "of bts booked")
        bot.command("migrate bts latiss --ticket OSW-123", user=REQUESTER, channel=BTS_CHANNEL)
        migration = posted_request(slack, 1).reply["ts"]
        bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=migration, event_id="EvBoard1")
        request_state(slack, 1, "succeeded")
        first = live_board(slack, ":white_check_mark: *4.* migrated at bts")
        assert first.method == "chat.postMessage"  # the first news of the ticket posts its board
        ts = first.reply["ts"]
        assert f"<@{REQUESTER}>" in shown(first)
        slack.wait_for(
            lambda calls: [c for c in calls if c.args.get("thread_ts") == migration and c.text.startswith("hinfo")]
        )  # the hinfo watch: nothing written yet

        bot.command("restart pqserver bts", user=REQUESTER, channel=BTS_CHANNEL)  # under no ticket
        restart = posted_request(slack, 2).reply["ts"]
        bot.reaction("white_check_mark", user=APPROVER_2, channel=BTS_CHANNEL, ts=restart, event_id="EvBoard2")
        request_state(slack, 2, "succeeded", kind="Restart")
        board = live_board(slack, ":white_check_mark: *5.* pqserver restarted at bts", ":red_circle: *6.*")
        assert "latiss at bts: 0 exposures since the migration" in shown(board)

        exposure(places["BTS_DATABASE_URL"], "latiss", 12, MIGRATED_AT + timedelta(minutes=1), dimm_seeing_new=0.8)
        bot.command("check data bts latiss", channel=BTS_CHANNEL)
        live_board(slack, ":white_check_mark: *6.* hinfo writes the new columns at bts")

        bot.command("done OSW-123 consdb-merge", user=APPROVER_2, channel=SUMMIT_CHANNEL)
        said = ephemeral_to(slack, APPROVER_2, "`consdb-merge` of OSW-123 is ticked")
        assert "Next: `/consdb done OSW-123 de-approval`" in said.text
        board = live_board(slack, ":white_check_mark: *7.* consdb PR with the Alembic migration merged")
        assert f"<@{APPROVER_2}>" in shown(board)

        bot.command("done OSW-123 merge", user=REQUESTER, channel=BTS_CHANNEL)
        refused = ephemeral_to(slack, REQUESTER, "is not a step of the board")
        assert f"STEP one of: {PEOPLE_STEPS}" in refused.text

        for _ in range(2):  # Slack delivers it twice: it ticks the next step people do, once
            bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvTick")
        board = live_board(slack, ":white_check_mark: *1.* sdm_schemas PR approved by Data Engineering")
        assert f"<@{APPROVER_1}>" in shown(board)
        assert ":white_large_square: *2.*" in shown(board)

        for step in ("po-approval", "consdb-approval", "consdb-tag", "announce"):
            assert terminal("done", "OSW-123", step).code == 0  # no Slack here: the bot catches up
        board = live_board(slack, ":white_check_mark: *9.* Summit migration announced")
        assert "*Next environment*: summit" in shown(board)
        assert "*Run*: `/consdb migrate summit latiss --ticket OSW-123`" in shown(board)

        bot.command("board OSW-123", channel=SUMMIT_CHANNEL)
        answer = slack.wait_for(
            lambda calls: next((c for c in board_calls(slack) if c.args.get("channel") == SUMMIT_CHANNEL), None)
        )
        assert "*Run*: `/consdb migrate summit latiss --ticket OSW-123`" in shown(answer)

    live = [call for call in board_calls(slack) if call.args.get("channel") == BTS_CHANNEL]
    assert [call.method for call in live].count("chat.postMessage") == 1
    assert {call.args["ts"] for call in live if call.method == "chat.update"} == {ts}
    assert len(live) >= 6
    assert terminal("audit").out.count("step done") == 6


def test_the_ticket_view_shows_the_board(terminal):
    terminal("done", "OSW-123", "de-approval")
    ticket = terminal("ticket", "OSW-123")
    assert ticket.code == 0, ticket.text
    assert "Rollout board, on UTC time:" in ticket.out
    assert "1. [x] done     sdm_schemas PR approved by Data Engineering" in ticket.out
    assert "Where it stands:" in ticket.out
    value: dict[str, Any] = json.loads(terminal("ticket", "OSW-123", "--json").out)
    assert value["board"]["steps"][0]["state"] == "done"


@pytest.fixture
def rolled_out(
    tmp_path: Path, replica: ReplicaPair, pqserver: FakePqServer, kube: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The rollout tests' Summit and usdf-prod on the replica pair at the tree's first revision, each with a
    pqserver; usdf-int, a replica with no database URL here."""
    monkeypatch.setenv("SUMMIT_DATABASE_URL", replica.summit_url)
    monkeypatch.setenv("USDF_PROD_DATABASE_URL", replica.usdf_url)
    monkeypatch.delenv("USDF_INT_DATABASE_URL", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    for connect in (replica.summit, replica.usdf):
        with connect() as db:
            db.execute("CREATE SCHEMA cdb")
            db.execute("CREATE TABLE cdb.cdb_latiss_version (version_num varchar(32) PRIMARY KEY)")
            db.execute("INSERT INTO cdb.cdb_latiss_version VALUES (%s)", (FIRST,))
    served = f"""    kubernetes: {{context: summit, namespace: consdb}}
    pqserver: consdb-pq
    pqserver_url: {pqserver.url}
"""
    replicated = f"subscription: {SUBSCRIPTION}, publication: {PUBLICATION}"
    config = tmp_path / "consdb-bot.yaml"
    config.write_text(f"""
state_url: sqlite:///{tmp_path / "state.sqlite3"}
migrations: {{alembic_ini: {TREE / "alembic.ini"}, sdm_schemas: {EXTERNAL_TREE}, connect_timeout_seconds: 2}}
schemas: [latiss]
environments:
  summit:
    database_url: ${{SUMMIT_DATABASE_URL}}
    approvals: {{required: 1, approvers: [{APPROVER_1}]}}
{served}  usdf-prod:
    database_url: ${{USDF_PROD_DATABASE_URL}}
    approvals: {{required: 1, approvers: [{APPROVER_1}]}}
    replica: {{of: summit, {replicated}, verify_seconds: 30}}
{served}  usdf-int:
    database_url: ${{USDF_INT_DATABASE_URL}}
    replica: {{of: summit, {replicated}}}
""")
    return config


@pytest.mark.slow
def test_after_the_rollout_pqserver_everywhere_then_tap_by_hand(consdb_bot, rolled_out, replica):
    def run(*args: str) -> Result:
        return consdb_bot(*args, "--config", str(rolled_out))

    for step in ("de-approval", "po-approval", "consdb-approval", "consdb-merge", "consdb-tag", "announce"):
        assert run("done", "OSW-123", step).code == 0
    board = run("board", "OSW-123")
    assert "7. [ ] not yet  summit and usdf-prod migrated as one rollout" in board.out  # usdf-int not linked here
    assert "Run: consdb-bot rollout latiss --ticket OSW-123 --yes" in board.out

    assert run("rollout", "latiss", "--ticket", "OSW-123", "--yes").code == 0
    board = run("board", "OSW-123")
    assert step_line(board, 7).startswith("7. [x] done     summit and usdf-prod migrated as one rollout:")
    assert "8. [ ] not yet  pqserver restarted at summit, usdf-prod" in board.out
    assert "Next environment: summit" in board.out
    assert "Run: consdb-bot restart pqserver summit --ticket OSW-123 --yes" in board.out

    assert run("restart", "pqserver", "summit", "--ticket", "OSW-123", "--yes").code == 0
    board = run("board", "OSW-123")
    assert "summit: #2 restart" in board.out
    assert "Run: consdb-bot restart pqserver usdf-prod --ticket OSW-123 --yes" in board.out
    assert run("restart", "pqserver", "usdf-prod", "--yes").code == 0  # under no ticket: it counts all the same
    board = run("board", "OSW-123")
    assert step_line(board, 8).startswith("8. [x] done     pqserver restarted at summit, usdf-prod:")
    assert "9. [ ] not yet  new TAP schema container for consdbtap deployed everywhere" in board.out  # no TAP here
    assert "Run: consdb-bot done OSW-123 tap" in board.out

    assert run("done", "OSW-123", "tap").code == 0
    assert run("done", "OSW-123", "sdm-merge").code == 0
    board = run("board", "OSW-123")
    assert "Every step is done." in board.out
    assert json.loads(run("board", "OSW-123", "--json").out)["complete"] is True


@pytest.mark.slow
def test_a_rollout_that_took_the_summit_back_unticks_the_summit(consdb_bot, rolled_out, replica):
    def run(*args: str) -> Result:
        return consdb_bot(*args, "--config", str(rolled_out))

    stuck_at_the_replica(consdb_bot, rolled_out, replica)
    assert step_line(run("board", "OSW-123"), 7).startswith("7. [!] failed   summit and usdf-prod migrated")
    back = run("rollout", "latiss", "--to", FIRST, "--ticket", "OSW-123", "--yes")
    assert back.code == 0, back.text
    board = run("board", "OSW-123")
    assert step_line(board, 7).startswith("7. [ ] not yet  summit and usdf-prod migrated as one rollout")
    assert "#2 rollout took it back" in board.out
    assert "8. [ ] not yet  pqserver restarted at summit, usdf-prod" in board.out


@pytest.mark.slow
def test_a_replica_no_longer_configured_leaves_the_board_readable(consdb_bot, rolled_out, replica):
    assert consdb_bot("rollout", "latiss", "--ticket", "OSW-123", "--yes", "--config", str(rolled_out)).code == 0
    rolled_out.write_text(rolled_out.read_text().replace("  usdf-prod:\n", "  usdf:\n"))  # renamed since
    board = consdb_bot("board", "OSW-123", "--config", str(rolled_out))
    assert board.code == 0, board.text
    assert step_line(board, 7).startswith("7. [x] done     summit and usdf-prod migrated as one rollout")
    assert "8. [ ] not yet  pqserver restarted at summit" in board.out
