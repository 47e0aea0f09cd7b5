"""``GET /healthz``: the bot's own state database, whether this process leads the scheduler, and each
environment's database, as last seen.

The state database is asked at every probe (the bot is of no use without it: 503). The environments'
databases are asked in the background every ``REFRESH_SECONDS``, so that a probe answers at once
however many are slow; one that does not answer is reported, and does not fail the probe: the bot
still serves the others, and a restart would not bring that database back.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from bot.config import Environment, Settings
from bot.engine.database import connect
from bot.engine.status import database_url
from bot.errors import ConsdbBotError
from bot.services.scheduler import Scheduler
from bot.store import Store

REFRESH_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class Reachability:
    state: str
    checked_at: datetime


class Health:
    def __init__(self, settings: Settings, store: Store, scheduler: Scheduler) -> None:
        self.settings = settings
        self.store = store
        self.scheduler = scheduler
        self._seen: dict[str, Reachability] = {}
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def refresh(self) -> None:
        """Ask every environment's database, all at once."""
        environments = list(self.settings.environments.values())
        with ThreadPoolExecutor(max_workers=len(environments) or 1) as pool:
            states = list(pool.map(_reach, environments))
        with self._lock:
            for env, state in zip(environments, states, strict=True):
                self._seen[env.key] = Reachability(state, self.store.clock())

    def report(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status and the body of a probe."""
        try:
            with self.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            state = "ok"
        except Exception as error:  # the probe reports any failure, it does not raise it
            state = f"unreachable ({type(error).__name__})"
        with self._lock:
            environments = {
                key: {"database": seen.state, "checked_at": seen.checked_at.isoformat(timespec="seconds")}
                for key, seen in self._seen.items()
            }
        status = "failing" if state != "ok" else "stopping" if self.stopping.is_set() else "ok"
        body = {
            "status": status,
            "state_database": state,
            "scheduler": "leader" if self.scheduler.leading else "standby",
            "environments": environments,
        }
        return (503 if status == "failing" else 200), body


def _reach(env: Environment) -> str:
    try:
        url = database_url(env)
        if isinstance(url, str):
            return url
        with connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection:
            connection.execute("SELECT 1")
    except ConsdbBotError as error:
        return f"unreachable: {error.message}"
    except Exception as error:  # reported, never raised: a probe must answer
        return f"unreachable ({type(error).__name__})"
    return "ok"
