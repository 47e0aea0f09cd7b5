"""The bot's own state, on SQLite and on PostgreSQL: its Alembic tree makes exactly the models."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.store import STATE_TREE, STATE_VERSION_TABLE, Store
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
        created_at=START, expires_at=START + timedelta(hours=1),
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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_request_of_the_json_outcome_is_upgraded_to_typed_columns_and_back(backend, tmp_path: Path, new_database):
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}" if backend == "sqlite" else new_database()
    store = Store(url.replace("postgresql://", "postgresql+psycopg://"), clock=Clock())
    config = Config()
    config.set_main_option("script_location", str(STATE_TREE))
    bag = {
        "ranges": {"latiss": "base → c0ffee000003"}, "warnings": ["latiss: [L1] exposure: drops a column"],
        "booking": "bts is booked by U0OTHER001", "trace": "slack-1a2b3c4d", "forced": True,
        "session": "consdb-bot-run-1-abcd", "reached": {"latiss": ["c0ffee000003"]},
        "added": {"latiss": {"exposure": ["exposure_time"]}}, "note": "",
        "ticket": {"key": "OSW-123", "summary": "Add columns", "status": "Done", "url": "https://jira/OSW-123",
                   "unchecked": ""},
    }  # fmt: skip
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(
            text(
                "INSERT INTO change_requests (id, kind, environment, schemas, target, binding, options, ticket,"
                " requester, required_approvals, state, created_at, expires_at, outcome) VALUES (1, 'stamp', 'bts',"
                " '[\"latiss\"]', NULL, '{}', '{}', 'OSW-123', 'U1', 2, 'succeeded', :at, :at, :bag)"
            ),
            {"at": START, "bag": json.dumps(bag)},
        )
    store.upgrade()
    request = store.request(1)
    assert request is not None
    assert (request.ranges, request.warnings, request.booking_flag, request.trace) == (
        bag["ranges"], bag["warnings"], bag["booking"], bag["trace"]
    )  # fmt: skip
    assert (request.forced, request.run_session, request.reached, request.added_columns, request.note) == (
        True, bag["session"], bag["reached"], bag["added"], ""
    )  # fmt: skip
    assert (request.ticket_summary, request.ticket_status, request.ticket_url, request.ticket_unchecked) == (
        "Add columns", "Done", "https://jira/OSW-123", ""
    )  # fmt: skip
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        back = connection.execute(text("SELECT outcome FROM change_requests WHERE id = 1")).scalar_one()
    assert (json.loads(back) if isinstance(back, str) else back) == bag
