"""Kafka offsets for consumer lag: where each partition ends, and what a group committed.

Partition ends come from Fetch responses, not from ListOffsets. Against Tansu (the dev and
test broker) ListOffsets, which aiokafka's `end_offsets` sends, answers the base offset of
the partition's last record batch plus one: 21 for a partition holding 30 records produced
in three batches of ten. The high watermark in a Fetch response is the true end (30), from
whatever offset the fetch starts. So each partition is fetched once from where ListOffsets
says it ends: on Kafka that returns no records, on Tansu at most the last batch, and either
way the response carries the true end (tests/integration/platform/test_offsets.py).

Committed offsets are read with OffsetFetch for named partitions (a consumer's
`committed`); the admin client's `list_consumer_group_offsets` (all partitions of a group)
gets an answer from Tansu that aiokafka cannot parse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from kernel.urls import kafka_client_options

log = logging.getLogger(__name__)

HIGHWATER_TIMEOUT_S = 5.0
POLL_MS = 100

Offsets = dict[TopicPartition, int]


async def partition_bounds(kafka_url: str, topic_names: Iterable[str]) -> tuple[Offsets, Offsets]:
    """(start, end) offsets of every partition of these topics."""
    # No group: the consumer is given every partition of the topics and, with "latest",
    # starts fetching each where ListOffsets says it ends.
    consumer = AIOKafkaConsumer(
        *sorted(topic_names),
        **kafka_client_options(kafka_url),
        enable_auto_commit=False,
        auto_offset_reset="latest",
        fetch_max_wait_ms=POLL_MS,
    )
    await consumer.start()
    try:
        parts = sorted(consumer.assignment())
        if not parts:
            return {}, {}
        starts = await consumer.beginning_offsets(parts)
        listed = await consumer.end_offsets(parts)
        return starts, await _highwaters(consumer, parts, listed)
    finally:
        await consumer.stop()


async def _highwaters(
    consumer: AIOKafkaConsumer, parts: list[TopicPartition], listed: Offsets
) -> Offsets:
    deadline = time.monotonic() + HIGHWATER_TIMEOUT_S
    while any(consumer.highwater(tp) is None for tp in parts) and time.monotonic() < deadline:
        await consumer.getmany(timeout_ms=POLL_MS)  # the records are not needed, the answer is
    ends = {}
    for tp in parts:
        highwater = consumer.highwater(tp)
        if highwater is None:
            log.warning("no fetch answered for %s; its end is taken from ListOffsets", tp)
        ends[tp] = max(listed[tp], highwater or 0)
    return ends


async def committed_offsets(
    kafka_url: str, group_id: str, parts: Iterable[TopicPartition]
) -> dict[TopicPartition, int | None]:
    """The group's committed offset of each partition (None where it never committed)."""
    # A consumer of the group that never subscribes only asks for offsets; it does not join
    # the group, so the running members are not disturbed.
    consumer = AIOKafkaConsumer(
        **kafka_client_options(kafka_url), group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) for tp in parts}
    finally:
        await consumer.stop()
