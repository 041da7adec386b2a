"""The dead-letter counter: a consumer group of its own on the dead-letter topic, run as a
task of the stream worker, adding every dead letter once to telemetry.dead_letter_counts.

Exactly once, not at least once: the offset each partition is counted up to is stored in
the same transaction as the counts (telemetry.dead_letter_offsets), and a record below it is
skipped. The worker resumes from those offsets, not from the ones it commits to Kafka (it
commits those too, after the database, so its lag shows like any group's). Before going on
it reads the last counted record again: if that record is another one, or the partition
is now shorter, the topic is a new one (recreated, or a broker that keeps topics in memory
restarted) and is counted from its start.

Why not a faust agent: the offsets to resume from are the database's, and a faust agent
cannot seek its partitions to them when they are assigned.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from psycopg_pool import AsyncConnectionPool

from kernel.db import ensure_open
from kernel.group_consumer import GroupSettings, new_consumer
from stream.platform import repository
from stream.platform.dead_letters import Letter, Position, Resume, resume_check, tally

log = logging.getLogger(__name__)

RESTART_DELAY_S = 5.0


class DeadLetterCounter:
    """Counts the dead-letter topic into the database, each record once."""

    def __init__(self, pool: AsyncConnectionPool, settings: GroupSettings, *, topic: str) -> None:
        self._pool = pool
        self._settings = settings
        self._topic = topic
        self.counted = 0
        self.restarted_partitions = 0

    async def run(self) -> None:
        """Count until cancelled; a failure (broker, database) restarts the consumer, which
        resumes from the database's offsets."""
        while True:
            consumer = new_consumer(self._settings)
            resumer = _Resumer(consumer, self._pool, self._topic)
            consumer.subscribe([self._topic], listener=resumer)
            try:
                await consumer.start()
                await self._loop(consumer, resumer)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dead-letter counter failed; restarting in %.0f s", RESTART_DELAY_S)
                await asyncio.sleep(RESTART_DELAY_S)
            finally:
                await consumer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer, resumer: _Resumer) -> None:
        timeout_ms = int(self._settings.batch_wait_s * 1000)
        while True:
            batches = await consumer.getmany(
                timeout_ms=timeout_ms, max_records=self._settings.batch_size
            )
            if resumer.failure is not None:
                raise resumer.failure
            fetched = {tp: [_letter(r) for r in records] for tp, records in batches.items()}
            await self._resume(consumer, resumer, fetched)
            letters = [letter for part in fetched.values() for letter in part]
            if letters:
                await self.count(letters)
                await _commit(consumer)

    async def _resume(
        self,
        consumer: AIOKafkaConsumer,
        resumer: _Resumer,
        fetched: dict[TopicPartition, list[Letter]],
    ) -> None:
        for tp, position in list(resumer.pending.items()):
            first = fetched[tp][0] if fetched.get(tp) else None
            verdict = resume_check(position, first, consumer.highwater(tp))
            if verdict is Resume.UNDECIDED:
                continue
            del resumer.pending[tp]
            if verdict is Resume.RESTART:
                log.warning("%s is not the log counted so far: counting it from its start", tp)
                await self._forget(tp.partition)
                await consumer.seek_to_beginning(tp)
                fetched.pop(tp, None)
                self.restarted_partitions += 1

    async def count(self, letters: Sequence[Letter]) -> None:
        """Add the letters not counted yet to the counts, in one transaction with the
        positions (a letter below its partition's position was counted before)."""
        by_partition: dict[int, list[Letter]] = defaultdict(list)
        for letter in letters:
            by_partition[letter.partition].append(letter)
        await ensure_open(self._pool)
        async with self._pool.connection() as conn, conn.transaction():
            new = await self._advance(conn, by_partition)
            if new:
                await repository.add_counts(conn, counts=tally(new))
        self.counted += len(new)

    async def _advance(
        self, conn: psycopg.AsyncConnection, by_partition: dict[int, list[Letter]]
    ) -> list[Letter]:
        """The letters not counted yet, with their partitions' positions moved past them."""
        topic = self._topic
        positions = await repository.lock_positions(conn, topic=topic, partitions=[*by_partition])
        new: list[Letter] = []
        for partition, found in by_partition.items():
            fresh = [x for x in found if x.offset >= positions[partition].next_offset]
            if fresh:
                last = max(fresh, key=lambda x: x.offset)
                position = Position(last.offset + 1, last.timestamp_ms)
                await repository.save_position(
                    conn, topic=topic, partition=partition, position=position
                )
                new += fresh
        return new

    async def _forget(self, partition: int) -> None:
        await ensure_open(self._pool)
        async with self._pool.connection() as conn:
            await repository.forget_position(conn, topic=self._topic, partition=partition)


class _Resumer(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, seeks each partition counted before to its last counted record, which
    the counter then reads again to check it is the same log (see `resume_check`)."""

    def __init__(self, consumer: AIOKafkaConsumer, pool: AsyncConnectionPool, topic: str) -> None:
        self._consumer = consumer
        self._pool = pool
        self._topic = topic
        self.pending: dict[TopicPartition, Position] = {}
        self.failure: Exception | None = None

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        for tp in revoked:
            self.pending.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        # aiokafka goes on fetching while this awaits the database: paused, the partitions
        # give nothing to count before they are sought to where counting resumes.
        self._consumer.pause(*assigned)
        try:
            await ensure_open(self._pool)
            async with self._pool.connection() as conn:
                positions = await repository.read_positions(
                    conn, topic=self._topic, partitions=[tp.partition for tp in assigned]
                )
        except Exception as exc:  # raised by the counter's loop, which restarts the consumer
            self.failure = exc
            return  # left paused: nothing is counted from a position not checked
        for tp in assigned:
            position = positions.get(tp.partition)
            if position is not None and position.next_offset > 0:
                self._consumer.seek(tp, position.next_offset - 1)
                self.pending[tp] = position
        self._consumer.resume(*assigned)


def _letter(record: Any) -> Letter:
    return Letter(record.partition, record.offset, record.timestamp, tuple(record.headers))


async def _commit(consumer: AIOKafkaConsumer) -> None:
    # Only for lag reporting: the database's offsets are the ones resumed from.
    try:
        await consumer.commit()
    except KafkaError as exc:  # a rebalance under way: the next batch commits again
        log.info("dead-letter offsets not committed to Kafka (%s)", exc)
