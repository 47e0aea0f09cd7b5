"""A statement that rewrites a table holding rows (a volatile default, a type change that is not binary-coercible)
is refused unless the run is given --allow-rewrite: the run fails, rolled back, saying which table and what to
do. A constant default is metadata-only and passes. The plan's lint says it before anyone approves."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.config import Settings, Slack, load_settings
from bot.engine.service import ChangeResult, Direction, Engine, Outcome, Progress
from bot.render import blocks
from bot.services.changes import RequestView
from bot.services.results_text import change_text
from bot.store.models import RequestState
from tests.conftest import libpq, write_config
from tests.support.trees import bundled_copy
from tests.test_online import HEAD, one, versions

LATER = "0411rewrite1"
VOLATILE = 'sa.Column("stamped_at", sa.DateTime(), server_default=sa.text("clock_timestamp()"))'
CONSTANT = 'sa.Column("flag", sa.Integer(), server_default="0", nullable=False)'


def revision(column: str) -> str:
    name = column.split('"')[1]
    return f'''"""A column with a default, on a table that holds rows

Revision ID: {LATER}
Revises: {HEAD}
"""

import sqlalchemy as sa
from alembic import op

revision = "{LATER}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("exposure", {column}, schema="cdb_lsstcam")


def downgrade() -> None:
    op.drop_column("exposure", "{name}", schema="cdb_lsstcam")
'''


Made = tuple[Settings, str, Path]
"""The settings, the database's URL, the configuration file."""


@pytest.fixture
def at_head(tmp_path: Path, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Made]:
    """A bts whose lsstcam is at the bundled head with 200 exposures (analyzed), and a tree with one more
    revision adding the column given."""

    def make(column: str) -> Made:
        tree = bundled_copy(tmp_path, ("lsstcam", f"{LATER}_default.py", revision(column)))
        url = new_database()
        config = write_config(
            tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["lsstcam"],
            alembic_ini=str(tree / "alembic.ini"),
        )  # fmt: skip
        monkeypatch.setenv("BTS_DATABASE_URL", url)
        settings = load_settings(config, environ={"BTS_DATABASE_URL": url})
        assert upgrade(settings, HEAD).ok
        with psycopg.connect(libpq(url), autocommit=True) as connection:
            connection.execute(
                "INSERT INTO cdb_lsstcam.exposure (exposure_id, exposure_name, controller, day_obs, seq_num)"
                " SELECT n, 'MC_O_20261201_' || n, 'O', 20261201, n FROM generate_series(1, 200) AS n"
            )
            connection.execute("ANALYZE cdb_lsstcam.exposure")
        return settings, libpq(url), config

    return make


def upgrade(settings: Settings, to: str, said: list[str] | None = None, *, allow_rewrite: bool = False) -> ChangeResult:
    def progress(news: Progress) -> None:
        if said is not None:
            said.append(news.text)

    return Engine(settings).change(
        settings.environment("bts"), ["lsstcam"], direction=Direction.UPGRADE, to=to, actor="test",
        on_progress=progress, allow_rewrite=allow_rewrite,
    )  # fmt: skip


def column_count(url: str, name: str) -> object:
    return one(url, "SELECT count(*) FROM information_schema.columns WHERE column_name = %s", name)


def lint_rules(settings: Settings) -> list[str]:
    (plan,) = Engine(settings).plan(settings.environment("bts"), ["lsstcam"], to=LATER)
    return [warning.rule for warning in plan.warnings]


def test_a_volatile_default_on_a_table_holding_rows_is_refused_and_rolled_back(at_head):
    settings, url, _ = at_head(VOLATILE)
    refused = upgrade(settings, LATER)
    assert not refused.ok
    outcome = refused.outcomes[0]
    assert outcome.outcome is Outcome.FAILED
    error = outcome.error or ""
    assert "rewrote cdb_lsstcam.exposure (about 200 rows, " in error, error
    assert "ADD COLUMN stamped_at TIMESTAMP WITHOUT TIME ZONE DEFAULT clock_timestamp()" in error, error
    assert error.endswith(
        "Ask again with --allow-rewrite, or add the column without a default and fill it in batches"
    ), error
    assert "rolled back" in change_text(refused)
    assert versions(url) == [HEAD]
    assert column_count(url, "stamped_at") == 0


def test_with_allow_rewrite_the_table_is_rewritten_and_the_thread_says_so(at_head):
    settings, url, _ = at_head(VOLATILE)
    said: list[str] = []
    result = upgrade(settings, LATER, said, allow_rewrite=True)
    assert result.ok, change_text(result)
    assert "rewrote cdb_lsstcam.exposure (about 200 rows, 16 kB) under an exclusive lock, as allowed" in said, said
    assert versions(url) == [LATER]
    assert one(url, "SELECT count(stamped_at) FROM cdb_lsstcam.exposure") == 200, "every row was given its time"


def test_a_constant_default_is_metadata_only_and_passes(at_head):
    settings, url, _ = at_head(CONSTANT)
    said: list[str] = []
    result = upgrade(settings, LATER, said)
    assert result.ok, change_text(result)
    assert said == [
        f"upgrade {HEAD} → {LATER}",
        f"{HEAD} → {LATER}  A column with a default, on a table that holds rows",
    ], "no rewrite said"
    assert versions(url) == [LATER]
    assert one(url, "SELECT sum(flag) FROM cdb_lsstcam.exposure") == 0


def test_the_plan_says_which_statement_would_rewrite_the_table(at_head):
    settings, _, _ = at_head(VOLATILE)
    (plan,) = Engine(settings).plan(settings.environment("bts"), ["lsstcam"], to=LATER)
    (warning,) = [warning for warning in plan.warnings if warning.rule == "table-rewrite"]
    assert warning.table == "cdb_lsstcam.exposure"
    assert warning.message == (
        "adds column stamped_at with a default that calls clock_timestamp(), which rewrites the table under an"
        " exclusive lock; the run refuses it unless --allow-rewrite: add the column without a default and fill it"
        " in batches"
    )


def test_the_plan_of_a_constant_default_warns_of_no_rewrite(at_head):
    settings, _, _ = at_head(CONSTANT)
    assert "table-rewrite" not in lint_rules(settings)


def test_the_terminal_asks_with_allow_rewrite_and_the_audit_trail_says_so(at_head, consdb_bot):
    _, url, config = at_head(VOLATILE)
    refused = consdb_bot("upgrade", "bts", "lsstcam", "--yes", "--config", str(config))
    assert refused.code == 1
    assert "Ask again with --allow-rewrite" in refused.text
    assert versions(url) == [HEAD]

    allowed = consdb_bot("upgrade", "bts", "lsstcam", "--allow-rewrite", "--yes", "--config", str(config))
    assert allowed.code == 0, allowed.text
    assert "a table rewrite was allowed with --allow-rewrite" in allowed.text
    assert "rewrote cdb_lsstcam.exposure (about 200 rows, 16 kB) under an exclusive lock, as allowed" in allowed.text
    assert versions(url) == [LATER]
    trail = json.loads(consdb_bot("audit", "bts", "--json", "--config", str(config)).out)
    said = {record["action"]: record for record in trail if record["request_id"] == 2}
    requested, finished = said["requested"], said["succeeded"]
    assert requested["summary"].endswith("requested (a table rewrite was allowed with --allow-rewrite)")
    assert finished["summary"] == "#2 upgrade succeeded (a table rewrite was allowed with --allow-rewrite)"
    assert requested["detail"]["allow_rewrite"] is finished["detail"]["allow_rewrite"] is True


def test_a_request_in_slack_shows_that_it_allows_a_rewrite():
    at = datetime(2026, 12, 16, 12, tzinfo=UTC)
    view = RequestView(
        id=4, kind="upgrade", environment="bts", environment_title="bts", requester="U0REQUEST1",
        state=RequestState.REQUESTED, ticket=None, ranges={"latiss": "05689cf3f8f0 → 0411rewrite1"}, warnings=[],
        required=1, approvers=[], rejecters=[], expires_at=at, allow_rewrite=True,
    )  # fmt: skip
    shown = json.dumps(blocks.request_message(view, Slack()), ensure_ascii=False)
    assert ":warning: *Table rewrite allowed (`--allow-rewrite`)*" in shown
    plain = json.dumps(blocks.request_message(dataclasses.replace(view, allow_rewrite=False), Slack()))
    assert "--allow-rewrite" not in plain
