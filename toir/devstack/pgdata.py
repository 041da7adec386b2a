"""The PostgreSQL data folder: creation, initdb, and what a killed run leaves behind."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
from pathlib import Path

import psutil

from toir.devstack.accounts import RunAs, grant_traverse
from toir.devstack.errors import ServiceStartError
from toir.devstack.process import LogFn, log_size, log_tail

PG_SUPERUSER = "toir"
PG_VERSION_FILE = "PG_VERSION"
POSTMASTER_PID_FILE = "postmaster.pid"
SOCKET_FILE_GLOB = ".s.PGSQL.*"
INITDB_TIMEOUT_S = 120.0
ORPHAN_STOP_TIMEOUT_S = 10.0


def prepare(pgdata: Path, run_as: RunAs | None, say: LogFn) -> None:
    """Create the folder; when running as root, hand it to `run_as` and open the path to it."""
    pgdata.mkdir(mode=0o700, exist_ok=True)
    if run_as is None:
        return
    if pgdata.stat().st_uid != run_as.uid:
        run_as.chown_tree(pgdata)
    for opened in grant_traverse(pgdata):
        say(f"postgres: let other users traverse {opened} (the server runs as {run_as.name})")


def initdb(initdb_bin: Path, pgdata: Path, *, log_path: Path, run_as: RunAs | None) -> bool:
    """Create the cluster unless it exists; True when it was created."""
    if (pgdata / PG_VERSION_FILE).exists():
        return False
    # No PG_VERSION: an initdb killed half-way. initdb itself empties the folder on failure.
    _empty(pgdata)
    argv = [str(initdb_bin), "-D", str(pgdata), "-U", PG_SUPERUSER, "--auth=trust"]
    # C locale: the same sort order on every machine; --no-sync: dev data, see postgres.py.
    argv += ["--encoding=UTF8", "--locale=C", "--no-sync"]
    log_start = log_size(log_path)
    with log_path.open("ab") as log_file:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            timeout=INITDB_TIMEOUT_S,
            check=False,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,
        )
    if result.returncode != 0:
        tail = log_tail(log_path, log_start)
        raise ServiceStartError(f"initdb failed with code {result.returncode}; {log_path}:\n{tail}")
    return True


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def clear_leftovers(pgdata: Path, say: LogFn) -> None:
    """After a killed run: stop server processes still on `pgdata`, remove the pid and sockets."""
    pid_file = pgdata / POSTMASTER_PID_FILE
    if not pid_file.exists():
        return
    orphans = _server_processes(pgdata)
    if orphans:
        say(f"postgres: stopping an orphaned server on {pgdata} ({len(orphans)} processes)")
        _stop_orphans(orphans, _postmaster_pid(pid_file))
    if pid_file.exists():
        say(f"postgres: removing stale {pid_file}")
        pid_file.unlink(missing_ok=True)
    for socket_file in pgdata.glob(SOCKET_FILE_GLOB):
        socket_file.unlink(missing_ok=True)


def _postmaster_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _server_processes(pgdata: Path) -> list[psutil.Process]:
    """Live postgres processes working in `pgdata`: every server process chdirs there."""
    target = str(pgdata.resolve())
    return [
        process
        for process in psutil.process_iter(["name", "cwd"])
        if process.info["name"] == "postgres" and process.info["cwd"] == target
    ]


def _stop_orphans(orphans: list[psutil.Process], postmaster_pid: int | None) -> None:
    postmaster = next((p for p in orphans if p.pid == postmaster_pid), None)
    if postmaster is not None:
        # SIGINT is PostgreSQL's fast shutdown; the postmaster stops its own children.
        _send(postmaster, signal.SIGINT)
    else:
        for orphan in orphans:  # backends of a killed postmaster
            _send(orphan, signal.SIGTERM)
    _, alive = psutil.wait_procs(orphans, timeout=ORPHAN_STOP_TIMEOUT_S)
    for survivor in alive:
        _send(survivor, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=ORPHAN_STOP_TIMEOUT_S)


def _send(process: psutil.Process, signal_number: signal.Signals) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        process.send_signal(signal_number)
