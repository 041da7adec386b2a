"""The bare baseline subscriber stores what the bench publishes and outlives a message of
another shape (a pipeline probe left in its persistent session, say)."""

from __future__ import annotations

import threading
import time

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from kernel.urls import parse_mqtt_url
from toir.bench.baseline import Baseline, create_table

TIMEOUT_S = 20.0


def _stored(database_url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        sql = (
            "SELECT device_id, (extract(epoch FROM ts) * 1000)::bigint FROM bench.baseline_readings"
        )
        return conn.execute(sql + " ORDER BY ts").fetchall()


def test_a_message_it_cannot_read_is_skipped_and_the_next_stored(
    database_url: str, private_mqtt_url: str
) -> None:
    create_table(database_url)
    baseline = Baseline(private_mqtt_url, database_url)
    runner = threading.Thread(target=baseline.run)
    runner.start()
    address = parse_mqtt_url(private_mqtt_url)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-baseline-pub")
    publisher.connect(address.host, address.port)
    publisher.loop_start()
    try:
        time.sleep(1.0)  # subscribed
        bad = orjson.dumps({"ts": "2026-11-27T10:00:00+00:00", "metrics": {"probe": 1}})
        good = orjson.dumps([{"ts": 1_764_000_000_000, "metrics": {"t": 1.0}}])
        for payload in (b"not json", bad, good):
            publisher.publish("toir/v1/devices/eq-1/telemetry", payload, qos=1).wait_for_publish()
        deadline = time.monotonic() + TIMEOUT_S
        while not _stored(database_url) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        baseline.stop()
        runner.join(TIMEOUT_S)
    assert _stored(database_url) == [("eq-1", 1_764_000_000_000)]
