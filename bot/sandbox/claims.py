"""What a sandbox claims before it starts anything: its page's port, and its folder.

The port is listened on at once and kept until the page serves it, so that nothing else can take it while
PostgreSQL and the bot start. The folder is locked (``flock`` on ``sandbox.lock`` in it, which also says
whose it is) for the sandbox's life: a second sandbox there would delete and rewrite the first one's state,
log and configuration under it. The kernel lets go of the lock when its holder ends, however it ends, so a
lock file left by a killed sandbox blocks nothing.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from bot.errors import PortInUse, Refused

LOCK_NAME = "sandbox.lock"
NEARBY_PORTS = 100
"""How many ports after a taken one are tried for one to suggest instead."""
HIGHEST_PORT = 65535


def claim_port(port: int) -> socket.socket:
    """A socket listening on ``port`` on the loopback interface, or a refusal naming a free port nearby.

    Listening at once, not only bound: another server setting ``SO_REUSEADDR`` (a second sandbox, Python's
    own) could bind a port that is merely bound. Connections wait in the backlog until the page serves them.
    """
    try:
        return _bound(port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(port, free=_free_after(port)) from None
        raise Refused(f"cannot listen on port {port} ({error.strerror}); try another --port") from None


def _bound(port: int) -> socket.socket:
    listener = socket.socket()
    # As the page's server binds: a port that a sandbox just let go of (its connections in TIME_WAIT) is free.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen()
    except OSError:
        listener.close()
        raise
    return listener


def _free_after(port: int) -> int | None:
    for candidate in range(port + 1, min(port + NEARBY_PORTS, HIGHEST_PORT) + 1):
        try:
            _bound(candidate).close()
        except OSError:
            continue
        return candidate
    return None


class FolderLock:
    """``refuse_if_held()`` looks without touching the folder; ``with lock.held(url):`` takes it for good."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME

    def refuse_if_held(self) -> None:
        """Refuse if a sandbox holds the folder: a look that writes nothing, before the port is claimed, so that
        a second sandbox started as the first was is told about the first rather than about its port."""
        try:
            file = self.path.open()
        except FileNotFoundError:
            return
        with file:
            self._lock_or_refuse(file, fcntl.LOCK_SH)

    @contextmanager
    def held(self, url: str) -> Iterator[None]:
        """The folder made if need be and locked, the lock file saying this process's id and its page;
        emptied and let go of at the end."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+") as file:  # not "w": that would empty a holder's lock file before the lock
            self._lock_or_refuse(file, fcntl.LOCK_EX)
            file.seek(0)
            file.truncate()
            file.write(json.dumps({"pid": os.getpid(), "url": url}) + "\n")
            file.flush()
            try:
                yield
            finally:
                file.truncate(0)

    def _lock_or_refuse(self, file: IO[str], kind: int) -> None:
        try:
            fcntl.flock(file, kind | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            raise self._refusal(file.read()) from None

    def _refusal(self, said: str) -> Refused:
        try:
            holder = json.loads(said)
            whose = f" (pid {int(holder['pid'])}, {holder['url']})"
        except (ValueError, TypeError, KeyError):  # still writing it
            whose = ""
        return Refused(
            f"a sandbox is already running here{whose}",
            hint=f"Stop it (Ctrl-C where it runs), or give this one a folder of its own: --folder DIR."
            f" This folder: {self.folder}",
        )
