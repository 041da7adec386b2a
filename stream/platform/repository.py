"""SQL of the platform facts: dead-letter counts with the offsets they count up to, and
consumer-lag samples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import psycopg

from stream.platform.dead_letters import CountKey, Position
from stream.platform.lag import LagSample

ENSURE_POSITION = """
INSERT INTO telemetry.dead_letter_offsets (topic, partition, next_offset)
SELECT %(topic)s, p, 0 FROM unnest(%(partitions)s::int[]) p
ON CONFLICT (topic, partition) DO NOTHING
"""

# Locked in partition order, so two workers counting the same partitions (the old and the new
# owner during a rebalance) take turns instead of deadlocking.
LOCK_POSITIONS = """
SELECT partition, next_offset, last_timestamp_ms FROM telemetry.dead_letter_offsets
WHERE topic = %(topic)s AND partition = ANY(%(partitions)s)
ORDER BY partition
FOR UPDATE
"""

READ_POSITIONS = """
SELECT partition, next_offset, last_timestamp_ms FROM telemetry.dead_letter_offsets
WHERE topic = %(topic)s AND partition = ANY(%(partitions)s)
"""

SAVE_POSITION = """
UPDATE telemetry.dead_letter_offsets
SET next_offset = %(next_offset)s, last_timestamp_ms = %(last_timestamp_ms)s, updated_at = now()
WHERE topic = %(topic)s AND partition = %(partition)s
"""

FORGET_POSITION = """
DELETE FROM telemetry.dead_letter_offsets WHERE topic = %(topic)s AND partition = %(partition)s
"""

ADD_COUNTS = """
INSERT INTO telemetry.dead_letter_counts (bucket, source_topic, reason, messages)
SELECT * FROM unnest(%(buckets)s::timestamptz[], %(sources)s::text[], %(reasons)s::text[],
                     %(messages)s::bigint[])
ON CONFLICT (bucket, source_topic, reason)
DO UPDATE SET messages = dead_letter_counts.messages + EXCLUDED.messages
"""

INSERT_LAG = """
INSERT INTO telemetry.consumer_lag (observed_at, group_id, topic, partition, lag)
SELECT %(observed_at)s, * FROM unnest(%(groups)s::text[], %(topics)s::text[],
                                      %(partitions)s::int[], %(lags)s::bigint[])
ON CONFLICT DO NOTHING
"""

DELETE_OLD_LAG = "DELETE FROM telemetry.consumer_lag WHERE observed_at < %(before)s"


async def lock_positions(
    conn: psycopg.AsyncConnection, *, topic: str, partitions: Sequence[int]
) -> dict[int, Position]:
    """Each partition's position, locked until the transaction ends (0 if never counted)."""
    params = {"topic": topic, "partitions": sorted(partitions)}
    await conn.execute(ENSURE_POSITION, params)
    cur = await conn.execute(LOCK_POSITIONS, params)
    return {p: Position(n, ts) for p, n, ts in await cur.fetchall()}


async def read_positions(
    conn: psycopg.AsyncConnection, *, topic: str, partitions: Iterable[int]
) -> dict[int, Position]:
    """The positions recorded for these partitions (those never counted are absent)."""
    cur = await conn.execute(READ_POSITIONS, {"topic": topic, "partitions": list(partitions)})
    return {p: Position(n, ts) for p, n, ts in await cur.fetchall()}


async def save_position(
    conn: psycopg.AsyncConnection, *, topic: str, partition: int, position: Position
) -> None:
    await conn.execute(
        SAVE_POSITION,
        {
            "topic": topic,
            "partition": partition,
            "next_offset": position.next_offset,
            "last_timestamp_ms": position.last_timestamp_ms,
        },
    )


async def forget_position(conn: psycopg.AsyncConnection, *, topic: str, partition: int) -> None:
    await conn.execute(FORGET_POSITION, {"topic": topic, "partition": partition})


async def add_counts(conn: psycopg.AsyncConnection, *, counts: Counter[CountKey]) -> None:
    """Add to the per-minute rows (created at zero when new)."""
    keys = sorted(counts)
    await conn.execute(
        ADD_COUNTS,
        {
            "buckets": [k.bucket for k in keys],
            "sources": [k.source_topic for k in keys],
            "reasons": [k.reason for k in keys],
            "messages": [counts[k] for k in keys],
        },
    )


async def record_lag(
    conn: psycopg.AsyncConnection, *, observed_at: datetime, samples: Sequence[LagSample]
) -> None:
    """Store one sampling, every row at `observed_at`."""
    await conn.execute(
        INSERT_LAG,
        {
            "observed_at": observed_at,
            "groups": [s.group_id for s in samples],
            "topics": [s.topic for s in samples],
            "partitions": [s.partition for s in samples],
            "lags": [s.lag for s in samples],
        },
    )


async def delete_old_lag(conn: psycopg.AsyncConnection, *, now: datetime, keep: timedelta) -> int:
    """Drop samples older than `keep`; return how many went."""
    cur = await conn.execute(DELETE_OLD_LAG, {"before": now - keep})
    return cur.rowcount
