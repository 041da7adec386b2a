"""A tiny asyncio HTTP server for processes that serve no HTTP of their own (ingest,
stream): `/metrics` (Prometheus), `/healthz` (the event loop answers) and `/readyz`
(the process can do its work right now).

Deliberately minimal: GET only, one request per connection, bounded request size and
read time, so a scraper or a port scanner cannot hold the loop or its memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.metrics import CONTENT_TYPE, exposition
from kernel.settings import SettingsError

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 8192
READ_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 2.0

ReadyCheck = Callable[[], Awaitable[str | None]]
"""Returns None when ready, else the reason it is not (shown in the 503 body)."""


class HealthServerSettings(BaseSettings):
    """Where ingest and stream serve /metrics, /healthz and /readyz (port 0: off)."""

    model_config = SettingsConfigDict(env_prefix="TOIR_", extra="ignore")

    # Loopback by default; containers set 0.0.0.0 so Prometheus can scrape them.
    health_host: str = "127.0.0.1"
    ingest_health_port: int = Field(default=0, ge=0, le=65535)
    stream_health_port: int = Field(default=0, ge=0, le=65535)


def load_health_settings() -> HealthServerSettings:
    """Read them from the environment; a bad value raises SettingsError naming it."""
    try:
        return HealthServerSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(f"TOIR_{field.upper()}: {error['msg']}") from exc


@dataclass(frozen=True)
class Response:
    status: HTTPStatus
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


async def respond(method: str, path: str, ready: ReadyCheck) -> Response:
    """The answer to one request (no I/O but the readiness check)."""
    if method != "GET":
        return Response(HTTPStatus.METHOD_NOT_ALLOWED, b"GET only\n")
    route = path.split("?", 1)[0]
    if route == "/metrics":
        return Response(HTTPStatus.OK, exposition(), CONTENT_TYPE)
    if route == "/healthz":
        return Response(HTTPStatus.OK, b"ok\n")
    if route == "/readyz":
        return await _readiness(ready)
    return Response(HTTPStatus.NOT_FOUND, b"not found\n")


async def _readiness(ready: ReadyCheck) -> Response:
    try:
        reason = await asyncio.wait_for(ready(), READY_TIMEOUT_S)
    except TimeoutError:
        reason = "readiness check timed out"
    except Exception as exc:  # a failing check means "not ready", never a crashed server
        reason = f"{type(exc).__name__}: {exc}"
    if reason is None:
        return Response(HTTPStatus.OK, b"ready\n")
    return Response(HTTPStatus.SERVICE_UNAVAILABLE, f"not ready: {reason}\n".encode())


class HealthServer:
    """Serves the three endpoints on host:port until closed."""

    def __init__(self, host: str, port: int, ready: ReadyCheck) -> None:
        self._host = host
        self._port = port
        self._ready = ready
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0 in tests)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self._host, self._port, limit=MAX_REQUEST_BYTES
        )
        log.info("health server on http://%s:%d (/metrics /healthz /readyz)", self._host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            method, path = _request_line(head)
            response = await respond(method, path, self._ready)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            response = Response(HTTPStatus.BAD_REQUEST, b"bad request\n")
        try:
            writer.write(_encode(response))
            await writer.drain()
        except ConnectionError:
            pass  # the client went away; nothing to tell it
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _request_line(head: bytes) -> tuple[str, str]:
    method, path, _version = head.split(b"\r\n", 1)[0].decode("ascii").split(" ", 2)
    return method, path


def _encode(response: Response) -> bytes:
    head = (
        f"HTTP/1.1 {response.status.value} {response.status.phrase}\r\n"
        f"Content-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + response.body


async def serve_until(stop: asyncio.Event, host: str, port: int, ready: ReadyCheck) -> None:
    """Serve until `stop` is set (does nothing when port is 0)."""
    if port == 0:
        return
    server = HealthServer(host, port, ready)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.close()
