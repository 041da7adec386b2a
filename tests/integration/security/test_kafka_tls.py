"""`kafkas://`: the platform's Kafka clients speak TLS and verify the broker's certificate,
against a broker that can be reached over TLS only (see kafka_tls.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import orjson
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from devices.registry import DeviceIn, upsert_devices
from devices.simulator.publisher import Publisher
from kernel import topics
from kernel.clock import utcnow
from kernel.kafka import ensure_topics
from kernel.urls import kafka_client_options, parse_mqtt_url
from tests.integration.security.brokers import make_certificates
from tests.integration.security.kafka_tls import kafka_behind_tls
from toir.probe import wait_until_ready
from toir.processes import ServiceUrls, ToirProcess, process_env

pytestmark = pytest.mark.timeout(240)

READINGS = 50


async def _round_trip(kafka_url: str, payload: bytes) -> bytes | None:
    """Produce `payload` and read it back, both through `kafka_client_options`."""
    await ensure_topics(kafka_url, partitions=1)
    producer = AIOKafkaProducer(**kafka_client_options(kafka_url))
    await producer.start()
    try:
        sent = await producer.send_and_wait(topics.DLQ, payload)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**kafka_client_options(kafka_url), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition := TopicPartition(sent.topic, sent.partition)])
        consumer.seek(partition, sent.offset)
        record = await asyncio.wait_for(consumer.getone(), 10)
        value: bytes | None = record.value
        return value
    finally:
        await consumer.stop()


def test_clients_reach_the_broker_over_tls_only_and_verify_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, cert, key = make_certificates(tmp_path / "certs")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    with kafka_behind_tls(tmp_path / "kafka", cert, key) as url:
        payload = uuid.uuid4().bytes
        assert asyncio.run(_round_trip(url, payload)) == payload
        # The same port without TLS: the proxy's handshake fails, no metadata ever comes.
        with pytest.raises(KafkaConnectionError):
            asyncio.run(ensure_topics(url.replace("kafkas://", "kafka://"), partitions=1))
        # A CA that did not sign the broker's certificate: refused.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with pytest.raises(KafkaConnectionError):
            asyncio.run(ensure_topics(url, partitions=1))


def test_ingest_and_stream_carry_telemetry_over_kafkas(
    database_url: str, mqtt_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, cert, key = make_certificates(tmp_path / "certs")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the children inherit it
    with kafka_behind_tls(tmp_path / "kafka", cert, key) as kafka_url:
        urls = ServiceUrls(database_url, mqtt_url, kafka_url)
        env = process_env(urls, tmp_path, ingest_http_port="0")
        processes = [ToirProcess(c, env, tmp_path / f"{c}.log") for c in ("stream", "ingest")]
        try:
            for process in processes:
                process.start()
            wait_until_ready(database_url, mqtt_url, timeout_s=120)
            device = f"tls-{uuid.uuid4().hex[:8]}"
            _publish_readings(database_url, mqtt_url, device)
            assert _stored(database_url, device, timeout_s=60) == READINGS
            assert all(p.alive() for p in processes)
        finally:
            for process in processes:
                process.stop()
    for process in processes:
        log = process.log_path.read_text(errors="replace")
        assert "SSLError" not in log and "Traceback" not in log, process.log_path.name


def _publish_readings(database_url: str, mqtt_url: str, device: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        upsert_devices(conn, devices=[DeviceIn(device, "controller")])
    publisher = Publisher(parse_mqtt_url(mqtt_url))
    publisher.connect()
    now_ms = int(utcnow().timestamp() * 1000)
    for seq in range(READINGS):
        body = orjson.dumps({"ts": now_ms - seq * 1000, "metrics": {"t": seq}})
        publisher.publish(f"toir/v1/devices/{device}/telemetry", body)
    assert publisher.flush(30)
    publisher.close()


def _stored(database_url: str, device: str, *, timeout_s: float) -> int:
    query = "SELECT count(*) FROM telemetry.readings WHERE device_id = %s"
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            count = int((conn.execute(query, (device,)).fetchone() or (0,))[0])
            if count >= READINGS or time.monotonic() > deadline:
                return count
            time.sleep(0.25)
