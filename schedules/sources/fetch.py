"""Fetching a source: conditional GET over HTTP, or a local file for an operator's dry run.

Every failure (HTTP status, timeout, refused connection, a body too big to be a feed)
becomes a `FeedError` with one line an operator can act on, because embassy sites refuse
many data-centre addresses and that must be visible, not a stack trace. A proxy is
configured on the `httpx.AsyncClient` the caller passes in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import httpx

from schedules.sources.base import FeedError

USER_AGENT = "Dutybot/0.1 (+duty-of-care alerts)"
MAX_BYTES = 5_000_000
TIMEOUT = 20.0


@dataclass(frozen=True)
class FetchResult:
    status: Literal["ok", "not_modified"]
    body: bytes
    etag: str | None
    last_modified: str | None


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT,  # noqa: ASYNC109 - callers set one bound per source
) -> FetchResult:
    """GET `url` (or read a `file://` URL or a path), sending the validators from last time.

    `timeout` bounds the whole fetch, not each read, so a server that trickles bytes
    cannot hold a poll for ever.
    """
    try:
        parts = urlsplit(url)
        # Read now so that a bad port fails here, not deep inside the connection pool.
        _ = parts.port
    except ValueError as exc:
        raise FeedError(f"{url}: invalid URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        try:
            async with asyncio.timeout(timeout):
                return await _fetch_http(
                    client, url, etag=etag, last_modified=last_modified, max_bytes=max_bytes,
                    timeout=timeout,
                )  # fmt: skip
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise FeedError(f"{url}: timed out after {timeout:g}s") from exc
    if scheme == "file":
        return await _read_file(Path(unquote(parts.path)), max_bytes=max_bytes)
    if len(scheme) > 1:  # one letter is a Windows drive, i.e. a path
        raise FeedError(f"{url}: unsupported URL scheme {scheme!r}")
    return await _read_file(Path(url), max_bytes=max_bytes)


async def _fetch_http(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    timeout: float,  # noqa: ASYNC109 - also given to httpx so its sockets give up too
) -> FetchResult:
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with client.stream(
            "GET", url, headers=headers, timeout=timeout, follow_redirects=True
        ) as response:
            if response.status_code == 304:
                return FetchResult(
                    status="not_modified",
                    body=b"",
                    etag=response.headers.get("ETag") or etag,
                    last_modified=response.headers.get("Last-Modified") or last_modified,
                )
            if response.status_code >= 400:
                reason = response.reason_phrase or "error"
                raise FeedError(f"{url}: HTTP {response.status_code} {reason}")
            body = await _read_limited(response, url=url, max_bytes=max_bytes)
            return FetchResult(
                status="ok",
                body=body,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
    except httpx.TimeoutException:
        raise  # reported with the overall timeout by the caller
    except httpx.HTTPError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FeedError(f"{url}: {type(exc).__name__}: {detail}") from exc


async def _read_limited(response: httpx.Response, *, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FeedError(f"{url}: body of {int(declared)} bytes is over the {max_bytes} limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(f"{url}: body is over the {max_bytes} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_file(path: Path, *, max_bytes: int) -> FetchResult:
    try:
        body = await asyncio.to_thread(_read_at_most, path, max_bytes + 1)
    except OSError as exc:
        raise FeedError(f"{path}: {exc.strerror or type(exc).__name__}") from exc
    if len(body) > max_bytes:
        raise FeedError(f"{path}: file is over the {max_bytes} byte limit")
    return FetchResult(status="ok", body=body, etag=None, last_modified=None)


def _read_at_most(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(limit)
