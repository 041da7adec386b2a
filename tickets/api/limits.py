"""The API's edge: rate limits (token bucket per bearer token and per client address,
429 with Retry-After), request size limits (413), and the probe endpoints, which are
exempt from the limits so a busy API is never restarted for answering 429 to its probes.

Pure ASGI rather than BaseHTTPMiddleware: the body limit must count bytes as they
stream in, whatever Content-Length claims (or when it is absent: chunked uploads).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.http_probes import PROBE_PATHS, probes_router
from kernel.metrics import HTTP_REFUSED
from kernel.rate_limit import TokenBucketLimiter
from kernel.settings import SettingsError


class ApiLimitSettings(BaseSettings):
    """Limits of the HTTP API (a rate of 0 turns that limit off)."""

    model_config = SettingsConfigDict(env_prefix="TOIR_", extra="ignore")

    api_rate_per_s: float = Field(default=20.0, ge=0)
    api_rate_burst: int = Field(default=40, ge=1)
    # Per client address, whatever the token: random tokens must not buy fresh buckets.
    api_ip_rate_per_s: float = Field(default=100.0, ge=0)
    api_ip_rate_burst: int = Field(default=200, ge=1)
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)


def load_limit_settings() -> ApiLimitSettings:
    try:
        return ApiLimitSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(f"TOIR_{field.upper()}: {error['msg']}") from exc


class _BodyTooLarge(HTTPException):
    """Raised from `receive`: an HTTPException, so FastAPI's body parsing passes it on
    (it turns any other error while reading the body into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, settings: ApiLimitSettings) -> None:
        self._app = app
        self._max_body = settings.api_max_body_bytes
        self._per_token = _limiter(settings.api_rate_per_s, settings.api_rate_burst)
        self._per_ip = _limiter(settings.api_ip_rate_per_s, settings.api_ip_rate_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self._app(scope, receive, send)
            return
        wait_s = self._wait_s(scope)
        if wait_s > 0:
            HTTP_REFUSED.labels("rate_limited").inc()
            headers = {"retry-after": str(max(1, math.ceil(wait_s)))}
            await _reply(send, 429, "rate limit exceeded, retry later", headers)
            return
        if _declared_length(scope) > self._max_body:
            await self._too_large(send)
            return
        await self._call_counting(scope, receive, send)

    def _wait_s(self, scope: Scope) -> float:
        client = scope.get("client")
        waits = [0.0]
        if self._per_ip is not None:
            waits.append(self._per_ip.take(f"ip:{client[0] if client else '?'}"))
        token = _bearer(scope)
        if token and self._per_token is not None:
            waits.append(self._per_token.take(f"token:{token}"))
        return max(waits)

    async def _call_counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self._max_body:
                HTTP_REFUSED.labels("too_large").inc()
                raise _BodyTooLarge(self._max_body)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:  # a handler that read the body without FastAPI's parsing
                await _reply(send, 413, f"request body larger than {self._max_body} bytes", {})

    async def _too_large(self, send: Send) -> None:
        HTTP_REFUSED.labels("too_large").inc()
        await _reply(send, 413, f"request body larger than {self._max_body} bytes", {})


def install_limits_and_probes(app: FastAPI, settings: ApiLimitSettings | None = None) -> None:
    """Add the limits middleware and the /metrics, /healthz, /readyz routes."""
    app.add_middleware(LimitsMiddleware, settings=settings or load_limit_settings())
    app.include_router(probes_router())


def _limiter(rate_per_s: float, burst: int) -> TokenBucketLimiter | None:
    return TokenBucketLimiter(rate_per_s, burst) if rate_per_s > 0 else None


def _bearer(scope: Scope) -> str | None:
    """A digest of the bearer token: the limiter's memory never holds a usable secret."""
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return hashlib.sha256(value[7:].strip()).hexdigest()[:32]
    return None


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _reply(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    body = orjson.dumps({"message": message})
    raw_headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": status}
    await send({**start, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
