"""A small HTTP/1.1 server on asyncio streams, enough for tracker clients and no more.

Requests are bounded in every dimension a client controls: head size, body size (by
Content-Length or chunked), time to send a request, idle keep-alive time and concurrent
connections. A malformed request gets its 4xx status and the connection is closed
(RFC 9112 §2.2, §6.3). The handler is called once per well-formed request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import Final

log = logging.getLogger(__name__)

HEAD_END: Final = b"\r\n\r\n"
CRLF: Final = b"\r\n"
VERSIONS: Final = ("HTTP/1.0", "HTTP/1.1")
HEX_DIGITS: Final = b"0123456789abcdefABCDEF"
MAX_CHUNK_SIZE_DIGITS: Final = 8


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_head_bytes: int = 16_384
    max_body_bytes: int = 65_536
    request_timeout_s: float = 10.0  # to send one whole request once it has begun
    idle_timeout_s: float = 30.0  # between requests on a kept-alive connection
    max_connections: int = 1024


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes = b""

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class HttpError(Exception):
    """A request refused before the handler sees it."""

    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _Connections:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0


async def start_http_server(
    handler: Handler, *, host: str, port: int, limits: HttpLimits
) -> asyncio.Server:
    """Listen and serve until the returned server is closed."""
    connections = _Connections(limits.max_connections)
    serve = partial(_serve_connection, handler, limits, connections)
    return await asyncio.start_server(serve, host, port, limit=limits.max_head_bytes)


async def _serve_connection(
    handler: Handler,
    limits: HttpLimits,
    connections: _Connections,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    connections.open += 1
    try:
        if connections.open > connections.limit:
            await _send(writer, HttpResponse(HTTPStatus.SERVICE_UNAVAILABLE, "busy"), False)
            return
        await _serve_requests(handler, limits, reader, writer)
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
        pass  # the client went away or stalled: nothing to answer
    finally:
        connections.open -= 1
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def _serve_requests(
    handler: Handler, limits: HttpLimits, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    while True:
        try:
            request = await _read_request(reader, writer, limits)
        except HttpError as exc:
            await _send(writer, HttpResponse(exc.status, exc.detail), False)
            return
        if request is None:
            return
        response = await _handle(handler, request)
        keep_alive = request.keep_alive()
        await _send(writer, response, keep_alive)
        if not keep_alive:
            return


async def _handle(handler: Handler, request: HttpRequest) -> HttpResponse:
    try:
        return await handler(request)
    except Exception:  # a handler bug answers 500 and the server goes on
        log.exception("HTTP handler failed on %s %.200s", request.method, request.target)
        return HttpResponse(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limits: HttpLimits
) -> HttpRequest | None:
    """The next request, None when the client closed cleanly between requests."""
    try:
        first = await asyncio.wait_for(reader.read(1), limits.idle_timeout_s)
    except TimeoutError:
        return None
    if not first:
        return None
    async with asyncio.timeout(limits.request_timeout_s):
        head = first + await _read_head(reader)
        method, target, version, headers = _parse_head(head)
        if headers.get("expect", "").lower() == "100-continue":
            await _continue(writer, headers, limits)
        body = await _read_body(reader, headers, limits)
    return HttpRequest(method, target, version, headers, body)


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(HEAD_END)
    except asyncio.LimitOverrunError as exc:
        raise HttpError(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large"
        ) from exc


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head[: -len(HEAD_END)].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise HttpError(HTTPStatus.BAD_REQUEST, "malformed request line")
    method, target, version = parts
    if version not in VERSIONS:
        raise HttpError(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP/1.0 or HTTP/1.1 only")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HttpError(HTTPStatus.BAD_REQUEST, "malformed header line")
        key = name.lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return method.upper(), target, version, headers


async def _continue(
    writer: asyncio.StreamWriter, headers: dict[str, str], limits: HttpLimits
) -> None:
    # Refuse an announced oversized body before the client sends it (RFC 9110 §10.1.1).
    _content_length(headers, limits)
    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    await writer.drain()


def _content_length(headers: dict[str, str], limits: HttpLimits) -> int:
    text = headers.get("content-length", "0")
    if not text.isdigit():
        raise HttpError(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
    length = int(text)
    if length > limits.max_body_bytes:
        raise _too_large(limits)
    return length


def _too_large(limits: HttpLimits) -> HttpError:
    detail = f"payload_too_large: body over {limits.max_body_bytes} bytes"
    return HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail)


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], limits: HttpLimits
) -> bytes:
    coding = headers.get("transfer-encoding")
    if coding is None:
        return await reader.readexactly(_content_length(headers, limits))
    if coding.lower() != "chunked" or "content-length" in headers:
        raise HttpError(HTTPStatus.NOT_IMPLEMENTED, "only chunked transfer coding is supported")
    return await _read_chunked(reader, limits)


async def _read_chunked(reader: asyncio.StreamReader, limits: HttpLimits) -> bytes:
    body = bytearray()
    while True:
        size = _chunk_size(await _read_line(reader))
        if size == 0:
            while await _read_line(reader) != CRLF:
                pass  # trailer fields: not used
            return bytes(body)
        if len(body) + size > limits.max_body_bytes:
            raise _too_large(limits)
        chunk = await reader.readexactly(size + len(CRLF))
        if not chunk.endswith(CRLF):
            raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunk")
        body += chunk[: -len(CRLF)]


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    if not text or len(text) > MAX_CHUNK_SIZE_DIGITS or text.strip(HEX_DIGITS):
        raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunk size")
    return int(text, 16)


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(CRLF)
    except asyncio.LimitOverrunError as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, "line too long") from exc


async def _send(writer: asyncio.StreamWriter, response: HttpResponse, keep_alive: bool) -> None:
    body = response.body.encode()
    status = HTTPStatus(response.status)
    head = [
        f"HTTP/1.1 {status.value} {status.phrase}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{name}: {value}" for name, value in response.headers.items()),
    ]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
