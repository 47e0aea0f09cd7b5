"""The command grammar, shared by Slack and the terminal: tables of lines in, commands out."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from bot import grammar
from bot.errors import UsageError
from bot.store.models import AuditRecord, Booking, ChangeRequest, JiraComment


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
        ("migrate bts latiss --allow-rewrite", grammar.Upgrade("bts", ("latiss",), allow_rewrite=True)),
        ("upgrade bts latiss --allow-rewrite --yes", grammar.Upgrade("bts", ("latiss",), yes=True, allow_rewrite=True)),
        ("downgrade bts latiss -1 --yes", grammar.Downgrade("bts", "latiss", "-1", yes=True)),
        ("downgrade bts latiss -1 --allow-rewrite", grammar.Downgrade("bts", "latiss", "-1", allow_rewrite=True)),
        ("rollout latiss --ticket OSW-1 --allow-rewrite", grammar.Rollout(("latiss",), "OSW-1", allow_rewrite=True)),
        ("downgrade bts latiss base --ticket DM-12345", grammar.Downgrade("bts", "latiss", "base", ticket="DM-12345")),
        ("stamp bts latiss head --yes", grammar.Stamp("bts", "latiss", "head", yes=True)),
        ("stamp bts latiss 05689cf3f8f0 --force --yes", grammar.Stamp("bts", "latiss", "05689cf3f8f0", yes=True, force=True)),
        ("restart pqserver summit --ticket osw-123", grammar.Restart("summit", ticket="OSW-123")),
        ("ticket dm-12345", grammar.Ticket("DM-12345")),
        ("generate -m w.2026.50", grammar.Generate("w.2026.50")),
        ("generate -m m latiss --sdm-schemas /s --rename exposure.a:b --rename exposure.c:d --drop-and-add",
         grammar.Generate("m", ("latiss",), "/s", (grammar.Rename("exposure", "a", "b"), grammar.Rename("exposure", "c", "d")), True)),
        ("check data bts latiss", grammar.CheckData("bts", "latiss")),
        ("check data summit cdb_lsstcam --since 1h30m --json", grammar.CheckData("summit", "cdb_lsstcam", 5400)),
        ("board osw-123", grammar.Board("OSW-123")),
        ("done OSW-123 Consdb-Merge --json", grammar.Done("OSW-123", "consdb-merge")),
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
        ("frobnicate", "unknown command 'frobnicate'; `consdb-bot help` lists the commands"),
        ("status --colour", "unrecognized arguments: --colour"),
        ("upgrade bts --force --yes", "unrecognized arguments: --force"),
        ("stamp bts latiss head --allow-rewrite", "unrecognized arguments: --allow-rewrite"),
        ("help frobnicate", "unknown command 'frobnicate'"),
        ("check", "the following arguments are required: WHAT"),
        ("check tables bts", "unknown command 'tables' (one of: data, tap)"),
        ("check data bts", "the following arguments are required: INSTRUMENT"),
        ("board", "the following arguments are required: TICKET"),
        ("done OSW-123", "the following arguments are required: STEP"),
        ("done 123 tap", "'123' is not a Jira key"),
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


LONGEST_TICKET = "ABCDEFGHIJKLMNOPQRST-123456789"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["audit", "--limit", "1000"], grammar.Audit(limit=1000)),
        (["cancel", "2147483647"], grammar.Cancel(2**31 - 1)),
        (["extend", "#1", "365d"], grammar.Extend(1, 365 * 86400)),
        (["extend", "1", "8760h"], grammar.Extend(1, 365 * 86400)),
        (["logs", "hinfo", "latiss", "bts", "--lines", "10000", "--grep", "g" * 200],
         grammar.Logs("latiss", "bts", lines=10_000, grep="g" * 200)),
        (["upgrade", "e" * 64, "s" * 64, "--to", "r" * 64, "--ticket", LONGEST_TICKET, "--options", f"{'k' * 64}={'v' * 256}"],
         grammar.Upgrade("e" * 64, ("s" * 64,), "r" * 64, LONGEST_TICKET, {"k" * 64: "v" * 256})),
        (["book", "bts", "now", "1h", LONGEST_TICKET, "n" * 500],
         grammar.Book("bts", grammar.When("now"), 3600, LONGEST_TICKET, "n" * 500)),
        (["book", "bts", "now", "1h", "A-1", "is", "no", "ticket"],
         grammar.Book("bts", grammar.When("now"), 3600, None, "A-1 is no ticket")),
        (["serve", "--port", "65535", "--stop-seconds", "3600"], grammar.Serve(port=65_535, stop_seconds=3600)),
        (["generate", "-m", "m" * 200, "--rename", f"{'t' * 63}.a:b"],
         grammar.Generate("m" * 200, renames=(grammar.Rename("t" * 63, "a", "b"),))),
    ],
)  # fmt: skip
def test_values_at_their_bounds_are_taken(words, expected):
    assert grammar.parse(words).command == expected


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["audit", "--limit", "99999999999999999999999"], "is not a whole number from 1 to 1000"),
        (["audit", "--limit", "1001"], "'1001' is not a whole number from 1 to 1000"),
        (["audit", "--limit", "0"], "from 1 to 1000"),
        (["audit", "--limit", "٣"], "from 1 to 1000"),
        (["cancel", "99999999999999999999"], "is not a booking number; write it as 12, at most 2147483647"),
        (["cancel", "2147483648"], "at most 2147483647"),
        (["extend", "1", "999999999999d"], "'999999999999d' is too long: a DURATION is at most 365d"),
        (["extend", "1", "366d"], "a DURATION is at most 365d"),
        (["extend", "1", "8761h"], "a DURATION is at most 365d"),
        (["logs", "hinfo", "latiss", "bts", "--since", "400d"], "a DURATION is at most 365d"),
        (["logs", "hinfo", "latiss", "bts", "--lines", "10001"], "from 1 to 10000"),
        (["logs", "hinfo", "latiss", "bts", "--grep", "g" * 201], "the pattern is 201 characters long; keep it to 200"),
        (["logs", "hinfo", "i" * 65, "bts"], "is too long for an instrument (65 characters, at most 64)"),
        (["check", "data", "bts", "i" * 65], "is too long for an instrument (65 characters, at most 64)"),
        (["check", "data", "bts", "latiss", "--since", "366d"], "a DURATION is at most 365d"),
        (["book", "bts", "9999-12-31", "23:59", "1d"], "'9999-12-31' is out of range: a date from 2000-01-01 to 2100-12-31"),
        (["book", "bts", "1999-12-31", "23:59", "1d"], "is out of range"),
        (["book", "bts", "now", "1h", "OSW-" + "1" * 60], "is not a Jira key; write it as DM-12345 or OSW-123"),
        (["book", "bts", "now", "1h", "OSW-1234567890"], "a number of 1 to 9 digits"),
        (["book", "bts", "now", "1h", "n" * 501], "the NOTE is 501 characters long; keep it to 500"),
        (["book", "t" * 65, "now", "1h"], "is too long for a test stand"),
        (["upgrade", "bts", "--ticket", "OSW-" + "1" * 60], "is not a Jira key"),
        (["upgrade", "bts", "--ticket", "ABCDEFGHIJKLMNOPQRSTU-1"], "a project of 2 to 20 letters and digits"),
        (["upgrade", "b" * 3000], "is too long for an environment (3000 characters, at most 64); such as bts"),
        (["upgrade", "<!channel>"], "is not an environment: letters, digits, _, . and - only"),
        (["status", "x" * 65], "is too long for an environment or a schema"),
        (["plan", "bts", "s" * 65], "is too long for a schema"),
        (["history", "<https://evil|x>"], "is not a schema"),
        (["upgrade", "bts", "--to", "r" * 65], "is not a revision (at most 64"),
        (["downgrade", "bts", "latiss", "a;b"], "is not a revision"),
        (["plan", "bts", "--options", f"k={'v' * 257}"], "VALUE at most 256"),
        (["plan", "bts", "--options", f"{'k' * 65}=v"], "KEY at most 64"),
        (["generate", "-m", "m" * 201], "the message is 201 characters long; keep it to 200"),
        (["generate", "-m", "m", "--rename", f"{'t' * 64}.a:b"], "is not a rename"),
        (["generate", "-m", "m", "--sdm-schemas", "d" * 4097], "keep it to 4096"),
        (["serve", "--port", "65536"], "from 1 to 65535"),
        (["serve", "--stop-seconds", "3601"], "from 1 to 3600"),
        (["sandbox", "--port", "99999999999999999999999"], "from 1 to 65535"),
        (["status", "--config", "c" * 4097], "keep it to 4096"),
    ],
)  # fmt: skip
def test_values_beyond_their_bounds_get_usage_with_an_example(words, says):
    with pytest.raises(UsageError) as raised:
        grammar.parse(words)
    assert says in str(raised.value)
    assert raised.value.usage.startswith("usage: consdb-bot")
    assert "For example: consdb-bot" in (raised.value.hint or "")
    assert len(str(raised.value)) < 1000, "an error repeats at most the start of a long value"


@pytest.mark.parametrize(
    "words", [["status", "bts", "--nope", "n" * 5000], ["bookings", "--nope", *["n"] * 3000]], ids=["long", "many"]
)
def test_words_argparse_did_not_take_are_repeated_short_so_that_the_usage_shows(words):
    with pytest.raises(UsageError) as raised:
        grammar.parse(words)
    assert raised.value.message.startswith("consdb-bot: unrecognized arguments: --nope n")
    assert len(raised.value.message) <= 420
    assert raised.value.usage.startswith("usage: consdb-bot")


@pytest.mark.parametrize(
    "words",
    [
        ["book", "bts", "now", "1h", "a\x00b"],
        ["book", "bts", "now", "1h", "bell\x07"],
        ["status", "bts\x1b[31m"],
        ["plan", "bts", "--options", "k=a\nb"],
        ["book", "bts", "now", "1h", "\udcff"],
        ["cancel", "1\x85"],
    ],
)
def test_control_characters_are_refused_anywhere_with_the_commands_usage(words):
    with pytest.raises(UsageError) as raised:
        grammar.parse(words)
    assert "has a control character; type it again without one" in raised.value.message
    assert raised.value.usage.startswith(f"usage: consdb-bot {words[0]}")


def test_every_bound_fits_the_column_it_is_kept_in():
    """On PostgreSQL a value longer than its column is an error, not stored: the grammar refuses it first."""
    length = lambda model, column: model.__table__.c[column].type.length  # noqa: E731
    for model in (ChangeRequest, AuditRecord):
        assert length(model, "environment") >= grammar.MAX_NAME
    assert length(ChangeRequest, "target") >= grammar.MAX_REVISION
    longest = grammar.parse(["upgrade", "bts", "--ticket", LONGEST_TICKET]).command.ticket
    for model in (ChangeRequest, Booking, AuditRecord, JiraComment):
        assert len(longest) <= length(model, "ticket")
    assert grammar.MAX_BOOKING_ID == 2**31 - 1, "bookings.id is an INTEGER"
    assert (datetime.max - datetime(2101, 1, 1)).total_seconds() > grammar.MAX_DURATION_DAYS * 86400
