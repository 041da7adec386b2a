"""The benchmark publisher against a real broker: every message the report counts arrives
whole at a QoS 1 subscriber, the persistent session is ended afterwards, and refusals, TLS
and a lost connection say what happened."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kernel.urls import parse_mqtt_url
from tests.integration.mqtt_recording import RecordingSubscriber
from tests.integration.security.brokers import (
    mosquitto,
    needs_mosquitto,
    password_lines,
    tls_mosquitto,
)
from toir.bench.mqtt_link import LeanPublisher
from toir.bench.publisher import Load, PublishReport, publish

TELEMETRY = "toir/v1/devices/+/telemetry"
TIMEOUT_S = 30.0


@pytest.fixture
def subscriber(private_mqtt_url: str) -> Iterator[RecordingSubscriber]:
    sub = RecordingSubscriber(parse_mqtt_url(private_mqtt_url), TELEMETRY, timeout_s=TIMEOUT_S)
    yield sub
    sub.close()


def _load(messages: int, *, batch: int = 1, rate: float = 0) -> Load:
    equipment = [f"pub-test-{n:03d}" for n in range(100)]
    return Load(equipment, [], rate_msgs_s=rate, batch=batch, messages=messages)


def _readings(payload: bytes, batch: int) -> list[dict[str, object]]:
    body = orjson.loads(payload)
    items: list[dict[str, object]] = body if batch > 1 else [body]
    assert len(items) == batch
    assert all(set(item) == {"ts", "hours_run", "running", "metrics"} for item in items)
    return items


def _assert_all_arrived_whole(
    report: PublishReport, received: list[tuple[str, bytes]], load: Load
) -> None:
    assert report.messages == load.messages and report.unacknowledged == 0
    assert report.readings == report.messages * load.batch
    assert len(received) == load.messages
    timestamps: dict[str, list[object]] = {}
    for topic, payload in received:
        device = topic.split("/")[3]
        timestamps.setdefault(device, []).extend(r["ts"] for r in _readings(payload, load.batch))
    assert sorted(timestamps) == sorted(load.equipment)
    for series in timestamps.values():
        # Each device's readings once each, in the order sent: nothing lost, doubled or mixed.
        assert series == sorted(set(series))  # type: ignore[type-var]


@pytest.mark.parametrize(
    "load",
    [
        _load(5000),
        _load(2000, rate=4000),  # paced: bursts every few ms
        _load(300, batch=120),  # ~25 KB a message, past the 2-byte remaining length
    ],
    ids=["flat-out", "paced", "batched"],
)
def test_every_acknowledged_message_arrives_whole(
    private_mqtt_url: str, subscriber: RecordingSubscriber, load: Load
) -> None:
    report = publish(private_mqtt_url, load)
    subscriber.wait_for(report.messages)
    received = subscriber.messages
    if load.batch > 1:
        assert min(len(payload) for _, payload in received) > 16 * 1024
    _assert_all_arrived_whole(report, received, load)


def test_paced_publishing_keeps_its_rate(private_mqtt_url: str) -> None:
    report = publish(private_mqtt_url, _load(1000, rate=2000))
    assert report.messages == 1000
    assert 0.45 <= report.elapsed_s < 2.0  # flat out, 1,000 messages take a few ms


def _session_present(mqtt_url: str, client_id: str) -> bool:
    address = parse_mqtt_url(mqtt_url)
    present: list[bool] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.on_connect = lambda _c, _u, flags, *_: present.append(flags.session_present)
    client.connect(address.host, address.port)
    deadline = time.monotonic() + TIMEOUT_S
    while not present and time.monotonic() < deadline:
        client.loop(0.05)
    client.disconnect()
    # It connected with clean session 0 itself: end the session it may have kept.
    cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    cleaner.connect(address.host, address.port)
    cleaner.loop(0.2)
    cleaner.disconnect()
    return present[0]


def test_the_persistent_session_is_ended_on_close(mqtt_url: str) -> None:
    kept = LeanPublisher(mqtt_url)
    kept.connect()
    kept.publish_burst([("toir/v1/devices/pub-test-session/telemetry", b"{}")])
    kept.flush(TIMEOUT_S)
    kept._sock.close()  # type: ignore[union-attr]  # gone without close(): the session stays
    assert _session_present(mqtt_url, kept.client_id)
    ended = LeanPublisher(mqtt_url)
    ended.connect()
    ended.publish_burst([("toir/v1/devices/pub-test-session/telemetry", b"{}")])
    ended.flush(TIMEOUT_S)
    ended.close()
    assert ended.acked == 1
    assert not _session_present(mqtt_url, ended.client_id)


@needs_mosquitto
def test_a_refused_connection_says_why_and_credentials_in_the_url_are_used(
    tmp_path: Path,
) -> None:
    lines = password_lines(tmp_path / "auth", {"bench": "s3cret"})
    with mosquitto(tmp_path / "mqtt", lines) as port:
        with pytest.raises(ConnectionRefusedError, match="refused the connection: not auth"):
            publish(f"mqtt://127.0.0.1:{port}", _load(10))
        with pytest.raises(ConnectionRefusedError, match="refused"):
            publish(f"mqtt://bench:wrong@127.0.0.1:{port}", _load(10))
        report = publish(f"mqtt://bench:s3cret@127.0.0.1:{port}", _load(10))
    assert report.messages == 10


@needs_mosquitto
def test_mqtts_speaks_tls_and_verifies_the_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_mosquitto(tmp_path) as (port, ca, cert):
        # The default context trusts the CA that OpenSSL's SSL_CERT_FILE names.
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        report = publish(f"mqtts://127.0.0.1:{port}", _load(3000, batch=2))
        assert (report.messages, report.unacknowledged) == (3000, 0)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            publish(f"mqtts://127.0.0.1:{port}", _load(10))


@needs_mosquitto
def test_a_connection_lost_mid_run_is_an_error(tmp_path: Path) -> None:
    failures: list[BaseException] = []

    def run(url: str) -> None:
        try:
            publish(url, Load(["pub-test-lost"], [], rate_msgs_s=2000, batch=1, duration_s=20))
        except BaseException as exc:
            failures.append(exc)

    with mosquitto(tmp_path / "mqtt", ["allow_anonymous true"]) as port:
        publisher = threading.Thread(target=run, args=(f"mqtt://127.0.0.1:{port}",))
        publisher.start()
        time.sleep(0.5)
    publisher.join(TIMEOUT_S)
    assert not publisher.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], ConnectionError)
    assert "lost the MQTT connection" in str(failures[0])


def test_sigterm_ends_the_run_like_its_end_acknowledged_and_reported(
    private_mqtt_url: str,
) -> None:
    command = [sys.executable, "-m", "toir.bench.publisher", "--mqtt-url", private_mqtt_url]
    command += ["--equipment", "10", "--rate", "500", "--duration-s", "600"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.0)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    report = orjson.loads(out.splitlines()[-1])
    assert report["messages"] > 0
    assert report["unacknowledged"] == 0
    assert report["elapsed_s"] < 30
