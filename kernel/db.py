"""Database connections and pools; nothing here connects until asked."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable

import psycopg
from psycopg_pool import AsyncConnectionPool

from kernel.migrate import check_schema

APPLICATION_NAME = "toir"


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A plain synchronous connection (CLI commands, start-up checks)."""
    return psycopg.connect(url, autocommit=autocommit, application_name=APPLICATION_NAME)


def verify_schema(url: str) -> None:
    """Raise SchemaVersionError unless the database is at this build's schema version."""
    with connect(url) as conn:
        check_schema(conn)


ConfigureFn = Callable[[psycopg.AsyncConnection], Awaitable[None]]


def create_pool(
    url: str, *, max_size: int = 4, name: str = "toir", configure: ConfigureFn | None = None
) -> AsyncConnectionPool:
    """An async pool, created closed; open it in the owner's start-up."""
    return AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        name=name,
        configure=configure,
        kwargs={"application_name": f"{APPLICATION_NAME}-{name}"},
    )


_opened: weakref.WeakSet[AsyncConnectionPool] = weakref.WeakSet()
# One lock per pool: a lock that ever had a waiter belongs to that waiter's event loop, and
# a process (a test run, say) may use pools from several loops one after another.
_opening: weakref.WeakKeyDictionary[AsyncConnectionPool, asyncio.Lock] = weakref.WeakKeyDictionary()


async def ensure_open(pool: AsyncConnectionPool) -> None:
    """Open a pool once, whoever asks first; concurrent callers wait for that one open.

    psycopg_pool refuses a second concurrent `open(wait=True)`, and in the stream
    worker several agents and timers start at once, each needing the shared pool.
    """
    if pool in _opened:
        return
    async with _opening.setdefault(pool, asyncio.Lock()):
        if pool not in _opened:
            await pool.open(wait=True)
            _opened.add(pool)
