"""``consdb-bot init``: a starting configuration from the package itself (no clone needed), never written over
someone's file without --force, and named by the error a missing configuration gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.terminal.init import example_text
from tests.conftest import EXAMPLE_CONFIG, REPO


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: where the default consdb-bot.yaml goes."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_deploy_holds_the_example_the_package_ships():
    assert EXAMPLE_CONFIG.read_bytes() == (REPO / "bot" / "consdb-bot.example.yaml").read_bytes()
    assert example_text() == EXAMPLE_CONFIG.read_text()


def test_init_writes_a_configuration_the_bot_then_runs_with(consdb_bot, here, new_database, monkeypatch):
    written = consdb_bot("init")
    assert written.code == 0, written.text
    assert written.out.startswith("wrote consdb-bot.yaml: a starting configuration")
    assert "BTS_DATABASE_URL, TTS_DATABASE_URL, SUMMIT_DATABASE_URL" in written.out
    assert "3. check it: consdb-bot status\n" in written.out
    assert "SLACK_BOT_TOKEN" in written.out
    assert (here / "consdb-bot.yaml").read_text() == EXAMPLE_CONFIG.read_text()

    url = new_database()
    settings = load_settings(here / "consdb-bot.yaml", environ={"BTS_DATABASE_URL": url})
    assert settings.environment("bts").database_url == url
    monkeypatch.setenv("BTS_DATABASE_URL", url)
    status = consdb_bot("status", "bts")
    assert status.code == 0, status.text
    assert "empty (2 behind)" in status.out


def test_a_second_init_keeps_the_file_unless_forced(consdb_bot, here):
    mine = here / "consdb-bot.yaml"
    mine.write_text("# my own\n")
    refused = consdb_bot("init")
    assert refused.code == 1
    assert "error: consdb-bot.yaml exists, so nothing was written" in refused.err
    assert "replace it, adding --force" in refused.err
    assert mine.read_text() == "# my own\n"

    as_json = consdb_bot("init", "--json")
    assert (as_json.code, as_json.err) == (1, "")
    assert json.loads(as_json.out)["error"] == "consdb-bot.yaml exists, so nothing was written"

    forced = consdb_bot("init", "--force")
    assert forced.code == 0, forced.text
    assert forced.out.startswith("replaced consdb-bot.yaml")
    assert mine.read_text() == EXAMPLE_CONFIG.read_text()


def test_init_writes_where_config_says_and_says_so_in_json(consdb_bot, here):
    result = consdb_bot("init", "--config", "elsewhere.yaml", "--json")
    assert (result.code, result.err) == (0, "")
    value = json.loads(result.out)
    assert value["wrote"] == "elsewhere.yaml"
    assert value["next"] == "consdb-bot status --config elsewhere.yaml"
    assert "USDF_PROD_TAP_SCHEMA_URL" in value["variables"]
    assert "CONSDB_BOT_STATE_URL" in value["variables_with_defaults"]
    assert (here / "elsewhere.yaml").is_file()
    assert not (here / "consdb-bot.yaml").exists()

    nowhere = consdb_bot("init", "--config", "no/such/folder/c.yaml")
    assert nowhere.code == 1
    assert "cannot write no/such/folder/c.yaml: No such file or directory" in nowhere.err


def test_a_missing_configuration_names_init(consdb_bot, here):
    result = consdb_bot("status")
    assert result.code == 2
    assert "cannot read the configuration consdb-bot.yaml" in result.err
    assert "Write a starting one with `consdb-bot init`, or pass --config FILE" in result.err
    assert "deploy/" not in result.err

    as_json = json.loads(consdb_bot("status", "--json", "--config", "gone.yaml").out)
    assert as_json["exit"] == 2
    assert "`consdb-bot init --config gone.yaml`" in as_json["hint"]
    assert as_json["problems"] == []


def test_init_is_in_the_help(consdb_bot):
    assert "write a starting configuration" in consdb_bot("--help").out
    assert "replace a file that is there" in consdb_bot("help", "init").out
