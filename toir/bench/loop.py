"""`toir bench loop`: event → ticket → assigned → the engineer's phone, timed end to end.

One platform run, two phases: first the events alone (the same-run baseline), then, if an
ingest rate is given, the same number of events again while the ingest benchmark's load
(the bench publisher, 1,000 units, one reading per message) runs through the same worker.
Each event's time is split into stages from the database: until the tickets consumer began
its transaction (`processed_events.processed_at`), until the relay took the notification
(`outbox.delivered_at`), and until the phone had it.
"""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
from aiokafka import AIOKafkaProducer
from paho.mqtt.enums import CallbackAPIVersion

from kernel import topics
from kernel.clock import utcnow
from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from kernel.urls import kafka_bootstrap, parse_mqtt_url
from toir.bench.runs import register_bench_devices
from toir.devstack import EmbeddedStack
from toir.processes import Progress, ServiceUrls, running_platform

SITES = 40
ENGINEERS = 60
LOAD_UNITS = 1000
RECEIVE_TIMEOUT_S = 30.0
# The load runs this long before the first event, so events meet a worker already behind.
LOAD_WARMUP_S = 15.0
BASELINE_EVENTS_MAX = 100
READY_EQUIPMENT = "loop-eq-ready"
READY_TIMEOUT_S = 120.0

STAGES_SQL = """
SELECT t.equipment_id, extract(epoch FROM p.processed_at), extract(epoch FROM o.delivered_at)
FROM tickets.tickets t
JOIN tickets.processed_events p ON p.ticket_id = t.id
LEFT JOIN tickets.outbox o ON o.payload->'ticket'->>'id' = t.id::text
    AND o.payload->>'event' = 'assigned'
WHERE t.equipment_id = ANY(%s)
"""


@dataclass
class Timing:
    """One event's clock readings (epoch seconds); None where it never got that far."""

    sent: float
    received: float | None = None
    consumed: float | None = None
    relayed: float | None = None


@dataclass
class Phase:
    name: str
    ingest_rate: float
    timings: dict[str, Timing] = field(default_factory=dict)
    stored_readings_s: float | None = None
    load_average: tuple[float, float] = (0.0, 0.0)


def run_loop_bench(
    settings: Settings, *, events: int, event_rate: float, ingest_rate: float, progress: Progress
) -> dict[str, Any]:
    """Time `events` AnomalyDetected events to the engineers' inboxes; return the figures."""
    baseline_events = min(events, BASELINE_EVENTS_MAX) if ingest_rate else events
    with EmbeddedStack(settings, log=progress) as stack:
        urls = ServiceUrls(stack.database_url, stack.mqtt_url, stack.kafka_url)
        with connect(urls.database_url) as conn:
            migrate(conn)
        _seed(urls.database_url, baseline_events + (events if ingest_rate else 0))
        register_bench_devices(urls.database_url, equipment=LOAD_UNITS)
        phases = [Phase("no load", 0.0)]
        with running_platform(settings, urls, progress):
            progress("waiting until an event becomes a notified ticket...")
            _wait_until_ticketing(urls)
            progress(f"{baseline_events} events without load...")
            _run_phase(urls, phases[0], range(baseline_events), event_rate)
            if ingest_rate:
                phases.append(Phase("under load", ingest_rate))
                progress(f"ingest load at {ingest_rate:.0f} msg/s, then {events} events...")
                first = baseline_events
                with _ingest_load(urls, ingest_rate):
                    time.sleep(LOAD_WARMUP_S)
                    _run_phase(urls, phases[1], range(first, first + events), event_rate)
    return _report(phases, event_rate)


def _wait_until_ticketing(urls: ServiceUrls) -> None:
    """The pipeline probe proves telemetry only: the tickets consumer may still be joining."""
    timing = _time_events(urls, [READY_EQUIPMENT], 1.0, READY_TIMEOUT_S)[READY_EQUIPMENT]
    if timing.received is None:
        raise RuntimeError(f"no ticket notification within {READY_TIMEOUT_S:.0f} s")


def _run_phase(urls: ServiceUrls, phase: Phase, indices: range, event_rate: float) -> None:
    before = os.getloadavg()[0]
    stored_before, started = _stored_readings(urls.database_url), time.monotonic()
    equipment = [f"loop-eq-{index}" for index in indices]
    phase.timings = _time_events(urls, equipment, event_rate, RECEIVE_TIMEOUT_S)
    stored_after, took_s = _stored_readings(urls.database_url), time.monotonic() - started
    phase.stored_readings_s = round((stored_after - stored_before) / took_s, 1)
    phase.load_average = (round(before, 2), round(os.getloadavg()[0], 2))
    _add_stages(urls.database_url, phase.timings)


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
            "INSERT INTO assets.equipment (id, kind, site_id) SELECT 'loop-eq-' || i, 'pump', "
            "'bench-site-' || (i %% %s) FROM generate_series(0, %s) i ON CONFLICT DO NOTHING",
            (SITES, events - 1),
        )
        conn.execute(
            "INSERT INTO assets.equipment (id, kind, site_id) VALUES (%s, 'pump', 'bench-site-0') "
            "ON CONFLICT DO NOTHING",
            (READY_EQUIPMENT,),
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


@contextmanager
def _ingest_load(urls: ServiceUrls, rate: float) -> Iterator[None]:
    """The bench publisher as a process of its own while the block runs."""
    command = [sys.executable, "-m", "toir.bench.publisher", "--mqtt-url", urls.mqtt_url]
    command += ["--equipment", str(LOAD_UNITS), "--rate", str(rate), "--duration-s", "3600"]
    load = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        load.terminate()
        load.wait()


def _stored_readings(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM telemetry.readings").fetchone()
    return int(row[0]) if row else 0


def _time_events(
    urls: ServiceUrls, equipment: Sequence[str], rate: float, timeout_s: float
) -> dict[str, Timing]:
    inbox: queue.Queue[tuple[float, bytes]] = queue.Queue()
    phone = _listen(urls.mqtt_url, inbox)
    try:
        timings = asyncio.run(_produce(urls.kafka_url, equipment, rate))
        _collect(inbox, timings, timeout_s)
        return timings
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


async def _produce(kafka_url: str, equipment: Sequence[str], rate: float) -> dict[str, Timing]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(kafka_url), linger_ms=0)
    await producer.start()
    timings: dict[str, Timing] = {}
    try:
        started = time.monotonic()
        for count, unit in enumerate(equipment):
            await asyncio.sleep(max(0.0, started + count / rate - time.monotonic()))
            body = {
                "event_id": str(uuid.uuid4()),
                "type": "AnomalyDetected",
                "occurred_at": utcnow().isoformat(),
                "subject": {"kind": "equipment", "id": unit},
                "evidence": {"kind": "spike", "severity": "high"},
            }
            timings[unit] = Timing(sent=time.time())
            await producer.send_and_wait(topics.EVENTS, orjson.dumps(body), key=unit.encode())
    finally:
        await producer.stop()
    return timings


def _collect(
    inbox: queue.Queue[tuple[float, bytes]], timings: dict[str, Timing], timeout_s: float
) -> None:
    waiting = set(timings)
    deadline = time.monotonic() + timeout_s
    while waiting and time.monotonic() < deadline:
        try:
            received_at, payload = inbox.get(timeout=1.0)
        except queue.Empty:
            continue
        message = orjson.loads(payload)
        equipment = message["ticket"]["equipment_id"]
        if message["event"] == "assigned" and equipment in waiting:
            timings[equipment].received = received_at
            waiting.discard(equipment)


def _add_stages(database_url: str, timings: dict[str, Timing]) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(STAGES_SQL, (list(timings),)).fetchall()
    for equipment, consumed, relayed in rows:
        timing = timings[equipment]
        timing.consumed = float(consumed) if consumed is not None else None
        timing.relayed = float(relayed) if relayed is not None else None


def percentile(values: Sequence[float | None], share: float) -> float | None:
    """The value below which `share` of all values lie; None counts as slower than any,
    so a percentile that falls among the missing is None (not reached in time)."""
    if not values:
        return None
    ordered = sorted(v for v in values if v is not None)
    rank = min(len(values) - 1, int(len(values) * share))
    return round(ordered[rank], 3) if rank < len(ordered) else None


def _span(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else end - start


def phase_figures(phase: Phase) -> dict[str, Any]:
    """p50/p99 end to end and per stage, over every event sent (a missing one counts as late)."""
    spans = {
        "end_to_end": [_span(t.sent, t.received) for t in phase.timings.values()],
        "to_consumer": [_span(t.sent, t.consumed) for t in phase.timings.values()],
        "consumer_to_relay": [_span(t.consumed, t.relayed) for t in phase.timings.values()],
        "relay_to_phone": [_span(t.relayed, t.received) for t in phase.timings.values()],
    }
    figures: dict[str, Any] = {
        "phase": phase.name,
        "ingest_load_msgs_s": phase.ingest_rate,
        "events": len(phase.timings),
        "notified": sum(t.received is not None for t in phase.timings.values()),
        "stored_readings_s": phase.stored_readings_s,
        "load_average_1m": list(phase.load_average),
    }
    for stage, values in spans.items():
        figures[f"{stage}_p50_s"] = percentile(values, 0.5)
        figures[f"{stage}_p99_s"] = percentile(values, 0.99)
    received = [v for v in spans["end_to_end"] if v is not None]
    figures["end_to_end_max_s"] = round(max(received), 3) if received else None
    return figures


def _report(phases: list[Phase], event_rate: float) -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d"),
        "event_rate": event_rate,
        "receive_timeout_s": RECEIVE_TIMEOUT_S,
        "phases": [phase_figures(phase) for phase in phases],
    }
