"""The terminal's errors: with --json each is one JSON document on stdout (``error``, ``hint``, ``exit``) and
stderr stays empty; an unknown name or command is answered with the nearest known one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG, write_config


def as_json(result) -> dict:
    """The one JSON document of an error, with nothing on stderr."""
    assert result.err == "", result.err
    value = json.loads(result.out)
    assert value["exit"] == result.code
    return value


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["--json", "stauts"], "unknown command 'stauts' (did you mean status?)"),
        (["migrat", "bts", "--json"], "unknown command 'migrat' (did you mean migrate?)"),
        (["upgrade", "--json"], "the following arguments are required: ENV"),
        (["audit", "--limit", "0", "--json"], "'0' is not a whole number from 1 to 1000"),
        (["status", "--json", "bts\x1b"], "has a control character"),
    ],
)
def test_usage_errors_are_json_wherever_json_is_on_the_line(consdb_bot, words, says):
    result = consdb_bot(*words)
    assert result.code == 2
    value = as_json(result)
    assert says in value["error"]
    assert value["usage"].startswith("usage: consdb-bot")


def test_help_is_json_too(consdb_bot):
    result = consdb_bot("status", "--help", "--json")
    assert result.code == 0
    assert "usage: consdb-bot status" in json.loads(result.out)["help"]


def test_a_wrong_configuration_is_json_with_each_problem(consdb_bot, tmp_path: Path):
    config = write_config(
        tmp_path / "c.yaml", environments={"bts": "BTS_DATABASE_URL"}, schemas=["latiss"], extra="colour: blue\n"
    )
    result = consdb_bot("status", "--config", str(config), "--json")
    assert result.code == 2
    value = as_json(result)
    assert value["problems"] == ["colour (line 8): unknown key (check its spelling)"]


def test_refusals_are_json_with_the_answer_given_before_them(consdb_bot, bundled):
    config = ("--config", str(bundled), "--json")
    refused = consdb_bot("upgrade", "bts", "--to", "base", "--yes", *config)
    assert refused.code == 1
    assert "an upgrade cannot go to base" in as_json(refused)["error"]

    unapproved = consdb_bot("upgrade", "bts", "latiss", *config)
    assert unapproved.code == 1
    value = as_json(unapproved)
    assert value["error"] == "nothing was changed: changes from the terminal need --yes"
    assert value["hint"] == "Read the plan above, then add --yes."
    assert [plan["schema"] for plan in value["answer"]] == ["latiss"]


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["status", "bst"], "unknown environment or schema 'bst' (did you mean bts?)"),
        (["status", "lattis"], "unknown environment or schema 'lattis' (did you mean latiss?)"),
        (["status", "mars"], "unknown environment or schema 'mars'\n"),
        (["status", "bts", "lsstcma"], "unknown schema 'lsstcma' (did you mean lsstcam?)"),
        (["plan", "bst"], "unknown environment 'bst' (did you mean bts?)"),
        (["audit", "btss"], "unknown environment 'btss' (did you mean bts?)"),
        (["history", "cdb_latis"], "unknown schema 'cdb_latis' (did you mean latiss?)"),
        (["upgarde", "bts"], "unknown command 'upgarde' (did you mean upgrade?)"),
        (["stauts"], "unknown command 'stauts' (did you mean status?)"),
        (["check", "dta", "bts", "latiss"], "unknown command 'dta' (did you mean data?)"),
        (["restart", "pqsrever", "bts"], "invalid choice: 'pqsrever' (did you mean pqserver?)"),
        (["help", "migrat"], "unknown command 'migrat' (did you mean migrate?)"),
        (["frobnicate"], "unknown command 'frobnicate'; `consdb-bot help` lists the commands"),
        (["book", "bts", "tomorow", "09:30", "1h"], "'tomorow' is not a day (did you mean tomorrow?)"),
        (["book", "btss", "now", "1h"], "unknown environment 'btss' (did you mean bts?)"),
    ],
)
def test_unknown_names_are_answered_with_the_nearest(consdb_bot, bundled, words, says):
    result = consdb_bot(*words, "--config", str(bundled))
    assert result.code == 2
    assert says in result.err + "\n"


def test_an_alias_is_near_too(consdb_bot):
    result = consdb_bot("plan", "usdfprd", "--config", str(EXAMPLE_CONFIG))
    assert result.code == 2
    assert "unknown environment 'usdfprd' (did you mean usdfprod?)" in result.err


def test_an_option_the_tree_does_not_read_is_answered_with_the_nearest(consdb_bot, bundled):
    result = consdb_bot("plan", "bts", "latiss", "--options", "view_reader=usdf", "--config", str(bundled))
    assert result.code == 2
    assert "read no option view_reader (did you mean view_readers?)" in result.err


def test_a_command_typed_with_a_capital_is_read_as_the_command(consdb_bot, bundled):
    """Names are read in any case, and a phone writes a message's first word with a capital."""
    capital = consdb_bot("--config", str(bundled), "Help", "plan")
    assert capital.code == 0, capital.text
    assert capital.out == consdb_bot("--config", str(bundled), "help", "plan").out
    assert "consdb-bot plan bts latiss --to +1" in capital.out


def test_an_environment_after_a_schema_is_said_to_come_first(consdb_bot, bundled):
    result = consdb_bot("status", "latiss", "bts", "--config", str(bundled))
    assert result.code == 2
    assert "unknown schema 'bts'" in result.err
    assert "bts is an environment: the environment comes before the schemas." in result.err
