"""TLS options reach the clients: `sslmode` in TOIR_DATABASE_URL reaches libpq, and
`mqtts://` makes ingest's MQTT client speak TLS and verify the broker's certificate.
`kafkas://` is tested in test_kafka_tls.py."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import paho.mqtt.publish as mqtt_publish
import psycopg
import pytest
from psycopg_pool import PoolTimeout

from ingest.mqtt_source import MqttSource
from kernel.db import create_pool
from kernel.urls import parse_mqtt_url
from tests.integration.security.brokers import (
    needs_mosquitto,
    tls_mosquitto,
)


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def test_sslmode_in_the_database_url_reaches_the_toir_command(database_url: str) -> None:
    # The embedded server has no TLS: requiring it must fail, and say why.
    env = {**os.environ, "TOIR_DATABASE_URL": _with_query(database_url, "sslmode=require")}
    result = subprocess.run(
        [sys.executable, "-m", "toir", "db", "status"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SSL" in result.stderr
    env["TOIR_DATABASE_URL"] = _with_query(database_url, "sslmode=disable")
    plain = subprocess.run(
        [sys.executable, "-m", "toir", "db", "status"], env=env, capture_output=True, text=True
    )
    assert plain.returncode == 0, plain.stderr


def test_sslmode_in_the_database_url_reaches_the_process_pools(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def open_pool() -> None:
        pool = create_pool(_with_query(database_url, "sslmode=require"), name="tls-test")
        try:
            await pool.open(wait=True, timeout=5)
        finally:
            await pool.close()

    with pytest.raises(PoolTimeout):
        asyncio.run(open_pool())
    assert "server does not support SSL, but SSL was required" in caplog.text
    with psycopg.connect(_with_query(database_url, "sslmode=prefer")) as conn:
        assert conn.info.pgconn.ssl_in_use is False


async def _receives_over(url: str, port: int) -> bool:
    source = MqttSource(parse_mqtt_url(url), client_id=f"tls-{uuid.uuid4().hex[:8]}")
    source.start()
    try:
        await asyncio.wait_for(source.connected.wait(), 5)
        await asyncio.sleep(0.3)  # the SUBSCRIBE goes out right after CONNACK
        tls = {"ca_certs": os.environ["SSL_CERT_FILE"]}
        await asyncio.to_thread(
            mqtt_publish.single, "toir/v1/devices/d1/telemetry", b"{}", qos=1,
            hostname="127.0.0.1", port=port, tls=tls,  # type: ignore[arg-type]
        )  # fmt: skip
        message = await asyncio.wait_for(source.queue.get(), 5)
        return message.topic == "toir/v1/devices/d1/telemetry"
    except TimeoutError:
        return False
    finally:
        source.stop()


@needs_mosquitto
def test_mqtts_makes_ingest_use_tls_and_verify_the_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_mosquitto(tmp_path) as (port, ca, cert):
        # paho's tls_set() verifies against the default CA store; OpenSSL reads
        # SSL_CERT_FILE, which is how a private CA is given today (no setting yet).
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        assert asyncio.run(_receives_over(f"mqtts://127.0.0.1:{port}", port))
        # Without our CA the certificate does not verify: no connection at all.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert not asyncio.run(_receives_over(f"mqtts://127.0.0.1:{port}", port))
