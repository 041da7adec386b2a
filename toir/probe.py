"""Readiness of the whole pipeline, proven end to end: a probe reading published over
MQTT is stored in the database. Probes published before ingest subscribes are simply
not delivered, so they are repeated until one arrives."""

from __future__ import annotations

import time

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from devices.registry import DeviceIn, upsert_devices
from kernel.clock import utcnow
from kernel.urls import parse_mqtt_url

PROBE_DEVICE_ID = "toir-probe"
PROBE_INTERVAL_S = 0.5


class PipelineNotReady(Exception):
    """No probe reading reached the database in time."""


def register_probe_device(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        upsert_devices(conn, devices=[DeviceIn(PROBE_DEVICE_ID, "controller")])


def wait_until_ready(database_url: str, mqtt_url: str, *, timeout_s: float) -> float:
    """Publish probes until one is stored; return the seconds it took."""
    register_probe_device(database_url)
    client = _connect(mqtt_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout_s:
            sent_at = utcnow()
            payload = orjson.dumps({"ts": sent_at.isoformat(), "metrics": {"probe": 1}})
            client.publish(f"toir/v1/devices/{PROBE_DEVICE_ID}/telemetry", payload, qos=1)
            if _stored_since(database_url, sent_at, wait_s=PROBE_INTERVAL_S):
                return time.monotonic() - started
    finally:
        client.loop_stop()
        client.disconnect()
    raise PipelineNotReady(f"no probe reading was stored within {timeout_s:.0f} s")


def _connect(mqtt_url: str) -> mqtt.Client:
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"toir-probe-{time.time_ns()}")
    if address.username:
        client.username_pw_set(address.username, address.password)
    client.connect(address.host, address.port)
    client.loop_start()
    return client


def _stored_since(database_url: str, since: object, *, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    sql = "SELECT EXISTS (SELECT 1 FROM telemetry.readings WHERE device_id = %s AND ts >= %s)"
    with psycopg.connect(database_url) as conn:
        while True:
            row = conn.execute(sql, (PROBE_DEVICE_ID, since)).fetchone()
            if row and row[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
