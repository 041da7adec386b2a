"""The outbox relay against a real MQTT broker and a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.server
import queue
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.types.json import Jsonb

from kernel.db import create_pool
from kernel.urls import parse_mqtt_url
from tickets.notify.channels import MqttChannel
from tickets.notify.relay import MAX_WEBHOOK_ATTEMPTS, Relay
from toir.devstack import start_mqtt

SECRET = "a-webhook-secret-of-some-length"


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that fails the first `failures` requests with a 500."""

    failures: ClassVar[int] = 0
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        if Receiver.failures > 0:
            Receiver.failures -= 1
            self.send_response(500)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.failures = [], 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/toir"
    server.shutdown()


def _enqueue_mqtt(database_url: str, topic: str, payload: dict[str, Any]) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tickets.outbox (channel, destination, payload) VALUES ('mqtt', %s, %s)",
            (topic, Jsonb(payload)),
        )


def _enqueue_webhook(database_url: str, url: str, payload: dict[str, Any]) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO tickets.webhooks (url, secret) VALUES (%s, %s) RETURNING id",
            (url, SECRET),
        ).fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO tickets.outbox (channel, destination, webhook_id, payload) "
            "VALUES ('webhook', %s, %s, %s)",
            (url, row[0], Jsonb(payload)),
        )


def _relay_once(database_url: str, channel: MqttChannel | None) -> int:
    async def go() -> int:
        pool = create_pool(database_url, max_size=1, name="relay-test")
        await pool.open(wait=True)
        try:
            return await Relay(pool, channel).run_once()
        finally:
            await pool.close()

    return asyncio.run(go())


def _make_due(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE tickets.outbox SET next_attempt_at = now()")


def _state(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT attempts, delivered_at IS NOT NULL, dead_at IS NOT NULL FROM tickets.outbox"
        ).fetchall()


def _subscribe(mqtt_url: str, topic: str) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    got: queue.Queue[bytes] = queue.Queue()
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"phone-{uuid.uuid4().hex[:6]}", clean_session=False
    )
    client.on_message = lambda c, u, m: got.put(bytes(m.payload))
    client.connect(address.host, address.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    threading.Event().wait(0.5)
    return client, got


def test_a_broker_outage_delays_a_notification_but_never_loses_it(
    database_url: str, tmp_path: Path
) -> None:
    broker = start_mqtt(tmp_path / "mqtt")
    url = broker.url
    port = parse_mqtt_url(url).port
    phone, inbox = _subscribe(url, "toir/v1/engineers/eng-1/tickets")
    channel = MqttChannel(parse_mqtt_url(url), client_id="toir-notify-test")
    try:
        broker.stop()
        _enqueue_mqtt(database_url, "toir/v1/engineers/eng-1/tickets", {"event": "assigned"})
        assert _relay_once(database_url, channel) == 0
        assert _state(database_url) == [(1, False, False)]
        broker = start_mqtt(tmp_path / "mqtt", port=port)
        threading.Event().wait(3.0)  # paho reconnects with back-off
        _make_due(database_url)
        assert _relay_once(database_url, channel) == 1
        assert inbox.get(timeout=10) == b'{"event":"assigned"}'
        assert _state(database_url) == [(2, True, False)]
    finally:
        channel.close()
        phone.loop_stop()
        broker.stop()


def test_a_webhook_gets_a_signed_body_and_is_retried_after_a_500(
    database_url: str, receiver: str
) -> None:
    Receiver.failures = 1
    _enqueue_webhook(database_url, receiver, {"event": "assigned", "ticket": {"id": 7}})
    assert _relay_once(database_url, None) == 0
    _make_due(database_url)
    assert _relay_once(database_url, None) == 1
    assert len(Receiver.received) == 2
    headers, body = Receiver.received[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Toir-Signature"] == expected
    assert headers["X-Toir-Event"] == "assigned"
    assert body == b'{"event":"assigned","ticket":{"id":7}}'
    assert _state(database_url) == [(2, True, False)]


def test_a_webhook_failing_every_time_is_dead_lettered(database_url: str, receiver: str) -> None:
    Receiver.failures = 10_000
    _enqueue_webhook(database_url, receiver, {"event": "assigned"})
    for _ in range(MAX_WEBHOOK_ATTEMPTS + 2):
        _relay_once(database_url, None)
        _make_due(database_url)
    assert _state(database_url) == [(MAX_WEBHOOK_ATTEMPTS, False, True)]
    assert len(Receiver.received) == MAX_WEBHOOK_ATTEMPTS
