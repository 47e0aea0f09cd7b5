"""``check data ENV INSTRUMENT``: the exposures hinfo wrote since the latest migration, and which of its new
columns they fill; and the hinfo watch saying the same after a test-stand migration. On real PostgreSQL,
with a copy of the bundled tree that has one more revision adding columns, as a schema change does."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bot.clients.kube import LogExcerpt
from bot.engine import exposures
from bot.render import blocks, text
from bot.sandbox.standins.slack import FakeSlack
from bot.services.changes import HinfoVerdict
from bot.services.changes.data import DataCheck, Migration, NewColumn
from bot.terminal import cli
from tests.conftest import close_database, libpq, write_config
from tests.support.bot_process import BotProcess
from tests.support.clock import Clock
from tests.support.slack_bot import APPROVER_1, BTS_CHANNEL, REQUESTER, hold_bts, posted_request, request_state
from tests.support.trees import bundled_copy, columns_revision

MIGRATED_AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
NIGHT = 20261201
"""The night of MIGRATED_AT as ConsDB numbers it (the date twelve hours behind)."""
TAI = timedelta(seconds=37)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The bundled tree, and a revision each of latiss and startrackerwide adding columns."""
    latiss = {
        "exposure": [("dimm_seeing_new", "Float"), ("fid_note", "Text")],
        "ccdexposure": [("ccd_temp_new", "Float")],
        "visit1_quicklook": [("psf_new", "Float")],
    }
    return bundled_copy(
        tmp_path,
        columns_revision("latiss", "05689cf3f8f0", "a11ce0000001", latiss),
        columns_revision("startrackerwide", "2c2567f48db5", "a11ce0000002", {"exposure": [("star_count", "Integer")]}),
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The terminal's clock: the store stamps a migration's end with it, and ``check data`` reads it."""
    moment = Clock(MIGRATED_AT)
    monkeypatch.setattr(cli, "now", moment)
    return moment


@pytest.fixture
def bts(tmp_path: Path, tree: Path, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = new_database()
    monkeypatch.setenv("BTS_DATABASE_URL", url)
    write_config(tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"},
                 schemas=["latiss", "startrackerwide", "lsstcam"], alembic_ini=str(tree / "alembic.ini"))  # fmt: skip
    return url


@pytest.fixture
def check(consdb_bot: Callable[..., object], tmp_path: Path) -> Callable[..., object]:
    """``consdb-bot ARGS... --config`` the test's configuration."""
    return lambda *args: consdb_bot(*args, "--config", str(tmp_path / "consdb-bot.yaml"))


def migrate(check: Callable[..., object], schema: str) -> None:
    result = check("upgrade", "bts", schema, "--yes")
    assert result.code == 0, result.text  # type: ignore[attr-defined]


def exposure(url: str, schema: str, seq_num: int, observed: datetime, *, detectors: int = 0,
             **columns: object) -> None:  # fmt: skip
    """An exposure as hinfo writes it (obs_start in TAI), with ``detectors`` ccdexposure rows."""
    exposure_id = NIGHT * 100_000 + seq_num
    values = {"exposure_id": exposure_id, "day_obs": NIGHT, "seq_num": seq_num,
              "obs_start": (observed + TAI).replace(tzinfo=None)}  # fmt: skip
    if schema == "latiss":
        values |= {"exposure_name": f"AT_O_{NIGHT}_{seq_num:06d}", "controller": "O"}
    values |= {name: value for name, value in columns.items() if not name.startswith("ccd_")}
    with psycopg.connect(libpq(url)) as connection:
        connection.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(f"cdb_{schema}", "exposure"),
                sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(sql.Placeholder() * len(values)),
            ),
            list(values.values()),
        )
        for detector in range(detectors):
            connection.execute(
                sql.SQL(
                    "INSERT INTO {} (ccdexposure_id, exposure_id, day_obs, seq_num, detector, ccd_temp_new)"
                    " VALUES (%s, %s, %s, %s, %s, %s)"
                ).format(sql.Identifier(f"cdb_{schema}", "ccdexposure")),
                (exposure_id * 1000 + detector, exposure_id, NIGHT, seq_num, detector, columns.get("ccd_temp_new")),
            )


def at(minutes: float) -> datetime:
    return MIGRATED_AT + timedelta(minutes=minutes)


@pytest.fixture
def latiss(check: Callable[..., object], bts: str, clock: Clock) -> str:
    """latiss migrated at 14:00 (adding three columns to the tables hinfo writes, one to another), one
    exposure before and three after, each with two detectors; fid_note filled by none of them."""
    migrate(check, "latiss")
    exposure(bts, "latiss", 11, at(-10), detectors=2, dimm_seeing_new=0.7, ccd_temp_new=-100.0)
    for seq_num, minutes in ((12, 2), (13, 4), (14, 6)):
        exposure(bts, "latiss", seq_num, at(minutes), detectors=2, dimm_seeing_new=0.8, ccd_temp_new=-101.0)
    clock.moment = at(10)
    return bts


def test_the_exposures_since_the_migration_and_each_new_column_filled_or_empty(check, latiss):
    result = check("check", "data", "bts", "latiss")
    lines = result.out.splitlines()
    assert lines[0] == (
        "latiss at bts: 3 exposures since 14:00 +00 (20261201/12\N{EN DASH}14), 6 ccdexposure rows; new columns:"
        " dimm_seeing_new filled 3/3, fid_note empty 0/3, ccdexposure.ccd_temp_new filled 6/6"
    )
    assert lines[1] == "since the latest migration: request #1, upgrade base → a11ce0000001, finished 14:00 +00"
    assert "not checked (hinfo writes exposure and ccdexposure only): visit1_quicklook.psf_new" in lines
    assert (
        "warning: fid_note is empty in all 3 exposure rows: hinfo does not fill it (logs hinfo latiss bts shows why)"
        in lines
    )
    assert sum(line.startswith("warning:") for line in lines) == 1
    assert result.code == 1, "an empty new column fails the check"

    as_json = json.loads(check("check", "data", "bts", "latiss", "--json").out)
    assert (as_json["exposures"], as_json["first"], as_json["last"], as_json["ok"]) == (
        3,
        "20261201/12",
        "20261201/14",
        False,
    )
    assert {column["column"]: column["filled"] for column in as_json["columns"]} == {
        "dimm_seeing_new": 3, "fid_note": 0, "ccd_temp_new": 6,
    }  # fmt: skip


def test_once_hinfo_fills_every_new_column_the_check_passes(check, latiss):
    with psycopg.connect(libpq(latiss)) as connection:
        connection.execute("UPDATE cdb_latiss.exposure SET fid_note = 'ok' WHERE seq_num >= 13")
    result = check("check", "data", "bts", "latiss")
    assert result.code == 0, result.text
    assert "dimm_seeing_new filled 3/3, fid_note filled 2/3, ccdexposure.ccd_temp_new filled 6/6" in result.out
    assert "warning" not in result.out


def test_since_counts_the_exposures_observed_within_it_in_tai(check, latiss):
    wider = check("check", "data", "bts", "latiss", "--since", "30m")
    assert "4 exposures since 13:40 +00 (20261201/11\N{EN DASH}14), 8 ccdexposure rows" in wider.out
    assert "the last 30m; new columns of the latest migration: request #1" in wider.out
    # 14:05 UTC is 14:05:37 TAI: the exposure that started at 14:04 UTC (14:04:37 TAI) is before it.
    narrower = check("check", "data", "bts", "latiss", "--since", "5m")
    assert "1 exposure since 14:05 +00 (20261201/14), 2 ccdexposure rows" in narrower.out
    quiet = check("check", "data", "bts", "latiss", "--since", "1m")
    assert quiet.out.startswith(
        "latiss at bts: no exposure since 14:09 +00; new columns, with no row to look at: dimm_seeing_new, fid_note,"
        " ccdexposure.ccd_temp_new\n"
    )
    assert "warning: no exposure was observed since 14:09 +00: take an image, then check again" in quiet.out
    assert quiet.code == 1


def test_a_schema_without_ccdexposure(check, bts, clock):
    migrate(check, "startrackerwide")
    exposure(bts, "startrackerwide", 1, at(1), star_count=41)
    exposure(bts, "startrackerwide", 2, at(2))
    clock.moment = at(5)
    result = check("check", "data", "bts", "startrackerwide")
    assert result.out.splitlines()[0] == (
        "startrackerwide at bts: 2 exposures since 14:00 +00 (20261201/1\N{EN DASH}2); new columns: star_count filled 1/2"
    )
    assert "ccdexposure" not in result.out
    assert result.code == 0, result.text


def test_a_schema_never_migrated_there_has_no_exposure_table(check, bts, clock):
    result = check("check", "data", "bts", "lsstcam")
    assert result.code == 1
    assert "cdb_lsstcam at bts has no exposure table" in result.err


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (("check", "data", "bts", "nosuch"), "unknown schema 'nosuch'"),
        (("check", "data", "nowhere", "latiss"), "unknown environment 'nowhere'"),
        (("check", "data", "bts", "latiss", "--since", "5x"), "'5x' is not a duration; write it as 15m, 2h, 1h30m or 1d"),
        (("check", "data", "bts"), "the following arguments are required: INSTRUMENT"),
        (("check", "data", "bts", "latiss", "--since", "400d"), "a DURATION is at most 365d"),
    ],
)  # fmt: skip
def test_bad_input_is_answered_with_usage_and_exit_2(check, bts, words, says):
    result = check(*words)
    assert result.code == 2
    assert says in result.err
    assert "usage:" in result.err or "schemas:" in result.err or "environments:" in result.err


def test_an_unreachable_database_is_said_with_what_to_do(check, bts, clock, server_url):
    close_database(server_url, bts, closed=True)
    try:
        result = check("check", "data", "bts", "latiss")
    finally:
        close_database(server_url, bts, closed=False)
    assert result.code == 1
    assert "cannot reach" in result.err
    assert "Check that the server is up" in result.err


def test_a_read_held_up_is_stopped_by_its_statement_timeout(check, latiss, monkeypatch):
    """A table locked by someone else does not hold the check: its reads stop at their timeout."""
    monkeypatch.setattr(exposures, "STATEMENT_TIMEOUT", "200ms")
    with psycopg.connect(libpq(latiss)) as holder:
        holder.execute("LOCK TABLE cdb_latiss.exposure IN ACCESS EXCLUSIVE MODE")
        result = check("check", "data", "bts", "latiss")
    assert result.code == 1
    assert "reading cdb_latiss.exposure at bts failed: canceling statement due to statement timeout" in result.err
    assert "Each read here stops after 200ms" in result.err


@pytest.fixture
def watched(config: Path, tree: Path) -> Path:
    """The Slack tests' configuration on the tree with new columns, the watch 10 minutes after."""
    text = config.read_text().replace(
        "migrations: {connect_timeout_seconds: 2}",
        f"migrations: {{alembic_ini: {tree / 'alembic.ini'}, connect_timeout_seconds: 2}}",
    )
    config.write_text(text.replace("hinfo_watch_minutes: 0.005", "hinfo_watch_minutes: 10"))
    return config


@pytest.mark.slow
def test_the_hinfo_watch_and_slack_say_which_new_columns_hinfo_fills(watched, slack, databases, kube, tmp_path):
    """Migrated in Slack at 14:00; hinfo writes three exposures; at 14:11 the watch's verdict says
    what the database has, and ``/consdb check data`` says it in full."""
    environ = {**databases, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    with BotProcess(watched, slack.url, environ=environ, clock_at=MIGRATED_AT) as first:
        hold_bts(first, slack)
        first.command("migrate bts latiss", user=REQUESTER, channel=BTS_CHANNEL)
        ts = posted_request(slack, 1).reply["ts"]
        first.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvData")
        request_state(slack, 1, "succeeded")
    bts = databases["BTS_DATABASE_URL"]
    for seq_num in (12, 13, 14):  # written after the migration, whenever the bot's run ended
        exposure(bts, "latiss", seq_num, at(seq_num - 10 + 2), detectors=1, dimm_seeing_new=0.8, ccd_temp_new=-1.0)

    with BotProcess(watched, slack.url, environ=environ, clock_at=at(11)) as second:
        verdict = thread_line(slack, ts, "hinfo latiss")
        assert (
            "The database has 3 exposures since the migration (20261201/12\N{EN DASH}14); :warning: new columns"
            " empty: `fid_note` (filled: `dimm_seeing_new`, `ccdexposure.ccd_temp_new`)." in verdict
        )
        second.command("check data bts latiss", channel=BTS_CHANNEL)
        answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Data of latiss at bts"), None))
    shown = json.dumps(answer.args["blocks"], ensure_ascii=False)
    assert "`dimm_seeing_new` filled 3/3, `fid_note` empty 0/3, `ccdexposure.ccd_temp_new` filled 3/3" in shown
    assert ":warning: `fid_note` is empty in all 3 exposure rows" in shown


def thread_line(slack: FakeSlack, ts: str, start: str) -> str:
    return slack.wait_for(
        lambda calls: next((c.text for c in calls if c.args.get("thread_ts") == ts and c.text.startswith(start)), None)
    )


def test_the_watch_verdict_says_the_new_columns_are_filled_or_why_the_database_was_not_read():
    excerpt = LogExcerpt(deployment="hinfo-latiss", namespace="consdb", pods=["hinfo-latiss-0"], problems=[],
                         committed=1, last_exposure="20261201/12", tail=[])  # fmt: skip
    migration = Migration(3, "upgrade", "05689cf3f8f0 → a11ce0000001", at(0), {"exposure": ["dimm_seeing_new"]})
    filled = DataCheck("bts", "latiss", "UTC", at(10), at(0), None, migration, 1, "20261201/12", "20261201/12", 2,
                       [NewColumn("exposure", "dimm_seeing_new", 1, 1)])  # fmt: skip
    verdict = HinfoVerdict.of("latiss", excerpt, 10, filled)
    assert blocks.event_line(verdict).endswith(
        "1 exposure committed (the last 20261201/12); no errors or warnings. The database has 1 exposure since the"
        " migration (20261201/12) and the new columns are filled: `dimm_seeing_new`."
    )
    assert text.event_line(verdict).endswith("and the new columns are filled: dimm_seeing_new.")
    unread = HinfoVerdict.of("latiss", excerpt, 10, "cannot reach postgresql://bts/consdb")
    assert blocks.event_line(unread).endswith(
        ":warning: The database could not be read: cannot reach postgresql://bts/consdb."
    )
