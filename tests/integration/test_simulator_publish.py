"""The simulator publishing to a real MQTT broker (TOIR_MQTT_URL, else the local Mosquitto)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

import orjson
import pytest

from devices.records import Position, Reading
from devices.simulator.codec import encode_sample
from devices.simulator.fleet import Fleet, FleetConfig
from devices.simulator.publisher import DEFAULT_LABEL, Publisher
from devices.simulator.run import VALID_LABEL, run_simulation
from kernel.clock import now_us, to_epoch_us
from kernel.urls import MqttAddress, parse_mqtt_url
from tests.integration.mqtt_recording import RecordingSubscriber

DEFAULT_URL = "mqtt://127.0.0.1:1883"
ALL_DEVICES = "toir/v1/devices/#"
DELIVERY_TIMEOUT_S = 20.0
READING_KEYS = {"ts", "hours_run", "running", "metrics"}
METRIC_KEYS = {"temperature_c", "vibration_mm_s", "pressure_bar", "current_a"}
POSITION_KEYS = {
    "ts",
    "lat",
    "lon",
    "speed_kmh",
    "heading",
    "ignition",
    "odometer_km",
    "accuracy_m",
}


@pytest.fixture(scope="module")
def address() -> MqttAddress:
    url = os.environ.get("TOIR_MQTT_URL", DEFAULT_URL)
    parsed = parse_mqtt_url(url)
    try:
        socket.create_connection((parsed.host, parsed.port), timeout=2.0).close()
    except OSError as exc:
        pytest.skip(f"no MQTT broker answers at {parsed.host}:{parsed.port} ({exc})")
    return parsed


@pytest.fixture
def subscriber(address: MqttAddress) -> Iterator[RecordingSubscriber]:
    sub = RecordingSubscriber(address, ALL_DEVICES, timeout_s=DELIVERY_TIMEOUT_S)
    yield sub
    sub.close()


class RecordingPublisher(Publisher):
    """The real publisher, also noting every message it hands to paho."""

    instances: ClassVar[list[RecordingPublisher]] = []

    def __init__(self, address: MqttAddress, **options: Any) -> None:
        super().__init__(address, **options)
        self.sent_messages: list[tuple[str, bytes, str]] = []
        RecordingPublisher.instances.append(self)

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        label: str = DEFAULT_LABEL,
        stop: threading.Event | None = None,
    ) -> bool:
        sent = super().publish(topic, payload, label=label, stop=stop)
        if sent:
            self.sent_messages.append((topic, payload, label))
        return sent


def _native_sample(topic: str, payload: bytes) -> dict[str, Any]:
    """The payload, checked against the native format of its topic."""
    kind = topic.split("/")[-1]
    data: dict[str, Any] = orjson.loads(payload)
    if kind == "telemetry":
        assert set(data) == READING_KEYS and set(data["metrics"]) == METRIC_KEYS
        assert all(isinstance(value, float) for value in data["metrics"].values())
        assert isinstance(data["running"], bool) and isinstance(data["hours_run"], float)
    else:
        assert set(data) == POSITION_KEYS and isinstance(data["ignition"], bool)
        assert -90.0 <= data["lat"] <= 90.0 and -180.0 <= data["lon"] <= 180.0
        assert 3.0 <= data["accuracy_m"] <= 15.0
    return data


def test_a_simulation_delivers_exactly_what_the_broker_acknowledged(
    address: MqttAddress, subscriber: RecordingSubscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("devices.simulator.run.Publisher", RecordingPublisher)
    fleet = Fleet(FleetConfig(equipment=5, vehicles=2, seed=5))
    started_us = now_us()

    report = run_simulation(
        address,
        fleet,
        duration_s=2.5,
        rate_msgs_s=200.0,
        invalid_every=25,
        stop=threading.Event(),
        on_progress=None,
    )

    sent = RecordingPublisher.instances[-1].sent_messages
    assert report.published > 300 and report.invalid_total >= 8
    assert report.failed == 0 and report.unacknowledged == 0
    assert len(sent) == report.sent == report.published + report.invalid_total
    expected = {(topic, payload) for topic, payload, _ in sent}
    assert subscriber.wait_for(len(sent), match=expected) == len(sent)
    bad_by_reason: dict[str, int] = {}
    for topic, payload, label in sent:
        if label != VALID_LABEL:
            bad_by_reason[label] = bad_by_reason.get(label, 0) + 1
            continue
        data = _native_sample(topic, payload)
        assert data["ts"].endswith("+00:00")
        assert started_us <= to_epoch_us(datetime.fromisoformat(data["ts"])) <= now_us()
    assert bad_by_reason == report.invalid_published


def _samples(count: int) -> list[tuple[str, bytes]]:
    fleet = Fleet(
        FleetConfig(equipment=8, vehicles=2, seed=9),
        equipment_interval_s=0.01,
        vehicle_interval_s=0.01,
    )
    start_us = now_us()
    fleet.advance(start_us)
    samples: list[Reading | Position] = fleet.advance(start_us + 2 * count * 1_000)
    return [encode_sample(sample) for sample in samples[:count]]


def test_back_pressure_keeps_outstanding_messages_under_the_bound(
    address: MqttAddress, subscriber: RecordingSubscriber
) -> None:
    messages = _samples(1000)
    publisher = Publisher(address, max_outstanding=50)
    publisher.connect()

    try:
        for topic, payload in messages:
            publisher.publish(topic, payload)
        assert publisher.flush(30.0)
    finally:
        publisher.close()

    stats = publisher.stats
    assert stats.max_outstanding_seen == 50
    assert stats.sent == stats.published == 1000
    assert stats.outstanding == 0
    assert subscriber.wait_for(1000, match=set(messages)) == 1000


class CuttableRelay:
    """A TCP relay to the broker whose open connections the test can cut at will."""

    def __init__(self, upstream: MqttAddress) -> None:
        self._upstream = upstream
        self._server = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.address = MqttAddress(
            "127.0.0.1", self._server.getsockname()[1], upstream.username, upstream.password, False
        )
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def close(self) -> None:
        self._server.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection((self._upstream.host, self._upstream.port))
            with self._lock:
                self._sockets += [downstream, upstream]
            for source, target in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65_536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        _shut(source)
        _shut(target)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def relay(address: MqttAddress) -> Iterator[CuttableRelay]:
    relay = CuttableRelay(address)
    yield relay
    relay.close()


def test_messages_survive_a_dropped_connection(
    relay: CuttableRelay, subscriber: RecordingSubscriber
) -> None:
    messages = _samples(600)
    publisher = Publisher(relay.address, max_outstanding=100)
    publisher.connect()

    try:
        for index, (topic, payload) in enumerate(messages):
            if index == 300:
                relay.cut()
            publisher.publish(topic, payload)
        assert publisher.flush(30.0)
    finally:
        publisher.close()

    stats = publisher.stats
    assert stats.connects >= 2
    assert stats.published == 600
    # At least once: a message in flight at the cut may arrive twice, none may be missing.
    assert subscriber.wait_for(600, match=set(messages)) >= 600
    assert {m for m in subscriber.messages if m in set(messages)} == set(messages)
