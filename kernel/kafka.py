"""Kafka helpers shared by the processes: topic creation and offsets."""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from kernel import topics
from kernel.urls import kafka_client_options

log = logging.getLogger(__name__)


async def ensure_topics(kafka_url: str, *, partitions: int) -> None:
    """Create the platform's topics that do not exist yet (idempotent)."""
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka_url))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics.ALL if t not in existing]
        if missing:
            new = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
            await _create(admin, new)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, new: list[NewTopic]) -> None:
    # Another process may create one between our listing and our request.
    with contextlib.suppress(TopicAlreadyExistsError):
        await admin.create_topics(new)
    log.info("created topics %s", ", ".join(t.name for t in new))
