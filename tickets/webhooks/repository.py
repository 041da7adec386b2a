"""SQL for webhook subscriptions and the outbox's deliveries."""

from __future__ import annotations

import psycopg
from psycopg.rows import class_row

from tickets.webhooks.models import Delivery, WebhookRead

WEBHOOK_COLUMNS = "id, url, events, active, created_at"
DELIVERY_COLUMNS = (
    "id, channel, destination, webhook_id, payload, created_at, attempts, next_attempt_at, "
    "delivered_at, dead_at, last_error"
)
DELIVERY_STATES = {
    "pending": "delivered_at IS NULL AND dead_at IS NULL",
    "delivered": "delivered_at IS NOT NULL",
    "dead": "dead_at IS NOT NULL",
}


async def insert(
    conn: psycopg.AsyncConnection, *, url: str, events: list[str], secret: str
) -> WebhookRead:
    async with conn.cursor(row_factory=class_row(WebhookRead)) as cur:
        await cur.execute(
            f"INSERT INTO tickets.webhooks (url, events, secret) VALUES (%s, %s, %s) "
            f"RETURNING {WEBHOOK_COLUMNS}",
            (url, events, secret),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def list_all(conn: psycopg.AsyncConnection) -> list[WebhookRead]:
    async with conn.cursor(row_factory=class_row(WebhookRead)) as cur:
        await cur.execute(f"SELECT {WEBHOOK_COLUMNS} FROM tickets.webhooks ORDER BY id")
        return await cur.fetchall()


async def deactivate(conn: psycopg.AsyncConnection, webhook_id: int) -> bool:
    cur = await conn.execute(
        "UPDATE tickets.webhooks SET active = false WHERE id = %s AND active", (webhook_id,)
    )
    return cur.rowcount == 1


async def deliveries(conn: psycopg.AsyncConnection, *, state: str, limit: int) -> list[Delivery]:
    condition = DELIVERY_STATES[state]  # a fixed fragment chosen by a validated key
    async with conn.cursor(row_factory=class_row(Delivery)) as cur:
        await cur.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM tickets.outbox WHERE {condition} "
            "ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return await cur.fetchall()


async def retry(conn: psycopg.AsyncConnection, delivery_id: int) -> bool:
    """Bring a dead delivery back: the relay tries it again from the start."""
    cur = await conn.execute(
        "UPDATE tickets.outbox SET dead_at = NULL, attempts = 0, next_attempt_at = now() "
        "WHERE id = %s AND dead_at IS NOT NULL",
        (delivery_id,),
    )
    return cur.rowcount == 1
