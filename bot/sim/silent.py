"""A TCP relay on 127.0.0.1 that can fall silent: a database host that stops answering.

A host that is switched off, frozen or cut from the network refuses nothing: connections
hang and queries wait for a reply that never comes. Put this relay between the bot and
its PostgreSQL and call `silence()`: from then on it accepts connections but answers
none, and what either side sends goes nowhere, until `speak()`. Connections that were
open while it was silent are broken afterwards (as a host that came back would have
forgotten them); new ones work again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

from sqlalchemy.engine import URL, make_url


class SilentHost:
    """Relays 127.0.0.1:`port` to `target`; `silence()` and `speak()` switch it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._silent = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stale: set[socket.socket] = set()  # open while silent: broken when it speaks
        self._threads: list[threading.Thread] = []

    def relayed(self, url: URL | str) -> str:
        """The database URL `url` (whose host and port are `target`), through this relay."""
        return (
            make_url(url)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )

    def start(self) -> SilentHost:
        self._spawn(self._accept)
        return self

    def silence(self) -> None:
        with self._lock:
            self._silent.set()
            self._stale |= self._sockets

    def speak(self) -> None:
        # Break the connections of the silence first: what was held back on them must
        # never arrive late (a COMMIT its client gave up on, say).
        with self._lock:
            stale, self._stale = self._stale, set()
            for sock in stale:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._silent.clear()

    def close(self) -> None:
        self._closing.set()
        self._silent.clear()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> SilentHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- inside ----------------------------------------------------------------------
    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._closing.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        # Accepted while silent: the connection hangs until the host speaks again.
        while self._silent.is_set() and not self._closing.is_set():
            self._silent_wait()
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets |= {client, upstream}
        self._spawn(self._pipe, client, upstream)
        self._pipe(upstream, client)

    def _silent_wait(self) -> None:
        self._closing.wait(0.05)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                # Bytes that arrive while silent are held back, never delivered: the host
                # is not there. The connection is broken when the host speaks again.
                while self._silent.is_set() and not self._closing.is_set():
                    self._silent_wait()
                sink.sendall(data)  # fails on a connection `speak` broke
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
