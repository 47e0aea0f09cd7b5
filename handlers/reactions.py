"""Reactions: an approver's emoji on a request message approves or rejects it; removing it withdraws."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.logs import new_trace, traced


class ReactionHandlers:
    def __init__(self, context: Context) -> None:
        self.context = context

    def added(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._hand_off(event, body, added=True)

    def removed(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self._hand_off(event, body, added=False)

    def _hand_off(self, event: dict[str, Any], body: dict[str, Any], *, added: bool) -> None:
        item = event.get("item", {})
        if item.get("type") != "message":
            return
        with traced(new_trace()):
            self._submit(event, body, item, added=added)

    def _submit(self, event: dict[str, Any], body: dict[str, Any], item: dict[str, Any], *, added: bool) -> None:
        self.context.submit(
            self.context.changes.react,
            channel=item["channel"],
            message_ts=item["ts"],
            user=event["user"],
            reaction=event["reaction"],
            added=added,
            event_id=body["event_id"],
            event_ts=str(event.get("event_ts") or body.get("event_time") or 0),
        )
