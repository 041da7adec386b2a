"""Metrics and health endpoints for the ingest and stream processes, each started by
one line in that process's composition root.

The objects are duck-typed (`bridge.counters`, `source.connected`, `handler.counters`,
a faust app): the kernel sits below ingest and stream and must not import them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from psycopg_pool import AsyncConnectionPool

from kernel import metrics
from kernel.db import ensure_open
from kernel.health_server import ReadyCheck, load_health_settings, serve_until

log = logging.getLogger(__name__)

DB_CHECK_TIMEOUT_S = 1.5


class _IngestCounters(Protocol):
    @property
    def messages(self) -> int: ...
    @property
    def records(self) -> int: ...
    @property
    def rejected(self) -> Mapping[str, int]: ...


class _StreamCounters(Protocol):
    @property
    def consumed(self) -> int: ...
    @property
    def stored(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def rejected(self) -> Mapping[str, int]: ...


_tasks: set[asyncio.Task[None]] = set()


def observe_ingest(stop: asyncio.Event, bridge: Any, source: Any) -> None:
    """Expose ingest's counters and serve its health endpoints until `stop` is set."""
    settings = load_health_settings()

    def snapshot() -> Iterable[metrics.Metric]:
        return ingest_metrics(bridge.counters, source.queue.qsize(), source.connected.is_set())

    async def ready() -> str | None:
        return None if source.connected.is_set() else "MQTT not connected"

    collector = metrics.SnapshotCollector(snapshot)
    _spawn(_serve_with(collector, stop, settings.health_host, settings.ingest_health_port, ready))


def ingest_metrics(counters: _IngestCounters, queued: int, connected: bool) -> list[metrics.Metric]:
    """Ingest's state as metric families."""
    return [
        metrics.counter_family(
            "messages_in", "Messages received.", {"mqtt": counters.messages}, label="source"
        ),
        metrics.counter_family(
            "messages_out", "Records produced.", {"kafka": counters.records}, label="sink"
        ),
        metrics.counter_family(
            "dead_letters",
            "Messages dead-lettered, by reason.",
            dict(counters.rejected),
            label="reason",
        ),
        # Bounded by the broker's in-flight window: the slow-consumer guarantee, visible.
        metrics.gauge_family(
            "ingest_queue_depth", "MQTT messages waiting for a batch.", {(): queued}
        ),
        metrics.gauge_family(
            "mqtt_connected",
            "1 while connected to the MQTT broker.",
            {(): 1.0 if connected else 0.0},
        ),
    ]


def observe_stream(app: Any, handler: Any, pool: AsyncConnectionPool) -> None:
    """Expose the stream worker's counters and lag, and serve its health endpoints."""
    from kernel.stream_sensor import StreamSensor  # faust: only the stream imports it

    settings = load_health_settings()
    app.sensors.add(StreamSensor())

    def snapshot() -> Iterable[metrics.Metric]:
        return stream_metrics(handler.counters, consumer_lag(app))

    async def ready() -> str | None:
        if getattr(app, "rebalancing", False):
            return "consumer group rebalancing"
        return await database_reachable(pool)

    async def serve() -> None:
        collector = metrics.SnapshotCollector(snapshot)
        await _serve_with(
            collector, asyncio.Event(), settings.health_host, settings.stream_health_port, ready
        )

    app.task(serve)


def stream_metrics(
    counters: _StreamCounters, lag: Mapping[tuple[str, ...], float]
) -> list[metrics.Metric]:
    """The stream worker's state as metric families."""
    return [
        metrics.counter_family(
            "messages_in", "Records consumed.", {"kafka": counters.consumed}, label="source"
        ),
        metrics.counter_family(
            "messages_out", "Rows stored.", {"database": counters.stored}, label="sink"
        ),
        metrics.counter_family(
            "duplicates", "Rows already stored (redeliveries).", {"": counters.duplicates}
        ),
        metrics.counter_family(
            "dead_letters",
            "Records dead-lettered, by reason.",
            dict(counters.rejected),
            label="reason",
        ),
        metrics.gauge_family(
            "consumer_lag",
            "Records not yet committed, per partition.",
            lag,
            labels=("topic", "partition"),
        ),
    ]


def consumer_lag(app: Any) -> dict[tuple[str, ...], float]:
    """Highwater minus committed offset of each assigned partition (empty before start)."""
    consumer = getattr(app, "_consumer", None)
    if consumer is None:
        return {}
    committed: Mapping[Any, int | None] = getattr(consumer, "_committed_offset", {})
    lag: dict[tuple[str, ...], float] = {}
    for tp in consumer.assignment():
        highwater = _highwater(consumer, tp)
        if highwater is not None:
            done = committed.get(tp) or 0
            lag[(tp.topic, str(tp.partition))] = float(max(0, highwater - done))
    return lag


def _highwater(consumer: Any, tp: Any) -> int | None:
    try:
        return int(consumer.highwater(tp))
    except Exception:  # not fetched yet, or the client is reconnecting: unknown for now
        return None


async def database_reachable(pool: AsyncConnectionPool) -> str | None:
    """None if `SELECT 1` goes through the pool quickly, else why not."""
    try:
        await asyncio.wait_for(ensure_open(pool), DB_CHECK_TIMEOUT_S)
        async with pool.connection(timeout=DB_CHECK_TIMEOUT_S) as conn:
            await conn.execute("SELECT 1")
    except Exception as exc:  # any failure is the answer, not an error of ours
        return f"database unreachable ({type(exc).__name__})"
    return None


async def _serve_with(
    collector: metrics.SnapshotCollector,
    stop: asyncio.Event,
    host: str,
    port: int,
    ready: ReadyCheck,
) -> None:
    unregister = metrics.register(collector)
    try:
        await serve_until(stop, host, port, ready)
        await stop.wait()  # port 0: no server, but the metrics stay registered until stop
    finally:
        unregister()


def _spawn(coro: Any) -> None:
    # A strong reference: the event loop keeps only weak ones to its tasks.
    task: asyncio.Task[None] = asyncio.create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
