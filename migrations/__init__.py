"""The bundled ConsDB Alembic tree: one section per instrument schema in ``alembic.ini``.

This is ConsDB's schema history, never the bot's own state. It runs with plain Alembic too:
``alembic -c migrations/alembic.ini -n latiss upgrade head`` with ``CONSDB_URL`` set.
"""
