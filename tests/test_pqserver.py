"""pqserver as lsst-dm/consdb serves it (the stand-in, at upstream's paths and in its shapes), and the check
every restart ends with: pqserver's columns against the database's, table by table."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import psycopg
import pytest

from bot.clients.pqserver import SchemaCheck, Seen, TableCheck, Unknown, Wanted, check_served
from bot.config import parse_settings
from bot.engine.columns import table_columns
from bot.engine.database import DatabaseUrl
from bot.engine.progress import added_columns
from bot.render import blocks, text
from bot.sandbox.standins.pqserver import FakePqServer
from bot.services.changes import PqserverChecked
from tests.conftest import libpq
from tests.support.bot_process import free_port

CHANGE = "#4 upgrade latiss"


@pytest.fixture
def database(new_database) -> str:
    """cdb_latiss with two tables and a view (pqserver serves tables only), and an EFD schema it does not serve."""
    url = new_database()
    sql(url, "CREATE SCHEMA cdb_latiss",
        "CREATE TABLE cdb_latiss.exposure (exposure_id bigint PRIMARY KEY, day_obs integer NOT NULL, seq_num integer)",
        "CREATE TABLE cdb_latiss.visit1 (visit_id bigint PRIMARY KEY, note varchar(20))",
        "CREATE VIEW cdb_latiss.exposure_view AS SELECT exposure_id FROM cdb_latiss.exposure",
        "CREATE SCHEMA efd_latiss", "CREATE TABLE efd_latiss.topic (a integer)")  # fmt: skip
    return url


@pytest.fixture
def pqserver(database: str):
    """pqserver, running since before anything below changes the database: it has read latiss already."""
    with FakePqServer(database) as fake:
        get(fake.url + "/consdb/schema/latiss/exposure")
        yield fake


def sql(url: str, *statements: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as db:
        for statement in statements:
            db.execute(statement)


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def bts(url: str | None):
    pq = f", pqserver_url: '{url}'" if url else ""
    return parse_settings(
        f"schemas: [latiss]\nenvironments:\n  bts: {{hinfo: {{latiss: h}}{pq}}}\n", environ={}
    ).environment("bts")


def check(pqserver: FakePqServer | None, database: str, wanted: Wanted) -> SchemaCheck:
    """The check as a restart ends with it: the database's columns read, then pqserver's asked."""
    columns = table_columns(DatabaseUrl.parse(database, key="bts"), ["cdb_latiss"], place="bts", connect_timeout=5)
    return check_served(bts(pqserver.url if pqserver else None), wanted, columns, change=CHANGE, timeout=5)


def said(check: SchemaCheck) -> tuple[str, str]:
    """The check as a request's Slack thread and the terminal say it."""
    return blocks.event_line(PqserverChecked(check)), text.event_line(PqserverChecked(check))


def test_the_stand_in_answers_at_upstreams_paths_in_its_shapes(pqserver):
    base = pqserver.url + "/consdb"
    assert get(base + "/schema") == (200, ["latiss"])
    assert get(base + "/")[1]["instruments"] == ["latiss"]
    status, tables = get(base + "/schema/latiss")
    assert (status, sorted(tables)) == (200, ["cdb_latiss.exposure", "cdb_latiss.visit1"])
    exposure = {"exposure_id": ["BIGINT", None], "day_obs": ["INTEGER", None], "seq_num": ["INTEGER", None]}
    assert get(base + "/schema/latiss/exposure") == (200, exposure)
    assert get(base + "/schema/latiss/cdb_latiss.exposure") == (200, exposure)
    assert get(base + "/schema/latiss/visit1")[1]["note"] == ["VARCHAR(20)", None]
    status, unknown = get(base + "/schema/latiss/exposure_view")
    assert (status, unknown["message"], unknown["value"]) == (404, "Unknown table", "cdb_latiss.exposure_view")
    assert get(base + "/schema/lsstcam") == (
        404,
        {"message": "Unknown instrument", "valid": ["latiss"], "value": "lsstcam"},
    )
    assert get(base + "/nothing") == (404, {"detail": "Not Found"})


def test_like_pqserver_it_serves_what_it_read_until_it_is_restarted(pqserver, database):
    columns = pqserver.url + "/consdb/schema/latiss/exposure"
    sql(database, "ALTER TABLE cdb_latiss.exposure ADD COLUMN exposure_time double precision")
    assert "exposure_time" not in get(columns)[1]
    pqserver.restart()
    assert get(columns)[1]["exposure_time"] == ["DOUBLE PRECISION", None]


def test_a_restarted_pqserver_agrees_table_by_table(pqserver, database):
    sql(database, "ALTER TABLE cdb_latiss.exposure ADD COLUMN exposure_time double precision")
    pqserver.restart()
    result = check(pqserver, database, {"latiss": ["exposure"]})
    assert result.tables == [TableCheck("cdb_latiss.exposure", columns=4)]
    slack, terminal = said(result)
    assert (
        slack
        == terminal
        == (
            "pqserver at bts agrees with the database on the tables #4 upgrade latiss added columns to:\n"
            "  cdb_latiss.exposure: agrees (4 columns)"
        )
    )


def test_a_pqserver_not_restarted_lacks_the_new_column_and_says_which(pqserver, database):
    sql(database, "ALTER TABLE cdb_latiss.exposure ADD COLUMN exposure_time double precision")
    result = check(pqserver, database, {"latiss": ["exposure"]})
    assert result.tables == [TableCheck("cdb_latiss.exposure", lacks={"exposure_time": "double precision"}, columns=3)]
    assert result.worrying
    slack, terminal = said(result)
    assert slack.startswith(
        ":warning: pqserver at bts does not serve what the database has, on the tables #4 upgrade latiss added columns to:"
    )
    assert terminal.startswith("warning: pqserver at bts does not serve")
    assert "  cdb_latiss.exposure: pqserver lacks exposure_time (double precision)\n" in terminal
    assert "was not restarted since, or is not the one restarted" in terminal


def test_after_a_downgrade_pqserver_not_restarted_has_the_dropped_column_extra(pqserver, database):
    sql(database, "ALTER TABLE cdb_latiss.exposure DROP COLUMN seq_num")
    result = check(pqserver, database, {"latiss": None})
    assert result.tables == [
        TableCheck("cdb_latiss.exposure", extra={"seq_num": "INTEGER"}, columns=2),
        TableCheck("cdb_latiss.visit1", columns=2),
    ]
    terminal = said(result)[1]
    assert (
        "  cdb_latiss.exposure: pqserver has extra seq_num (INTEGER)\n  cdb_latiss.visit1: agrees (2 columns)"
        in terminal
    )


def test_every_table_is_compared_when_the_change_added_no_column(pqserver, database):
    """A new table pqserver does not know, a dropped one it still lists; views and the EFD schema are left out."""
    sql(database, "CREATE TABLE cdb_latiss.visit2 (visit_id bigint)", "DROP TABLE cdb_latiss.visit1")
    result = check(pqserver, database, {"latiss": None})
    assert result.tables == [
        TableCheck("cdb_latiss.exposure", columns=3),
        TableCheck("cdb_latiss.visit1", gone=True),
        TableCheck("cdb_latiss.visit2", unknown=Unknown.TABLE),
    ]
    terminal = said(result)[1]
    assert "cdb_latiss.visit1: pqserver lists it; the database has no such table" in terminal
    assert "cdb_latiss.visit2: pqserver does not know this table" in terminal


def test_a_schema_made_after_pqserver_started_is_an_instrument_it_does_not_know(pqserver, database):
    sql(database, "CREATE SCHEMA cdb_lsstcam", "CREATE TABLE cdb_lsstcam.exposure (exposure_id bigint)")
    columns = table_columns(DatabaseUrl.parse(database, key="bts"), ["cdb_lsstcam"], place="bts", connect_timeout=5)
    result = check_served(bts(pqserver.url), {"lsstcam": None}, columns, change=CHANGE, timeout=5)
    assert result.tables == [TableCheck("cdb_lsstcam.exposure", unknown=Unknown.INSTRUMENT)]
    assert "cdb_lsstcam.exposure: pqserver does not know its instrument" in said(result)[1]


def test_many_tables_that_agree_are_named_on_one_line_and_many_columns_are_counted(pqserver, database):
    sql(database, *(f"CREATE TABLE cdb_latiss.t{i} (a integer)" for i in range(10)))
    sql(database, *(f"ALTER TABLE cdb_latiss.visit1 ADD COLUMN c{i:02} real" for i in range(25)))
    pqserver.restart()
    get(pqserver.url + "/consdb/schema/latiss")
    sql(database, *(f"ALTER TABLE cdb_latiss.visit1 DROP COLUMN c{i:02}" for i in range(25)))
    lines = said(check(pqserver, database, {"latiss": None}))[1].splitlines()
    assert lines[1].startswith("  cdb_latiss.visit1: pqserver has extra c00 (REAL), c01 (REAL), ")
    assert lines[1].endswith(", c19 (REAL) and 5 more")
    assert lines[2].startswith("  11 tables agree: cdb_latiss.exposure, cdb_latiss.t0, ")


def test_without_a_url_or_a_server(database):
    unset = check(None, database, {"latiss": None})
    assert unset.seen is Seen.NOT_ASKED
    assert "pqserver_url is not set" in said(unset)[0]
    silent = check_served(bts(f"http://127.0.0.1:{free_port()}"), {"latiss": None}, {}, change=CHANGE, timeout=5)
    assert silent.seen is Seen.NO_ANSWER
    assert "did not answer the schema check" in said(silent)[0]


def test_added_columns_come_from_what_ran():
    statements = [
        "ALTER TABLE cdb_latiss.exposure ADD COLUMN seq_num INTEGER",
        'ALTER TABLE "cdb_latiss"."exposure" ADD "dimm_seeing" FLOAT',
        "ALTER TABLE cdb_latiss.exposure ADD CONSTRAINT un_x UNIQUE (seq_num)",
        "CREATE INDEX ix ON cdb_latiss.exposure (seq_num)",
    ]
    assert added_columns(statements) == {"exposure": ["seq_num", "dimm_seeing"]}
