"""``check tap``: TAP_SCHEMA's columns, loaded by Felis itself into a real database, against the Felis
model at the revision the environment's database records."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.sandbox.standins.local_server import free_port
from bot.sandbox.standins.slack import FakeSlack
from bot.sandbox.standins.tap import FakeTap, load_tap_schema
from tests.conftest import PASSWORD, close_database, libpq, write_config
from tests.support.bot_process import BotProcess

Model = dict[str, Any]
LATISS_COLUMNS = 236
"""The columns of the installed cdb_latiss model, as Felis writes them into TAP_SCHEMA."""
TOKEN = "gt-tap-token-for-the-bot"
LATER_COLUMNS = ["vignette_min", "can_see_sky"]
"""Two columns of ``exposure`` that the previous model, the one TAP was last loaded from, is made without."""


def installed_model(name: str = "cdb_latiss") -> Model:
    """The Felis model the bundled tree's head is generated from (the pinned lsst-sdm-schemas)."""
    return yaml.safe_load((resources.files("lsst.sdm.schemas") / f"{name}.yaml").read_text())


def exposure_of(model: Model) -> dict[str, Any]:
    return next(table for table in model["tables"] if table["name"] == "exposure")


def without(model: Model, columns: list[str]) -> Model:
    """The model as it was before ``exposure`` gained ``columns``."""
    earlier = copy.deepcopy(model)
    exposure = exposure_of(earlier)
    exposure["columns"] = [column for column in exposure["columns"] if column["name"] not in columns]
    return earlier


@pytest.fixture
def tap_config(tmp_path: Path, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled tree with a fresh bts, whose TAP_SCHEMA database (empty) is ``BTS_TAP_SCHEMA_URL``."""
    monkeypatch.setenv("BTS_DATABASE_URL", new_database())
    monkeypatch.setenv("BTS_TAP_SCHEMA_URL", new_database())
    config = write_config(
        tmp_path / "consdb-bot.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss", "lsstcam"]
    )
    config.write_text(config.read_text() + "    tap:\n      schema_url: ${BTS_TAP_SCHEMA_URL}\n")
    return config


@pytest.fixture
def migrated(consdb_bot, tap_config: Path) -> Path:
    """bts with latiss at head (lsstcam never migrated)."""
    upgraded = consdb_bot("upgrade", "bts", "latiss", "--yes", "--config", str(tap_config))
    assert upgraded.code == 0, upgraded.text
    return tap_config


def tap_url() -> str:
    """The TAP_SCHEMA database ``tap_config`` made."""
    return os.environ["BTS_TAP_SCHEMA_URL"]


def test_tap_loaded_from_the_model_at_the_migrated_revision_is_current(consdb_bot, migrated, monkeypatch):
    load_tap_schema(tap_url(), installed_model())
    result = consdb_bot("check", "tap", "bts", "--config", str(migrated))
    assert result.code == 0, result.text
    assert result.out.splitlines() == [
        f"bts/latiss (cdb_latiss) at 05689cf3f8f0: TAP is current ({LATISS_COLUMNS} columns, as in the Felis model)",
        "bts/lsstcam (cdb_lsstcam): not migrated here, so nothing to compare (empty (2 behind))",
    ]
    answer = json.loads(consdb_bot("check", "tap", "bts", "latiss", "--json", "--config", str(migrated)).out)
    assert answer["ok"] is True
    assert [(check["tap_schema"], check["current"]) for check in answer["schemas"]] == [("cdb_latiss", True)]


def test_migrated_but_tap_not_reloaded_names_the_missing_columns(consdb_bot, migrated, monkeypatch):
    load_tap_schema(tap_url(), without(installed_model(), LATER_COLUMNS))
    result = consdb_bot("check", "tap", "bts", "latiss", "--config", str(migrated))
    assert result.code == 1, result.text
    assert result.out.splitlines() == [
        "bts/latiss (cdb_latiss) at 05689cf3f8f0: TAP is not current: 2 columns missing, against the Felis model",
        "  missing  exposure.vignette_min",
        "  missing  exposure.can_see_sky",
    ]
    answer = json.loads(consdb_bot("check", "tap", "bts", "latiss", "--json", "--config", str(migrated)).out)
    assert answer["ok"] is False
    (check,) = answer["schemas"]
    assert check["differences"]["missing"] == ["exposure.vignette_min", "exposure.can_see_sky"]


def test_columns_tap_has_beyond_the_model_and_those_it_says_otherwise(consdb_bot, migrated, monkeypatch):
    served = installed_model()
    exposure = exposure_of(served)
    columns = {column["name"]: column for column in exposure["columns"]}
    columns["focus_z"]["datatype"] = "double"
    columns["dome_azimuth"]["ivoa:unit"] = "deg"
    columns["vignette"]["length"] = 12
    exposure["columns"].append(
        {"name": "retired_note", "@id": "#exposure.retired_note", "datatype": "string", "length": 64,
         "description": "A column the model has since dropped."}
    )  # fmt: skip
    load_tap_schema(tap_url(), served)
    result = consdb_bot("check", "tap", "bts", "latiss", "--config", str(migrated))
    assert result.code == 1, result.text
    assert result.out.splitlines() == [
        "bts/latiss (cdb_latiss) at 05689cf3f8f0: TAP is not current: 1 column extra, 3 columns changed, against the"
        " Felis model",
        "  extra    exposure.retired_note",
        "  changed  exposure.focus_z: datatype 'double' in TAP, 'float' in the model",
        "  changed  exposure.dome_azimuth: unit 'deg' in TAP, none in the model",
        "  changed  exposure.vignette: arraysize '12*' in TAP, '10*' in the model",
    ]


def test_a_schema_tap_lacks_altogether_and_one_read_under_felis_names(
    consdb_bot, migrated, tmp_path, monkeypatch
):  # fmt: skip
    load_tap_schema(tap_url(), installed_model("cdb_lsstcam"), schema_name="TAP_SCHEMA")
    migrated.write_text(migrated.read_text() + "      schema_name: TAP_SCHEMA\n")
    result = consdb_bot("check", "tap", "bts", "latiss", "--config", str(migrated))
    assert result.code == 1, result.text
    assert result.out == (
        f"bts/latiss (cdb_latiss) at 05689cf3f8f0: TAP_SCHEMA has none of its {LATISS_COLUMNS} columns"
        " (the Felis model)\n"
    )


def test_tap_loaded_with_unbounded_strings_is_read_as_felis_was_told(consdb_bot, migrated):
    load_tap_schema(tap_url(), installed_model(), unbounded=True)
    told_otherwise = consdb_bot("check", "tap", "bts", "latiss", "--config", str(migrated))
    assert told_otherwise.code == 1
    assert "  changed  exposure.exposure_name: arraysize '*' in TAP, '20*' in the model" in told_otherwise.out
    migrated.write_text(migrated.read_text() + "      force_unbounded_arraysize: true\n")
    result = consdb_bot("check", "tap", "bts", "latiss", "--config", str(migrated))
    assert result.code == 0, result.text
    assert "TAP is current" in result.out


@pytest.mark.slow
def test_behind_head_the_tree_replayed_to_the_revision_is_compared_by_name(consdb_bot, tap_config, monkeypatch):
    upgraded = consdb_bot("upgrade", "bts", "latiss", "--to", "+1", "--yes", "--config", str(tap_config))
    assert upgraded.code == 0, upgraded.text
    url = tap_url()
    load_tap_schema(url, without(installed_model(), ["can_see_sky"]))
    result = consdb_bot("check", "tap", "bts", "latiss", "--config", str(tap_config))
    assert result.code == 1, result.text
    assert result.out.splitlines() == [
        "bts/latiss (cdb_latiss) at 8ebb60eda79d: TAP is not current: 1 column missing, against the tree"
        " replayed to it (behind head: its tables, by name)",
        "  missing  exposure.can_see_sky",
    ]


def test_an_unreachable_tap_database_is_an_error_that_names_it(consdb_bot, migrated, server_url, monkeypatch):
    url = tap_url()
    load_tap_schema(url, installed_model())
    close_database(server_url, url, closed=True)
    try:
        result = consdb_bot("check", "tap", "bts", "--config", str(migrated))
    finally:
        close_database(server_url, url, closed=False)
    assert result.code == 1
    assert result.out == ""
    name = make_url(url).database
    assert f"error: cannot read bts's TAP_SCHEMA: cannot reach postgresql://postgres:***@127.0.0.1:5432/{name}" in (
        result.err
    )
    assert "Check that the server is up, and environments.bts.tap.schema_url" in result.err


def test_a_database_without_tap_schema_is_refused_saying_where_to_look(consdb_bot, migrated):
    result = consdb_bot("check", "tap", "bts", "--config", str(migrated))
    assert result.code == 1
    assert "has no table tap_schema.columns" in result.err
    assert "Set environments.bts.tap.schema_name (and tables_postfix)" in result.err


def test_an_environment_without_tap_or_its_variable_is_a_configuration_error(consdb_bot, migrated, monkeypatch):
    monkeypatch.delenv("BTS_TAP_SCHEMA_URL")
    unset = consdb_bot("check", "tap", "bts", "--config", str(migrated))
    assert unset.code == 2
    assert "check tap bts needs the environment variable BTS_TAP_SCHEMA_URL, which is not set" in unset.err
    migrated.write_text(migrated.read_text().replace("    tap:\n      schema_url: ${BTS_TAP_SCHEMA_URL}\n", ""))
    absent = consdb_bot("check", "tap", "bts", "--config", str(migrated))
    assert absent.code == 2
    assert "bts has no tap in the configuration" in absent.err
    assert 'Add environments.bts.tap: {schema_url: "${BTS_TAP_SCHEMA_URL}"}' in absent.err


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (["check"], "the following arguments are required: WHAT"),
        (["check", "tap"], "the following arguments are required: ENV"),
        (["check", "nonsense", "bts"], "unknown command 'nonsense' (one of: data, tap)"),
        (["check", "tap", "bts", "x;drop"], "'x;drop' is not a schema"),
        (["check", "tap", "bts", "--since", "30m"], "unrecognized arguments: --since 30m"),
        (["check", "tap", "nowhere"], "unknown environment 'nowhere'"),
        (["check", "tap", "bts", "nothing"], "unknown schema 'nothing'"),
    ],
)
def test_bad_input_gets_usage_and_exit_status_2(consdb_bot, tap_config, words, said):
    result = consdb_bot(*words, "--config", str(tap_config))
    assert result.code == 2, result.text
    assert said in result.err
    assert result.out == ""


def test_the_usage_of_check_tap_shows_its_examples(consdb_bot, tap_config):
    result = consdb_bot("check", "tap", "--config", str(tap_config))
    assert "usage: consdb-bot check tap [-h] [--config CONFIG] [--json] ENV [SCHEMA ...]" in result.err
    assert "For example: consdb-bot check tap usdf-prod   consdb-bot check tap usdf-prod latiss lsstcam" in result.err


@pytest.mark.slow
def test_check_tap_in_slack_answers_in_the_channel(consdb_bot, migrated, monkeypatch, tmp_path):
    load_tap_schema(tap_url(), without(installed_model(), ["can_see_sky"]))
    environ = {name: os.environ[name] for name in ("BTS_DATABASE_URL", "BTS_TAP_SCHEMA_URL")}
    with FakeSlack() as slack, BotProcess(migrated, slack.url, environ=environ) as bot:
        bot.command("check tap bts latiss", channel="C0CONSDB01")
        answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "TAP at bts"), None))
    shown = json.dumps(answer.args["blocks"])
    assert "TAP is not current: 1 column missing" in shown
    assert "missing  exposure.can_see_sky" in shown
    assert PASSWORD not in shown


@pytest.fixture
def sync_config(migrated: Path) -> Path:
    """The same bts, its TAP asked at the TAP service's sync endpoint (``BTS_TAP_URL``) with a token."""
    text = migrated.read_text().replace(
        "      schema_url: ${BTS_TAP_SCHEMA_URL}\n", "      sync_url: ${BTS_TAP_URL}\n      token: ${BTS_TAP_TOKEN}\n"
    )
    migrated.write_text(text)
    return migrated


def test_the_tap_service_asked_at_its_sync_endpoint_names_the_missing_columns(consdb_bot, sync_config, monkeypatch):
    load_tap_schema(tap_url(), without(installed_model(), LATER_COLUMNS))
    with FakeTap(libpq(tap_url()), token=TOKEN) as tap:
        monkeypatch.setenv("BTS_TAP_URL", tap.url)
        monkeypatch.setenv("BTS_TAP_TOKEN", TOKEN)
        result = consdb_bot("check", "tap", "bts", "--config", str(sync_config))
    assert result.code == 1, result.text
    assert result.out.splitlines() == [
        "bts/latiss (cdb_latiss) at 05689cf3f8f0: TAP is not current: 2 columns missing, against the Felis model",
        "  missing  exposure.vignette_min",
        "  missing  exposure.can_see_sky",
        "bts/lsstcam (cdb_lsstcam): not migrated here, so nothing to compare (empty (2 behind))",
    ]
    (query,) = tap.queries
    assert query.startswith("SELECT table_name, column_name, datatype, arraysize,")
    assert query.endswith("FROM TAP_SCHEMA.columns WHERE table_name LIKE 'cdb_latiss.%'")


def test_the_tap_service_serving_the_model_is_current(consdb_bot, sync_config, monkeypatch):
    load_tap_schema(tap_url(), installed_model())
    with FakeTap(libpq(tap_url()), token=TOKEN) as tap:
        monkeypatch.setenv("BTS_TAP_URL", tap.url)
        monkeypatch.setenv("BTS_TAP_TOKEN", TOKEN)
        result = consdb_bot("check", "tap", "bts", "latiss", "--config", str(sync_config))
    assert result.code == 0, result.text
    assert result.out == (
        f"bts/latiss (cdb_latiss) at 05689cf3f8f0: TAP is current ({LATISS_COLUMNS} columns, as in the Felis model)\n"
    )


def test_a_tap_service_that_refuses_the_token_the_query_or_does_not_answer(consdb_bot, sync_config, monkeypatch):
    with FakeTap(libpq(tap_url()), token=TOKEN) as tap:
        monkeypatch.setenv("BTS_TAP_URL", tap.url)
        monkeypatch.setenv("BTS_TAP_TOKEN", "not-the-token")
        refused = consdb_bot("check", "tap", "bts", "--config", str(sync_config))
        monkeypatch.setenv("BTS_TAP_TOKEN", TOKEN)
        no_table = consdb_bot("check", "tap", "bts", "--config", str(sync_config))
    assert refused.code == 1
    assert f"error: TAP at {tap.url}/sync refused the token: HTTP 401" in refused.err
    assert "Check tap.token" in refused.err
    assert "not-the-token" not in refused.text
    assert no_table.code == 1
    assert f'error: TAP at {tap.url}/sync refused the query: relation "tap_schema.columns" does not exist' in (
        no_table.err
    )
    nowhere = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("BTS_TAP_URL", nowhere)
    unreachable = consdb_bot("check", "tap", "bts", "--config", str(sync_config))
    assert unreachable.code == 1
    assert f"error: cannot reach TAP at {nowhere}/sync: [Errno 111] Connection refused" in unreachable.err
    assert TOKEN not in unreachable.text + no_table.text


def test_a_password_in_the_tap_url_is_never_shown(consdb_bot, sync_config, monkeypatch):
    monkeypatch.setenv("BTS_TAP_URL", "https://consdb:s3cret-Pa55@tap.example.org/api/consdbtap")
    monkeypatch.setenv("BTS_TAP_TOKEN", TOKEN)
    result = consdb_bot("check", "tap", "bts", "--config", str(sync_config))
    assert result.code == 1
    assert "s3cret-Pa55" not in result.text
    assert "error: TAP at https://tap.example.org/api/consdbtap/sync is given a user and password" in result.err


def test_tap_checked_for_another_schema_does_not_tick_the_tickets_tap_step(consdb_bot, tap_config):
    def run(*args: str):
        return consdb_bot(*args, "--config", str(tap_config))

    assert run("upgrade", "bts", "latiss", "--ticket", "OSW-123", "--yes").code == 0
    assert run("check", "tap", "bts", "lsstcam").code == 0  # not migrated here: nothing TAP should serve
    assert "[ ] not yet  TAP serves the new columns at bts" in run("board", "OSW-123").out
    load_tap_schema(tap_url(), installed_model())
    assert run("check", "tap", "bts", "latiss").code == 0
    assert "[x] done     TAP serves the new columns at bts" in run("board", "OSW-123").out


def test_tap_is_read_one_way(consdb_bot, migrated):
    migrated.write_text(migrated.read_text() + "      sync_url: https://tap.example.org/api/consdbtap\n")
    result = consdb_bot("check", "tap", "bts", "--config", str(migrated))
    assert result.code == 2
    assert "environments.bts.tap (line 8): give one of schema_url (the TAP_SCHEMA database) and sync_url" in (
        result.err
    )
