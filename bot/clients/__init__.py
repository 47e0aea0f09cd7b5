"""Clients of the outside systems the bot drives: Kubernetes (restarts, hinfo logs), Jira, pqserver.

Each wraps one library and turns its failures into the bot's errors. They may import only the
foundation modules (``bot.config``, ``bot.errors``, ``bot.logs``, ``bot.metrics``, ``bot.when``).
"""
