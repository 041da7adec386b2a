"""An MQTT broker on a free loopback port: mosquitto when installed, else amqtt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from functools import partial
from importlib import metadata
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from toir.devstack.accounts import running_as_root
from toir.devstack.datadir import ensure_dir
from toir.devstack.errors import ServiceStartError
from toir.devstack.lock import DirLock
from toir.devstack.ports import LOOPBACK_HOST, on_free_port
from toir.devstack.process import LogFn, RunningService, default_log, start_child

# "amqtt" or "mosquitto" forces that broker; unset: mosquitto when installed.
MQTT_BROKER_ENV = "TOIR_DEVSTACK_MQTT"
MOSQUITTO_SBIN = "/usr/sbin/mosquitto"
START_TIMEOUT_S = 30.0
VERSION_TIMEOUT_S = 5.0
PROBE_TIMEOUT_S = 1.0
PROBE_LOOP_S = 0.05
PROBE_KEEPALIVE_S = 10
PROBE_CLIENT_ID = "toir-devstack-probe"
LOG_FILE_NAME = "broker.log"


def start_mqtt(
    directory: Path, *, log: LogFn | None = None, port: int | None = None
) -> RunningService:
    """Start an MQTT broker keeping its persistent sessions under `directory`.

    `port` pins the port (to restart a broker where its clients expect it); by default
    a free one is chosen.
    """
    say = log or default_log
    directory = directory.resolve()
    ensure_dir(directory)
    lock = DirLock(directory)
    lock.acquire()
    try:
        mosquitto = _mosquitto_bin()
        run = partial(_run, directory, lock, mosquitto)
        service = run(port) if port is not None else on_free_port(run)
    except BaseException:
        lock.release()
        raise
    say(
        f"mqtt: {service.version} started at {service.url}, pid {service.pid}, "
        f"folder {directory}, log {directory / LOG_FILE_NAME}"
    )
    say("mqtt: anonymous clients are allowed: this is the dev stack, listening on loopback only")
    if mosquitto is None:
        say("mqtt: amqtt keeps sessions and queued messages in memory only: a restart drops them")
    return service


def _mosquitto_bin() -> str | None:
    """The mosquitto executable, or None to use amqtt."""
    choice = os.environ.get(MQTT_BROKER_ENV, "").strip().lower()
    if choice not in ("", "amqtt", "mosquitto"):
        raise ServiceStartError(f"{MQTT_BROKER_ENV} must be amqtt or mosquitto, got {choice!r}")
    if choice == "amqtt":
        return None
    found = shutil.which("mosquitto") or (
        MOSQUITTO_SBIN if os.access(MOSQUITTO_SBIN, os.X_OK) else None
    )
    if choice == "mosquitto" and found is None:
        raise ServiceStartError(f"{MQTT_BROKER_ENV}=mosquitto but mosquitto is not installed")
    return found


def _run(directory: Path, lock: DirLock, mosquitto: str | None, port: int) -> RunningService:
    if mosquitto is not None:
        argv, version = _mosquitto_argv(mosquitto, directory, port), _mosquitto_version(mosquitto)
    else:
        argv, version = _amqtt_argv(directory, port), f"amqtt {metadata.version('amqtt')}"
    process = start_child(
        argv,
        partial(_answers, port),
        name=version,
        log_path=directory / LOG_FILE_NAME,
        timeout_s=START_TIMEOUT_S,
    )
    url = f"mqtt://{LOOPBACK_HOST}:{port}"
    return RunningService(name="mqtt", url=url, version=version, process=process, lock=lock)


def _mosquitto_argv(mosquitto: str, directory: Path, port: int) -> list[str]:
    config_path = directory / "mosquitto.conf"
    config_path.write_text(_mosquitto_config(directory, port))
    return [mosquitto, "-c", str(config_path)]


def _mosquitto_config(directory: Path, port: int) -> str:
    persistence = directory / "data"
    persistence.mkdir(exist_ok=True)
    lines = [
        "# Written by toir's dev stack at every start: edits are lost.",
        f"listener {port} {LOOPBACK_HOST}",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {persistence}/",
        # Bursts from the fleet simulator must not be dropped by the broker's default limits.
        "max_inflight_messages 1000",
        "max_queued_messages 1000000",
        "max_queued_bytes 0",
        "log_dest stderr",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    if running_as_root():
        # Run as root it would switch to user "mosquitto", which cannot write our data dir.
        lines.append("user root")
    return "\n".join(lines) + "\n"


def _mosquitto_version(mosquitto: str) -> str:
    """E.g. "mosquitto version 2.0.11", the first line of `mosquitto -h`."""
    result = subprocess.run(
        [mosquitto, "-h"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S, check=False
    )
    first_line = (result.stdout or result.stderr).strip().split("\n", 1)[0]
    return first_line or "mosquitto"


def _amqtt_argv(directory: Path, port: int) -> list[str]:
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK_HOST}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    config_path = directory / "amqtt.yaml"
    # JSON is YAML: no YAML writer needed.
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(config_path)]


def _answers(port: int) -> bool:
    """True when the broker accepts an MQTT connection (CONNACK received)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=PROBE_CLIENT_ID)
    try:
        client.connect(LOOPBACK_HOST, port, keepalive=PROBE_KEEPALIVE_S)
        deadline = time.monotonic() + PROBE_TIMEOUT_S
        while not client.is_connected() and time.monotonic() < deadline:
            client.loop(timeout=PROBE_LOOP_S)
        return client.is_connected()
    except OSError:
        return False
    finally:
        client.disconnect()
        client.loop(timeout=PROBE_LOOP_S)
