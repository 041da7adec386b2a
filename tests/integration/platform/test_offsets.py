"""Partition ends and committed offsets as the lag sampler reads them, against Tansu."""

import asyncio

from aiokafka import TopicPartition

from stream.platform.offsets import committed_offsets, partition_bounds
from tests.integration.platform.kafka_factories import (
    commit,
    create_topic,
    list_offsets_end,
    produce_in_batches,
)

TOPIC = "platform.offsets"
P0, P1, P2 = (TopicPartition(TOPIC, p) for p in range(3))


def test_partition_ends_are_the_true_ends_where_list_offsets_falls_short(kafka_url: str) -> None:
    async def run() -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        await create_topic(kafka_url, TOPIC, 3)
        await produce_in_batches(kafka_url, TOPIC, 0, batches=3, size=10)
        await produce_in_batches(kafka_url, TOPIC, 1, batches=1, size=1)
        _, ends = await partition_bounds(kafka_url, [TOPIC])
        return ends, await list_offsets_end(kafka_url, [P0, P1, P2])

    ends, listed = asyncio.run(run())

    assert ends == {P0: 30, P1: 1, P2: 0}
    # Why ends are read from fetches: Tansu's ListOffsets answers the last batch's base
    # offset plus one. Should a broker answer 30 here, ListOffsets alone would do.
    assert listed[P0] < 30


def test_committed_offsets_are_the_groups_and_none_where_it_never_committed(
    kafka_url: str,
) -> None:
    async def run() -> dict[TopicPartition, int | None]:
        await create_topic(kafka_url, TOPIC, 3)
        await commit(kafka_url, "g", {P0: 12, P1: 4})
        return await committed_offsets(kafka_url, "g", [P0, P1, P2])

    assert asyncio.run(run()) == {P0: 12, P1: 4, P2: None}
