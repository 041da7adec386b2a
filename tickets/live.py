"""Live updates for the engineer app and the dispatch board, streamed as Server-Sent Events.

Why LISTEN/NOTIFY and not polling: every notification toir sends a person is first written
to the outbox (tickets/notify/outbox.py) in the transaction that changed the ticket, and a
trigger (migration 0011) NOTIFYs `toir_outbox` with the row's id and destination when that
transaction commits. Each API process holds ONE listening connection, however many streams
are open, and fans each notification out in memory to the streams whose topic it matches,
reading its payload once and only if someone follows that destination. An idle platform
costs nothing, a notification reaches the phone in milliseconds, and commit order cannot
hide a row the way an `id > last_seen` poll can. The listener runs while a stream is open.

Events are hints, the ticket list is the truth: every stream starts with `hello`, after
which the client (re)reads its tickets, so whatever it missed while away is healed by that
read; `resync` asks it to re-read after the listener reconnected or a slow stream overflowed.

Wire format: https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from kernel.errors import Forbidden
from tickets.notify.outbox import ENGINEER_TOPIC
from tickets.users.models import Role, User

log = logging.getLogger(__name__)

LISTEN_CHANNEL: Final = "toir_outbox"
EVERY_TOPIC: Final = "*"  # planners and admins follow every notification
QUEUE_SIZE: Final = 100
HEARTBEAT_S: Final = 15.0  # a comment line keeps proxies from closing an idle stream
STREAM_MAX_S: Final = 300.0  # then the client reconnects: a revoked token stops within this
RETRY_MS: Final = 2_000  # how long an EventSource waits before reconnecting
LISTEN_READY_TIMEOUT_S: Final = 10.0
RECONNECT_S: Final = 2.0


def topic_for(user: User) -> str:
    """The outbox destination a user's stream follows."""
    if user.role is Role.ENGINEER:
        return ENGINEER_TOPIC.format(engineer_id=user.engineer_id or user.id)
    if user.sees_everything():
        return EVERY_TOPIC
    raise Forbidden("device administrators have no live ticket stream")


@dataclass(frozen=True)
class LiveEvent:
    name: str  # hello | ticket | resync
    data: dict[str, Any]
    id: int | None = None

    def encode(self) -> bytes:
        head = f"id: {self.id}\n" if self.id is not None else ""
        return f"{head}event: {self.name}\ndata: ".encode() + orjson.dumps(self.data) + b"\n\n"


RESYNC: Final = LiveEvent("resync", {"reason": "events may have been missed"})


@dataclass(eq=False)
class Subscription:
    topic: str
    queue: asyncio.Queue[LiveEvent] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, event: LiveEvent) -> None:
        """Queue an event; a stream too slow to keep up is told to re-read instead."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class LiveHub:
    """One LISTEN connection per process, fanned out to the open streams by topic."""

    def __init__(self, database_url: str, pool: AsyncConnectionPool) -> None:
        self._database_url = database_url
        self._pool = pool
        self._subscriptions: set[Subscription] = set()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def ensure_listening(self) -> None:
        """Start the listener if needed; raise TimeoutError if the database does not answer."""
        if not self._listening_here():
            self._ready = asyncio.Event()
            listener = self._listen_forever(self._ready)
            self._listener = asyncio.create_task(listener, name="live-listen")
        try:
            await asyncio.wait_for(self._ready.wait(), LISTEN_READY_TIMEOUT_S)
        except TimeoutError:
            self._stop_if_idle()  # open streams keep it retrying
            raise

    async def stream(self, topic: str, *, hello: dict[str, Any]) -> AsyncIterator[bytes]:
        """The SSE byte stream of one client: hello, then its events and heartbeats."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_MAX_S
        await self.ensure_listening()
        subscription = Subscription(topic)
        self._subscriptions.add(subscription)
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            yield LiveEvent("hello", hello).encode()
            while (left := deadline - loop.time()) > 0:
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), min(HEARTBEAT_S, left))
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                yield event.encode()
        finally:
            # No await here: a generator closed by the garbage collector may not suspend.
            self._subscriptions.discard(subscription)
            self._stop_if_idle()

    def _listening_here(self) -> bool:
        # A listener of another event loop (a test client runs one per request) is dead here.
        task = self._listener
        if task is None or task.done():
            return False
        return task.get_loop() is asyncio.get_running_loop()

    def _stop_if_idle(self) -> None:
        """Cancel the listener once no stream is open; it closes its connection unwinding."""
        if not self._subscriptions and self._listener is not None:
            self._listener.cancel()
            self._listener = None

    async def _listen_forever(self, ready: asyncio.Event) -> None:
        reconnecting = False
        while True:
            try:
                await self._listen(ready, announce_gap=reconnecting)
            except (psycopg.OperationalError, OSError) as exc:
                log.warning("live listener lost its connection (%s); reconnecting", exc)
            except Exception:  # the listener must outlive any one bad notification
                log.exception("live listener failed; restarting")
            ready.clear()
            reconnecting = True
            await asyncio.sleep(RECONNECT_S)

    async def _listen(self, ready: asyncio.Event, *, announce_gap: bool) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._database_url, autocommit=True, application_name="toir-api-live"
        ) as conn:
            await conn.execute(f"LISTEN {LISTEN_CHANNEL}")
            ready.set()
            if announce_gap:
                self._broadcast(RESYNC)
            async for notice in conn.notifies():
                await self._dispatch(notice.payload)

    async def _dispatch(self, payload: str) -> None:
        try:
            note = orjson.loads(payload)
            outbox_id, destination = int(note["id"]), str(note["destination"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("live: unreadable notification %.200r skipped", payload)
            return
        targets = [s for s in self._subscriptions if s.topic in (destination, EVERY_TOPIC)]
        if not targets:
            return
        data = await self._payload(outbox_id)
        if data is None:
            return
        event = LiveEvent("ticket", {**data, "destination": destination}, id=outbox_id)
        for subscription in targets:
            subscription.offer(event)

    async def _payload(self, outbox_id: int) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT payload FROM tickets.outbox WHERE id = %s", (outbox_id,)
            )
            row = await cur.fetchone()
        return None if row is None else dict(row[0])

    def _broadcast(self, event: LiveEvent) -> None:
        for subscription in self._subscriptions:
            subscription.offer(event)
