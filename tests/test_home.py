"""The bot's Home tab: opening it (a signed ``app_home_opened``) publishes, through ``views.publish``, where
every environment's schemas stand, the replica, the open requests with links to them, today's and
tomorrow's bookings and the open tickets' rollout boards (made without asking Jira); a change that ends
publishes it again for those who opened it. The Slack stand-in checks each view as Slack does, and keeps
each person's Home."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.engine.status import SchemaStatus, State
from bot.errors import ConfigError
from bot.render.home import MOST_LISTED, home_view
from bot.sandbox.standins.jira import JIRA_TOKEN, FakeJira
from bot.sandbox.standins.slack import BOT_TOKEN, Call, FakeSlack
from bot.services.board import Board, NextCommand, Step, StepState, Ticker
from bot.services.bookings import BookingView
from bot.services.changes import RequestView
from bot.services.home import MOST_BOARDS, NOT_ASKED, Home, OpenTicket, open_tickets
from bot.services.tickets import TicketCheck
from bot.slack.home import SlackHome
from bot.store import Store
from bot.store.models import RequestState
from tests.support.bot_process import BotProcess
from tests.support.replica import ReplicaPair
from tests.support.slack_bot import (
    APPROVER_1,
    APPROVER_2,
    BTS_CHANNEL,
    REQUESTER,
    STRANGER,
    ephemeral_to,
    hold_bts,
    posted_request,
    request_state,
)

UNREACHABLE = "postgresql://consdb@127.0.0.1:9/tts"
"""A database nobody listens for: the tts column of the matrix says so."""


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.add_issue("OSW-123", "Add the visit1 quicklook columns")
        yield fake


def issue_reads(jira: FakeJira, key: str) -> int:
    """How often the bot asked Jira for the ticket (its checks, not its comments)."""
    return sum(call.method == "GET" and call.path == f"/rest/api/2/issue/{key}" for call in jira.calls)


@pytest.fixture
def home_bot(config, slack, databases, kube, tmp_path, replica: ReplicaPair, jira: FakeJira) -> Iterator[BotProcess]:
    """The bot with four environments: bts, the Summit and usdf-prod (a real logical replica of it) and tts,
    whose database does not answer; and Jira, which knows OSW-123."""
    more = f"""    schemas: [latiss, lsstcam]
  usdf-prod:
    database_url: ${{USDF_PROD_DATABASE_URL}}
    schemas: [latiss]
    replica: {{of: summit, subscription: usdf_exposurelog, publication: usdfpub}}
  tts:
    test_stand: true
    database_url: {UNREACHABLE}
"""
    config.write_text(
        config.read_text().replace("    requires_tested_on: bts\n", f"    requires_tested_on: bts\n{more}")
        + "jira:\n  url: ${JIRA_URL}\n  project: OSW\n  timeout_seconds: 1\n"
    )
    environ = {**databases, "SUMMIT_DATABASE_URL": replica.summit_url, "USDF_PROD_DATABASE_URL": replica.usdf_url,
               "KUBECONFIG": str(tmp_path / "kubeconfig"), "JIRA_URL": jira.url, "JIRA_TOKEN": JIRA_TOKEN}  # fmt: skip
    # A fixed afternoon: the booking "tomorrow 10:00" stays tomorrow's whenever the test runs.
    with BotProcess(config, slack.url, environ=environ, clock_at=datetime(2026, 12, 1, 14, 0, tzinfo=UTC)) as process:
        yield process


def open_home(bot: BotProcess, user: str, *, tab: str = "home") -> None:
    """What Slack sends when ``user`` opens the bot's Home tab (or its Messages tab)."""
    answer = bot.event(
        {"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": tab, "event_ts": "1.000001"},
        event_id=f"Ev{user}{tab}{bot.printed}",
    )
    assert answer.status == 200


def published(slack: FakeSlack, user: str, *, showing: Callable[[str], bool] = lambda _text: True) -> str:
    """The text of the Home view published for ``user`` that ``showing`` accepts (waited for)."""
    call: Call = slack.wait_for(
        lambda calls: next(
            (c for c in calls if c.method == "views.publish" and c.args.get("user_id") == user
             and showing(shown(c.args["view"]))), None,
        )
    )  # fmt: skip
    assert call.reply["ok"], call.reply
    return shown(call.args["view"])


def shown(view: dict) -> str:
    return json.dumps(view, ensure_ascii=False)


@pytest.mark.slow
def test_opening_home_shows_the_matrix_the_replica_open_requests_bookings_and_open_tickets(home_bot, slack, jira):
    hold_bts(home_bot, slack)
    home_bot.command("book bts tomorrow 10:00 1h OSW-123 dry run", user=APPROVER_1)
    ephemeral_to(slack, APPROVER_1, "of bts booked")
    home_bot.command("migrate bts latiss --ticket OSW-123", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    asked = issue_reads(jira, "OSW-123")
    assert asked == 2, "the booking and the request checked the ticket"

    open_home(home_bot, REQUESTER)
    view = published(slack, REQUESTER)
    assert "ConsDB schema status" in view
    assert "schema           bts       summit" in view
    assert "tts" in view
    assert "latiss           empty -2" in view
    assert "unreachable" in view
    assert "usdf-prod (replica of summit): subscription enabled, worker running; lag " in view
    assert ":hourglass_flowing_sand: waiting for approval · *Upgrade #1* at bts: `latiss` base → 05689cf3f8f0" in view
    link = f"https://rubin-obs.slack.com/archives/{BTS_CHANNEL}/p{ts.replace('.', '')}"
    assert f"asked by <@{REQUESTER}> · OSW-123 · <{link}|open the request>" in view
    today, tomorrow = view.split("*Bookings today*", 1)[1].split("*Bookings tomorrow*", 1)
    assert f"#1 *bts* <@{REQUESTER}>" in today
    assert f"#2 *bts* <@{APPROVER_1}>" in tomorrow
    assert "OSW-123 · dry run" in tomorrow
    assert "No test stand is booked" not in view
    board = view.split("Boards of open tickets", 1)[1]
    assert "*OSW-123* (request #1 open, booking #2) · 0 of 12 steps done" in board
    assert (  # the ticket's own request is the step under way, not what blocks it
        ":white_large_square: consdb-approval :white_large_square: test-stand :white_large_square: test-stand-pqserver"
        in board
    )
    assert "next at *bts* · run `/consdb done OSW-123 de-approval`" in board
    assert issue_reads(jira, "OSW-123") == asked, "opening Home asked Jira nothing"

    home = slack.home_of(REQUESTER)
    assert home is not None, "the stand-in keeps it"
    assert home["type"] == "home"
    assert shown(home["blocks"]) in view
    assert slack.home_of(APPROVER_1) is None, "nobody else opened theirs"


@pytest.mark.slow
def test_a_change_that_ends_publishes_home_again_for_those_who_opened_it(home_bot, slack):
    hold_bts(home_bot, slack)
    home_bot.command("migrate bts latiss", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    open_home(home_bot, REQUESTER)
    open_home(home_bot, APPROVER_2)
    for user in (REQUESTER, APPROVER_2):
        assert "*Upgrade #1* at bts" in published(slack, user)
    open_home(home_bot, STRANGER, tab="messages")  # the Messages tab is Slack's own: nothing is published

    home_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvApprove")
    request_state(slack, 1, "succeeded")
    for user in (REQUESTER, APPROVER_2):
        view = published(slack, user, showing=lambda text: "No request is open." in text)
        assert "latiss           05689cf3 head" in view
    assert not [c for c in slack.calls("views.publish") if c.args.get("user_id") in (STRANGER, APPROVER_1)]


@pytest.mark.slow
def test_a_ticket_whose_live_board_is_not_complete_stays_on_home(home_bot, slack):
    """Its change ended and nothing open names it, but its board has steps to go: Home still shows it."""
    hold_bts(home_bot, slack)
    home_bot.command("migrate bts latiss --ticket OSW-123", user=REQUESTER)
    ts = posted_request(slack, 1).reply["ts"]
    home_bot.reaction("white_check_mark", user=APPROVER_1, channel=BTS_CHANNEL, ts=ts, event_id="EvApprove")
    request_state(slack, 1, "succeeded")
    slack.wait_for(lambda calls: next((c for c in calls if c.method == "chat.postMessage"
                                       and c.text.startswith("Rollout board: OSW-123")), None))  # fmt: skip

    open_home(home_bot, REQUESTER)
    view = published(slack, REQUESTER, showing=lambda text: "Boards of open tickets*\\n• *OSW-123*" in text)
    assert "No request is open." in view
    board = view.split("Boards of open tickets", 1)[1]
    assert "*OSW-123* · 1 of 12 steps done" in board
    assert (
        ":white_large_square: consdb-approval :white_check_mark: test-stand :white_large_square: test-stand-pqserver"
        in board
    )
    assert "next at *bts* · run `/consdb done OSW-123 de-approval`" in board


def test_home_lists_the_live_boards_not_complete_and_says_which_board_could_not_be_made(new_database, slack):
    """The tickets of the open requests, then those whose live board was not complete when shown (a complete
    one is not listed); a board done since says so in a line, one that cannot be made says why in its place,
    and Slack takes the view."""
    at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    store = Store(new_database().replace("postgresql://", "postgresql+psycopg://"), clock=lambda: at)
    store.upgrade()
    for ticket, complete in (("OSW-7", False), ("OSW-8", True), ("OSW-1", False)):
        assert store.claim_board(ticket, "C0BTS00001")
        store.board_shown(ticket, channel="C0BTS00001", message_ts="1.000001", through=0, complete=complete)

    tickets, more = open_tickets(store, Boards(), [a_request(1, at)], [])
    assert [ticket.key for ticket in tickets] == ["OSW-1", "OSW-7"]
    assert more == 0
    home = replace(a_home(tickets=0), tickets=tickets)
    view = home_view(home, {})
    WebClient(token=BOT_TOKEN, base_url=slack.url).views_publish(user_id="U0VERA0001", view=view)
    text = shown(view)
    assert (
        "*OSW-1* (request #1 open) · the board could not be made: the sdm_schemas checkout &lt;main&gt; is gone" in text
    )
    assert "*OSW-7* · complete: 13 of 13 steps done" in text


class Boards:
    """A board service as the Home meets it: OSW-1's board cannot be made (the tree it reads is gone), every
    step of the others is done."""

    def board(self, key: str, *, ticket: TicketCheck) -> Board:
        assert ticket.unchecked == NOT_ASKED, "the Home does not ask Jira"
        if key == "OSW-1":
            raise ConfigError("the sdm_schemas checkout <main> is gone")
        board = a_board(key)
        return replace(board, steps=[replace(step, state=StepState.DONE) for step in board.steps], next=None)


def test_the_slack_stand_in_checks_a_home_view_as_slack_does(slack):
    client = WebClient(token=BOT_TOKEN, base_url=slack.url)
    view = home_view(a_home(), {})
    assert client.views_publish(user_id="U0VERA0001", view=view)["view"]["type"] == "home"
    assert slack.home_of("U0VERA0001")["blocks"] == view["blocks"]

    def refusal(user: str = "U0VERA0001", token: str | None = BOT_TOKEN, **changed: object) -> dict:
        with pytest.raises(SlackApiError) as refused:
            WebClient(token=token, base_url=slack.url).views_publish(user_id=user, view={**view, **changed})
        return refused.value.response.data

    assert refusal(token=None)["error"] == "not_authed"
    assert refusal(token="xoxb-someone-else")["error"] == "invalid_auth"
    modal = refusal(type="modal")
    assert modal["error"] == "invalid_arguments"
    assert modal["response_metadata"]["messages"] == ["[ERROR] must be 'home' [json-pointer:/view/type]"]
    assert refusal(user="nobody")["response_metadata"]["messages"] == ["[ERROR] invalid `user_id`"]
    too_many = refusal(blocks=[{"type": "divider"}] * 101)["response_metadata"]["messages"]
    assert too_many == ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"]
    long_text = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert refusal(blocks=long_text)["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]"
    ]
    assert refusal(blocks=[{"type": "sectoin"}])["error"] == "invalid_arguments"
    assert refusal(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 99)["error"] == (
        "view_too_large"
    )
    assert slack.home_of("U0VERA0001")["blocks"] == view["blocks"], "a refused view changes nobody's Home"


def test_a_crowded_home_stays_within_slacks_limits_and_shows_what_was_typed_as_text(slack):
    """Sixty open requests, forty tickets (the first boards made) and a note that tries to notify everyone:
    Slack takes the view, the lists say how many they left out, and the note reads as typed."""
    home = a_home(requests=60, tickets=40, note="<!channel> come and look")
    view = home_view(home, {number: f"https://rubin-obs.slack.com/archives/C0BTS00001/p{number}" for number in
                            range(1, 61)})  # fmt: skip
    WebClient(token=BOT_TOKEN, base_url=slack.url).views_publish(user_id="U0VERA0001", view=view)
    text = shown(view)
    assert f"…and {60 - MOST_LISTED} more" in text
    assert f"…and {40 - MOST_BOARDS} more: `/consdb board TICKET`" in text
    assert "*OSW-7* (request #7 open) · 3 of 13 steps done" in text
    assert (
        "next at *bts* · :no_entry: bts is booked by <@U0ADA00001> for OSW-999 until 16:00 (a long booking for"
        " OSW-7's neighbour) · run `/consdb book bts now 2h OSW-7`"
    ) in text
    assert "&lt;!channel&gt; come and look" in text
    assert "<!channel>" not in text
    assert "<https://rubin-obs.slack.com/archives/C0BTS00001/p7|open the request>" in text


def test_a_request_run_from_a_terminal_names_its_requester_as_text_not_as_a_mention():
    home = a_home()
    running = replace(home.requests[0], requester="root@vm (terminal)", state=RequestState.RUNNING)
    text = shown(home_view(replace(home, requests=[running]), {}))
    assert "asked by root@vm (terminal)" in text
    assert "<@root@vm" not in text
    assert "asked by <@U0VERA0001>" in shown(home_view(home, {}))


def test_a_home_that_could_not_be_read_is_read_again_at_the_next_open(slack):
    """The state database was down when someone opened Home: the next open (or change) publishes it."""
    reads = iter([RuntimeError("the state database did not answer")])

    def read() -> Home:
        failure = next(reads, None)
        if failure:
            raise failure
        return a_home()

    home = SlackHome(WebClient(token=BOT_TOKEN, base_url=slack.url), read, lambda _c, _t: None,
                     submit=lambda work: work())  # fmt: skip
    with pytest.raises(RuntimeError):
        home.opened("U0VERA0001")
    home.opened("U0ADA00001")
    assert [c.args["user_id"] for c in slack.calls("views.publish")] == ["U0ADA00001"]
    home.changed()
    assert [c.args["user_id"] for c in slack.calls("views.publish")] == ["U0ADA00001", "U0ADA00001", "U0VERA0001"]


def a_home(*, requests: int = 1, tickets: int = 1, note: str = "schema test") -> Home:
    at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    statuses = [
        SchemaStatus("bts", "latiss", State.HEAD, current=("05689cf3f8f0",)),
        SchemaStatus("summit", "latiss", State.BEHIND, current=("8ebb60eda79d",), behind=1),
        SchemaStatus("tts", "latiss", State.UNREACHABLE, detail="connection refused"),
    ]
    views = [a_request(number, at) for number in range(1, requests + 1)]
    booking = BookingView(1, "bts", "Base Test Stand", "America/Santiago", "U0VERA0001", at, at + timedelta(hours=2),
                          "OSW-1", note)  # fmt: skip
    boards = [OpenTicket(f"OSW-{number}", a_board(f"OSW-{number}"), open_requests=[number]) for number in
              range(1, min(tickets, MOST_BOARDS) + 1)]  # fmt: skip
    return Home(at, statuses, [], views, [booking], [], boards, more_tickets=max(tickets - MOST_BOARDS, 0))


STEPS = ["de-approval", "po-approval", "consdb-approval", "test-stand", "test-stand-pqserver", "test-stand-data",
         "consdb-merge", "consdb-tag", "announce", "summit", "pqserver", "tap", "sdm-merge"]  # fmt: skip
"""The steps of a board whose test stand is bts and whose Summit has a replica, as the board service makes them."""


def a_board(key: str) -> Board:
    """Three approvals given; bts blocked by another ticket's booking."""
    done = {"de-approval", "po-approval", "consdb-approval"}
    steps = [
        Step(step, step, Ticker.BOT, StepState.DONE if step in done else StepState.NOT_YET, "bts") for step in STEPS
    ]
    steps[3] = replace(steps[3], state=StepState.BLOCKED)
    blocker = f"bts is booked by U0ADA00001 for OSW-999 until 16:00 (a long booking for {key}'s neighbour)"
    return Board(TicketCheck(key, unchecked=NOT_ASKED), ["latiss"], "America/Santiago", steps, "bts", [blocker],
                 NextCommand(f"book bts now 2h {key}"))  # fmt: skip


def a_request(number: int, at: datetime) -> RequestView:
    return RequestView(
        id=number, kind="upgrade", environment="bts", environment_title="Base Test Stand", requester="U0VERA0001",
        state=RequestState.REQUESTED, ticket=f"OSW-{number}", ranges={"latiss": "8ebb60eda79d → 05689cf3f8f0"},
        warnings=[], required=1, approvers=[], rejecters=[], expires_at=at + timedelta(hours=1),
    )  # fmt: skip
