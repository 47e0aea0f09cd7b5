"""The configuration file: the contract loads unchanged; a wrong file gets one error per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Settings, Unset, load_settings, parse_settings, require
from bot.errors import ConfigError, UsageError
from tests.conftest import EXAMPLE_CONFIG, from_shared


@pytest.fixture
def contract() -> Path:
    return from_shared("contract/config.yaml")


def test_contract_configuration_loads_unchanged(contract: Path):
    settings = load_settings(contract, environ={"BTS_DATABASE_URL": "postgresql://u@h/bts"})
    assert settings.schemas[0] == "latiss"
    assert settings.environment("BASE").key == "bts"
    assert settings.environment("Tucson-TestStand").key == "tts"
    assert settings.environment("usdfprod").approvals.required == 2
    assert settings.environment("summit").requires_tested_on == "bts"
    assert settings.environment("bts").database_url == "postgresql://u@h/bts"
    assert settings.jira.url == "https://rubinobs.atlassian.net"
    assert settings.state_url == "sqlite:///consdb-bot.sqlite3"
    assert settings.schema("cdb_latiss") == "latiss"


def test_example_configuration_is_the_contract_plus_the_defaults_of_the_keys_it_adds(contract: Path):
    example, expected = yaml.safe_load(EXAMPLE_CONFIG.read_text()), yaml.safe_load(contract.read_text())
    added = {key: example.pop(key) for key in set(example) - set(expected)}
    added_to_jira = {key: example["jira"].pop(key) for key in set(example["jira"]) - set(expected["jira"])}
    assert example == expected
    defaults = Settings.model_validate({"schemas": [], "environments": {}})
    assert added == {key: getattr(defaults, key).model_dump() for key in ("bookings", "reports", "scheduler")}
    assert added_to_jira == defaults.jira.model_dump(include=set(added_to_jira))
    assert set(added_to_jira) == {"timeout_seconds", "retry_seconds", "give_up_hours"}


def test_a_missing_variable_fails_only_the_command_that_needs_it(contract: Path):
    settings = load_settings(contract, environ={"BTS_DATABASE_URL": "postgresql://u@h/bts"})
    summit = settings.environment("summit").database_url
    assert isinstance(summit, Unset)
    with pytest.raises(ConfigError) as raised:
        require(summit, purpose="upgrading summit")
    assert "SUMMIT_DATABASE_URL" in str(raised.value)
    assert "line 62" in str(raised.value)


def test_defaults_and_values_from_the_environment(contract: Path):
    settings = load_settings(contract, environ={"CONSDB_BOT_STATE_URL": "postgresql://s@h/state", "JIRA_URL": ""})
    assert settings.state_url == "postgresql://s@h/state"
    assert settings.jira.url == "https://rubinobs.atlassian.net"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "schemas: [a]\nenvironments:\n  bts: {timezone: Mars/Base}\n",
            "environments.bts.timezone (line 3): unknown time zone",
        ),
        (
            "schemas: [a]\nenvironments:\n  bts:\n    approvals: {required: 0}\n",
            "environments.bts.approvals.required (line 4)",
        ),
        ("schemas: [a]\nenvironments:\n  bts: {chanel: C1}\n", "environments.bts.chanel (line 3): unknown key"),
        ("schemas: [a]\nenvironments:\n  bts: {channel: '${NOPE}'}\n", "needs the environment variable NOPE"),
        ("environments: {}\n", "schemas (line 1): required, but missing"),
        ("schemas: [a]\nenvironments:\n  bts: {requires_tested_on: nowhere}\n", "unknown environment 'nowhere'"),
        ("schemas: [a]\nenvironments:\n  bts: {}\n  tts: {aliases: [BTS]}\n", "'BTS' is used by both bts and tts"),
        ("schemas: [a\n", "is not valid YAML at line 2"),
    ],
)
def test_wrong_files_name_the_key_and_line(text, expected):
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, environ={})
    assert expected in str(raised.value)


def test_every_problem_is_reported_at_once():
    text = "schemas: [a]\nenvironments:\n  bts: {timezone: Nowhere/At_All, bogus: 1, approvals: {required: 0}}\n"
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, environ={})
    assert len(raised.value.problems) == 3


def test_unknown_names_say_what_is_known(contract: Path):
    settings = load_settings(contract, environ={})
    with pytest.raises(UsageError) as raised:
        settings.environment("mars")
    assert "bts (base)" in str(raised.value)
    with pytest.raises(UsageError) as raised:
        settings.schema("hsc")
    assert "latiss, lsstcomcam" in str(raised.value)


def test_a_missing_file_says_how_to_name_one(tmp_path: Path):
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path / "nope.yaml")
    assert "--config FILE" in str(raised.value)
