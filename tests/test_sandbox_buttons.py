"""The booking buttons on the sandbox's page, in headless Chromium: a booking's announcement offers Extend 1h
and Cancel in words, and clicking them (as Slack's clients do: a signed ``block_actions``, Cancel asked again
in a dialog) changes the booking and redraws the announcement. Screenshots go to ``CONSDB_BOT_SCREENSHOTS``
when it is set, else to the test's own folder, to be looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect, sync_playwright

from tests.test_sandbox import CHROMIUM, STEP_MS, Sandbox, command, message, sandbox  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CONSDB_BOT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_booking_buttons_in_a_browser(sandbox: Sandbox, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium; .ci/run does)"
    shots = screenshots(tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page: Page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(sandbox.url)
        page.get_by_label("You are").select_option(label="Vera (schema author)")
        command(page, "/consdb book bts now 2h schema test")
        booked = message(page, "Base Test Stand (bts) booked by @Vera for 2h")
        extend = booked.get_by_role("button", name="Extend 1h")
        cancel = booked.get_by_role("button", name="Cancel")
        expect(extend).to_be_visible(timeout=STEP_MS)
        expect(cancel).to_be_visible()
        page.screenshot(path=str(shots / "booking-buttons-1-offered.png"))

        extend.click()
        expect(message(page, "booking #1 of bts extended")).to_contain_text("Only visible to you", timeout=STEP_MS)
        expect(booked).to_contain_text("Extended by 1h by @Vera: now", timeout=STEP_MS)
        expect(message(page, "booking #1 of Base Test Stand (bts) was extended by 1h by @Vera")).to_be_visible(
            timeout=STEP_MS
        )
        expect(booked.get_by_role("button", name="Extend 1h")).to_be_visible()  # it stands: still offered
        page.screenshot(path=str(shots / "booking-buttons-2-extended.png"))

        asked: list[str] = []

        def accept(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        booked.get_by_role("button", name="Cancel").click()
        expect(booked).to_contain_text("Cancelled by @Vera", timeout=STEP_MS)
        assert [question.split("\n")[0] for question in asked] == ["Cancel booking #1?"]
        expect(booked.get_by_role("button", name="Extend 1h")).to_have_count(0)
        expect(booked.get_by_role("button", name="Cancel")).to_have_count(0)
        extended = message(page, "was extended by 1h by @Vera")  # every announcement of it is taken back
        expect(extended).to_contain_text("Cancelled by @Vera", timeout=STEP_MS)
        expect(extended.get_by_role("button", name="Cancel")).to_have_count(0)
        page.screenshot(path=str(shots / "booking-buttons-3-cancelled.png"))
        browser.close()
