"""Tickets and comments in-process, through the real jira client, against the Jira stand-in over HTTP:
lookups, refusals, Jira down, slow or refusing the token, comments queued, retried and posted once.
Time is the test's to move."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clients.jira import JiraDesk, TicketUnknown
from bot.config import parse_settings
from bot.render import blocks
from bot.sandbox.standins.jira import JIRA_TOKEN, JIRA_USER, FakeJira
from bot.services.changes import RequestView
from bot.services.jira_comments import request_comment
from bot.services.scheduler import Scheduler
from bot.services.tickets import RETRY_JOB, CommentNews, TicketService
from bot.store import Store
from bot.store.models import RequestState
from tests.support.clock import START, Clock

SETTINGS = parse_settings(
    """
schemas: [latiss]
jira: {url: http://jira.invalid, project: OSW, timeout_seconds: 0.5, retry_seconds: 60, give_up_hours: 24}
environments:
  bts: {test_stand: true, timezone: America/Santiago}
""",
    environ={},
)


@dataclass
class Thread:
    """A request's Slack thread: the news it hears, as Slack says it."""

    lines: list[tuple[int, str]] = field(default_factory=list)

    def __call__(self, request_id: int, news: CommentNews) -> None:
        self.lines.append((request_id, blocks.event_line(news)))


@dataclass
class Bench:
    jira: FakeJira
    service: TicketService
    clock: Clock
    thread: Thread
    store: Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path, new_database) -> Store:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}" if request.param == "sqlite" else new_database()
    store = Store(url.replace("postgresql://", "postgresql+psycopg://"), clock=Clock())
    store.upgrade()
    return store


@pytest.fixture
def bench(store: Store) -> Iterator[Bench]:
    with FakeJira() as jira:
        jira.add_issue("OSW-123", "Add the visit1 quicklook columns", status="In Progress")
        clock, thread = store.clock, Thread()
        desk = JiraDesk(jira.url, JIRA_TOKEN, timeout_seconds=0.5)
        service = TicketService(SETTINGS, store, desk, tell=thread, name=lambda user: f"Person {user}", clock=clock)
        yield Bench(jira, service, clock, thread, store)
        jira.release()


def test_a_ticket_is_read_with_its_summary_and_status_and_the_server_is_not_asked_about_itself(bench):
    checked = bench.service.check("OSW-123")
    assert checked is not None
    assert (checked.summary, checked.status, checked.unchecked) == (
        "Add the visit1 quicklook columns",
        "In Progress",
        "",
    )
    assert checked.url == f"{bench.jira.url}/browse/OSW-123"
    assert [call.path for call in bench.jira.calls] == ["/rest/api/2/issue/OSW-123"]


def test_jira_cloud_takes_the_token_with_the_user_as_basic_auth(bench):
    desk = JiraDesk.from_environment(
        SETTINGS.jira.model_copy(update={"url": bench.jira.url}), {"JIRA_TOKEN": JIRA_TOKEN, "JIRA_USER": JIRA_USER}
    )
    assert desk is not None
    assert desk.find("OSW-123").status == "In Progress"


def test_an_unknown_ticket_is_refused_saying_how_to_write_one(bench):
    with pytest.raises(TicketUnknown) as refused:
        bench.service.check("OSW-999")
    assert refused.value.message == "there is no Jira ticket OSW-999, or the bot may not see it"
    assert "OSW-123" in str(refused.value.hint)


@pytest.mark.parametrize(
    ("trouble", "reason"),
    [
        ("token", "Jira refused the bot's token (HTTP 401); an operator should check JIRA_TOKEN"),
        ("down", "Jira failed to answer (HTTP 503)"),
        ("slow", "Jira did not answer within 0.5 s"),
    ],
)
def test_when_jira_cannot_answer_the_ticket_is_shown_unchecked_with_the_reason(bench, caplog, trouble, reason):
    caplog.set_level(logging.DEBUG)
    desk = JiraDesk(bench.jira.url, "a-wrong-token" if trouble == "token" else JIRA_TOKEN, timeout_seconds=0.5)
    service = TicketService(SETTINGS, bench.store, desk, clock=bench.clock)
    if trouble == "down":
        bench.jira.fail_next("GET", 503)
    if trouble == "slow":
        bench.jira.hold()
    checked = service.check("OSW-123")
    assert checked is not None
    assert checked.unchecked == reason
    assert JIRA_TOKEN not in caplog.text
    assert "a-wrong-token" not in caplog.text


def test_a_comment_is_posted_at_once(bench):
    said = bench.service.owe("OSW-123", "request-1-succeeded", "(/) *Upgrade at bts succeeded*", request_id=1)
    assert said == "commented on OSW-123"
    assert bench.jira.bodies("OSW-123") == ["(/) *Upgrade at bts succeeded*"]
    assert bench.thread.lines == [(1, ":memo: Commented on OSW-123.")]
    assert bench.service.owe("OSW-123", "request-1-succeeded", "again") == "the comment on OSW-123 was made already"
    assert len(bench.jira.bodies("OSW-123")) == 1


def test_a_comment_jira_does_not_take_is_pending_then_retried_and_posted_once(bench):
    bench.jira.fail_next("POST", 503)
    said = bench.service.owe("OSW-123", "request-1-succeeded", "the outcome", request_id=1)
    assert said == "the comment on OSW-123 is pending (Jira failed to answer (HTTP 503)); the bot tries again"
    assert bench.thread.lines == [(1, ":hourglass: The comment on OSW-123 is pending: Jira failed to answer"
                                      " (HTTP 503). I try again from 14:01:00 UTC, for up to 24 h.")]  # fmt: skip
    bench.clock.moment += timedelta(seconds=30)
    bench.service.retry_due()
    assert bench.jira.bodies("OSW-123") == []
    bench.clock.moment += timedelta(seconds=30)
    bench.service.retry_due()
    bench.service.retry_due()
    assert bench.jira.bodies("OSW-123") == ["the outcome"]
    assert bench.thread.lines[-1] == (1, ":memo: Commented on OSW-123 (on try 2).")


def test_a_comment_whose_answer_never_came_is_not_posted_again(bench):
    bench.jira.hold()
    said = bench.service.owe("OSW-123", "request-7-failed", "(x) failed", request_id=7)
    assert "Jira did not answer within 0.5 s" in said
    bench.jira.release()
    bench.jira.wait_for(lambda: bench.jira.bodies("OSW-123") == ["(x) failed"])
    bench.clock.moment += timedelta(minutes=1)
    bench.service.retry_due()
    assert bench.jira.bodies("OSW-123") == ["(x) failed"]
    assert [call.method for call in bench.jira.calls] == ["POST", "GET"]
    assert bench.thread.lines[-1] == (7, ":memo: Commented on OSW-123 (on try 2).")


@pytest.mark.slow
def test_retries_back_off_and_the_bot_gives_up_after_give_up_hours_saying_so(bench):
    bench.jira.fail_next("POST", 503, times=1000)
    bench.jira.fail_next("GET", 503, times=1000)
    bench.service.owe("OSW-123", "request-2-succeeded", "the outcome", request_id=2)
    tries = []
    while not bench.store.on_ticket("OSW-123")[3][0].given_up_at:
        bench.clock.moment += timedelta(minutes=1)
        before = len(bench.jira.calls)
        bench.service.retry_due()
        if len(bench.jira.calls) > before:
            tries.append(bench.clock.moment - START)
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    assert gaps[:5] == [timedelta(minutes=minutes) for minutes in (2, 4, 8, 16, 32)]
    assert max(gaps) == timedelta(hours=1)
    assert timedelta(hours=24) <= tries[-1] < timedelta(hours=25)
    assert bench.thread.lines[-1][1].startswith(":x: I gave up commenting on OSW-123 after")
    assert bench.store.audit_trail(limit=1)[0].action == "jira gave up"


def test_a_ticket_gone_from_jira_is_given_up_at_once(bench):
    bench.jira.issues.pop("OSW-123")
    said = bench.service.owe("OSW-123", "request-3-succeeded", "the outcome", request_id=3)
    assert said == "no comment on OSW-123: there is no Jira ticket OSW-123, or the bot may not see it"


def test_one_process_at_a_time_takes_an_attempt(bench):
    bench.jira.fail_next("POST", 503)
    bench.service.owe("OSW-123", "request-4-succeeded", "the outcome")
    bench.clock.moment += timedelta(minutes=5)
    (due,) = bench.store.due_comments(bench.clock())
    assert bench.store.claim_comment(due.id, attempts=due.attempts, next_attempt_at=bench.clock.moment)
    assert not bench.store.claim_comment(due.id, attempts=due.attempts, next_attempt_at=bench.clock.moment)


def test_without_a_token_tickets_go_unchecked_and_comments_wait_for_the_bot(bench):
    service = TicketService(SETTINGS, bench.store, None, clock=bench.clock)
    checked = service.check("OSW-123")
    assert checked is not None
    assert checked.unchecked == "JIRA_TOKEN is not set"
    said = service.owe("OSW-123", "audit-1", "from a terminal")
    assert said == "the comment on OSW-123 waits for the bot (JIRA_TOKEN is not set here)"
    bench.service.retry_due()
    assert bench.jira.bodies("OSW-123") == ["from a terminal"]


def test_the_retry_job_runs_where_jira_is_reachable(bench):
    scheduler = Scheduler(bench.store, poll_seconds=1)
    scheduler.open()
    try:
        bench.service.register(scheduler)
        assert RETRY_JOB in scheduler.job_ids()
        TicketService(SETTINGS, bench.store, None, clock=bench.clock).register(scheduler)
        assert RETRY_JOB not in scheduler.job_ids()
    finally:
        scheduler.close()


def test_a_comment_says_where_what_from_and_to_who_approved_and_links_the_thread():
    view = RequestView(
        id=12, kind="upgrade", environment="bts", environment_title="Base Test Stand", requester="U0REQUEST1",
        state=RequestState.SUCCEEDED, ticket="OSW-123", ranges={"latiss": "8ebb60eda79d → 05689cf3f8f0 (1 revision)"},
        warnings=[], required=1, approvers=["U0APPROVE1"], rejecters=[], expires_at=START,
        reached={"latiss": ["05689cf3f8f0"]},
    )  # fmt: skip
    body = request_comment(
        request_id=view.id, kind=view.kind, environment=view.environment, state=view.state.value, ranges=view.ranges,
        reached=view.reached, requester=view.requester, approvers=view.approvers, detail="",
        name={"U0REQUEST1": "Vera Rubin", "U0APPROVE1": "Ada Approver"}.get, link="https://slack/archives/C1/p1",
    )  # fmt: skip
    assert body.splitlines() == [
        "(/) *Upgrade at bts succeeded* (consdb-bot request #12)",
        "* latiss: 8ebb60eda79d → 05689cf3f8f0 (1 revision)",
        "Now at: latiss {{05689cf3f8f0}}",
        "Requested by Vera Rubin; approved by Ada Approver.",
        "[The request in Slack|https://slack/archives/C1/p1]",
    ]
