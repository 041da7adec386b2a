"""Running toir's own processes as children: the demo, the benchmarks and the tests
start `toir ingest` and `toir stream` exactly as an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kernel.settings import Settings
from toir.devstack.process import die_with_parent
from toir.probe import wait_until_ready

STOP_TIMEOUT_S = 15.0
READY_TIMEOUT_S = 120.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    mqtt_url: str
    kafka_url: str


def process_env(urls: ServiceUrls, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a child toir process gets: ours plus the service URLs."""
    env = dict(os.environ)
    env.update(
        TOIR_DATABASE_URL=urls.database_url,
        TOIR_MQTT_URL=urls.mqtt_url,
        TOIR_KAFKA_URL=urls.kafka_url,
        TOIR_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update({f"TOIR_{key.upper()}": value for key, value in extra.items()})
    return env


def free_tcp_port() -> int:
    """A port nothing listens on right now, on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ToirProcess:
    """One `toir <command>` child with its log file."""

    command: str
    env: dict[str, str]
    log_path: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        # SIGTERM when we die, even by SIGKILL: a crashed demo leaves no workers behind.
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "toir", self.command],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to commit or clean up."""
        if self._proc is not None and self.alive():
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
        self._close_log()

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self._proc is not None and self.alive():
            self._proc.terminate()
            try:
                self._proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._close_log()

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@contextmanager
def running_platform(
    settings: Settings,
    urls: ServiceUrls,
    progress: Progress,
    *,
    stream_workers: int = 1,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Start `toir stream` and `toir ingest`, wait until a probe goes through, stop after.

    stream_workers > 1 starts that many `toir stream` workers, sharing the partitions as an
    operator scaling out would run them, each with a data directory of its own.
    """
    logs = settings.data_dir / "logs"
    extra = dict(extra_env or {})
    # The OsmAnd receiver gets a free port of its own: a dev machine may run several stacks.
    env = process_env(urls, settings.data_dir, ingest_http_port=str(free_tcp_port()), **extra)
    children = [
        *_stream_workers(settings, urls, stream_workers, extra),
        ToirProcess("ingest", env, logs / "ingest.log"),
    ]
    for child in children:
        child.start()
    try:
        progress("waiting for the pipeline (a probe reading from MQTT to the database)...")
        took_s = wait_until_ready(urls.database_url, urls.mqtt_url, timeout_s=READY_TIMEOUT_S)
        progress(f"pipeline ready in {took_s:.1f} s; logs in {logs}")
        yield
    finally:
        for child in reversed(children):
            child.stop()


def _stream_workers(
    settings: Settings, urls: ServiceUrls, count: int, extra_env: dict[str, str]
) -> list[ToirProcess]:
    logs = settings.data_dir / "logs"
    if count == 1:
        env = process_env(urls, settings.data_dir, **extra_env)
        return [ToirProcess("stream", env, logs / "stream.log")]
    workers = []
    for number in range(1, count + 1):
        env = process_env(urls, settings.data_dir / f"stream-{number}", **extra_env)
        workers.append(ToirProcess("stream", env, logs / f"stream-{number}.log"))
    return workers
