"""Alembic environment of the bot's own state tree (never ConsDB's): run by the bot at start-up."""

from alembic import context

from bot.store import STATE_VERSION_TABLE
from bot.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    version_table=STATE_VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
