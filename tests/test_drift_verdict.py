"""``drift``'s exit status: 1 only when a schema differs from its revision or could not be compared because
something is wrong; schemas with nothing to compare with (no revision yet) are said, and are no failure."""

from __future__ import annotations

import os

import psycopg

from tests.conftest import libpq, write_config


def test_drift_fails_only_when_something_differs(consdb_bot, bundled):
    config = ("--config", str(bundled))
    assert consdb_bot("upgrade", "bts", "latiss", "--yes", *config).code == 0

    clean = consdb_bot("drift", "bts", *config)
    assert clean.code == 0, clean.text
    lines = clean.out.splitlines()
    assert "bts/latiss: matches its revision 05689cf3f8f0" in lines
    assert "bts/lsstcam: not compared: empty (2 behind)" in lines
    assert lines[-1].startswith(
        "no differences found in latiss; not compared (each line says why): lsstcomcam, lsstcomcamsim"
    )

    with psycopg.connect(libpq(os.environ["BTS_DATABASE_URL"]), autocommit=True) as connection:
        connection.execute("ALTER TABLE cdb_latiss.exposure ADD COLUMN seeing_by_hand real")
    drifted = consdb_bot("drift", "bts", *config)
    assert drifted.code == 1
    assert "  - column exposure.seeing_by_hand is not in the model" in drifted.out
    assert drifted.out.splitlines()[-1].startswith("differs: latiss; not compared (each line says why): ")


def test_drift_fails_when_a_database_cannot_be_reached(consdb_bot, tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/consdb")
    config = write_config(tmp_path / "c.yaml", environments={"tts": "TTS_DATABASE_URL"}, schemas=["latiss"])
    result = consdb_bot("drift", "tts", "--config", str(config))
    assert result.code == 1
    assert "tts/latiss: not compared: unreachable" in result.out
    assert result.out.splitlines()[-1] == "nothing was compared; could not be compared: latiss"
