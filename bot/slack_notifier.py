"""Change requests as Slack messages (the request in the environment's channel, news in its thread),
and scheduled news (bookings, daily reports, alerts) in the channels it names.

The Slack ends of :class:`bot.changes.ChangeNotifier`, :class:`bot.bookings.Announcer` and
:class:`bot.reports.ReportAnnouncer`. A failure to post news is logged and the work goes on; a
failure to post a request itself is an error the requester sees.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.bookings import Announcement
from bot.changes import RequestView
from bot.config import Settings
from bot.errors import Refused
from bot.metrics import API_ERRORS
from bot.reports import DailyReport, HealthAlert
from bot.store.models import RequestState
from bot.text import result_text

if TYPE_CHECKING:
    from bot.changes import RequestResult

log = logging.getLogger(__name__)


class SlackNotifier:
    def __init__(self, client: WebClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def channel_of(self, environment: str) -> str:
        env = self.settings.environment(environment)
        channel = env.channel or self.settings.slack.announce_channel
        if not channel:
            raise Refused(f"{env.key} has no Slack channel", hint=f"Set environments.{env.key}.channel.")
        return channel

    def posted(self, request: RequestView) -> tuple[str, str]:
        channel = self.channel_of(request.environment)
        try:
            response = self.client.chat_postMessage(
                channel=channel, **blocks.request_message(request, self.settings.slack)
            )
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            raise Refused(
                f"could not post the request in #{channel}: {error.response.get('error', 'unknown error')}",
                hint="Invite the bot to that channel (`/invite @consdb-bot`), then ask again.",
            ) from None
        return str(response["channel"]), str(response["ts"])

    def permalink(self, channel: str, message_ts: str) -> str | None:
        """The link to a message, for readers outside Slack (a Jira comment)."""
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=message_ts)["permalink"])
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            log.warning("could not get the link to a request: %s", error.response.get("error", "unknown error"))
            return None

    def updated(self, request: RequestView) -> None:
        self._quietly(
            "update the request message",
            lambda: self.client.chat_update(
                channel=request.channel, ts=request.message_ts, **blocks.request_message(request, self.settings.slack)
            ),
        )

    def progress(self, request: RequestView, line: str) -> None:
        self._in_thread(request, blocks.progress_message(line))

    def finished(self, request: RequestView, result: RequestResult | None, *, note: str) -> None:
        text = result_text(result) if result else note
        if result and note:
            text += f"\n{note}"
        if blocks.too_long(text):
            self._quietly(
                "upload the outcome",
                lambda: self.client.files_upload_v2(
                    channel=request.channel,
                    thread_ts=request.message_ts,
                    content=text,
                    filename=f"request-{request.id}-outcome.txt",
                    title=f"Request #{request.id}: outcome",
                ),
            )
        else:
            self._in_thread(request, blocks.outcome_message(text))
        if request.state is RequestState.SUCCEEDED and request.kind == "upgrade":
            steps = blocks.next_steps(self.settings.environment(request.environment), self.settings.slack)
            self._in_thread(request, blocks.message(steps, [blocks.section(steps)]))

    def _in_thread(self, request: RequestView, payload: dict[str, object]) -> None:
        self._quietly(
            "post in the request's thread",
            lambda: self.client.chat_postMessage(channel=request.channel, thread_ts=request.message_ts, **payload),
        )

    def _quietly(self, what: str, call: Callable[[], object]) -> None:
        try:
            call()
        except SlackApiError as error:
            API_ERRORS.labels("slack").inc()
            log.warning("could not %s: %s", what, error.response.get("error", "unknown error"))


class SlackAnnouncer:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def booking(self, announcement: Announcement) -> None:
        self._post(announcement.channels, blocks.booking_announcement(announcement))

    def report(self, report: DailyReport) -> None:
        self._post(report.channels, blocks.report_message(report))

    def alert(self, alert: HealthAlert) -> None:
        self._post(alert.channels, blocks.alert_message(alert))

    def _post(self, channels: list[str], payload: dict[str, object]) -> None:
        for channel in channels:
            try:
                self.client.chat_postMessage(channel=channel, **payload)
            except SlackApiError as error:
                API_ERRORS.labels("slack").inc()
                log.warning("could not post in %s: %s", channel, error.response.get("error", "unknown error"))
