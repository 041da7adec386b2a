"""The broker files from `toir broker config`, enforced by a real Mosquitto."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from devices.credentials.mosquitto import verify_password
from devices.registry import DeviceIn, upsert_devices
from toir import device_commands  # noqa: F401  # registers the commands under test
from toir.cli import app
from toir.devstack.ports import accepts_connections, free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")
WAIT_S = 5.0

pytestmark = pytest.mark.skipif(not os.access(MOSQUITTO, os.X_OK), reason="needs mosquitto")


@dataclass
class Client:
    """A paho client whose CONNACK and messages can be waited for."""

    name: str
    client: mqtt.Client
    connack: queue.Queue[bool] = field(default_factory=queue.Queue)
    messages: queue.Queue[str] = field(default_factory=queue.Queue)

    def received(self) -> list[str]:
        found = []
        while not self.messages.empty():
            found.append(self.messages.get_nowait())
        return found

    def next_message(self) -> str:
        return self.messages.get(timeout=WAIT_S)

    def subscribe(self, *topics: str) -> None:
        done: queue.Queue[None] = queue.Queue()
        self.client.on_subscribe = lambda *args: done.put(None)
        self.client.subscribe([(topic, 1) for topic in topics])
        done.get(timeout=WAIT_S)

    def publish(self, topic: str) -> None:
        self.client.publish(topic, self.name.encode(), qos=1).wait_for_publish(WAIT_S)


@pytest.fixture
def broker(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[int, dict[str, str]]]:
    """A Mosquitto on a free port with the generated files; the passwords by username."""
    with psycopg.connect(database_url) as conn:
        devices = [DeviceIn(d, "tracker") for d in ("dev-a", "dev-b", "jane.phone", "off-1")]
        upsert_devices(conn, devices=devices)
    monkeypatch.setenv("TOIR_DATABASE_URL", database_url)
    commands = [["devices", "provision", d.id] for d in devices]
    commands += [
        ["broker", "account", "--service", "ingest"],
        ["broker", "account", "--service", "notifier"],
    ]
    commands += [["broker", "account", "--engineer", e] for e in ("e1", "e2")]
    commands += [["devices", "disable", "off-1"]]
    passwords = dict(cli(command) for command in commands[:-1])
    cli(commands[-1])
    port = free_port()
    config = [
        "broker",
        "config",
        "--out",
        str(tmp_path / "broker"),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
    ]
    config += ["--user", "root"] if os.geteuid() == 0 else []
    cli(config)
    log = (tmp_path / "mosquitto.log").open("wb")
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(tmp_path / "broker" / "mosquitto.conf")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while not accepts_connections(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        yield port, passwords
    finally:
        process.terminate()
        process.wait(WAIT_S)
        log.close()


def cli(args: list[str]) -> tuple[str, str]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    found = re.search(r"username: (\S+)\npassword: (\S+)", result.output)
    return (found[1], found[2]) if found else ("", "")


def connect(port: int, username: str | None, password: str | None, name: str) -> Client:
    client = Client(name, mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-test-{name}"))
    if username:
        client.client.username_pw_set(username, password)
    client.client.on_connect = lambda c, u, f, reason, p: client.connack.put(not reason.is_failure)
    client.client.on_message = lambda c, u, message: client.messages.put(message.topic)
    client.client.connect("127.0.0.1", port)
    client.client.loop_start()
    return client


def accepted(port: int, username: str | None, password: str | None) -> bool:
    client = connect(port, username, password, f"probe-{username}")
    try:
        return client.connack.get(timeout=WAIT_S)
    finally:
        client.client.loop_stop()
        client.client.disconnect()


def test_only_known_enabled_accounts_with_the_right_password_may_connect(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, passwords = broker
    assert accepted(port, "dev-a", passwords["dev-a"])
    assert not accepted(port, None, None)
    assert not accepted(port, "dev-a", passwords["dev-b"])
    assert not accepted(port, "off-1", passwords["off-1"])  # disabled after provisioning


def test_a_device_may_publish_only_as_itself(broker: tuple[int, dict[str, str]]) -> None:
    port, passwords = broker
    ingest = connect(port, "toir-ingest", passwords["toir-ingest"], "ingest")
    device = connect(port, "dev-a", passwords["dev-a"], "dev-a")
    phone = connect(port, "jane.phone", passwords["jane.phone"], "jane.phone")
    assert ingest.connack.get(timeout=WAIT_S) and device.connack.get(timeout=WAIT_S)
    assert phone.connack.get(timeout=WAIT_S)
    ingest.subscribe("$share/ingest/toir/v1/devices/+/telemetry", "owntracks/+/+")

    # Each refused publish goes first: once the allowed one arrives, the other would have too.
    device.publish("toir/v1/devices/dev-b/telemetry")
    device.publish("toir/v1/devices/dev-a/telemetry")
    assert ingest.next_message() == "toir/v1/devices/dev-a/telemetry"
    phone.publish("owntracks/bob/phone")
    phone.publish("toir/v1/devices/dev-a/telemetry")
    phone.publish("owntracks/jane/phone")
    assert ingest.next_message() == "owntracks/jane/phone"
    assert ingest.received() == []


def test_engineers_read_only_their_inbox_and_devices_read_nothing(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, passwords = broker
    notifier = connect(port, "toir-notifier", passwords["toir-notifier"], "notifier")
    engineer = connect(port, "engineer-e1", passwords["engineer-e1"], "e1")
    device = connect(port, "dev-a", passwords["dev-a"], "dev-a")
    for client in (notifier, engineer, device):
        assert client.connack.get(timeout=WAIT_S)
    engineer.subscribe("toir/v1/engineers/e1/tickets", "toir/v1/engineers/e2/tickets")
    device.subscribe("toir/v1/engineers/#", "toir/v1/devices/#")

    notifier.publish("toir/v1/engineers/e2/tickets")
    device.publish("toir/v1/devices/dev-a/telemetry")
    notifier.publish("toir/v1/engineers/e1/tickets")
    assert engineer.next_message() == "toir/v1/engineers/e1/tickets"
    time.sleep(0.2)  # what the device might wrongly get was sent before the engineer's
    assert engineer.received() == []
    assert device.received() == []


@pytest.mark.skipif(MOSQUITTO_PASSWD is None, reason="needs mosquitto_passwd")
def test_hashes_written_by_mosquitto_passwd_verify_with_ours(tmp_path: Path) -> None:
    assert MOSQUITTO_PASSWD is not None
    path = tmp_path / "passwd"
    subprocess.run([MOSQUITTO_PASSWD, "-b", "-c", str(path), "dev", "s3cret"], check=True)
    encoded = path.read_text().strip().split(":", 1)[1]
    assert verify_password("s3cret", encoded)
    assert not verify_password("other", encoded)
