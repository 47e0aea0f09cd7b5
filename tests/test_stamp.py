"""``stamp`` verifies first: the live schema must match the model at REV (by drift), unless ``--force``.

A database made without Alembic is played by one brought to head whose version table is then dropped.
"""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from tests.conftest import libpq
from tests.support.slack_bot import (
    APPROVER_1,
    BTS_CHANNEL,
    REQUESTER,
    ephemeral_to,
    hold_bts,
    posted_request,
    request_state,
    revisions,
)

FIRST, HEAD = "dbd7607b3634", "e72a1ea985e6"
"""lsstcam's two revisions in the bundled tree: sdm_schemas 30.2026.2800, then 30.2026.4300."""


def forget_the_version(url: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute("DROP TABLE cdb.cdb_lsstcam_version")


@pytest.mark.slow
def test_a_stamp_is_refused_with_the_differences_unless_the_schema_matches_the_model_at_rev(consdb_bot, bundled):
    config = ("--config", str(bundled))
    assert consdb_bot("upgrade", "bts", "lsstcam", "--yes", *config).code == 0
    forget_the_version(os.environ["BTS_DATABASE_URL"])

    refused = consdb_bot("stamp", "bts", "lsstcam", FIRST, "--yes", *config)
    assert refused.code == 1
    assert f"lsstcam at bts does not match the model at {FIRST}, so it was not stamped" in refused.err
    assert "is not in the model" in refused.err
    assert f"stamp bts lsstcam {FIRST} --force" in refused.err
    assert "unversioned" in consdb_bot("status", "bts", "lsstcam", *config).out

    assert consdb_bot("stamp", "bts", "lsstcam", "head", "--yes", *config).code == 0
    assert f"{HEAD} (head)" in consdb_bot("status", "bts", "lsstcam", *config).out


def test_a_forced_stamp_is_recorded_as_overridden(consdb_bot, bundled):
    config = ("--config", str(bundled))
    assert consdb_bot("upgrade", "bts", "lsstcam", "--yes", *config).code == 0
    forget_the_version(os.environ["BTS_DATABASE_URL"])

    forced = consdb_bot("stamp", "bts", "lsstcam", FIRST, "--force", "--yes", *config)
    assert forced.code == 0, forced.text
    assert "the check against the model was overridden with --force" in forced.err
    assert f"{FIRST} (1 behind)" in consdb_bot("status", "bts", "lsstcam", *config).out
    audit = consdb_bot("audit", "bts", *config).out
    assert "#2 stamp succeeded (the check against the model was overridden with --force)" in audit
    newest = json.loads(consdb_bot("audit", "bts", "--json", *config).out)[0]
    assert newest["detail"]["forced"] is True


@pytest.mark.slow
def test_stamp_in_slack_lists_the_differences_and_a_forced_one_shows_in_red(bot, slack, databases):
    url = databases["BTS_DATABASE_URL"]
    hold_bts(bot, slack)
    bot.command("migrate bts lsstcam", user=REQUESTER)
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=posted_request(slack, 1).reply["ts"],
                 event_id="EvUp")  # fmt: skip
    request_state(slack, 1, "succeeded")
    forget_the_version(url)

    bot.command(f"stamp bts lsstcam {FIRST}", user=REQUESTER)
    refusal = ephemeral_to(slack, REQUESTER, f"does not match the model at {FIRST}")
    assert "is not in the model" in refusal.text
    assert f"stamp bts lsstcam {FIRST} --force" in refusal.text

    bot.command(f"stamp bts lsstcam {FIRST} --force", user=REQUESTER)
    request = posted_request(slack, 2)
    shown = json.dumps(request.args["blocks"], ensure_ascii=False)
    assert ":red_circle: *Check overridden (`--force`)*" in shown
    bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=request.reply["ts"], event_id="EvStamp")
    request_state(slack, 2, "succeeded", kind="Stamp")
    assert revisions(url, "lsstcam") == [FIRST]

    bot.command("audit bts")
    answer = slack.wait_for(lambda calls: next((c for c in calls if c.text == "Audit trail"), None))
    trail = json.dumps(answer.args["blocks"])
    assert "#2 stamp succeeded (the check against the model was overridden with --force)" in trail
