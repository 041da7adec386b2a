"""An event on toir.events becomes one assigned ticket, and the engineer's phone gets it."""

from __future__ import annotations

import asyncio
import queue
import time
import uuid
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
from aiokafka import AIOKafkaProducer
from paho.mqtt.enums import CallbackAPIVersion

from kernel import topics
from kernel.clock import utcnow
from kernel.urls import kafka_bootstrap, parse_mqtt_url
from tests.e2e.harness import Pipeline


def _seed(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO assets.sites (id, name, lat, lon, area) "
            "VALUES ('site-1', 'Pump station', 55.75, 37.62, 'north')"
        )
        conn.execute(
            "INSERT INTO assets.equipment (id, kind, site_id, criticality) "
            "VALUES ('eq-1', 'pump', 'site-1', 'high')"
        )
        conn.execute(
            "INSERT INTO tickets.engineers (id, name, areas, home_lat, home_lon, position_lat, "
            "position_lon, position_at) VALUES ('eng-1', 'Ivan', '{north}', 55.76, 37.60, "
            "55.751, 37.621, now())"
        )
        conn.execute("INSERT INTO tickets.engineer_skills VALUES ('eng-1', 'diagnostics', 3)")
        for day in range(7):
            conn.execute(
                "INSERT INTO tickets.shifts VALUES ('eng-1', %s, '00:00', '23:59:59')", (day,)
            )


def _event(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "AnomalyDetected",
        "occurred_at": utcnow().isoformat(),
        "subject": {"kind": "equipment", "id": "eq-1"},
        "evidence": {
            "kind": "drift",
            "severity": "medium",
            "score": 7.5,
            "metrics": {"vibration_mm_s": 6.1},
        },
    }


async def _produce(kafka_url: str, events: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(kafka_url))
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topics.EVENTS, orjson.dumps(event), key=b"eq-1")
    finally:
        await producer.stop()


def _inbox(mqtt_url: str, engineer_id: str) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    received: queue.Queue[bytes] = queue.Queue()
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"phone-{uuid.uuid4().hex[:6]}")
    client.on_message = lambda c, u, msg: received.put(bytes(msg.payload))
    client.connect(address.host, address.port)
    client.subscribe(f"toir/v1/engineers/{engineer_id}/tickets", qos=1)
    client.loop_start()
    time.sleep(0.5)
    return client, received


def _tickets(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT status, assignee_id, event_count FROM tickets.tickets"
        ).fetchall()


def test_an_anomaly_event_opens_one_ticket_assigned_and_pushed_to_the_engineer(
    pipeline: Pipeline,
) -> None:
    _seed(pipeline.urls.database_url)
    pipeline.start()
    phone, received = _inbox(pipeline.urls.mqtt_url, "eng-1")
    try:
        asyncio.run(_produce(pipeline.urls.kafka_url, [_event("ev-1")]))
        message = orjson.loads(received.get(timeout=30))
        assert message["event"] == "assigned"
        assert message["ticket"]["assignee_id"] == "eng-1"
        assert message["ticket"]["kind"] == "anomaly"
        assert message["ticket"]["priority"] == "high"  # medium severity, high criticality
        assert _tickets(pipeline.urls.database_url) == [("assigned", "eng-1", 1)]

        asyncio.run(_produce(pipeline.urls.kafka_url, [_event("ev-1"), _event("ev-2")]))
        deadline = time.monotonic() + 20
        while _tickets(pipeline.urls.database_url)[0][2] < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        # ev-1 again changed nothing; ev-2 (same cause) added evidence, no second ticket
        assert _tickets(pipeline.urls.database_url) == [("assigned", "eng-1", 2)]
        assert received.empty()
    finally:
        phone.loop_stop()
        phone.disconnect()
