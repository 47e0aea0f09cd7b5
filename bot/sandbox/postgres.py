"""A private PostgreSQL server in a folder of its own, from this machine's PostgreSQL binaries.

It listens on 127.0.0.1 only, on a port of its own, trusts local connections, and is stopped and its
folder removed with the sandbox. PostgreSQL refuses to run as root: as root, the server runs as
``nobody``, who owns its folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import psycopg
from psycopg import sql

from bot.errors import ConfigError
from bot.sandbox.standins.local_server import free_port

READY_SECONDS = 60
UNPRIVILEGED = "nobody"


def binaries() -> Path:
    """The folder of ``initdb`` and ``postgres``: the newest installed PostgreSQL, or the ones on PATH."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2]))[::-1]:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ConfigError(
        "the sandbox needs PostgreSQL's server programs (initdb, postgres), and none are installed",
        hint="Install them: apt-get install postgresql (the sandbox runs its own server; it does not use that one).",
    )


class PrivatePostgres:
    """Start with ``with PrivatePostgres() as server:``; ``server.url(database)`` reaches it.

    ``settings`` are passed to the server as ``-c NAME=VALUE``: ``wal_level=logical`` makes it a
    publisher a logical replica can subscribe to."""

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        self.settings = dict(settings or {})
        self.folder = Path(tempfile.mkdtemp(prefix="consdb-sandbox-postgres-"))
        self.folder.chmod(0o755)  # for the unprivileged user to reach its data
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._user: dict[str, Any] = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED)
            self._user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> Self:
        bin_dir = binaries()
        self.data.mkdir()
        if self._user:
            os.chown(self.data, self._user["user"], self._user["group"])
        self._run([str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-c", "fsync=off",
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data}",
                 *(option for name, value in self.settings.items() for option in ("-c", f"{name}={value}"))],
                stdout=subprocess.DEVNULL, stderr=log, **self._user,
            )  # fmt: skip
        self._wait_until_ready()
        return self

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown: sessions end, data is kept
            self.process.wait(timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, text=True, check=False, **self._user)
        if done.returncode != 0:
            raise ConfigError(f"the sandbox's PostgreSQL could not be made: {done.stderr.strip()[-400:]}")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ConfigError("the sandbox's PostgreSQL stopped at start-up", hint=f"Its log: {self.log}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                threading.Event().wait(0.1)  # not time.sleep: libfaketime breaks it
        raise ConfigError("the sandbox's PostgreSQL did not answer", hint=f"Its log: {self.log}")
