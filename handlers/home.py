"""The Home tab: Slack sends ``app_home_opened`` each time someone opens the bot's Home (or its Messages
tab); the Home is published for them off the request's thread, so Slack hears 200 at once."""

from __future__ import annotations

from typing import Any

from bot.slack.context import Context


class HomeHandlers:
    def __init__(self, context: Context) -> None:
        self.context = context

    def opened(self, event: dict[str, Any]) -> None:
        """Only the Home tab is the bot's to draw; the Messages tab is Slack's."""
        user = event.get("user")
        if event.get("tab") == "home" and isinstance(user, str) and user:
            self.context.home.opened(user)
