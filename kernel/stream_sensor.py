"""A faust sensor feeding kernel.metrics: what the stream worker's agents do, seen from
faust's own hooks, so no agent needs to know about metrics."""

from __future__ import annotations

import time
from typing import Any

import orjson
from faust.sensors import Sensor

from kernel import metrics, topics


class StreamSensor(Sensor):
    """Latency from Kafka to processed, commit time, and domain events by type."""

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        # Called once every stream is done with the message: for the persistence agents
        # that is after its batch is in the database, so this is Kafka-to-stored time.
        produced_s = getattr(message, "timestamp", None)
        if produced_s:
            stage = f"kafka_to_processed:{tp.topic}"
            metrics.LATENCY.labels(stage).observe(max(0.0, time.time() - produced_s))

    def on_commit_initiated(self, consumer: Any) -> Any:
        return time.monotonic()

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        if isinstance(state, float):
            metrics.LATENCY.labels("offset_commit").observe(time.monotonic() - state)

    def on_send_initiated(
        self, producer: Any, topic: str, message: Any, keysize: int, valsize: int
    ) -> Any:
        if topic == topics.EVENTS:
            metrics.count_domain_event(_event_type(message.value))
        return None


def _event_type(value: object) -> str:
    try:
        decoded = orjson.loads(value) if isinstance(value, bytes | str) else None
    except orjson.JSONDecodeError:
        return "undecodable"
    kind = decoded.get("type") if isinstance(decoded, dict) else None
    return str(kind) if kind else "unknown"
