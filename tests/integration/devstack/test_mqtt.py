"""The embedded MQTT broker, mosquitto and amqtt: QoS 1 round trips and restarts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.devstack.support import mqtt_roundtrip, port_closed, process_gone
from toir.devstack import start_mqtt
from toir.devstack.mqtt import MOSQUITTO_SBIN, MQTT_BROKER_ENV

HAS_MOSQUITTO = bool(shutil.which("mosquitto")) or Path(MOSQUITTO_SBIN).exists()
BROKERS = [
    pytest.param(
        "mosquitto",
        marks=pytest.mark.skipif(not HAS_MOSQUITTO, reason="mosquitto is not installed"),
    ),
    "amqtt",
]


@pytest.mark.parametrize("broker", BROKERS)
def test_broker_delivers_qos1_and_restarts_on_the_same_folder(
    broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MQTT_BROKER_ENV, broker)
    service = start_mqtt(tmp_path)
    assert broker in service.version
    assert mqtt_roundtrip(service.url, "toir/test/first", b"one") == b"one"

    service.stop()
    service.stop()  # idempotent

    assert process_gone(service.pid)
    assert port_closed(service.url)
    again = start_mqtt(tmp_path)
    try:
        assert mqtt_roundtrip(again.url, "toir/test/second", b"two") == b"two"
    finally:
        again.stop()
