"""The welcome at the top of the sandbox's #consdb: what the sandbox is, who one can be there, and the README's
guided first run as commands to click. Kept here, once: the page reads it through ``/api/session``, and
``tests/test_docs.py`` holds the README's guided run to the same commands."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    """One step of the guided run: what to do and what to see (Slack mrkdwn), the commands it types, and who
    types them (the page switches "You are" to them when one is clicked)."""

    text: str
    commands: tuple[str, ...] = ()
    who: str = "Vera"


ABOUT = (
    "This is a sandbox: everything runs on this machine. A private PostgreSQL holds *bts* (the Base Test Stand)"
    " and *summit*, a second one *usdf-prod*, the Summit's logical replica, with latiss and lsstcam one revision"
    " behind. Slack, Kubernetes, Jira, hinfo and pqserver are stand-ins; the bot is the real one"
    ", `consdb-bot serve`, and this page is its Slack. Type `/consdb help` below, or follow the guided run."
)

ROLES = {
    "schema author": "can book the test stand, ask for migrations, restarts and rollouts, and tick the ticket's steps",
    "approver": "can approve (✅ approve) or reject (❌ reject) requests: one approver is enough at bts, both are"
    " needed at summit and usdf-prod",
}
"""What each person of the sandbox (``run.PEOPLE``) can do, by role."""

STEPS = (
    Step(
        "Book the test stand. The channel hears of it; Jira's OSW-123 gets a comment.",
        ("/consdb book bts now 2h OSW-123 schema test",),
    ),
    Step(
        "Tick the sdm_schemas pull request's three approvals, people's to tick. The ticket's live rollout board"
        " appears in #consdb and ticks each.",
        (
            "/consdb done OSW-123 de-approval",
            "/consdb done OSW-123 po-approval",
            "/consdb done OSW-123 consdb-approval",
        ),
    ),
    Step(
        "Ask for a migration: the request shows the range, the lint warnings, the ticket, and that it waits for"
        " one approval.",
        ("/consdb migrate bts latiss --ticket OSW-123",),
    ),
    Step(
        "Switch to *Ada* and click ✅ approve on the request. It runs once; open its replies to watch the revisions"
        " go by, the next steps, the Jira comment, and hinfo's exposures half a minute later.",
        who="Ada",
    ),
    Step(
        "Restart pqserver at bts, then switch to *Grace* and approve it. The thread compares pqserver's columns"
        " with the database's on every latiss table: how many agree, and each whose columns pqserver lacks.",
        ("/consdb restart pqserver bts",),
    ),
    Step(
        "hinfo's log, errors first; the exposures it wrote since the migration; who asked, approved, ran.",
        ("/consdb logs hinfo latiss bts", "/consdb check data bts latiss", "/consdb audit bts"),
    ),
    Step(
        "Tick the merge, the tag and the announcement. The Summit's change is refused without a ticket, and the"
        " Summit has a replica, so it is a rollout of both, posted in #consdb-summit, waiting for two approvals.",
        (
            "/consdb done OSW-123 consdb-merge",
            "/consdb done OSW-123 consdb-tag",
            "/consdb done OSW-123 announce",
            "/consdb migrate summit latiss",
            "/consdb rollout latiss --ticket OSW-123",
        ),
    ),
    Step(
        "Open #consdb-summit and approve the rollout as *Ada*, then as *Grace*. Its replies show each step with its"
        " time, down to replication verified.",
        who="Ada",
    ),
    Step(
        "The Summit and usdf-prod at the new revision, and the replica's line: subscription enabled, no apply"
        " errors, both sides agreeing.",
        ("/consdb status",),
    ),
    Step(
        "Restart pqserver at the Summit (approved by Ada and Grace), check that TAP serves the new columns, tick"
        " the sdm_schemas merge.",
        (
            "/consdb restart pqserver summit --ticket OSW-123",
            "/consdb check tap summit",
            "/consdb done OSW-123 sdm-merge",
        ),
    ),
    Step(
        "The board: every step done, each with who and when. Then click 🏠 consdb-bot Home (top left): the matrix,"
        " the replica, the booking, and OSW-123's board, complete.",
        ("/consdb board OSW-123",),
    ),
)
"""The README's guided first run (its section "The sandbox"), step by step."""


def guide() -> dict[str, Any]:
    """The welcome as the page shows it."""
    return {"about": ABOUT, "roles": ROLES, "steps": [asdict(step) for step in STEPS]}
