"""The bot's own state, on SQLite and on PostgreSQL: its Alembic tree makes exactly the models."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from bot.store import STATE_VERSION_TABLE, Store
from bot.store.models import Base, ChangeRequest, RequestState
from tests.support.clock import START, Clock


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path, new_database) -> Store:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}" if request.param == "sqlite" else new_database()
    store = Store(url.replace("postgresql://", "postgresql+psycopg://"), clock=Clock())
    store.upgrade()
    store.upgrade()
    return store


def a_request(environment: str = "bts") -> ChangeRequest:
    return ChangeRequest(
        kind="upgrade", environment=environment, schemas=["latiss"], target=None, binding={}, options={},
        ticket=None, requester="U1", required_approvals=1, state=RequestState.REQUESTED,
        created_at=START, expires_at=START + timedelta(hours=1), outcome={},
    )  # fmt: skip


def test_the_state_tree_makes_exactly_the_models(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": STATE_VERSION_TABLE}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_one_open_request_per_environment_is_kept_by_the_database(store):
    first = store.add_request(a_request())
    with pytest.raises(IntegrityError):
        store.add_request(a_request())
    store.add_request(a_request("summit"))
    assert store.transition(first.id, RequestState.REQUESTED, RequestState.REJECTED)
    store.add_request(a_request())


def test_a_transition_happens_once(store):
    request = store.add_request(a_request())
    assert store.transition(request.id, RequestState.REQUESTED, RequestState.APPROVED)
    assert not store.transition(request.id, RequestState.REQUESTED, RequestState.APPROVED)
    assert store.transition(request.id, RequestState.APPROVED, RequestState.RUNNING)
    assert not store.transition(request.id, RequestState.APPROVED, RequestState.RUNNING)


def test_an_event_is_seen_once(store):
    assert store.first_sighting("Ev1")
    assert not store.first_sighting("Ev1")
