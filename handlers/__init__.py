"""Slack listeners, one module per kind of input. ``register`` wires them onto the app ``bot.slack.app``
builds (``consdb-bot serve`` hands it over)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.context import Context
from handlers.buttons import ACTIONS, ButtonHandlers
from handlers.commands import CommandHandlers
from handlers.home import HomeHandlers
from handlers.reactions import ReactionHandlers


def register(app: App, context: Context) -> None:
    commands = CommandHandlers(context)
    app.command("/consdb")(commands.acknowledge)
    buttons = ButtonHandlers(context, commands)
    for action in ACTIONS:
        app.action(action)(buttons.clicked)
    reactions = ReactionHandlers(context)
    app.event("reaction_added")(reactions.added)
    app.event("reaction_removed")(reactions.removed)
    home = HomeHandlers(context)
    app.event("app_home_opened")(home.opened)
