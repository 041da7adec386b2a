"""Handing items from another thread (paho's network thread) to the event loop in batches.

Waking the event loop costs a write to its self-pipe on the producing thread and a select
wake-up, a read and a callback on the loop: paid per message, it was the largest share of
ingest's CPU. Here the producer only appends to a deque, and wakes the loop only when the
consumer waits for something that has just become true: a first item, or a full batch.
Otherwise the consumer sleeps out its batch window and takes whatever came meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Handoff(Generic[T]):
    """A thread-safe inbox for one asyncio consumer; `put` may be called from any thread."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._wake_at = 0  # the consumer's wait ends at this many items (0: nobody waits)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the consumer runs on (before any `put` from another thread)."""
        self._loop = loop

    def put(self, item: T) -> None:
        with self._lock:
            self._items.append(item)
            if not self._wake_at or len(self._items) < self._wake_at:
                return
            waiter, self._wake_at = self._waiter, 0
        loop = self._loop
        if waiter is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(_wake, waiter)

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> T:
        """The next item, waiting for one."""
        return (await self.take(max_size=1, wait_s=0))[0]

    async def take(self, *, max_size: int, wait_s: float) -> list[T]:
        """Up to max_size items: waits for the first, then at most wait_s for a full batch."""
        await self._until(1, None)
        if wait_s > 0:
            await self._until(max_size, time.monotonic() + wait_s)
        with self._lock:
            count = min(max_size, len(self._items))
            return [self._items.popleft() for _ in range(count)]

    async def _until(self, count: int, deadline: float | None) -> None:
        """Return once `count` items are in, or at the deadline (None: no deadline)."""
        with self._lock:
            if len(self._items) >= count:
                return
            loop = asyncio.get_running_loop()
            self._loop = self._loop or loop
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter, self._wake_at = waiter, count
        try:
            delay_s = None if deadline is None else max(0.0, deadline - time.monotonic())
            async with asyncio.timeout(delay_s):
                await waiter
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiter, self._wake_at = None, 0


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
