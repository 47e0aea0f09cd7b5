"""The configuration file: the contract loads unchanged; a wrong file gets one error per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Replica, Settings, Unset, load_settings, parse_settings, require
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
    assert settings.environment("summit").requires_tested_on == ["bts"]
    assert settings.environment("usdfprod").requires_tested_on == ["summit", "usdf-int"]
    assert settings.environment("usdfint").replica == Replica(of="summit", subscription="usdf_exposurelog",
                                                              publication="usdfpub")  # fmt: skip
    assert settings.environment("bts").database_url == "postgresql://u@h/bts"
    assert settings.jira.url == "https://rubinobs.atlassian.net"
    assert settings.state_url == "sqlite:///consdb-bot.sqlite3"
    assert settings.schema_named("cdb_latiss") == "latiss"


def test_example_configuration_is_the_contract_plus_the_defaults_of_the_keys_it_adds(contract: Path):
    example, expected = yaml.safe_load(EXAMPLE_CONFIG.read_text()), yaml.safe_load(contract.read_text())
    added = {key: example.pop(key) for key in set(example) - set(expected)}
    added_to_jira = {key: example["jira"].pop(key) for key in set(example["jira"]) - set(expected["jira"])}
    added_to_slack = {key: example["slack"].pop(key) for key in set(example["slack"]) - set(expected["slack"])}
    added_to_environments = {
        name: {key: environment.pop(key) for key in set(environment) - set(expected["environments"][name])}
        for name, environment in example["environments"].items()
    }
    assert example == expected
    assert {name: added for name, added in added_to_environments.items() if added} == {
        "usdf-prod": {"tap": {"schema_url": "${USDF_PROD_TAP_SCHEMA_URL}", "schema_name": "tap_schema"}}
    }
    defaults = Settings.model_validate({"schemas": [], "environments": {}})
    assert added == {key: getattr(defaults, key).model_dump() for key in ("bookings", "reports", "scheduler")} | {
        "state_connect_timeout_seconds": defaults.state_connect_timeout_seconds
    }
    assert added_to_slack == defaults.slack.model_dump(include=set(added_to_slack))
    assert set(added_to_slack) == {"retry_seconds", "give_up_hours", "max_body_bytes"}
    assert added_to_jira == defaults.jira.model_dump(include=set(added_to_jira))
    assert set(added_to_jira) == {"timeout_seconds", "retry_seconds", "give_up_hours"}


def test_a_missing_variable_fails_only_the_command_that_needs_it(contract: Path):
    settings = load_settings(contract, environ={"BTS_DATABASE_URL": "postgresql://u@h/bts"})
    summit = settings.environment("summit").database_url
    assert isinstance(summit, Unset)
    with pytest.raises(ConfigError) as raised:
        require(summit, purpose="upgrading summit")
    assert "SUMMIT_DATABASE_URL" in str(raised.value)
    assert "line 68" in str(raised.value)


def test_defaults_and_values_from_the_environment(contract: Path):
    settings = load_settings(contract, environ={"CONSDB_BOT_STATE_URL": "postgresql://s@h/state", "JIRA_URL": ""})
    assert settings.state_url == "postgresql://s@h/state"
    assert settings.jira.url == "https://rubinobs.atlassian.net"


CDB = ["latiss", "lsstcomcam", "lsstcomcamsim", "lsstcam", "startrackerwide", "startrackernarrow", "startrackerfast"]
EFD = ["efd_latiss", "efd_lsstcomcam", "efd_lsstcam", "efd_scheduler"]


@pytest.mark.parametrize(
    ("environment", "kept"),
    [("bts", CDB), ("tts", CDB), ("summit", CDB), ("usdf-dev", CDB + EFD), ("usdf-int", CDB + EFD),
     ("usdf-prod", CDB + EFD)],
)  # fmt: skip
def test_an_environment_keeps_the_schemas_it_lists_or_else_all(contract: Path, environment, kept):
    settings = load_settings(contract, environ={})
    env = settings.environment(environment)
    assert settings.schemas_at(env, []) == kept
    assert settings.schemas_at(env, ["all"]) == kept
    assert settings.schemas_at(env, ["cdb_lsstcam", "latiss"]) == ["latiss", "lsstcam"]


def test_naming_a_schema_an_environment_does_not_keep_is_refused(contract: Path):
    settings = load_settings(contract, environ={})
    with pytest.raises(UsageError) as raised:
        settings.schemas_at(settings.environment("base"), ["latiss", "efd_latiss"])
    assert "bts does not keep efd_latiss" in str(raised.value)
    assert f"schemas at bts: {', '.join(CDB)}" in str(raised.value)


@pytest.mark.parametrize(
    ("environment", "schema", "expected"),
    [
        ("summit", "latiss", "bts"),
        ("usdf-int", "latiss", "summit"),
        ("usdf-int", "efd_latiss", "usdf-dev"),
        ("usdf-prod", "lsstcam", "summit"),
        ("usdf-prod", "efd_scheduler", "usdf-int"),
        ("usdf-dev", "latiss", None),
        ("bts", "latiss", None),
    ],
)
def test_a_target_is_proven_first_where_the_first_listed_environment_keeps_the_schema(
    contract: Path, environment, schema, expected
):
    settings = load_settings(contract, environ={})
    proving = settings.proven_first_at(settings.environment(environment), schema)
    assert (proving.key if proving else None) == expected


BASE = "schemas: [a, b]\nenvironments:\n  bts: {}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BASE + "  summit: {schemas: [a, c]}\n", "environments.summit.schemas.1 (line 4): 'c' is not one of the"
         " configured schemas (a, b)"),
        (BASE + "  summit:\n    schemas:\n      - a\n      - nope\n", "environments.summit.schemas.1 (line 7)"),
        (BASE + "  summit: {requires_tested_on: [bts, mars]}\n",
         "environments.summit.requires_tested_on.1 (line 4): unknown environment 'mars'"),
        (BASE + "  summit: {requires_tested_on: summit}\n", "names summit itself"),
        (BASE + "  summit: {requires_tested_on: 3}\n", "environments.summit.requires_tested_on (line 4)"),
        (BASE + "  summit: {replica: {of: moon, subscription: s, publication: p}}\n",
         "environments.summit.replica.of (line 4): unknown environment 'moon'"),
        (BASE + "  summit:\n    replica: {of: bts, subscription: 'x; DROP TABLE y', publication: p}\n",
         "environments.summit.replica.subscription (line 5): 'x; DROP TABLE y' is not a plain PostgreSQL name"),
        (BASE + "  summit: {replica: {of: bts, subscription: s, publication: UsdfPub}}\n",
         "environments.summit.replica.publication (line 4): 'UsdfPub' is not a plain PostgreSQL name"),
        (BASE + f"  summit: {{replica: {{of: bts, subscription: s, publication: {'p' * 64}}}}}\n",
         "is not a plain PostgreSQL name"),
        (BASE + "  summit: {replica: {of: bts, subscription: s}}\n",
         "environments.summit.replica.publication (line 4): required, but missing"),
        (BASE + "  summit: {replica: {of: bts, subscription: s, publication: p, alert_after_minutes: 0}}\n",
         "environments.summit.replica.alert_after_minutes (line 4): Input should be greater than 0"),
    ],
)  # fmt: skip
def test_environment_schemas_tested_on_and_replica_are_checked(text, expected):
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, environ={})
    assert expected in str(raised.value)


def test_problems_found_together_are_each_told_at_their_own_line():
    text = BASE + "  summit:\n    schemas: [z]\n    requires_tested_on: [mars]\n"
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, environ={})
    assert raised.value.problems == [
        "environments.summit.schemas.0 (line 5): 'z' is not one of the configured schemas (a, b)",
        "environments.summit.requires_tested_on.0 (line 6): unknown environment 'mars'",
    ]


def test_a_replica_with_good_names_loads():
    text = BASE + "  usdf:\n    replica: {of: BTS, subscription: usdf_exposurelog, publication: _pub2}\n"
    replica = parse_settings(text, environ={}).environment("usdf").replica
    assert replica == Replica(of="BTS", subscription="usdf_exposurelog", publication="_pub2")
    assert replica.alert_after_minutes == 60, "alerted after an hour disabled unless told otherwise"


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
        (
            "schemas: [a]\nenvironments:\n  bts: {chanel: C1}\n",
            "environments.bts.chanel (line 3): unknown key (did you mean channel?)",
        ),
        ("schemas: [a]\nslak: {}\nenvironments: {}\n", "slak (line 2): unknown key (did you mean slack?)"),
        (
            "schemas: [a]\nenvironments:\n  bts: {tap: {schema_ur: x}}\n",
            "environments.bts.tap.schema_ur (line 3): unknown key (did you mean schema_url?)",
        ),
        ("schemas: [a]\nenvironments:\n  bts: {zebra: 1}\n", "environments.bts.zebra (line 3): unknown key (check its"),
        (
            BASE + "  summit: {requires_tested_on: btss}\n",
            "environments.summit.requires_tested_on.0 (line 4): unknown environment 'btss' (did you mean bts?)",
        ),
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
        settings.schema_named("hsc")
    assert "latiss, lsstcomcam" in str(raised.value)


def test_a_missing_file_says_how_to_name_one(tmp_path: Path):
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path / "nope.yaml")
    assert "--config FILE" in str(raised.value)
