"""Pure functions from results and events to text: ``text`` for the terminal, ``blocks`` for Slack's
Block Kit, ``jira_comments`` for Jira. Nothing here reads a database or sends anything.

They may import the foundation modules and the result types of ``bot.store``, ``bot.engine``,
``bot.clients`` and ``bot.services``.
"""
