"""Every supported device format through the real pipeline into the database: native JSON,
ThingsBoard forms and gateway, OwnTracks over MQTT; OsmAnd and Traccar Client over HTTP."""

from __future__ import annotations

import asyncio
import http.client
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from devices.registry import DeviceIn, VehicleIn, upsert_devices, upsert_vehicles
from kernel import topics
from kernel.clock import utcnow
from kernel.events import DeviceSilent, from_json
from kernel.urls import kafka_bootstrap
from tests.e2e.harness import Pipeline
from toir.devstack.ports import free_port
from toir.processes import ServiceUrls, ToirProcess, process_env

NOW_S = int(utcnow().timestamp()) - 600
NOW_MS = NOW_S * 1000
HOST = "127.0.0.1"


@pytest.fixture
def formats(
    database_url: str, private_mqtt_url: str, kafka_url: str, tmp_path: Path, unique: str
) -> Iterator[tuple[Pipeline, int]]:
    """A pipeline whose ingest serves HTTP on a free port and checks silence every second."""
    urls = ServiceUrls(database_url, private_mqtt_url, kafka_url)
    http_port = free_port()
    env = process_env(
        urls,
        tmp_path,
        mqtt_client_id=f"ingest-{unique}",
        log_level="INFO",
        ingest_http_host=HOST,
        ingest_http_port=str(http_port),
        silence_check_interval_s="1",
    )
    pipeline = Pipeline(
        urls,
        tmp_path,
        unique,
        ToirProcess("ingest", env, tmp_path / "ingest.log"),
        ToirProcess("stream", env, tmp_path / "stream.log"),
    )
    try:
        yield pipeline, http_port
    finally:
        pipeline.stop()


def register(pipeline: Pipeline) -> None:
    d = pipeline.device
    with psycopg.connect(pipeline.urls.database_url) as conn:
        upsert_vehicles(conn, vehicles=[VehicleIn(d("van"))])
        upsert_devices(
            conn,
            devices=[
                DeviceIn(d("eq"), "controller"),
                DeviceIn(d("tb"), "controller"),
                DeviceIn(d("gw"), "controller"),
                DeviceIn(d("jane.phone"), "phone", vehicle_id=d("van")),
                DeviceIn(d("osm"), "phone"),
                DeviceIn(d("trc"), "phone"),
                DeviceIn(d("quiet"), "controller"),
            ],
        )
        conn.execute(
            "UPDATE assets.devices SET expected_interval_s = 2 WHERE id = %s", (d("quiet"),)
        )


def mqtt_messages(pipeline: Pipeline) -> list[tuple[str, bytes]]:
    d, js = pipeline.device, orjson.dumps
    native = f"toir/v1/devices/{d('eq')}"
    tb = f"toir/v1/devices/{d('tb')}/telemetry"
    owntracks = f"owntracks/{d('jane')}/phone"
    fix = {"_type": "location", "lat": 55.75, "lon": 37.62, "acc": 5, "batt": 80, "ign": True}
    gateway = {d("gw"): [{"ts": NOW_MS + i, "values": {"rpm": 900 + i}} for i in (0, 1)]}
    return [
        (f"{native}/telemetry", js({"ts": NOW_S, "hours_run": 12.5, "metrics": {"t": 1}})),
        (f"{native}/telemetry", js([{"ts": NOW_S + i, "running": True} for i in (1, 2)])),
        (f"{native}/position", js({"ts": NOW_S, "lat": 55.7, "lon": 37.6, "speed_kmh": 40})),
        (tb, js({"pressure_bar": 2.5})),
        (tb, js({"ts": NOW_MS, "values": {"pressure_bar": 2.6}})),
        (tb, js([{"ts": NOW_MS + i, "values": {"pressure_bar": 2.7}} for i in (1, 2)])),
        ("v1/gateway/telemetry", js(gateway)),
        (owntracks, js({**fix, "tst": NOW_S, "odometer": 1000.0, "hmc": 7200})),
        (owntracks, js({**fix, "tst": NOW_S + 60, "vel": 36, "odometer": 1000.5, "hmc": 7260})),
        (owntracks, js({"_type": "transition", "event": "enter", "tst": NOW_S})),
        (f"toir/v1/devices/{d('quiet')}/telemetry", js({"ts": NOW_S, "metrics": {"t": 0}})),
    ]


def http_request(port: int, method: str, target: str, body: bytes | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=15)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def traccar_body(device_id: str) -> bytes:
    location = {
        "timestamp": f"{utcnow().replace(microsecond=0).isoformat()}",
        "coords": {"latitude": 55.76, "longitude": 37.63, "speed": 10.0, "heading": -1},
        "battery": {"level": 0.42},
        "odometer": 2500,
    }
    return orjson.dumps({"device_id": device_id, "location": location})


def rows(pipeline: Pipeline, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(pipeline.urls.database_url) as conn:
        return conn.execute(sql, params).fetchall()


def wait_for(condition: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := condition()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return found


async def silent_events(kafka_url: str) -> list[DeviceSilent]:
    consumer = AIOKafkaConsumer(
        topics.EVENTS,
        bootstrap_servers=kafka_bootstrap(kafka_url),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=1000)
        events = [from_json(r.value) for rs in batches.values() for r in rs if r.value]
        return [e for e in events if isinstance(e, DeviceSilent)]
    finally:
        await consumer.stop()


def test_every_format_reaches_the_database_in_platform_units(
    formats: tuple[Pipeline, int],
) -> None:
    pipeline, port = formats
    d = pipeline.device
    register(pipeline)
    pipeline.start()

    assert pipeline.publish_all(mqtt_messages(pipeline)) == 11
    query = f"/?id={d('osm')}&lat=55.77&lon=37.64&timestamp={NOW_S}&speed=10&batt=55&accuracy=4"
    assert http_request(port, "GET", query) == (200, "OK")
    assert http_request(port, "POST", "/", traccar_body(d("trc"))) == (200, "OK")
    ghost = http_request(port, "POST", "/", traccar_body(d("ghost")))
    assert ghost == (400, f"unknown_device: device '{d('ghost')}' is unknown")

    assert pipeline.wait_stored(15) == 15
    by_device = dict(
        rows(
            pipeline,
            "SELECT device_id, count(*) FROM (SELECT device_id FROM telemetry.readings "
            "UNION ALL SELECT device_id FROM telemetry.positions) t "
            "WHERE device_id LIKE %s GROUP BY device_id",
            f"{pipeline.prefix}-%",
        )
    )
    assert by_device == {
        d("eq"): 4, d("tb"): 4, d("gw"): 2, d("jane.phone"): 2, d("osm"): 1, d("trc"): 1,
        d("quiet"): 1,
    }  # fmt: skip
    http_fixes = rows(
        pipeline,
        "SELECT device_id, round(speed_kmh::numeric, 2), battery_pct, odometer_km "
        "FROM telemetry.positions WHERE device_id IN (%s, %s) ORDER BY device_id",
        d("osm"),
        d("trc"),
    )
    assert [(dev, float(kmh), pct, km) for dev, kmh, pct, km in http_fixes] == [
        (d("osm"), 18.52, 55.0, None),  # knots to km/h
        (d("trc"), 36.0, 42.0, 2.5),  # m/s to km/h, battery 0..1 to %, metres to km
    ]
    phone = rows(
        pipeline,
        "SELECT hours_run, odometer_km, ignition, speed_kmh FROM telemetry.positions "
        "WHERE device_id = %s ORDER BY ts",
        d("jane.phone"),
    )
    assert phone == [(2.0, 1000.0, True, 0.0), (2.0 + 1 / 60, 1000.5, True, 36.0)]

    # The stream kept latest state and meters in the same transactions.
    states = rows(
        pipeline,
        "SELECT count(*) FROM telemetry.device_state WHERE device_id LIKE %s",
        f"{pipeline.prefix}-%",
    )
    assert states == [(7,)]
    van = rows(
        pipeline,
        "SELECT meter, value FROM telemetry.meters WHERE subject_id = %s ORDER BY meter",
        d("van"),
    )
    assert [(m, round(v, 4)) for m, v in van] == [("hours_run", 2.0167), ("odometer_km", 1000.5)]

    silent = wait_for(lambda: asyncio.run(silent_events(pipeline.urls.kafka_url)))
    assert d("quiet") in {e.subject.id for e in silent}
    unknown = wait_for(lambda: rows(pipeline, "SELECT id, last_topic FROM assets.unknown_devices"))
    assert unknown == [(d("ghost"), "http:osmand")]
