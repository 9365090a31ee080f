"""A small HTTP server on 127.0.0.1 in a thread, for fetch tests; stopped by its context."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FEED_BODY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 05 Jan 2022 10:00:00 GMT"
BIG_SIZE = 4096


@dataclass
class Served:
    base_url: str
    request_headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def local_server() -> Iterator[Served]:
    served = Served(base_url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            served.request_headers.append(dict(self.headers.items()))
            route = getattr(self, f"route_{self.path.strip('/').replace('-', '_')}", None)
            if route is None:
                self.send_error(404)
                return
            route()

        def route_feed(self) -> None:
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
                return
            self._send(FEED_BODY, ETag=ETAG, **{"Last-Modified": LAST_MODIFIED})

        def route_error(self) -> None:
            self.send_error(500, "Internal Server Error")

        def route_slow(self) -> None:
            served.release.wait(timeout=5)
            self._send(FEED_BODY)

        def route_big(self) -> None:
            self._send(b"x" * BIG_SIZE)

        def route_big_undeclared(self) -> None:
            # No Content-Length: the size is only known while reading.
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(BIG_SIZE // 256):
                self.wfile.write(b"x" * 256)
            self.close_connection = True

        def _send(self, body: bytes, **headers: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    class QuietServer(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # clients that gave up (timeouts, size limit) make broken pipes here

    server = QuietServer(("127.0.0.1", 0), Handler)
    served.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval makes shutdown() prompt, which keeps the suite fast.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
