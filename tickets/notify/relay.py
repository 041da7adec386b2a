"""The outbox relay: delivers pending notifications, retrying with back-off.

MQTT messages are retried until the broker takes them (an outage delays, never
loses); webhooks are dead-lettered after MAX_WEBHOOK_ATTEMPTS and listed in the API.
Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays never send one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from tickets.notify.channels import DeliveryError, MqttChannel, post_webhook

log = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_WEBHOOK_ATTEMPTS = 8
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 300.0

CLAIM = """
SELECT o.id, o.channel, o.destination, o.payload, o.attempts, w.secret
FROM tickets.outbox o LEFT JOIN tickets.webhooks w ON w.id = o.webhook_id
WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= now()
ORDER BY o.id LIMIT %s FOR UPDATE OF o SKIP LOCKED
"""


@dataclass(frozen=True)
class Pending:
    id: int
    channel: str
    destination: str
    payload: dict[str, Any]
    attempts: int
    secret: str | None


class Relay:
    """Delivers what the outbox holds: `run_every` an interval, and at once when woken."""

    def __init__(self, pool: AsyncConnectionPool, mqtt: MqttChannel | None) -> None:
        self._pool = pool
        self._mqtt = mqtt
        self._woken = asyncio.Event()
        self.delivered = 0

    def wake(self) -> None:
        """New notifications are committed: deliver now rather than at the next interval."""
        self._woken.set()

    async def run_every(self, interval_s: float) -> None:
        """Deliver every `interval_s` seconds and whenever woken, until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), interval_s)
            self._woken.clear()  # a wake from here on means another round
            try:
                await self.run_once()
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("notification relay: database unavailable (%s)", exc)
            except Exception:
                log.exception("notification relay failed; it runs again in %.1f s", interval_s)

    async def run_once(self) -> int:
        """Deliver one batch of due notifications; return how many were delivered."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(CLAIM, (BATCH_SIZE,))
            pending = [Pending(*row) for row in await cur.fetchall()]
            delivered = 0
            for item in pending:
                delivered += await self._deliver(conn, item)
        self.delivered += delivered
        return delivered

    async def _deliver(self, conn: psycopg.AsyncConnection, item: Pending) -> int:
        body = orjson.dumps(item.payload)
        try:
            await asyncio.to_thread(self._send, item, body)
        except DeliveryError as exc:
            await _failed(conn, item, str(exc))
            return 0
        await conn.execute(
            "UPDATE tickets.outbox SET delivered_at = now(), attempts = attempts + 1, "
            "last_error = NULL WHERE id = %s",
            (item.id,),
        )
        return 1

    def _send(self, item: Pending, body: bytes) -> None:
        if item.channel == "mqtt":
            if self._mqtt is None:
                raise DeliveryError("no MQTT broker configured for notifications")
            self._mqtt.publish(item.destination, body)
        else:
            post_webhook(
                item.destination,
                body,
                secret=item.secret or "",
                event=str(item.payload.get("event")),
                delivery_id=item.id,
            )


async def _failed(conn: psycopg.AsyncConnection, item: Pending, error: str) -> None:
    attempts = item.attempts + 1
    dead = item.channel == "webhook" and attempts >= MAX_WEBHOOK_ATTEMPTS
    delay_s = min(BACKOFF_FIRST_S * 2 ** (attempts - 1), BACKOFF_MAX_S)
    log.warning(
        "notification %d (%s) failed, attempt %d: %s", item.id, item.channel, attempts, error
    )
    await conn.execute(
        "UPDATE tickets.outbox SET attempts = %s, last_error = %s, "
        "next_attempt_at = now() + %s * interval '1 second', "
        "dead_at = CASE WHEN %s THEN now() END WHERE id = %s",
        (attempts, error[:1000], delay_s, dead, item.id),
    )
