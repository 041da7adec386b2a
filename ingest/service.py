"""Composition of the ingest process: MQTT source, device cache, Kafka sink, the bridge."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ingest.bridge import Bridge
from ingest.decode import DecodeLimits
from ingest.device_cache import DeviceCache
from ingest.http_receiver import http_receiver
from ingest.http_settings import HttpReceiverSettings, load_http_settings
from ingest.kafka_sink import KafkaSink
from ingest.mqtt_source import MqttSource
from kernel.db import create_pool
from kernel.kafka import ensure_topics
from kernel.observability import observe_ingest
from kernel.settings import Settings
from kernel.urls import parse_mqtt_url

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 10.0


async def run_ingest(
    settings: Settings, stop: asyncio.Event, http: HttpReceiverSettings | None = None
) -> None:
    """Run the MQTT → Kafka bridge and the OsmAnd HTTP receiver until `stop` is set."""
    assert settings.database_url and settings.mqtt_url and settings.kafka_url
    http = http or load_http_settings()
    await ensure_topics(settings.kafka_url, partitions=settings.kafka_partitions)
    pool = create_pool(settings.database_url, max_size=2, name="ingest")
    sink = KafkaSink(settings.kafka_url, compression=settings.kafka_compression.codec())
    source = MqttSource(
        parse_mqtt_url(settings.mqtt_url),
        client_id=settings.mqtt_client_id,
        share_group=settings.mqtt_share_group,
    )
    await pool.open()
    await sink.start()
    try:
        devices = DeviceCache(pool)
        await devices.refresh()
        bridge = Bridge(
            source=source,
            sink=sink,
            devices=devices,
            limits=_limits(settings),
            batch_size=settings.ingest_batch_size,
            batch_wait_s=settings.ingest_batch_wait_s,
        )
        observe_ingest(stop, bridge, source)
        async with http_receiver(http, sink=sink, devices=devices, limits=_limits(settings)):
            source.start()
            await _run_until(stop, bridge)
        await devices.close()  # records the unknown ids still pending
    finally:
        source.stop()
        await sink.stop()
        await pool.close()


async def _run_until(stop: asyncio.Event, bridge: Bridge) -> None:
    tasks = [asyncio.create_task(bridge.run()), asyncio.create_task(_log_stats(bridge))]
    stopping = asyncio.create_task(stop.wait())
    try:
        # Ends on a stop request, or when a task dies: then the process exits and its
        # restart policy brings it back, rather than staying up doing nothing.
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopping and task.exception() is not None:
                raise RuntimeError("an ingest task died") from task.exception()
    finally:
        stopping.cancel()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _log_stats(bridge: Bridge) -> None:
    while True:
        await asyncio.sleep(STATS_INTERVAL_S)
        counters = bridge.counters
        log.info(
            "ingest: %d messages, %d records, rejected %s",
            counters.messages,
            counters.records,
            dict(counters.rejected),
        )


def _limits(settings: Settings) -> DecodeLimits:
    return DecodeLimits(
        max_payload_bytes=settings.ingest_max_payload_bytes,
        max_future_s=settings.ingest_max_future_s,
    )
