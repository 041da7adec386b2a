"""The detectors' consumer group: a batch its handler fails on is logged and skipped (and
committed), so one bad batch never stops anomaly detection."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import TopicPartition

from kernel import topics
from kernel.group_consumer import GroupSettings
from stream.health.consumer import consume_readings
from stream.platform.offsets import committed_offsets
from tests.integration.platform.kafka_factories import create_topic, produce_values

WAIT_S = 30.0
GROUP = "test-anomalies"
PARTITION = TopicPartition(topics.READINGS, 0)


async def _committed(kafka_url: str) -> int:
    found = (await committed_offsets(kafka_url, GROUP, [PARTITION]))[PARTITION]
    return -1 if found is None else found


class FailingFirst:
    """Raises on the first batch it is given, keeps every later one."""

    def __init__(self) -> None:
        self.failed: list[bytes] = []
        self.handled: list[bytes] = []

    async def handle(self, values: Sequence[bytes]) -> None:
        if not self.failed:
            self.failed = list(values)
            raise RuntimeError("a bug in detection")
        self.handled += values


def test_a_failed_batch_is_skipped_and_the_next_ones_are_handled(kafka_url: str) -> None:
    settings = GroupSettings(kafka_url, GROUP, 100, 0.2, 6.0, 3.0)
    first, later = [b"r1", b"r2"], [b"r3", b"r4"]

    async def scenario() -> None:
        await create_topic(kafka_url, topics.READINGS, 1)
        await produce_values(kafka_url, topics.READINGS, first)
        handler = FailingFirst()
        task = asyncio.create_task(consume_readings(settings, handler.handle))
        try:
            async with asyncio.timeout(WAIT_S):
                while not handler.failed:
                    await asyncio.sleep(0.05)
                await produce_values(kafka_url, topics.READINGS, later)
                while len(handler.handled) < len(later):
                    await asyncio.sleep(0.05)
                while await _committed(kafka_url) != len(first) + len(later):
                    await asyncio.sleep(0.2)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert handler.failed == first
        assert handler.handled == later  # not read again: the failed batch was skipped

    asyncio.run(scenario())
