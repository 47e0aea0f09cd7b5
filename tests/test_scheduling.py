"""Scheduled announcements and reports as Slack sees them: ``consdb-bot serve`` with its clock set by
the test (libfaketime), signed commands in, messages out to the Slack stand-in. Between runs the bot is
stopped, killed, and started again at a later moment, so that what it owes is seen posted once.

Last, the scheduler in the test's own process: whose tasks its jobs run, and the jobs an earlier
version of the bot stored."""

from __future__ import annotations

import pickle
import queue
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from apscheduler.triggers.date import DateTrigger

from bot.sandbox.standins.slack import Call, FakeSlack
from bot.services.scheduler import Scheduler
from bot.store import STATE_TREE, Store
from tests.support.bot_process import BotProcess
from tests.support.clock import Clock, pause

ANNOUNCE, BTS = "C0ANNOUNCE", "C0BTS00001"
BOOKER, APPROVER, STRANGER = "U0BOOKER01", "U0APPROVE1", "U0STRANGER"
BOOKED, REMINDER, STARTED, ENDED = ":calendar:", ":bell:", ":arrow_forward:", ":checkered_flag:"
CANCELLED, EXTENDED = ":wastebasket:", ":heavy_plus_sign:"


def santiago(text: str) -> datetime:
    """A moment of Tuesday 24 November 2026 on the BTS clock (-03 in the southern summer)."""
    return datetime.fromisoformat(f"2026-11-24T{text}-03:00")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def configuration(tmp_path: Path, *, state_url: str, extra: str = "", reminder_minutes: float = 15) -> Path:
    path = tmp_path / "consdb-bot.yaml"
    path.write_text(f"""
state_url: {state_url}
schemas: [latiss]
slack: {{announce_channel: {ANNOUNCE}}}
bookings: {{reminder_minutes: {reminder_minutes}}}
scheduler: {{poll_seconds: 0.2}}
{extra or "reports: {daily_at: null, check_minutes: 0}"}
environments:
  bts:
    test_stand: true
    timezone: America/Santiago
    database_url: ${{BTS_DATABASE_URL:-postgresql://postgres@127.0.0.1:1/none}}
    channel: {BTS}
    approvals: {{required: 1, approvers: [{APPROVER}]}}
""")
    return path


def posts(slack: FakeSlack, mark: str, *, booking: int | None = None) -> list[Call]:
    """The announcements of one kind posted so far (of one booking), in every channel."""
    number = re.compile(rf"#{booking}\b") if booking else None
    return [
        call for call in slack.calls("chat.postMessage")
        if call.text.startswith(mark) and (number is None or number.search(call.text))
    ]  # fmt: skip


def wait_for_posts(slack: FakeSlack, mark: str, *, booking: int | None = None) -> list[Call]:
    """Until the announcement is in both channels."""
    slack.wait_for(
        lambda _calls: {call.args["channel"] for call in posts(slack, mark, booking=booking)} >= {ANNOUNCE, BTS}
    )
    return posts(slack, mark, booking=booking)


def ephemeral(user: str, containing: str) -> Callable[[list[Call]], Call | None]:
    def found(calls: list[Call]) -> Call | None:
        return next((c for c in calls if c.method == "chat.postEphemeral" and c.args["user"] == user
                     and containing in c.text), None)  # fmt: skip

    return found


@pytest.mark.slow
def test_announcements_land_at_their_moments_once_across_stops_crashes_and_changes(tmp_path, slack):
    config = configuration(tmp_path, state_url=f"sqlite:///{tmp_path / 'state.sqlite3'}")

    with BotProcess(config, slack.url, clock_at=santiago("08:30:00")) as bot:
        assert bot.command("book bts today 09:00 1h OSW-123 schema test", user=BOOKER).status == 200
        booked = wait_for_posts(slack, BOOKED, booking=1)
        assert "Tue 2026-11-24 09:00 -03 to 10:00 -03" in booked[0].text
        assert "<!date^1795521600^" in booked[0].text  # the reader's own clock beside it
        assert "<@U0BOOKER01>" in booked[0].text
        assert "OSW-123 · schema test" in booked[0].text
        bot.command("book bts today 12:00 1h", user=STRANGER)
        wait_for_posts(slack, BOOKED, booking=2)

        bot.command("extend 1 1h", user=STRANGER)
        slack.wait_for(ephemeral(STRANGER, "only <@U0BOOKER01>, who booked #1, or an approver of bts can extend it"))
        bot.command("extend 1 1h", user=BOOKER)
        assert "now Tue 2026-11-24 09:00 -03 to 11:00 -03" in wait_for_posts(slack, EXTENDED, booking=1)[0].text
        bot.command("cancel 2", user=APPROVER)
        assert "was cancelled by <@U0APPROVE1>" in wait_for_posts(slack, CANCELLED, booking=2)[0].text

    with BotProcess(config, slack.url, clock_at=santiago("08:44:58")) as bot:
        reminders = wait_for_posts(slack, REMINDER, booking=1)
        assert all(santiago("08:45:00").timestamp() <= call.at + bot.offset < santiago("08:45:05").timestamp()
                   for call in reminders)  # fmt: skip
        assert "starts in 15 minutes" in reminders[0].text

    bot = BotProcess(config, slack.url, clock_at=santiago("08:59:58")).start()
    started = wait_for_posts(slack, STARTED, booking=1)
    assert all(call.at + bot.offset >= santiago("09:00:00").timestamp() for call in started)
    assert "until 11:00 -03" in started[0].text
    bot.stop(kill=True)

    # Down at 11:00 (the end, moved by the extension): posted late, once, on the next start.
    with BotProcess(config, slack.url, clock_at=santiago("11:02:00")):
        ended = wait_for_posts(slack, ENDED, booking=1)
        assert "Posted late: this was due at 11:00 -03" in ended[0].text

    counts = {mark: len(posts(slack, mark, booking=1)) for mark in (BOOKED, REMINDER, STARTED, ENDED, EXTENDED)}
    assert counts == dict.fromkeys((BOOKED, REMINDER, STARTED, ENDED, EXTENDED), 2)  # once in each channel
    assert posts(slack, REMINDER, booking=2) == []  # cancelled
    assert posts(slack, STARTED, booking=2) == []


@pytest.mark.slow
def test_two_bot_processes_on_one_postgresql_state_announce_once(tmp_path, slack, new_database):
    state = new_database().replace("postgresql://", "postgresql+psycopg://")
    config = configuration(tmp_path, state_url=state, reminder_minutes=0.2)  # 12 s before the start
    first = BotProcess(config, slack.url, clock_at=santiago("08:59:40")).start()
    second = BotProcess(config, slack.url, clock_at=santiago("08:59:40")).start()
    try:
        second.command("book bts today 09:00 30m", user=BOOKER)
        wait_for_posts(slack, BOOKED)
        wait_for_posts(slack, REMINDER)
        leaders = [bot for bot in (first, second) if _leads(bot)]
        assert len(leaders) == 1
        leaders[0].stop(kill=True)  # the follower takes over
        wait_for_posts(slack, STARTED)
        assert [len(posts(slack, mark)) for mark in (BOOKED, REMINDER, STARTED)] == [2, 2, 2]
    finally:
        first.stop()
        second.stop()


def _leads(bot: BotProcess) -> bool:
    return "consdb_bot_scheduler_leader 1.0" in bot.get("/metrics").body


@pytest.mark.slow
def test_the_daily_report_comes_at_its_hour_on_the_environments_clock(tmp_path, slack, new_database, monkeypatch):
    monkeypatch.setenv("BTS_DATABASE_URL", new_database())
    config = configuration(
        tmp_path, state_url=f"sqlite:///{tmp_path / 'state.sqlite3'}",
        extra="reports: {daily_at: '08:00', check_minutes: 0}",
    )  # fmt: skip
    with BotProcess(config, slack.url, clock_at=santiago("07:59:54")) as bot:
        bot.command("book bts today 10:00 2h OSW-7", user=BOOKER)
        wait_for_posts(slack, BOOKED)
        report = slack.wait_for(lambda calls: [c for c in calls if c.text.startswith("Daily report")])[0]
    assert report.args["channel"] in (ANNOUNCE, BTS)
    assert report.at + bot.offset >= santiago("08:00:00").timestamp()
    blocks = str(report.args["blocks"])
    assert "Daily report, bts (bts), Tue 2026-11-24" in blocks
    assert "`latiss` empty (2 behind)" in blocks
    assert "#1 *bts* <@U0BOOKER01>: Tue 2026-11-24 10:00 -03 to 12:00 -03" in blocks


# The scheduler in this process ------------------------------------------------------------------------

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # due whatever the clock says; the jobs run however late
# The store revision that moved the stored jobs to bot.services.scheduler.
MOVED_REVISION = "0006"


def test_two_schedulers_in_one_process_each_run_their_own_task_of_a_name(tmp_path):
    said: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    schedulers = []
    for owner in ("first", "second"):
        scheduler = Scheduler(Store(f"sqlite:///{tmp_path / owner}.sqlite3", clock=Clock()), poll_seconds=0.2)
        scheduler.open()
        scheduler.register("say", lambda word, owner=owner: said.put((owner, word)))
        scheduler.at("say-once", LONG_AGO, "say", owner, grace_seconds=None)
        schedulers.append(scheduler)
    try:
        for scheduler in schedulers:
            scheduler.lead()
        heard = {said.get(timeout=30), said.get(timeout=30)}
        until(lambda: all(scheduler.job_ids() == [] for scheduler in schedulers))
    finally:
        for scheduler in schedulers:
            scheduler.close()
    assert heard == {("first", "first"), ("second", "second")}


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request, tmp_path: Path, new_database) -> str:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}" if request.param == "sqlite" else new_database()
    return url.replace("postgresql://", "postgresql+psycopg://")


def test_a_job_stored_before_the_scheduler_moved_is_run_after_the_upgrade(state_url):
    store = Store(state_url, clock=Clock())
    config = Config()
    config.set_main_option("script_location", str(STATE_TREE))
    before = ScriptDirectory.from_config(config).get_revision(MOVED_REVISION).down_revision
    with store.engine.begin() as connection:  # the state as the bot left it before the move
        config.attributes["connection"] = connection
        command.upgrade(config, str(before))
    scheduler = Scheduler(store, poll_seconds=0.2)
    state = {  # as APScheduler 3 pickles a job (Job.__getstate__), naming the function where it was
        "version": 1, "id": "booking-1-reminder", "func": "bot.scheduler:run_task", "trigger": DateTrigger(LONG_AGO),
        "executor": "default", "args": ("announce", 1, "reminder"), "kwargs": {}, "name": "booking-1-reminder",
        "misfire_grace_time": None, "coalesce": True, "max_instances": 1, "next_run_time": LONG_AGO,
    }  # fmt: skip
    with store.engine.begin() as connection:
        scheduler.jobs.jobs_t.create(connection)
        connection.execute(scheduler.jobs.jobs_t.insert().values(
            id="booking-1-reminder", next_run_time=LONG_AGO.timestamp(),
            job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL),
        ))  # fmt: skip
    announced: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
    scheduler.open()
    scheduler.register("announce", lambda booking, event: announced.put((booking, event)))
    scheduler.lead()
    try:
        assert announced.get(timeout=30) == (1, "reminder")
        until(lambda: scheduler.job_ids() == [])  # ran once, and gone
    finally:
        scheduler.close()


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "never came true"
        pause(0.05)
