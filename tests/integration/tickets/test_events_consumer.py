"""The tickets consumer group commits a batch only once its handler has returned."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import TopicPartition

from kernel import topics
from kernel.group_consumer import GroupSettings
from stream.platform.offsets import committed_offsets
from tests.integration.platform.kafka_factories import create_topic, produce_values
from tickets.consumer import consume_events

WAIT_S = 30.0
GROUP = "test-tickets"


def consumer_settings(kafka_url: str) -> GroupSettings:
    return GroupSettings(
        kafka_url=kafka_url,
        group_id=GROUP,
        batch_size=100,
        batch_wait_s=0.2,
        session_timeout_s=6.0,
        rebalance_timeout_s=3.0,
    )


async def committed(kafka_url: str) -> int:
    offsets = await committed_offsets(kafka_url, GROUP, [TopicPartition(topics.EVENTS, 0)])
    found = offsets[TopicPartition(topics.EVENTS, 0)]
    return -1 if found is None else found


async def wait_committed(kafka_url: str, offset: int) -> None:
    async with asyncio.timeout(WAIT_S):
        while await committed(kafka_url) != offset:
            await asyncio.sleep(0.2)


class Recorder:
    """A handler that keeps what it was given; `hang` makes it never return (a crash)."""

    def __init__(self, *, hang: bool) -> None:
        self.seen: list[bytes] = []
        self.batches: list[list[bytes]] = []
        self.got_some = asyncio.Event()
        self._hang = hang

    async def handle(self, values: Sequence[bytes]) -> None:
        self.batches.append(list(values))
        self.seen += values
        self.got_some.set()
        if self._hang:
            await asyncio.Event().wait()


async def run_until_seen(kafka_url: str, recorder: Recorder, count: int) -> asyncio.Task[None]:
    task = asyncio.create_task(consume_events(consumer_settings(kafka_url), recorder.handle))
    async with asyncio.timeout(WAIT_S):
        while len(recorder.seen) < count:
            await recorder.got_some.wait()
            recorder.got_some.clear()
    return task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_an_unfinished_batch_is_read_again_and_a_finished_one_is_not(kafka_url: str) -> None:
    events = [b'{"event_id": "e1"}', b'{"event_id": "e2"}', b'{"event_id": "e3"}']

    async def scenario() -> None:
        await create_topic(kafka_url, topics.EVENTS, 1)
        await produce_values(kafka_url, topics.EVENTS, events)

        crashed = Recorder(hang=True)  # the worker dies while applying the batch
        await stop(await run_until_seen(kafka_url, crashed, len(events)))
        assert crashed.seen == events
        assert await committed(kafka_url) == -1

        again = Recorder(hang=False)
        task = await run_until_seen(kafka_url, again, len(events))
        await wait_committed(kafka_url, len(events))
        await stop(task)
        assert again.seen == events

        await produce_values(kafka_url, topics.EVENTS, [b'{"event_id": "e4"}'])
        after = Recorder(hang=False)
        await stop(await run_until_seen(kafka_url, after, 1))
        assert after.batches[0] == [b'{"event_id": "e4"}']

    asyncio.run(scenario())
