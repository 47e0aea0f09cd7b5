"""consdb-bot: chatops for Rubin ConsDB schema migrations.

The foundation modules here (config, errors, grammar, logs, metrics, when) import only each other;
the packages are layered as docs/development.md shows, and tests/test_layers.py checks it.
"""
