"""A TCP listener that takes connections and never says a word: a database behind a silent proxy."""

from __future__ import annotations

import socket
import threading
from typing import Self


class SilentListener:
    """``with SilentListener() as listener:`` accepts on ``listener.port`` until the block ends, reading
    nothing and answering nothing; the connections it took are closed at the end."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._taken: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True, name="silent-listener")

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def __enter__(self) -> Self:
        self._socket.listen(16)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._socket.close()
        self._thread.join(timeout=10)
        for connection in self._taken:
            connection.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed: the block ended
                return
            self._taken.append(connection)
