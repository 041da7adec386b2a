"""`toir bench loop`: event → ticket → assigned → the engineer's phone, timed end to end,
optionally while the ingest benchmark's load runs through the same worker."""

from __future__ import annotations

import asyncio
import queue
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
from aiokafka import AIOKafkaProducer
from paho.mqtt.enums import CallbackAPIVersion

from devices.simulator.fleet import Fleet, FleetConfig
from kernel import topics
from kernel.clock import utcnow
from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from kernel.urls import kafka_bootstrap, parse_mqtt_url
from toir.devstack import EmbeddedStack
from toir.fleet_registry import register_fleet
from toir.processes import Progress, ServiceUrls, process_env, running_platform

SITES = 40
ENGINEERS = 60
RECEIVE_TIMEOUT_S = 30.0


def run_loop_bench(
    settings: Settings, *, events: int, event_rate: float, ingest_rate: float, progress: Progress
) -> dict[str, Any]:
    """Time `events` AnomalyDetected events to the engineers' inboxes; return the figures."""
    with EmbeddedStack(settings, log=progress) as stack:
        urls = ServiceUrls(stack.database_url, stack.mqtt_url, stack.kafka_url)
        with connect(urls.database_url) as conn:
            migrate(conn)
        _seed(urls.database_url, events)
        register_fleet(urls.database_url, Fleet(FleetConfig(equipment=1000, vehicles=0)))
        with running_platform(settings, urls, progress):
            load = _ingest_load(settings, urls, ingest_rate) if ingest_rate else None
            try:
                latencies = _time_events(urls, events, event_rate)
            finally:
                if load is not None:
                    load.terminate()
                    load.wait()
    return _figures(latencies, events, event_rate, ingest_rate)


def _seed(database_url: str, events: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Each run starts with no tickets: an open one would absorb the run's events.
        conn.execute(
            "TRUNCATE tickets.tickets, tickets.history, tickets.outbox, "
            "tickets.processed_events, tickets.completions CASCADE"
        )
        conn.execute(
            "INSERT INTO assets.sites (id, name, lat, lon, area) SELECT 'bench-site-' || i, "
            "'Site ' || i, 55.6 + (i %% 10) * 0.03, 37.4 + (i / 10) * 0.05, 'city' "
            "FROM generate_series(0, %s) i ON CONFLICT DO NOTHING",
            (SITES - 1,),
        )
        conn.execute(
            "INSERT INTO assets.equipment (id, kind, site_id) SELECT 'bench-eq-' || i, 'pump', "
            "'bench-site-' || (i %% %s) FROM generate_series(0, %s) i ON CONFLICT DO NOTHING",
            (SITES, events - 1),
        )
        conn.execute(
            "INSERT INTO tickets.engineers (id, name, areas, home_lat, home_lon, max_concurrent) "
            "SELECT 'bench-eng-' || i, 'Engineer ' || i, '{city}', 55.6 + (i %% 10) * 0.03, "
            "37.4 + (i %% 7) * 0.07, 1000 FROM generate_series(0, %s) i ON CONFLICT DO NOTHING",
            (ENGINEERS - 1,),
        )
        conn.execute(
            "INSERT INTO tickets.shifts SELECT e.id, d, '00:00', '23:59:59' FROM "
            "tickets.engineers e, generate_series(0, 6) d ON CONFLICT DO NOTHING"
        )


def _ingest_load(settings: Settings, urls: ServiceUrls, rate: float) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "toir",
        "simulate",
        "--duration",
        "3600",
        "--rate",
        str(rate),
        "--equipment",
        "1000",
        "--vehicles",
        "0",
    ]
    return subprocess.Popen(
        command,
        env=process_env(urls, settings.data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _time_events(urls: ServiceUrls, events: int, rate: float) -> list[float]:
    inbox: queue.Queue[tuple[float, bytes]] = queue.Queue()
    phone = _listen(urls.mqtt_url, inbox)
    try:
        sent = asyncio.run(_produce(urls.kafka_url, events, rate))
        return _collect(inbox, sent)
    finally:
        phone.loop_stop()
        phone.disconnect()


def _listen(mqtt_url: str, inbox: queue.Queue[tuple[float, bytes]]) -> mqtt.Client:
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:6]}")
    client.on_message = lambda c, u, m: inbox.put((time.time(), bytes(m.payload)))
    client.connect(address.host, address.port)
    client.subscribe("toir/v1/engineers/+/tickets", qos=1)
    client.loop_start()
    time.sleep(0.5)
    return client


async def _produce(kafka_url: str, events: int, rate: float) -> dict[str, float]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(kafka_url), linger_ms=0)
    await producer.start()
    sent: dict[str, float] = {}
    try:
        started = time.monotonic()
        for index in range(events):
            await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            equipment = f"bench-eq-{index}"
            body = {
                "event_id": str(uuid.uuid4()),
                "type": "AnomalyDetected",
                "occurred_at": utcnow().isoformat(),
                "subject": {"kind": "equipment", "id": equipment},
                "evidence": {"kind": "spike", "severity": "high"},
            }
            sent[equipment] = time.time()
            await producer.send_and_wait(topics.EVENTS, orjson.dumps(body), key=equipment.encode())
    finally:
        await producer.stop()
    return sent


def _collect(inbox: queue.Queue[tuple[float, bytes]], sent: dict[str, float]) -> list[float]:
    latencies: list[float] = []
    expected = len(sent)
    deadline = time.monotonic() + RECEIVE_TIMEOUT_S
    while len(latencies) < expected and time.monotonic() < deadline:
        try:
            received_at, payload = inbox.get(timeout=1.0)
        except queue.Empty:
            continue
        message = orjson.loads(payload)
        equipment = message["ticket"]["equipment_id"]
        if message["event"] == "assigned" and equipment in sent:
            latencies.append(received_at - sent.pop(equipment))

    return latencies


def _figures(
    latencies: list[float], events: int, event_rate: float, ingest_rate: float
) -> dict[str, Any]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else None
    return {
        "date": time.strftime("%Y-%m-%d"),
        "events": events,
        "event_rate": event_rate,
        "ingest_load_msgs_s": ingest_rate,
        "notified": len(ordered),
        "p50_s": round(statistics.median(ordered), 3) if ordered else None,
        "p99_s": round(p99, 3) if p99 is not None else None,
        "max_s": round(ordered[-1], 3) if ordered else None,
    }
