"""The engineer app's API: the live stream of the signed-in user, and a ticket's context."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from psycopg_pool import AsyncConnectionPool

from kernel.errors import Unauthenticated
from tickets import service as tickets
from tickets.api.deps import ConnDep, CurrentUser, bearer
from tickets.live import LiveHub, topic_for
from tickets.users import service as users
from tickets.users.models import User
from tickets.web import repository
from tickets.web.models import TicketContext

router = APIRouter(tags=["engineer app"])

STREAM_HEADERS: Final = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass events through at once
}
EVENT_STREAM_DOC: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"text/event-stream": {}}}
}


@router.get("/tickets/{ticket_id}/context")
async def ticket_context(conn: ConnDep, user: CurrentUser, ticket_id: int) -> TicketContext:
    """The equipment and site of a ticket the user may see, with a map link."""
    ticket = await tickets.get_visible(conn=conn, ticket_id=ticket_id, user=user)
    return await repository.ticket_context(conn, ticket)


@router.get("/live", response_class=StreamingResponse, responses=EVENT_STREAM_DOC)
async def live(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StreamingResponse:
    """Server-Sent Events for the signed-in user: `hello`, then `ticket` on each notification
    (an engineer's own; planners and admins every one), `resync` when some may be lost."""
    user = await _authenticate(request.app.state.pool, credentials)
    topic = topic_for(user)
    hub: LiveHub = request.app.state.live_hub
    try:
        await hub.ensure_listening()
    except TimeoutError as exc:
        raise HTTPException(503, "the live stream is unavailable; retry shortly") from exc
    hello = {"user_id": user.id, "role": user.role.value, "topic": topic}
    return StreamingResponse(
        hub.stream(topic, hello=hello), media_type="text/event-stream", headers=STREAM_HEADERS
    )


async def _authenticate(
    pool: AsyncConnectionPool, credentials: HTTPAuthorizationCredentials | None
) -> User:
    # Not CurrentUser: its pooled connection would stay checked out as long as the stream.
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    async with pool.connection() as conn:
        return await users.authenticate(conn=conn, token=credentials.credentials)
