"""Consumer lag: how many records of each partition a consumer group has not committed yet.
No I/O here; stream.platform.offsets reads the offsets from Kafka."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiokafka import TopicPartition


@dataclass(frozen=True, slots=True)
class GroupTopics:
    """A consumer group and the topics it reads."""

    group_id: str
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True, order=True)
class LagSample:
    group_id: str
    topic: str
    partition: int
    lag: int


def lag_samples(
    group_id: str,
    ends: Mapping[TopicPartition, int],
    starts: Mapping[TopicPartition, int],
    committed: Mapping[TopicPartition, int | None],
) -> list[LagSample]:
    """End minus committed offset of each partition in `committed`, never below zero.

    A partition the group never committed is read from the start of the log (every consumer
    of the platform starts at the earliest offset), so all of it counts as lag.
    """
    samples = []
    for tp, done in sorted(committed.items()):
        if tp not in ends:
            continue
        start = done if done is not None else starts.get(tp, 0)
        samples.append(LagSample(group_id, tp.topic, tp.partition, max(0, ends[tp] - start)))
    return samples
