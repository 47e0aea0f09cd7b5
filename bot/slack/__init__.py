"""The Slack surface besides its listeners (``handlers/``): the HTTP and Socket Mode server, the
process's wiring (``context``), requests shown and kept up to date in Slack (``notifier``), replay
and health checks.

It may import everything in ``bot`` but ``bot.terminal`` and ``bot.sandbox``.
"""
