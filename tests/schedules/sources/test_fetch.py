"""Fetching over HTTP (a local server on 127.0.0.1) and from local files."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from schedules.sources.base import FeedError
from schedules.sources.fetch import USER_AGENT, fetch
from tests.schedules.sources.local_server import (
    BIG_SIZE,
    ETAG,
    FEED_BODY,
    LAST_MODIFIED,
    Served,
    local_server,
)


@pytest.fixture
def server() -> Iterator[Served]:
    with local_server() as served:
        yield served


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


async def test_ok_then_not_modified(server: Served, client: httpx.AsyncClient) -> None:
    url = f"{server.base_url}/feed"
    first = await fetch(client, url, etag=None, last_modified=None)
    assert (first.status, first.body) == ("ok", FEED_BODY)
    assert (first.etag, first.last_modified) == (ETAG, LAST_MODIFIED)

    second = await fetch(client, url, etag=first.etag, last_modified=first.last_modified)
    assert (second.status, second.body, second.etag) == ("not_modified", b"", ETAG)
    assert second.last_modified == LAST_MODIFIED

    sent = server.request_headers[1]
    assert sent["If-None-Match"] == ETAG
    assert sent["If-Modified-Since"] == LAST_MODIFIED
    assert sent["User-Agent"] == USER_AGENT
    assert "If-None-Match" not in server.request_headers[0]


async def test_server_error_is_one_line(server: Served, client: httpx.AsyncClient) -> None:
    with pytest.raises(FeedError) as caught:
        await fetch(client, f"{server.base_url}/error", etag=None, last_modified=None)
    assert str(caught.value) == f"{server.base_url}/error: HTTP 500 Internal Server Error"


async def test_not_found(server: Served, client: httpx.AsyncClient) -> None:
    with pytest.raises(FeedError, match="HTTP 404"):
        await fetch(client, f"{server.base_url}/nothing", etag=None, last_modified=None)


async def test_timeout(server: Served, client: httpx.AsyncClient) -> None:
    with pytest.raises(FeedError, match=r"timed out after 0\.2s"):
        await fetch(client, f"{server.base_url}/slow", etag=None, last_modified=None, timeout=0.2)


@pytest.mark.parametrize("path", ["big", "big-undeclared"])
async def test_body_over_the_limit(server: Served, client: httpx.AsyncClient, path: str) -> None:
    url = f"{server.base_url}/{path}"
    with pytest.raises(FeedError, match="over the 1000"):
        await fetch(client, url, etag=None, last_modified=None, max_bytes=1000)
    within = await fetch(client, url, etag=None, last_modified=None, max_bytes=BIG_SIZE)
    assert len(within.body) == BIG_SIZE


async def test_connection_refused(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now.
    with pytest.raises(FeedError, match=f"127.0.0.1:{port}/feed: ConnectError") as caught:
        await fetch(client, f"http://127.0.0.1:{port}/feed", etag=None, last_modified=None)
    assert "\n" not in str(caught.value)


async def test_local_path_and_file_url(tmp_path: Path, client: httpx.AsyncClient) -> None:
    path = tmp_path / "saved feed.xml"
    path.write_bytes(FEED_BODY)
    by_path = await fetch(client, str(path), etag=None, last_modified=None)
    by_url = await fetch(client, path.as_uri(), etag=None, last_modified=None)
    assert by_path.body == by_url.body == FEED_BODY
    assert by_path.status == "ok"


async def test_local_file_errors(tmp_path: Path, client: httpx.AsyncClient) -> None:
    with pytest.raises(FeedError, match="No such file"):
        await fetch(client, str(tmp_path / "missing.xml"), etag=None, last_modified=None)
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(FeedError, match="over the 1000 byte limit"):
        await fetch(client, str(big), etag=None, last_modified=None, max_bytes=1000)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/feed", "unsupported URL scheme 'ftp'"),
        ("http://127.0.0.1:99999/feed", "invalid URL"),
        ("https://[::1/feed", "invalid URL"),
        ("http:///feed", "UnsupportedProtocol"),
    ],
)
async def test_bad_urls(client: httpx.AsyncClient, url: str, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        await fetch(client, url, etag=None, last_modified=None)
