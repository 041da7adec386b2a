"""Idempotent POSTs: a repeated `Idempotency-Key` gets the first response, never a second action.

The key is claimed in the request's own transaction (the `ConnDep` connection, which FastAPI
shares between the endpoint and `claim_key` through its per-request dependency cache), and
the response is stored in that same transaction before it commits. So a key exists exactly
when its action committed: a crash can lose neither one without the other. A concurrent
repeat waits on the first request's uncommitted row, then replays its response. A request
that fails rolls back and leaves no key, so repeating that key runs it again: safe, since
nothing was applied. Semantics after draft-ietf-httpapi-idempotency-key-header (section 2:
the key is the client's; section 2.7: the same key with another payload is refused with 422).

Use it as a router's route class: `APIRouter(..., route_class=IdempotentRoute)`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import psycopg
from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute

from kernel.errors import Invalid
from tickets.api.deps import ConnDep, CurrentUser

log = logging.getLogger(__name__)

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_CHARS = 200

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        min_length=1,
        max_length=KEY_MAX_CHARS,
        description="A client-generated unique key (a UUID): a repeat gets the first response.",
    ),
]


@dataclass(frozen=True)
class Claim:
    """A key this request holds, uncommitted, in its own transaction."""

    conn: psycopg.AsyncConnection
    user_id: str
    key: str


@dataclass(frozen=True)
class Stored:
    request_sha256: bytes
    status_code: int | None
    response: Any


class Replay(Exception):
    """The key was used before: answer with the stored response instead of acting."""

    def __init__(self, stored: Stored) -> None:
        super().__init__("replayed")
        self.stored = stored

    def response(self) -> Response:
        body = b"" if self.stored.response is None else orjson.dumps(self.stored.response)
        return Response(
            body,
            status_code=self.stored.status_code or 200,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )


async def claim_key(
    request: Request, conn: ConnDep, user: CurrentUser, idempotency_key: IdempotencyKey = None
) -> None:
    """Claim the key for this request, or raise Replay with the response stored for it."""
    if idempotency_key is None:
        return
    digest = await _request_digest(request)
    stored = await claim(conn, user_id=user.id, key=idempotency_key, request_sha256=digest)
    if stored is None:
        request.state.idempotency = Claim(conn, user.id, idempotency_key)
        return
    if stored.request_sha256 != digest:
        raise Invalid(
            f"{KEY_HEADER} {idempotency_key!r} was already used for a different request",
            fields={f"header.{KEY_HEADER}": "reused with a different request"},
        )
    raise Replay(stored)


class IdempotentRoute(APIRoute):
    """An APIRoute whose POSTs honour `Idempotency-Key`; other methods are untouched."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if "POST" in {method.upper() for method in kwargs.get("methods") or ()}:
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()), Depends(claim_key)]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def idempotent(request: Request) -> Response:
            try:
                response = await handler(request)
            except Replay as replay:
                return replay.response()
            held = getattr(request.state, "idempotency", None)
            if isinstance(held, Claim):
                await _record(held, response)
            return response

        return idempotent


async def claim(
    conn: psycopg.AsyncConnection, *, user_id: str, key: str, request_sha256: bytes
) -> Stored | None:
    """Insert the key (waiting for a concurrent holder to finish); the stored row if taken."""
    cur = await conn.execute(
        "INSERT INTO tickets.idempotency_keys (user_id, key, request_sha256) "
        "VALUES (%s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING",
        (user_id, key, request_sha256),
    )
    if cur.rowcount == 1:
        return None
    cur = await conn.execute(
        "SELECT request_sha256, status_code, response FROM tickets.idempotency_keys "
        "WHERE user_id = %s AND key = %s",
        (user_id, key),
    )
    row = await cur.fetchone()
    if row is None:  # pruned between the two statements: claim it afresh
        return await claim(conn, user_id=user_id, key=key, request_sha256=request_sha256)
    return Stored(bytes(row[0]), row[1], row[2])


async def store(held: Claim, *, status_code: int, response_json: str | None) -> None:
    """Keep the response with the claimed key, in the action's transaction."""
    await held.conn.execute(
        "UPDATE tickets.idempotency_keys SET status_code = %s, response = %s::jsonb "
        "WHERE user_id = %s AND key = %s",
        (status_code, response_json, held.user_id, held.key),
    )


async def release(held: Claim) -> None:
    await held.conn.execute(
        "DELETE FROM tickets.idempotency_keys WHERE user_id = %s AND key = %s",
        (held.user_id, held.key),
    )


async def _record(held: Claim, response: Response) -> None:
    body = getattr(response, "body", None)
    text = bytes(body).decode() if isinstance(body, bytes | memoryview) else None
    if text is None or (text and not _is_json(text)):
        # A streamed or non-JSON answer cannot be replayed: the key protects nothing here.
        log.warning("%s ignored: the response is not JSON", KEY_HEADER)
        await release(held)
        return
    await store(held, status_code=response.status_code, response_json=text or None)


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


async def _request_digest(request: Request) -> bytes:
    """What makes two requests "the same": method, path, query and body bytes."""
    body = await request.body()  # read and cached by FastAPI before the dependencies run
    head = f"{request.method}\n{request.url.path}\n{request.url.query}\n".encode()
    return hashlib.sha256(head + body).digest()
