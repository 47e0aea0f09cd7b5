"""A TCP proxy in front of a server, that a test can cut and restore: a database that really goes away.

While cut, every connection through it is closed and every new one is closed as soon as it is
accepted (the client sees the server go away, as when a database restarts or the network fails);
``refused`` counts those attempts, so that a test can wait until the bot has tried and failed.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from typing import Self

_CHUNK = 65536


class TcpProxy:
    """``with TcpProxy(host, port) as proxy:``; clients connect to ``proxy.port`` on the loopback."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._cut = False
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._changed = threading.Condition()
        self.refused = 0
        self._accepting = threading.Thread(target=self._accept, daemon=True, name="tcp-proxy")

    def __enter__(self) -> Self:
        self._accepting.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._listener.close()
        self._close_all()

    def cut(self) -> None:
        """From now on nothing gets through: open connections are closed, new ones closed at once."""
        with self._changed:
            self._cut = True
        self._close_all()

    def restore(self) -> None:
        with self._changed:
            self._cut = False

    def wait_refused(self, count: int, *, timeout: float = 60) -> None:
        """Until ``count`` connections in all were turned away while cut."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.refused >= count, timeout=timeout):
                raise AssertionError(f"only {self.refused} connection(s) came while the proxy was cut, not {count}")

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # the listener was closed: the proxy is done
                return
            with self._changed:
                if self._cut:
                    self.refused += 1
                    self._changed.notify_all()
                    client.close()
                    continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._changed:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Both ways at once, until either side closes (or the proxy is cut)."""
        other = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select():
                        data = key.fileobj.recv(_CHUNK)  # type: ignore[union-attr]
                        if not data:
                            return
                        other[key.fileobj].sendall(data)  # type: ignore[index]
            except (OSError, ValueError):
                return
            finally:
                with self._changed:
                    if (client, upstream) in self._pairs:
                        self._pairs.remove((client, upstream))
                self._close(client, upstream)

    def _close_all(self) -> None:
        with self._changed:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            self._close(*pair)

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
