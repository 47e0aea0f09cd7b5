"""``consdb-bot sandbox``: it starts, stops on Ctrl-C leaving nothing running, and its page, driven in
headless Chromium (Debian's chromium, through Playwright), takes a newcomer through the guided first
run of the README, to a rollout at the Summit and its logical replica, and the bot's Home tab."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.sandbox.guide import STEPS
from bot.sandbox.standins.local_server import free_port

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
STEP_MS = 60_000
ROLLOUT_STEPS = [
    "usdf-prod: subscription disabled",
    r"summit: Summit migrated \(latiss at 05689cf3f8f0",
    "summit: publication updated",
    r"usdf-prod: replica migrated \(latiss at 05689cf3f8f0",
    "usdf-prod: subscription enabled and refreshed",
    r"usdf-prod: replication verified \(a marker row written at summit arrived",
]
"""What a rollout's thread says, in order (as regular expressions)."""


@dataclass
class Sandbox:
    url: str
    process: subprocess.Popen[str]
    said: list[str]
    folder: Path


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    folder = tmp_path / "sandbox"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(free_port()), "--folder", str(folder)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    said = []
    assert process.stdout is not None
    for line in process.stdout:
        said.append(line)
        if "open http://" in line:
            break
    else:
        raise AssertionError("the sandbox never said where its page is:\n" + "".join(said))
    url = line.split("open ", 1)[1].split()[0]
    try:
        yield Sandbox(url, process, said, folder)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        said.extend(process.stdout)
        process.wait(timeout=120)


def kept(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Each file of a running sandbox's folder: the same file (not deleted and made again), and the same content
    but for those the bot writes as it runs."""
    written = {"bot.log", "state.sqlite3"}
    return {
        name: ((folder / name).stat().st_ino, None if name in written else (folder / name).read_bytes())
        for name in ("consdb-bot.yaml", "kubeconfig", "sandbox.lock", *written)
    }


def test_with_json_the_sandbox_says_where_its_page_is_in_one_json_document(tmp_path):
    """``--json``: one document on stdout once the page answers; how it goes, on stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--json", "--port", str(free_port()), "--folder", str(tmp_path / "s")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines = []  # the document, written as every --json answer is; or all there is, should the sandbox end
        while lines[-1:] != ["}\n"] and (line := process.stdout.readline()):
            lines.append(line)
        said = json.loads("".join(lines))
        assert said["folder"] == str(tmp_path / "s")
        with urllib.request.urlopen(f"{said['page']}/api/session", timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        rest, progress = process.communicate(timeout=120)
    assert process.returncode == 0
    assert rest == "", "nothing but the one document on stdout"
    assert "stopped; nothing is left running" in progress


def test_the_sandbox_starts_and_ctrl_c_stops_everything_it_started(sandbox):
    """It starts; a second sandbox in its folder is refused and changes none of its files; Ctrl-C stops it."""
    with urllib.request.urlopen(f"{sandbox.url}/api/session", timeout=10) as answer:
        session = json.loads(answer.read())
    assert [channel["name"] for channel in session["channels"]] == ["consdb", "consdb-summit"]
    files = kept(sandbox.folder)
    second = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--folder", str(sandbox.folder)],
        cwd=sandbox.folder.parent, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert second.returncode == 1
    assert second.stderr.startswith(
        f"error: a sandbox is already running here (pid {sandbox.process.pid}, {sandbox.url})\n"
    )
    assert kept(sandbox.folder) == files
    with urllib.request.urlopen(f"{sandbox.url}/api/session", timeout=10) as answer:
        assert answer.status == 200
    children = subprocess.run(["pgrep", "-P", str(sandbox.process.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the sandbox runs PostgreSQL and the bot as its children"
    sandbox.process.send_signal(signal.SIGINT)
    assert sandbox.process.wait(timeout=120) == 0
    rest = "".join(sandbox.process.stdout or [])
    assert "stopped; nothing is left running" in rest
    for child in children:
        assert subprocess.run(["ps", "-p", child], capture_output=True).returncode != 0, (
            f"process {child} is still running"
        )


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test saves what the page looked like, to be looked at: $CONSDB_BOT_SCREENSHOTS, or the test's
    own folder."""
    folder = Path(os.environ.get("CONSDB_BOT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_page_opens_with_a_welcome_and_the_guided_run_a_click_away(sandbox, screenshots):
    """A newcomer's first sight of #consdb: what the sandbox is, who one can be, and the README's guided run,
    each command a click away from the message box (the click fills it, as the command's person; it sends
    nothing and approves nothing). Every control says what it does in words, so the page reads where no emoji
    font is installed."""
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium; .ci/run does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(sandbox.url)
        welcome = page.get_by_label("welcome")
        expect(welcome).to_contain_text("Welcome to the consdb-bot sandbox")
        expect(welcome).to_contain_text("A private PostgreSQL holds bts (the Base Test Stand) and summit")
        expect(welcome).to_contain_text("Slack, Kubernetes, Jira, hinfo and pqserver are stand-ins")
        expect(welcome.locator("ul li")).to_contain_text(
            ["Vera (schema author): can book the test stand", "Ada and Grace (approvers): can approve (✅ approve)"]
        )
        steps = welcome.locator("ol > li")
        expect(steps).to_have_count(len(STEPS))
        for number, step in enumerate(STEPS):
            expect(steps.nth(number).get_by_role("button")).to_have_text(list(step.commands))
        for label in page.locator("button").all_text_contents():
            assert re.search(r"[a-z]{3}", label), f"the button {label!r} says nothing without an emoji font"
        page.screenshot(path=screenshots / "welcome.png")

        page.get_by_label("You are").select_option(label="Ada (approver)")
        steps.nth(0).get_by_role("button").click()
        expect(page.get_by_label("command")).to_have_value(STEPS[0].commands[0])
        expect(page.get_by_label("command")).to_be_focused()
        expect(page.get_by_label("You are")).to_have_value("U0VERA0001")
        expect(page.locator("#feed .message")).to_have_count(0)  # nothing is sent until Enter
        page.screenshot(path=screenshots / "welcome-step-clicked.png")

        page.get_by_label("command").press("Enter")
        booked = message(page, "Base Test Stand (bts) booked by @Vera for 2h")
        expect(booked).to_be_in_viewport(timeout=STEP_MS)
        expect(page.locator("#feed > *").first).to_have_class("welcome")  # the welcome stays at the top
        expect(steps.nth(0).get_by_role("button")).to_have_text(f"✓ {STEPS[0].commands[0]}")  # ticked off as sent
        page.screenshot(path=screenshots / "welcome-step-run.png")
        browser.close()


def command(page: Page, text: str) -> None:
    page.get_by_label("command").fill(text)
    page.get_by_label("command").press("Enter")


def message(page: Page, containing: str):
    return page.locator("#feed .message", has_text=containing).last


def test_the_guided_first_run_in_a_browser(sandbox):
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium; .ci/run does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(sandbox.url)
        expect(page.locator("#title")).to_have_text("#consdb")

        at_the_test_stand(page)
        at_the_summit_and_its_replica(page)
        after_the_summit(page)
        the_board(page)
        at_home(page)
        browser.close()


def tick(page: Page, *steps: str) -> None:
    """People's steps of OSW-123's board, ticked with ``done``: each answered privately, and the live board in
    #consdb ticks it."""
    for step in steps:
        command(page, f"/consdb done OSW-123 {step}")
        expect(message(page, f"{step} of OSW-123 is ticked")).to_contain_text("Only visible to you", timeout=STEP_MS)


def at_the_test_stand(page: Page) -> None:
    """Steps 1 to 7: a booking, the sdm_schemas approvals ticked, a migration at bts approved, pqserver
    restarted, hinfo's log and what the exposures written since the migration hold (the watch in the thread,
    check data), the audit."""
    page.get_by_label("You are").select_option(label="Vera (schema author)")
    command(page, "/consdb book bts now 2h OSW-123 schema test")
    expect(message(page, "of bts booked")).to_contain_text("Only visible to you", timeout=STEP_MS)
    expect(message(page, "Base Test Stand (bts) booked by @Vera for 2h")).to_be_visible(timeout=STEP_MS)
    tick(page, "de-approval", "po-approval", "consdb-approval")
    live = message(page, "Rollout board: OSW-123")
    expect(live).to_contain_text("sdm_schemas PR approved by the ConsDB team", timeout=STEP_MS)
    expect(live).to_contain_text("Run: /consdb migrate bts --ticket OSW-123")

    command(page, "/consdb migrate bts latiss --ticket OSW-123")
    request = message(page, "Upgrade request #1")
    expect(request).to_contain_text("Add the visit1 quicklook columns (In Progress)", timeout=STEP_MS)
    expect(request).to_contain_text("waiting for approval")

    page.get_by_label("You are").select_option(label="Ada (approver)")
    request.get_by_role("button", name="✅ approve").click()
    expect(request).to_contain_text("succeeded", timeout=STEP_MS)
    expect(request.get_by_role("button", name="✅ approve 1 (Ada)")).to_be_visible()
    request.locator("button.replies").click()
    thread = page.locator("#thread-feed")
    expect(thread).to_contain_text("latiss: 8ebb60eda79d → 05689cf3f8f0", timeout=STEP_MS)
    expect(thread).to_contain_text("Next steps", timeout=STEP_MS)
    expect(thread).to_contain_text("Commented on OSW-123", timeout=STEP_MS)
    expect(thread).to_contain_text(  # hinfo wrote three exposures after the migration, and the watch read them
        re.compile(r"hinfo latiss, [0-9.]+ min after the migration: 3 exposures committed \(the last \d{8}/\d+\);"
                   r" no errors or warnings\. The database has 3 exposures since the migration \(\d{8}/\d+.(\d{8}/)?\d+\)\."),
        timeout=STEP_MS,
    )  # fmt: skip

    page.get_by_label("You are").select_option(label="Vera (schema author)")
    command(page, "/consdb restart pqserver bts")
    restart = message(page, "Restart request #2")
    expect(restart).to_contain_text("waiting for approval", timeout=STEP_MS)
    page.get_by_label("You are").select_option(label="Grace (approver)")
    restart.get_by_role("button", name="✅ approve").click()
    expect(restart).to_contain_text("succeeded", timeout=STEP_MS)
    restart.locator("button.replies").click()
    expect(thread).to_contain_text("pqserver at bts agrees with the database on every table of cdb_latiss"
                                   " (#1 upgrade latiss added no column)",
                                   timeout=STEP_MS)  # fmt: skip

    command(page, "/consdb logs hinfo latiss bts")
    logs = message(page, "hinfo latiss at bts")
    expect(logs).to_contain_text(re.compile(r"3 exposures committed .*the last \d{8}/\d+"), timeout=STEP_MS)
    expect(logs).to_contain_text("Committed to exposure and ccdexposure table: ATHeaderService_header_AT_O_")
    command(page, "/consdb check data bts latiss")
    data = message(page, "Data of latiss at bts")
    expect(data).to_contain_text(
        re.compile(r"3 exposures since .*\(\d{8}/\d+.(\d{8}/)?\d+\), 3 ccdexposure rows"), timeout=STEP_MS
    )
    expect(data).to_contain_text("the migration added no column to exposure or ccdexposure")

    command(page, "/consdb audit bts")
    audit = message(page, "Audit trail")
    expect(audit).to_contain_text("#1 upgrade succeeded", timeout=STEP_MS)
    expect(audit).to_contain_text("#2 restart succeeded")


def at_the_summit_and_its_replica(page: Page) -> None:
    """Steps 8 to 10: the merge, the tag and the announcement ticked; the Summit's change as a rollout of both,
    approved by two, each step in its thread, then the replica in status."""
    page.get_by_label("You are").select_option(label="Vera (schema author)")
    tick(page, "consdb-merge", "consdb-tag", "announce")
    command(page, "/consdb migrate summit latiss")
    expect(message(page, "summit changes need a Jira ticket")).to_be_visible(timeout=STEP_MS)
    command(page, "/consdb rollout latiss --ticket OSW-123")
    expect(message(page, "Request #3 is posted in")).to_contain_text("#consdb-summit", timeout=STEP_MS)
    page.get_by_role("button", name="#consdb-summit").click()
    expect(page.locator("#title")).to_have_text("#consdb-summit")
    rollout = message(page, "Rollout request #3: Summit (summit)")
    expect(rollout).to_contain_text("summit latiss 8ebb60eda79d → 05689cf3f8f0", timeout=STEP_MS)
    expect(rollout).to_contain_text("usdf-prod latiss 8ebb60eda79d → 05689cf3f8f0")
    expect(rollout).to_contain_text("Needs 2 more approvals of 2")  # the strictest environment's approvals

    page.get_by_label("You are").select_option(label="Ada (approver)")
    rollout.get_by_role("button", name="✅ approve").click()
    expect(rollout).to_contain_text("Needs 1 more approval of 2", timeout=STEP_MS)
    page.get_by_label("You are").select_option(label="Grace (approver)")
    rollout.get_by_role("button", name="✅ approve").click()
    expect(rollout).to_contain_text("succeeded", timeout=STEP_MS)
    expect(rollout).to_contain_text("Approved by @Ada, @Grace")
    rollout.locator("button.replies").click()
    steps = page.locator("#thread-feed .message").filter(has_not_text="rollout of latiss from summit: done")
    expect(steps).to_contain_text(
        [re.compile(rf"{step}.*\[\d+\.\d s\]") for step in ROLLOUT_STEPS], timeout=STEP_MS
    )  # each step in its own reply, in order, with its time
    expect(page.locator("#thread-feed")).to_contain_text("rollout of latiss from summit: done")

    command(page, "/consdb status")
    status = message(page, "replica usdf-prod: subscription usdf_exposurelog")
    expect(status).to_contain_text(
        re.compile(r"latiss\s+05689cf3 head\s+05689cf3 head\s+05689cf3 head"), timeout=STEP_MS
    )
    expect(status).to_contain_text("subscription: enabled, worker running")
    expect(status).to_contain_text("apply errors: none")
    expect(status).to_contain_text("revisions: summit and usdf-prod agree on every schema (2)")


def at_home(page: Page) -> None:
    """Step 11: the Home tab, with every environment at head, the replica well, nothing open, the booking of
    step 1, and where OSW-123's changes stand."""
    page.get_by_role("button", name="consdb-bot Home").click()
    home = page.get_by_label("home")
    expect(home.locator("pre")).to_contain_text(
        re.compile(r"latiss\s+05689cf3 head\s+05689cf3 head\s+05689cf3 head"), timeout=STEP_MS
    )
    expect(home).to_contain_text("usdf-prod (replica of summit): subscription enabled, worker running")
    expect(home).to_contain_text("revisions agree")
    expect(home).to_contain_text("No request is open.")
    expect(home).to_contain_text("#1 Base Test Stand (bts) @Vera")
    expect(home).to_contain_text("OSW-123 (booking #1) · complete: 13 of 13 steps done")


def test_the_home_tab_in_a_browser(sandbox):
    """Opening the bot's Home sends Slack's app_home_opened; the view the bot publishes shows the matrix, the
    replica, and once Vera has booked bts and asked for a migration, her request, booking and ticket."""
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium; .ci/run does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(sandbox.url)
        page.get_by_label("You are").select_option(label="Vera (schema author)")
        page.get_by_role("button", name="consdb-bot Home").click()
        expect(page.locator("#title")).to_have_text("consdb-bot · Home")
        home = page.get_by_label("home")
        expect(home).to_contain_text("ConsDB schema status", timeout=STEP_MS)
        expect(home.locator("pre")).to_contain_text(re.compile(r"schema\s+bts\s+summit\s+usdf-prod"))
        expect(home.locator("pre")).to_contain_text(re.compile(r"latiss\s+8ebb60ed -1\s+8ebb60ed -1\s+8ebb60ed -1"))
        expect(home).to_contain_text("usdf-prod (replica of summit): subscription enabled, worker running")
        expect(home).to_contain_text("No request is open.")
        expect(page.get_by_label("command")).to_be_hidden()

        page.get_by_role("button", name="#consdb", exact=True).click()
        command(page, "/consdb book bts now 2h OSW-123 schema test")
        expect(message(page, "Base Test Stand (bts) booked by @Vera for 2h")).to_be_visible(timeout=STEP_MS)
        command(page, "/consdb migrate bts latiss --ticket OSW-123")
        expect(message(page, "Upgrade request #1")).to_contain_text("waiting for approval", timeout=STEP_MS)

        page.get_by_role("button", name="consdb-bot Home").click()
        expect(home).to_contain_text(
            "⏳ waiting for approval · Upgrade #1 at Base Test Stand (bts): latiss 8ebb60eda79d → 05689cf3f8f0",
            timeout=STEP_MS,
        )
        expect(home.get_by_role("link", name="open the request")).to_have_attribute(
            "href", re.compile(r"^https://rubin-obs\.slack\.com/archives/C0CONSDB01/p\d+$")
        )
        expect(home).to_contain_text("#1 Base Test Stand (bts) @Vera")
        expect(home).to_contain_text("OSW-123 (request #1 open, booking #1) · 0 of 13 steps done")
        expect(home).to_contain_text("⬜ consdb-approval ⬜ test-stand ⬜ test-stand-pqserver")
        expect(home).to_contain_text("next at bts · run /consdb done OSW-123 de-approval")

        page.get_by_label("You are").select_option(label="Ada (approver)")
        expect(home).to_contain_text("⏳ waiting for approval · Upgrade #1", timeout=STEP_MS)  # Ada's own Home
        browser.close()


def after_the_summit(page: Page) -> None:
    """Step 11: pqserver restarted at the Summit (approved by two), TAP checked there, the sdm_schemas merge."""
    page.get_by_label("You are").select_option(label="Vera (schema author)")
    command(page, "/consdb restart pqserver summit --ticket OSW-123")
    restart = message(page, "Restart request #4")
    expect(restart).to_contain_text("Needs 2 more approvals of 2", timeout=STEP_MS)
    for approver in ("Ada (approver)", "Grace (approver)"):
        page.get_by_label("You are").select_option(label=approver)
        restart.get_by_role("button", name="✅ approve").click()
    expect(restart).to_contain_text("succeeded", timeout=STEP_MS)
    page.get_by_label("You are").select_option(label="Vera (schema author)")
    command(page, "/consdb check tap summit")
    tap = message(page, "TAP at summit")
    expect(tap).to_contain_text(re.compile(r"latiss \(cdb_latiss\) at 05689cf3f8f0: TAP is current"), timeout=STEP_MS)
    tick(page, "sdm-merge")


def the_board(page: Page) -> None:
    """Step 12: the ticket's rollout board, complete, asked for in #consdb-summit, and the live one in #consdb."""
    command(page, "/consdb board OSW-123")
    board = message(page, "Rollout board: OSW-123")
    expect(board).to_contain_text("Every step is done.", timeout=STEP_MS)
    expect(board).to_contain_text("sdm_schemas PR approved by Data Engineering (syntax, names, descriptions) — @Vera")
    expect(board).to_contain_text("migrated at bts — @Vera")
    expect(board).to_contain_text("pqserver restarted at bts — @Vera")
    expect(board).to_contain_text("hinfo writes the new columns at bts — @Grace")
    expect(board).to_contain_text("latiss at bts: 3 exposures since the migration (the migration added no column)")
    expect(board).to_contain_text("summit and usdf-prod migrated as one rollout — @Vera")
    expect(board).to_contain_text("pqserver restarted at summit — @Vera")
    expect(board).to_contain_text("TAP serves the new columns at summit — @Vera")
    expect(board).to_contain_text("sdm_schemas PR merged (the schema browser shows it) — @Vera")
    expect(board).not_to_contain_text("Run:")
    page.get_by_role("button", name="#consdb", exact=True).click()
    expect(message(page, "Rollout board: OSW-123")).to_contain_text(
        "Every step is done.", timeout=STEP_MS
    )  # the live board, updated in place
