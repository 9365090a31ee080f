"""Reading a Bot API request: its parameters from the query, a form, JSON or multipart.

PTB sends parameters in each of these encodings depending on what the call carries, so
the simulated Telegram decodes them all as Telegram does, byte for byte for files.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from bot.sim.telegram.errors import bad_request


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as it appears in ``FakeTelegram.calls``."""

    filename: str | None
    content: bytes
    content_type: str | None = None


# Parameters Telegram defines as strings. PTB sends them verbatim (not JSON-encoded), so
# they must not be JSON-decoded: a message whose text is "123" must stay a string.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "action",
        "language_code",
        "document",
        "photo",
        "business_connection_id",
        "message_effect_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "certificate",
        "thumbnail",
    }
)


def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    # PTB JSON-encodes every non-string parameter (chat_id "123", reply_markup "{...}",
    # disable_notification "true"); a value that is not JSON is a plain string
    # (e.g. chat_id "@channel").
    try:
        return json.loads(value)
    except ValueError:
        return value


_HEADER_PARAM_RE = re.compile(r';\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')


def _header_params(header: str) -> dict[str, str]:
    """Parameters of a Content-Type / Content-Disposition header, unescaped like httpx
    escapes them (backslash-escapes, %22 for quotes, %XX for control characters)."""
    params: dict[str, str] = {}
    for match in _HEADER_PARAM_RE.finditer(header):
        name, quoted, bare = match.groups()
        if quoted is None:
            params[name.lower()] = bare.strip()
            continue
        value = re.sub(r"\\(.)", r"\1", quoted)
        value = re.sub(r"%(22|[01][0-9A-Fa-f])", lambda m: chr(int(m[1], 16)), value)
        params[name.lower()] = value
    return params


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Small byte-exact multipart/form-data parser (file content must survive intact)."""
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise bad_request("multipart body without boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    params: dict[str, Any] = {}
    # Chunks between delimiters; the first is the preamble, the last starts with "--".
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        # Each part is "\r\n" headers "\r\n\r\n" content "\r\n" (the CRLF before the
        # next delimiter belongs to the delimiter, not to the content).
        chunk = chunk.removeprefix(b"\r\n")
        chunk = chunk.removesuffix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition or headers.get("content-type", "").startswith(
            "application/octet-stream"
        ):
            params[name] = UploadedFile(
                filename=disposition.get("filename"),
                content=content,
                content_type=headers.get("content-type"),
            )
        else:
            params[name] = _decode_form_value(name, content.decode("utf-8"))
    return params


def parse_body(body: bytes, content_type: str, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        k: _decode_form_value(k, v) for k, v in urllib.parse.parse_qsl(query, True)
    }
    mime = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if mime == "multipart/form-data":
        params.update(_parse_multipart(body, content_type))
    elif mime == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError as exc:
            raise bad_request(f"invalid JSON body: {exc}") from None
        if not isinstance(decoded, dict):
            raise bad_request("JSON body must be an object")
        params.update(decoded)
    else:
        # PTB without files: application/x-www-form-urlencoded json_parameters.
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update({k: _decode_form_value(k, v) for k, v in pairs})
    return params


def int_param(params: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None:
        if required:
            raise bad_request(f"{name} is empty")
        return None
    if isinstance(value, bool):
        raise bad_request(f"invalid {name}")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def json_param(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


def markup_param(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = json_param(params, "reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def bool_param(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)
