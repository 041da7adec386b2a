"""Server child processes that die with their parent, and their common running handle."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toir.devstack.accounts import RunAs
from toir.devstack.errors import PortInUseError, ServiceStartError
from toir.devstack.lock import DirLock

STOP_TIMEOUT_S = 10.0
READY_POLL_INTERVAL_S = 0.1
LOG_TAIL_BYTES = 4000
# From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1

LogFn = Callable[[str], None]

_logger = logging.getLogger("toir.devstack")


def default_log(message: str) -> None:
    _logger.info("%s", message)


def die_with_parent(death_signal: signal.Signals) -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send `death_signal` to the child when this process dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # Loaded before fork: the child must not dlopen between fork and exec.
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent_pid = os.getpid()

    def preexec() -> None:
        # Runs after Popen's setuid: a credential change would clear the setting (prctl(2)).
        prctl(PR_SET_PDEATHSIG, int(death_signal))
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    death_signal: signal.Signals = signal.SIGTERM,
    run_as: RunAs | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` with output appended to `log_path`; it gets `death_signal` if we die.

    Linux sends the death signal when the *thread* that spawned the child exits, so call this
    from a thread that lives as long as the server should (the main thread in practice).
    """
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **extra_env} if extra_env else None,
            # Own session: a Ctrl-C in the terminal reaches only Python, which then stops the
            # servers in order, instead of every server at once.
            start_new_session=True,
            preexec_fn=die_with_parent(death_signal),
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,
        )


def stop_child(
    process: subprocess.Popen[bytes], stop_signal: signal.Signals, timeout_s: float
) -> None:
    """Send `stop_signal`, then SIGKILL if the process is still there after `timeout_s`."""
    if process.poll() is not None:
        return
    process.send_signal(stop_signal)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_size(log_path: Path) -> int:
    """Where this run's part of an appended log begins."""
    try:
        return log_path.stat().st_size
    except FileNotFoundError:
        return 0


def log_tail(log_path: Path, since: int = 0) -> str:
    """The end of what a server logged after offset `since`, for error messages."""
    try:
        with log_path.open("rb") as log_file:
            log_file.seek(max(since, log_size(log_path) - LOG_TAIL_BYTES))
            return log_file.read().decode(errors="replace").strip()
    except OSError:
        return "(no log)"


def wait_until_ready(
    process: subprocess.Popen[bytes],
    probe: Callable[[], bool],
    *,
    name: str,
    log_path: Path,
    log_start: int,
    timeout_s: float,
) -> None:
    """Poll `probe` until it returns True; raise with the log tail if the server exits or hangs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready = probe()
        # Checked after the probe: what answered may be another server that took the port.
        if process.poll() is not None:
            tail = log_tail(log_path, log_start)
            error = PortInUseError if "in use" in tail.lower() else ServiceStartError
            raise error(f"{name} exited with code {process.returncode}; {log_path}:\n{tail}")
        if ready:
            return
        time.sleep(READY_POLL_INTERVAL_S)
    tail = log_tail(log_path, log_start)
    raise ServiceStartError(f"{name} did not answer within {timeout_s:.0f} s; {log_path}:\n{tail}")


def start_child(
    argv: Sequence[str],
    probe: Callable[[], bool],
    *,
    name: str,
    log_path: Path,
    timeout_s: float,
    stop_signal: signal.Signals = signal.SIGTERM,
    run_as: RunAs | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Spawn a server and wait until `probe` passes; on any failure the child is stopped."""
    log_start = log_size(log_path)
    process = spawn(
        argv, log_path=log_path, death_signal=stop_signal, run_as=run_as, extra_env=extra_env
    )
    try:
        wait_until_ready(
            process, probe, name=name, log_path=log_path, log_start=log_start, timeout_s=timeout_s
        )
    except BaseException:
        stop_child(process, stop_signal, STOP_TIMEOUT_S)
        raise
    return process


@dataclass(eq=False)
class RunningService:
    """A dev-stack server this process started; `stop()` ends it and frees its data dir."""

    name: str
    url: str
    version: str
    process: subprocess.Popen[bytes]
    lock: DirLock
    stop_signal: signal.Signals = signal.SIGTERM
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    _stopped: bool = field(default=False, init=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop the server (its stop signal, SIGKILL after `timeout_s`); later calls do nothing."""
        if self._stopped:
            return
        self._stopped = True
        try:
            stop_child(self.process, self.stop_signal, timeout_s)
        finally:
            for cleanup in self.cleanups:
                cleanup()
            self.lock.release()
