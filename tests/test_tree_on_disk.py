"""The running bot and the tree on disk: it follows the files, and a request binds the tree as it was.

A copy of the bundled tree is changed under a running ``consdb-bot serve``, as a ``git pull`` would.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.engine.service import Engine
from bot.sandbox.standins.slack import Call, FakeSlack
from tests.conftest import REPO, write_config
from tests.support.bot_process import BotProcess
from tests.support.slack_bot import (
    APPROVER_1,
    BTS_CHANNEL,
    REQUESTER,
    hold_bts,
    posted_request,
    request_state,
    revisions,
)

FIRST = "2c2567f48db5"
"""startrackerwide's one revision in the bundled tree."""


def revision_file(revision: str, down: str, column: str) -> str:
    """A revision of startrackerwide that adds a column to exposure."""
    return f'''"""Add exposure.{column}

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("exposure", sa.Column("{column}", sa.Float(), nullable=True), schema="cdb_startrackerwide")


def downgrade() -> None:
    op.drop_column("exposure", "{column}", schema="cdb_startrackerwide")
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the bundled tree, the one the bot runs on."""
    copy = tmp_path / "tree"
    shutil.copytree(REPO / "migrations", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def bot_on_copy(config: Path, tree: Path, slack: FakeSlack, databases: dict[str, str], kube, tmp_path: Path
                ) -> Iterator[BotProcess]:  # fmt: skip
    text = config.read_text().replace(
        "migrations: {connect_timeout_seconds: 2}",
        f"migrations: {{alembic_ini: {tree / 'alembic.ini'}, connect_timeout_seconds: 2}}",
    )
    config.write_text(text)
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(config, slack.url, environ=environ) as process:
        yield process


def status_answer(bot: BotProcess, slack: FakeSlack, text: str) -> str:
    """The status table the bot posts for ``/consdb status ...``, as Slack shows it."""
    before = len(slack.calls("chat.postMessage"))
    bot.command(text)
    call: Call = slack.wait_for(
        lambda calls: next(
            (c for c in [c for c in calls if c.method == "chat.postMessage"][before:] if "ConsDB status" in c.text),
            None,
        )
    )
    return json.dumps(call.args["blocks"], ensure_ascii=False)


def approve(bot: BotProcess, slack: FakeSlack, number: int, event_id: str) -> str:
    ts = posted_request(slack, number).reply["ts"]
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id=event_id)
    return ts


def thread_of(slack: FakeSlack, ts: str, containing: str) -> str:
    return slack.wait_for(
        lambda calls: next((c.text for c in calls if c.args.get("thread_ts") == ts and containing in c.text), None)
    )


@pytest.mark.slow
def test_a_revision_pulled_into_the_tree_is_shown_and_applied_by_the_running_bot(bot_on_copy, slack, databases, tree):
    bot = bot_on_copy
    hold_bts(bot, slack)
    bot.command("migrate bts startrackerwide", user=REQUESTER)
    approve(bot, slack, 1, "EvFirst")
    request_state(slack, 1, "succeeded")
    assert f"{FIRST[:8]} head" in status_answer(bot, slack, "status bts startrackerwide")

    pulled = tree / "versions" / "startrackerwide" / "a11ce0000001_add_exposure_pulled_seeing.py"
    pulled.write_text(revision_file("a11ce0000001", FIRST, "pulled_seeing"))
    assert f"{FIRST[:8]} -1" in status_answer(bot, slack, "status bts startrackerwide")

    bot.command("migrate bts startrackerwide", user=REQUESTER)
    ts = approve(bot, slack, 2, "EvPulled")
    request_state(slack, 2, "succeeded")
    assert "startrackerwide: 2c2567f48db5 → a11ce0000001  Add exposure.pulled_seeing" in thread_of(
        slack, ts, "Add exposure.pulled_seeing"
    )
    assert revisions(databases["BTS_DATABASE_URL"], "startrackerwide") == ["a11ce0000001"]
    assert "a11ce000 head" in status_answer(bot, slack, "status bts startrackerwide")


@pytest.mark.slow
def test_an_approval_after_the_tree_changed_is_refused_and_the_request_says_what_changed(
    bot_on_copy, slack, databases, tree
):
    bot = bot_on_copy
    folder = tree / "versions" / "startrackerwide"
    pending = folder / "a11ce0000001_add_exposure_pulled_seeing.py"
    pending.write_text(revision_file("a11ce0000001", FIRST, "pulled_seeing"))
    hold_bts(bot, slack)
    bot.command("migrate bts startrackerwide --to 2c2567f48db5", user=REQUESTER)
    approve(bot, slack, 1, "EvFirst")
    request_state(slack, 1, "succeeded")

    bot.command("migrate bts startrackerwide", user=REQUESTER)
    assert "2c2567f48db5 → a11ce0000001" in json.dumps(posted_request(slack, 2).args["blocks"], ensure_ascii=False)
    pending.write_text(revision_file("a11ce0000001", FIRST, "changed_seeing"))
    (folder / "a11ce0000002_add_exposure_pulled_gust.py").write_text(
        revision_file("a11ce0000002", "a11ce0000001", "pulled_gust")
    )
    ts = approve(bot, slack, 2, "EvSecond")

    updated = request_state(slack, 2, "failed")
    outcome = json.dumps(updated.args["blocks"], ensure_ascii=False)
    says = thread_of(slack, ts, "the migration tree changed")
    for text in (outcome, says):
        assert "startrackerwide at bts: the migration tree changed since this was requested, so nothing was run" in text
        assert "added versions/startrackerwide/a11ce0000002_add_exposure_pulled_gust.py" in text
        assert "changed versions/startrackerwide/a11ce0000001_add_exposure_pulled_seeing.py" in text
        assert "ask again" in text
    assert revisions(databases["BTS_DATABASE_URL"], "startrackerwide") == [FIRST]


def test_a_changed_ini_file_is_read_again(tree, new_database, monkeypatch, tmp_path):
    """The version locations moved by a pull are followed too (here: to a folder with one more revision)."""
    monkeypatch.setenv("BTS_DATABASE_URL", new_database())
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["startrackerwide"],
        alembic_ini=str(tree / "alembic.ini"),
    )  # fmt: skip
    settings = load_settings(config)
    engine = Engine(settings)
    bts = settings.environment("bts")
    assert engine.status([bts], ["startrackerwide"])[0].summary == "empty (1 behind)"

    moved = tree / "versions" / "startrackerwide_next"
    shutil.copytree(tree / "versions" / "startrackerwide", moved)
    (moved / "a11ce0000001_add_exposure_pulled_seeing.py").write_text(
        revision_file("a11ce0000001", FIRST, "pulled_seeing")
    )
    ini = tree / "alembic.ini"
    ini.write_text(ini.read_text().replace("versions/startrackerwide\n", "versions/startrackerwide_next\n"))
    assert engine.status([bts], ["startrackerwide"])[0].summary == "empty (2 behind)"
