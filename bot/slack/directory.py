"""Who people are in Slack: names for Slack ids (Jira's readers do not know them) and the members of
user groups (approvers named by group), each cached."""

from __future__ import annotations

import logging
import re
import threading
import time

from slack_sdk import WebClient

from bot.errors import ApproversUnknown
from bot.metrics import API_ERRORS
from bot.slack.notifier import SlackFailure, reason_of

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{8,}$")


class SlackDirectory:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._groups: dict[str, tuple[float, set[str]]] = {}
        self._groups_lock = threading.Lock()
        self._people: dict[str, str] = {}

    def person(self, user: str) -> str:
        """A Slack user's name, for readers who do not know Slack ids (Jira's, a code block's, the terminal's);
        anyone else as named, and the id itself when Slack could not say."""
        return self.name(user) or user

    def name(self, user: str) -> str | None:
        """The name Slack knows a user by (``users.info``, cached); anyone else as named; None when Slack
        did not answer (not cached: asked again next time)."""
        if not SLACK_USER.match(user):
            return user
        if user not in self._people:
            try:
                found = self.client.users_info(user=user)["user"]
            except SlackFailure as error:
                API_ERRORS.labels("slack").inc()
                log.warning("could not look up Slack user %s: %s", user, reason_of(error))
                return None
            profile = found.get("profile") or {}
            self._people[user] = profile.get("real_name") or found.get("real_name") or found.get("name") or user
        return self._people[user]

    def group_members(self, group: str) -> set[str]:
        """Members of a Slack user group, cached for a few minutes.

        When Slack does not list them, the last list seen stands in; with none, :class:`ApproversUnknown`
        goes up, so that an approval is not counted as a stranger's but tried again (and its author told).
        """
        with self._groups_lock:
            cached = self._groups.get(group)
            if cached and time.monotonic() - cached[0] < GROUP_CACHE_SECONDS:
                return cached[1]
        try:
            members = set(self.client.usergroups_users_list(usergroup=group)["users"])
        except SlackFailure as error:
            API_ERRORS.labels("slack").inc()
            reason = reason_of(error)
            log.warning("could not list user group %s: %s", group, reason)
            if cached:
                return cached[1]
            raise ApproversUnknown(f"Slack did not list the members of user group {group} ({reason})") from None
        with self._groups_lock:
            self._groups[group] = (time.monotonic(), members)
        return members
