"""A short run of the whole platform with passwords in every URL and DEBUG logging in
JSON: no log line of any process contains a password, and every line is a JSON object."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import psycopg
import pytest
from psycopg import sql

from devices.registry import DeviceIn, upsert_devices
from devices.simulator.publisher import Publisher
from kernel.clock import utcnow
from kernel.urls import parse_mqtt_url
from tests.integration.security.brokers import mosquitto, needs_mosquitto, password_lines
from toir.probe import wait_until_ready
from toir.processes import ServiceUrls, ToirProcess, free_tcp_port, process_env

pytestmark = [needs_mosquitto, pytest.mark.timeout(180)]

PG_PASSWORD = f"pg-S3cret-{uuid.uuid4().hex}"
MQTT_PASSWORD = f"mq-S3cret-{uuid.uuid4().hex}"


@pytest.fixture
def database_url_with_password(database_url: str) -> Iterator[str]:
    """The test database through a role of its own that has a password."""
    role = f"toir_secret_{uuid.uuid4().hex[:8]}"
    create = sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(create.format(sql.Identifier(role), sql.Literal(PG_PASSWORD)))
    parts = urlsplit(database_url)
    yield parts._replace(netloc=f"{role}:{PG_PASSWORD}@{parts.hostname}:{parts.port}").geturl()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_no_password_reaches_any_log(
    database_url_with_password: str, kafka_url: str, tmp_path: Path
) -> None:
    accounts = {"toir-ingest": MQTT_PASSWORD}
    with mosquitto(tmp_path / "mqtt", password_lines(tmp_path / "mqtt", accounts)) as port:
        mqtt_url = f"mqtt://toir-ingest:{MQTT_PASSWORD}@127.0.0.1:{port}"
        urls = ServiceUrls(database_url_with_password, mqtt_url, kafka_url)
        api_port = free_tcp_port()
        env = process_env(
            urls,
            tmp_path,
            log_level="DEBUG",
            log_format="json",
            ingest_http_port="0",
            api_port=str(api_port),
        )
        processes = [
            ToirProcess(c, env, tmp_path / f"{c}.log") for c in ("stream", "ingest", "api")
        ]
        try:
            for process in processes:
                process.start()
            _exercise(urls, api_port)
        finally:
            for process in processes:
                process.stop()
    logs = {p.log_path.name: p.log_path.read_text(errors="replace") for p in processes}
    for name, text in logs.items():
        _assert_json_lines(name, text)
    # What each process logged shows it worked with these URLs (or failed, for the CLI).
    assert "MQTT connected" in logs["ingest.log"]
    assert "StreamSensor" in logs["stream.log"]
    assert "GET /api/v1/tickets" in logs["api.log"]
    logs["toir db status (unreachable)"] = _failing_command(database_url_with_password)
    assert "cannot reach the database" in logs["toir db status (unreachable)"]
    for name, text in logs.items():
        for secret in (PG_PASSWORD, MQTT_PASSWORD):
            assert secret not in text, f"{name} logs a password"


def _assert_json_lines(name: str, text: str) -> None:
    """Every line a structured entry, so a log shipper loses none of them."""
    for line in filter(None, text.splitlines()):
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            pytest.fail(f"{name}: not a JSON line: {line[:200]}")
        assert {"ts", "level", "logger", "message"} <= entry.keys(), f"{name}: {line[:200]}"


def _failing_command(database_url: str) -> str:
    """An error path: the database URL (with its password) pointing where nothing listens."""
    parts = urlsplit(database_url)
    unreachable = parts._replace(
        netloc=parts.netloc.replace(f":{parts.port}", f":{free_tcp_port()}")
    )
    env = {**os.environ, "TOIR_DATABASE_URL": unreachable.geturl(), "TOIR_LOG_LEVEL": "DEBUG"}
    result = subprocess.run(
        [sys.executable, "-m", "toir", "db", "status"], env=env, capture_output=True, text=True
    )
    return result.stdout + result.stderr


def _exercise(urls: ServiceUrls, api_port: int) -> None:
    """Readings, a dead letter, and API calls that succeed and fail."""
    with psycopg.connect(urls.database_url, autocommit=True) as conn:
        upsert_devices(conn, devices=[DeviceIn("secret-eq", "controller")])
    wait_until_ready(urls.database_url, urls.mqtt_url, timeout_s=90)
    publisher = Publisher(parse_mqtt_url(urls.mqtt_url))
    publisher.connect()
    now_ms = int(utcnow().timestamp() * 1000)
    for seq in range(20):
        body = orjson.dumps({"ts": now_ms - seq, "metrics": {"t": seq}})
        publisher.publish("toir/v1/devices/secret-eq/telemetry", body)
    publisher.publish("toir/v1/devices/secret-eq/telemetry", b"{not json")
    assert publisher.flush(30)
    publisher.close()
    sql_count = "SELECT count(*) FROM telemetry.readings WHERE device_id = 'secret-eq'"
    deadline = time.monotonic() + 30
    with psycopg.connect(urls.database_url) as conn:
        while (conn.execute(sql_count).fetchone() or (0,))[0] < 20:
            assert time.monotonic() < deadline, "the readings were not stored"
            time.sleep(0.25)
            conn.rollback()
    for path in ("/readyz", "/api/v1/tickets", "/api/v1/nowhere"):
        with contextlib.suppress(urllib.error.HTTPError):  # 401 and 404 are wanted too
            urllib.request.urlopen(f"http://127.0.0.1:{api_port}{path}", timeout=5).close()
