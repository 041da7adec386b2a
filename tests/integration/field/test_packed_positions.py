"""Field control reads packed Kafka values (many fixes in one message, as ingest sends them)
as it reads single fixes: the same visits, trips and events."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import orjson

from devices.records import Position, encode
from ingest.packing import PartitionMap, pack_records
from kernel import topics
from kernel.events import SiteEntered, SiteLeft, TripCompleted
from tests.integration.field.factories import (
    SITE_A,
    Worker,
    add_ticket,
    rows,
    seed,
    visit_track,
    when,
)

BATCH = 50  # fixes per stream batch
PACK_BYTES = 2_000  # a few packs per batch


def _packed(fixes: Sequence[Position]) -> list[bytes]:
    where = PartitionMap()
    where.update(topics.POSITIONS, [0])
    return [p.value() for p in pack_records(fixes, where.partition, max_bytes=PACK_BYTES)]


async def _feed(worker: Worker, values_per_batch: list[list[bytes]]) -> None:
    try:
        for values in values_per_batch:
            await worker.handler.handle(values)
    finally:
        await worker.close()


def test_a_packed_track_gives_the_same_visit_trips_and_events(database_url: str) -> None:
    seed(database_url)
    add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    fixes = visit_track().fixes
    batches = [fixes[i : i + BATCH] for i in range(0, len(fixes), BATCH)]
    assert all(1 < len(_packed(b)) < len(b) for b in batches if len(b) == BATCH)

    worker = Worker(database_url)
    asyncio.run(_feed(worker, [_packed(b) for b in batches]))

    events = worker.events()
    assert [type(e) for e in events] == [SiteEntered, TripCompleted, SiteLeft, TripCompleted]
    assert worker.handler.counters.consumed == worker.handler.counters.tracked == len(fixes)
    assert rows(database_url, "SELECT count(*) FROM telemetry.visits") == [(1,)]
    assert rows(database_url, "SELECT count(*) FROM telemetry.trips") == [(2,)]
    assert worker.dead_letters == []


def test_a_bad_member_does_not_keep_the_rest_of_its_pack_from_field_control(
    database_url: str,
) -> None:
    seed(database_url)
    fixes = visit_track().fixes
    members = [orjson.loads(encode(f)) for f in fixes]
    broken = orjson.dumps([*members[:10], {"device_id": "trk-1", "lat": 55.0}, *members[10:]])

    worker = Worker(database_url)
    asyncio.run(_feed(worker, [[broken]]))

    assert worker.handler.counters.tracked == len(fixes)
    assert worker.handler.counters.consumed == len(fixes) + 1
    assert SiteEntered in {type(e) for e in worker.events()}
