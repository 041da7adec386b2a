"""SQL of the field events' outbox: events stored with the batch that caused them, deleted
once published; what a stopped worker left behind is found by age."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

Message = tuple[str, str, bytes]  # event_id, Kafka key, Kafka value


async def add(conn: psycopg.AsyncConnection, messages: Sequence[Message]) -> None:
    """Store the messages (again: nothing)."""
    if messages:
        await conn.execute(
            "INSERT INTO telemetry.field_outbox (event_id, key, value) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::bytea[]) ON CONFLICT DO NOTHING",
            [list(column) for column in zip(*messages, strict=True)],
        )


async def remove(conn: psycopg.AsyncConnection, event_ids: Sequence[str]) -> None:
    """Forget the messages of these events: they are published."""
    if event_ids:
        await conn.execute(
            "DELETE FROM telemetry.field_outbox WHERE event_id = ANY(%s)", (list(event_ids),)
        )


async def older_than(conn: psycopg.AsyncConnection, age_s: float, *, limit: int) -> list[Message]:
    """Messages left behind for longer than age_s (their publisher stopped), oldest first."""
    cur = await conn.execute(
        "SELECT event_id, key, value FROM telemetry.field_outbox "
        "WHERE created_at < now() - make_interval(secs => %s) ORDER BY created_at LIMIT %s",
        (age_s, limit),
    )
    return [(str(i), str(k), bytes(v)) for i, k, v in await cur.fetchall()]
