"""FastAPI dependencies, declared once: the connection and the authenticated user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool

from kernel.errors import Forbidden, Unauthenticated
from tickets.users import service as users
from tickets.users.models import Role, User

bearer = HTTPBearer(auto_error=False, description="`toir_<id>_<secret>` from `toir token create`")


# Reads run without a transaction block: under READ COMMITTED each statement takes its own
# snapshot either way, so BEGIN and COMMIT would only add two round trips to every read.
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


async def _connection(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    """One connection per request; a change runs in one transaction, committed on success."""
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        if request.method not in READ_ONLY_METHODS:
            yield conn
            return
        await conn.set_autocommit(True)
        try:
            yield conn
        finally:
            await _restore_transactions(conn)


async def _restore_transactions(conn: psycopg.AsyncConnection) -> None:
    """Back to transactions before the pool lends it out for a change, or never again."""
    try:
        await conn.set_autocommit(False)
    except psycopg.Error:
        await conn.close()  # the pool discards a closed connection


# Function scope: the transaction commits before the response is sent, so a client that
# reads right after an action sees it, and a failed commit is an error, not a 200.
ConnDep = Annotated[psycopg.AsyncConnection, Depends(_connection, scope="function")]


async def _current_user(
    conn: ConnDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    return await users.authenticate(conn=conn, token=credentials.credentials)


CurrentUser = Annotated[User, Depends(_current_user)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, User]]:
    """A dependency that lets only the given roles through (403 otherwise)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs one of the roles: {allowed}")
        return user

    return check


AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]
PlannerUser = Annotated[User, Depends(require_roles(Role.ADMIN, Role.PLANNER))]
DeviceAdminUser = Annotated[User, Depends(require_roles(Role.ADMIN, Role.DEVICE_ADMIN))]
