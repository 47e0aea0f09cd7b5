"""The command grammar, shared by Slack and the terminal: tables of lines in, commands out."""

from __future__ import annotations

import random

import pytest

from bot import grammar
from bot.errors import UsageError


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("status", grammar.Status()),
        ("status bts latiss -v", grammar.Status(("bts", "latiss"), verbose=True)),
        ("history latiss", grammar.History("latiss")),
        ("plan summit latiss --sql --to +1", grammar.Plan("summit", ("latiss",), "+1", sql=True)),
        ("plan bts --options view_readers=usdf,oods a=b", grammar.Plan("bts", options={"view_readers": "usdf,oods", "a": "b"})),
        ("drift bts", grammar.Drift("bts")),
        ("upgrade bts --yes", grammar.Upgrade("bts", yes=True)),
        ("migrate bts latiss --ticket OSW-123", grammar.Upgrade("bts", ("latiss",), ticket="OSW-123")),
        ("upgrade summit latiss lsstcam --to latiss@head --wait --yes", grammar.Upgrade("summit", ("latiss", "lsstcam"), "latiss@head", yes=True, wait=True)),
        ("downgrade bts latiss -1 --yes", grammar.Downgrade("bts", "latiss", "-1", yes=True)),
        ("downgrade bts latiss base --ticket DM-12345", grammar.Downgrade("bts", "latiss", "base", ticket="DM-12345")),
        ("stamp bts latiss head --yes", grammar.Stamp("bts", "latiss", "head", yes=True)),
        ("stamp bts latiss 05689cf3f8f0 --force --yes", grammar.Stamp("bts", "latiss", "05689cf3f8f0", yes=True, force=True)),
        ("restart pqserver summit --ticket osw-123", grammar.Restart("summit", ticket="OSW-123")),
        ("ticket dm-12345", grammar.Ticket("DM-12345")),
        ("generate -m w.2026.50", grammar.Generate("w.2026.50")),
        ("generate -m m latiss --sdm-schemas /s --rename exposure.a:b --rename exposure.c:d --drop-and-add",
         grammar.Generate("m", ("latiss",), "/s", (grammar.Rename("exposure", "a", "b"), grammar.Rename("exposure", "c", "d")), True)),
    ],
)  # fmt: skip
def test_well_formed_lines(words, expected):
    assert grammar.parse(words.split()).command == expected


def test_terminal_options_anywhere():
    invocation = grammar.parse(["--config", "a.yaml", "status", "--json"])
    assert (invocation.config, invocation.json) == ("a.yaml", True)


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("upgrade", "the following arguments are required: ENV"),
        ("downgrade bts latiss", "the following arguments are required: REV"),
        ("upgrade bts --ticket osw123", "'osw123' is not a Jira key; write it as DM-12345 or OSW-123"),
        ("plan bts --options novalue", "'novalue' is not KEY=VALUE"),
        ("ticket", "the following arguments are required: TICKET"),
        ("ticket 123", "'123' is not a Jira key; write it as DM-12345 or OSW-123"),
        ("generate latiss", "the following arguments are required: -m/--message"),
        ("generate -m m --rename exposure.a", "'exposure.a' is not a rename; write it as TABLE.OLD:NEW"),
        ("frobnicate", "invalid choice: 'frobnicate'"),
        ("status --colour", "unrecognized arguments: --colour"),
        ("upgrade bts --force --yes", "unrecognized arguments: --force"),
        ("help frobnicate", "no command 'frobnicate'"),
    ],
)
def test_malformed_lines_say_what_is_wrong_and_show_the_form(words, says):
    with pytest.raises(UsageError) as raised:
        grammar.parse(words.split())
    assert says in str(raised.value)
    assert "usage:" in raised.value.usage


def test_usage_errors_give_an_example():
    with pytest.raises(UsageError) as raised:
        grammar.parse(["downgrade", "bts"])
    assert "For example: consdb-bot downgrade bts latiss -1 --yes" in str(raised.value)


def test_two_hundred_malformed_lines_each_get_usage_and_none_crashes():
    words = ["status", "plan", "upgrade", "migrate", "downgrade", "stamp", "history", "drift", "help", "bts", "-v",
             "--to", "--sql", "--ticket", "OSW-1", "--options", "k=v", "=", "--yes", "''", '"', "-", "--", "@", "ü"]  # fmt: skip
    generator = random.Random(20261121)
    outcomes = {"usage": 0, "help": 0, "parsed": 0}
    for _ in range(200):
        line = " ".join(generator.choice(words) for _ in range(generator.randint(1, 6)))
        try:
            grammar.parse(grammar.split_words(line))
            outcomes["parsed"] += 1
        except UsageError as error:
            assert error.usage, line
            outcomes["usage"] += 1
        except grammar.HelpRequested as shown:
            assert "usage:" in shown.text
            outcomes["help"] += 1
    assert outcomes["usage"] > 100


def test_unbalanced_quotes_are_a_usage_error():
    with pytest.raises(UsageError) as raised:
        grammar.split_words('plan bts --options "a=b')
    assert "close every quote" in str(raised.value)


def test_help_of_one_command_shows_its_examples():
    with pytest.raises(grammar.HelpRequested) as shown:
        grammar.parse(["help", "plan"])
    assert "consdb-bot plan summit latiss --sql" in shown.value.text
    with pytest.raises(grammar.HelpRequested) as shown:
        grammar.parse(["upgrade", "--help"], prog="/consdb")
    assert "/consdb migrate bts\n" in shown.value.text
    assert "--yes" not in shown.value.text


def test_slack_may_force_a_stamp():
    command = grammar.parse(["stamp", "bts", "latiss", "05689cf3f8f0", "--force"], prog="/consdb").command
    assert command == grammar.Stamp("bts", "latiss", "05689cf3f8f0", force=True)
