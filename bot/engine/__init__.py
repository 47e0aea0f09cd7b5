"""The engine: Alembic trees read from disk, target databases' status, plans, drift, generated and
linted revisions, and runs of Alembic in a child process.

It may import only the foundation modules (``bot.config``, ``bot.errors``, ``bot.grammar``,
``bot.logs``, ``bot.metrics``, ``bot.when``).
"""
