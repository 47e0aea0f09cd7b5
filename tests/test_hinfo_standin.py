"""The sandbox's hinfo stand-in, on real PostgreSQL: after a migration it writes that night's exposures into
the migrated tables, the new columns filled, and says so in upstream's lines; ``logs hinfo`` and ``check
data`` read what it did. Its clock and the Kubernetes stand-in's are the test's; it is stepped by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.sandbox.standins.hinfo import FakeHinfo
from bot.sandbox.standins.kubernetes import Deployment, FakeKube
from bot.terminal import cli
from tests.conftest import Result, libpq, write_config
from tests.support.clock import Clock
from tests.support.trees import bundled_copy, columns_revision

MIGRATED_AT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
HEAD = "a11ce0000001"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The bundled tree and one more latiss revision, adding columns to exposure and ccdexposure."""
    added = {
        "exposure": [("dimm_seeing_new", "Float"), ("fid_note", "Text")],
        "ccdexposure": [("ccd_temp_new", "Float")],
    }
    return bundled_copy(tmp_path, columns_revision("latiss", "05689cf3f8f0", HEAD, added))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock for the terminal (a migration's end, ``check data``), the stand-in and the Kubernetes stand-in."""
    moment = Clock(MIGRATED_AT - timedelta(minutes=5))
    monkeypatch.setattr(cli, "now", moment)
    return moment


@pytest.fixture
def bts(tmp_path: Path, tree: Path, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    url = new_database()
    monkeypatch.setenv("BTS_DATABASE_URL", url)
    extra = "    kubernetes: {context: base, namespace: consdb}\n    hinfo: {latiss: consdb-hinfo-latiss}\n"
    write_config(tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss"],
                 alembic_ini=str(tree / "alembic.ini"), extra=extra)  # fmt: skip
    return url


@pytest.fixture
def bot(consdb_bot: Callable[..., Result], tmp_path: Path) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        return consdb_bot(*args, "--config", str(tmp_path / "consdb-bot.yaml"))

    return run


@pytest.fixture
def hinfo(bot: Callable[..., Result], bts: str, clock: Clock) -> FakeHinfo:
    """latiss at bts one revision behind the head, and hinfo started there."""
    upgraded = bot("upgrade", "bts", "latiss", "--to", "05689cf3f8f0", "--yes")
    assert upgraded.code == 0, upgraded.text
    stand_in = FakeHinfo(libpq(bts), "latiss", schema_name="cdb_latiss", version_table=("cdb", "cdb_latiss_version"),
                         host="s3.ls.lsst.org", clock=clock)  # fmt: skip
    stand_in.start()
    return stand_in


@pytest.fixture
def kube(hinfo: FakeHinfo, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    with FakeKube(now=lambda: clock().timestamp()) as fake:
        fake.add(Deployment("consdb-hinfo-latiss", replicas=1, logs=hinfo.log))
        monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kubeconfig", ["base"])))
        yield fake


def migrate(bot: Callable[..., Result], clock: Clock) -> None:
    clock.moment = MIGRATED_AT
    result = bot("upgrade", "bts", "latiss", "--yes")
    assert result.code == 0, result.text


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq(url)) as connection:
        return connection.execute(query).fetchall()


def test_nothing_is_written_until_a_migration(hinfo, clock):
    clock.moment += timedelta(minutes=1)
    assert hinfo.step() == []
    assert rows(hinfo.url, "SELECT count(*) FROM cdb_latiss.exposure") == [(0,)]
    assert hinfo.log.text() == [
        "INFO 2026-12-01 13:55:00,000 consdb.hinfo (hinfo.py:784) - instrument='LATISS'",
        "INFO 2026-12-01 13:55:00,000 consdb.hinfo (hinfo.py:949) - Consumer started",
    ]


def test_after_a_migration_the_nights_exposures_fill_the_new_columns_and_are_said_as_upstream_says(
    hinfo, bot, clock, bts
):
    migrate(bot, clock)
    assert hinfo.step() == [], "the migration is seen; the first image is not taken yet"
    clock.moment = MIGRATED_AT + timedelta(seconds=2.999)
    assert hinfo.step() == []
    clock.moment = MIGRATED_AT + timedelta(seconds=3, milliseconds=250)
    assert [(w.day_obs, w.seq_num) for w in hinfo.step()] == [(20261201, 1)]
    clock.moment = MIGRATED_AT + timedelta(seconds=20)
    assert [(w.day_obs, w.seq_num) for w in hinfo.step()] == [(20261201, 2), (20261201, 3)]
    clock.moment += timedelta(minutes=5)
    assert hinfo.step() == [], "three images after each migration"

    exposures = rows(bts, "SELECT day_obs, seq_num, exposure_id, exposure_name, obs_start, dimm_seeing_new, fid_note"
                          " FROM cdb_latiss.exposure ORDER BY seq_num")  # fmt: skip
    assert exposures == [
        (20261201, 1, 2026120100001, "AT_O_20261201_000001", datetime(2026, 12, 1, 14, 0, 39), 0.5, "sandbox"),
        (20261201, 2, 2026120100002, "AT_O_20261201_000002", datetime(2026, 12, 1, 14, 0, 42), 0.5, "sandbox"),
        (20261201, 3, 2026120100003, "AT_O_20261201_000003", datetime(2026, 12, 1, 14, 0, 45), 0.5, "sandbox"),
    ], "obs_start in TAI, 37 s ahead of UTC, as hinfo writes it"
    assert rows(bts, "SELECT ccdexposure_id, exposure_id, day_obs, seq_num, detector, ccd_temp_new"
                     " FROM cdb_latiss.ccdexposure ORDER BY seq_num") == [
        (2026120100001000, 2026120100001, 20261201, 1, 0, 0.5),
        (2026120100002000, 2026120100002, 20261201, 2, 0, 0.5),
        (2026120100003000, 2026120100003, 20261201, 3, 0, 0.5),
    ]  # fmt: skip

    header = "ATHeaderService_header_AT_O_20261201_000001.yaml"
    assert hinfo.log.text()[2:6] == [
        "INFO 2026-12-01 14:00:03,250 consdb.hinfo (hinfo.py:899) - Received Kafka message for resource:"
        f" https://s3.ls.lsst.org/rubinobs-lfa-cp/ATHeaderService/header/2026/12/01/{header}",
        f"INFO 2026-12-01 14:00:03,250 consdb.hinfo (hinfo.py:594) - Obtained for processing: {header}",
        f"INFO 2026-12-01 14:00:03,250 consdb.hinfo (hinfo.py:628) - Completed metadata translation: {header}",
        "INFO 2026-12-01 14:00:03,250 consdb.hinfo (hinfo.py:694) - Committed to exposure and ccdexposure table:"
        f" {header} (20261201/1)",
    ]
    last = hinfo.log.count - 1
    assert hinfo.log.line(last).startswith("INFO 2026-12-01 14:00:20,000 consdb.hinfo (hinfo.py:694) - Committed")
    assert all(hinfo.log.written(i) <= clock().timestamp() for i in range(hinfo.log.count)), "none in the future"


def test_logs_hinfo_and_check_data_read_what_it_did(hinfo, bot, clock, kube):
    migrate(bot, clock)
    hinfo.step()
    clock.moment = MIGRATED_AT + timedelta(seconds=10)
    hinfo.step()

    logs = bot("logs", "hinfo", "latiss", "bts", "--since", "1m")
    assert logs.code == 0, logs.text
    assert "0 error or warning lines" in logs.out
    assert "3 exposures committed to exposure and ccdexposure, the last 20261201/3 (day_obs/seq_num)" in logs.out
    assert "instrument='LATISS'" not in logs.out, "written before the minute asked for"

    check = bot("check", "data", "bts", "latiss")
    assert check.code == 0, check.text
    assert check.out.splitlines()[0] == (
        "latiss at bts: 3 exposures since 14:00 +00 (20261201/1\N{EN DASH}3), 3 ccdexposure rows; new columns:"
        " dimm_seeing_new filled 3/3, fid_note filled 3/3, ccdexposure.ccd_temp_new filled 3/3"
    )


def test_a_night_turns_at_noon_tai_whatever_the_test_stands_time_zone_and_seq_num_goes_on(hinfo, bot, bts, clock):
    """ConsDB's day_obs is the date twelve hours behind TAI: at La Serena (UTC-3 in December) the night of
    20261201 runs to 08:59:23 on the 2nd; the night's numbers go on from the last one written."""
    with psycopg.connect(libpq(bts)) as connection:
        connection.execute(
            "INSERT INTO cdb_latiss.exposure (exposure_id, exposure_name, controller, day_obs, seq_num)"
            " VALUES (2026120100041, 'AT_O_20261201_000041', 'O', 20261201, 41)"
        )
    hinfo.cadence = timedelta(minutes=1)
    clock.moment = datetime(2026, 12, 2, 11, 58, tzinfo=UTC)
    assert bot("upgrade", "bts", "latiss", "--yes").code == 0
    hinfo.step()
    clock.moment = datetime(2026, 12, 2, 12, 1, tzinfo=UTC)
    written = hinfo.step()
    assert [(w.day_obs, w.seq_num) for w in written] == [(20261201, 42), (20261202, 1), (20261202, 2)]
    assert written[1].resource == "ATHeaderService_header_AT_O_20261202_000001.yaml"


def test_an_exposure_that_cannot_be_written_is_an_error_in_the_log_as_hinfo_says_it(hinfo, bot, clock, bts, kube):
    """A NOT NULL column of a type the stand-in does not fill: the insert fails, the exposure is lost, and
    ``logs hinfo`` puts the error first."""
    with psycopg.connect(libpq(bts)) as connection:
        connection.execute("ALTER TABLE cdb_latiss.exposure ADD COLUMN tags integer[] NOT NULL")
    migrate(bot, clock)
    hinfo.step()
    clock.moment = MIGRATED_AT + timedelta(seconds=4)
    assert hinfo.step() == []
    assert hinfo.log.text()[-2:] == [
        "ERROR 2026-12-01 14:00:04,000 consdb.hinfo (hinfo.py:913) - Exception while handling"
        " https://s3.ls.lsst.org/rubinobs-lfa-cp/ATHeaderService/header/2026/12/01/"
        "ATHeaderService_header_AT_O_20261201_000001.yaml",
        'psycopg.errors.NotNullViolation: null value in column "tags" of relation "exposure" violates not-null'
        " constraint",
    ]
    logs = bot("logs", "hinfo", "latiss", "bts")
    assert "1 error or warning line:\n  ERROR 2026-12-01 14:00:04,000" in logs.out
    assert "0 exposures committed" in logs.out
