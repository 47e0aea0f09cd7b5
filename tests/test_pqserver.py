"""After a restart: does pqserver list what the migration added? And which columns did it add?"""

from __future__ import annotations

import pytest

from bot.clients.pqserver import SchemaCheck, Seen, schema_check
from bot.config import parse_settings
from bot.engine.progress import added_columns
from bot.render import blocks, text
from bot.sandbox.standins.pqserver import FakePqServer
from bot.services.changes import PqserverChecked
from tests.support.bot_process import free_port


def bts(url: str | None):
    pq = f", pqserver_url: '{url}'" if url else ""
    settings = parse_settings(f"schemas: [latiss]\nenvironments:\n  bts: {{hinfo: {{latiss: h}}{pq}}}\n", environ={})
    return settings.environment("bts")


@pytest.fixture
def pqserver():
    with FakePqServer({"latiss": {"exposure": ["exposure_id", "seq_num"], "visit1": ["visit_id"]}}) as fake:
        yield fake


def said(check: SchemaCheck) -> tuple[str, str]:
    """The check as a request's Slack thread and the terminal say it."""
    return blocks.event_line(PqserverChecked(check)), text.event_line(PqserverChecked(check))


@pytest.mark.parametrize(
    ("expected", "seen", "says"),
    [
        ({"latiss": {"exposure": ["seq_num"]}}, Seen.LISTS_ALL,
         "pqserver at bts lists all 1 column(s) the migration added."),
        ({"latiss": {"exposure": ["seq_num", "exposure_time"]}}, Seen.MISSING,
         ":warning: pqserver at bts does not list cdb_latiss.exposure.exposure_time: is it the restarted one?"),
        ({}, Seen.ANSWERS, "pqserver at bts answers (latiss: 2 tables)."),
        ({"latiss": {"nosuch": ["x"]}}, Seen.UNKNOWN_TABLE,
         ":warning: pqserver at bts does not know a table the migration changed (HTTP 404"),
    ],
)  # fmt: skip
def test_schema_check(pqserver, expected, seen, says):
    check = schema_check(bts(pqserver.url), expected, timeout=5)
    assert check.seen is seen
    slack, terminal = said(check)
    assert slack.startswith(says)
    assert ":" + "warning:" not in terminal, "the terminal gets no Slack emoji"
    assert says.removeprefix(":warning: ") in terminal


def test_schema_check_without_a_url_or_a_server():
    unset = schema_check(bts(None), {}, timeout=5)
    assert unset.seen is Seen.NOT_ASKED
    assert "pqserver_url is not set" in said(unset)[0]
    silent = schema_check(bts(f"http://127.0.0.1:{free_port()}"), {}, timeout=5)
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
