"""The embedded PostgreSQL: real use, restarts on the same folder, and what a killed run leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import psycopg
import pytest

from tests.integration.devstack.support import (
    eventually,
    port_closed,
    process_gone,
    write_and_read_rows,
)
from toir.devstack import DirInUseError, start_postgres

POSTMASTER_PID_FILE = "postmaster.pid"
SHORT_SOCKET_DIRS = Path("/tmp/toir-pg-*")
# Starts PostgreSQL, reports its pid, then waits to be killed.
STARTER_SCRIPT = """
import sys, time
from pathlib import Path
from toir.devstack import start_postgres
service = start_postgres(Path(sys.argv[1]), log=lambda _message: None)
print(service.pid, flush=True)
time.sleep(600)
"""


def test_postgres_serves_sql_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    service = start_postgres(tmp_path)
    assert service.url.startswith("postgresql://toir@127.0.0.1:")
    assert write_and_read_rows(service.url, ["first"]) == ["first"]
    server_processes = [psutil.Process(service.pid), *psutil.Process(service.pid).children()]

    service.stop()
    service.stop()  # idempotent

    assert all(process_gone(p.pid) for p in server_processes)
    assert port_closed(service.url)
    assert not (tmp_path / "pgdata" / POSTMASTER_PID_FILE).exists()
    again = start_postgres(tmp_path)
    try:
        assert write_and_read_rows(again.url, ["second"]) == ["first", "second"]
    finally:
        again.stop()


def test_second_start_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    service = start_postgres(tmp_path)
    try:
        with pytest.raises(DirInUseError):
            start_postgres(tmp_path)
    finally:
        service.stop()


def test_a_killed_server_does_not_break_the_next_start(tmp_path: Path) -> None:
    service = start_postgres(tmp_path)
    write_and_read_rows(service.url, ["before the crash"])
    # synchronous_commit=off leaves the last commits in memory for up to wal_writer_delay.
    _flush_wal(service.url)
    os.kill(service.pid, signal.SIGKILL)
    service.stop()
    assert (tmp_path / "pgdata" / POSTMASTER_PID_FILE).exists()

    again = start_postgres(tmp_path)
    try:
        assert write_and_read_rows(again.url, ["after"]) == ["before the crash", "after"]
    finally:
        again.stop()


def test_an_orphaned_server_on_the_folder_is_stopped_before_the_next_start(tmp_path: Path) -> None:
    orphan = start_postgres(tmp_path)
    orphan.lock.release()  # as if its parent had died and the death signal had not come

    again = start_postgres(tmp_path)
    try:
        assert process_gone(orphan.pid)
        assert write_and_read_rows(again.url, ["ok"]) == ["ok"]
    finally:
        again.stop()
        orphan.stop()


def test_a_folder_too_deep_for_a_unix_socket_gets_a_short_socket_dir_removed_on_stop(
    tmp_path: Path,
) -> None:
    deep = tmp_path / ("deep" * 30)
    short_dirs_before = set(SHORT_SOCKET_DIRS.parent.glob(SHORT_SOCKET_DIRS.name))

    service = start_postgres(deep)
    try:
        assert write_and_read_rows(service.url, ["ok"]) == ["ok"]
    finally:
        service.stop()

    assert set(SHORT_SOCKET_DIRS.parent.glob(SHORT_SOCKET_DIRS.name)) == short_dirs_before


def _flush_wal(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def test_a_stale_pid_file_naming_another_live_process_is_ignored(tmp_path: Path) -> None:
    start_postgres(tmp_path).stop()
    pid_file = tmp_path / "pgdata" / POSTMASTER_PID_FILE
    pid_file.write_text(f"{os.getpid()}\n{tmp_path / 'pgdata'}\n")

    again = start_postgres(tmp_path)
    try:
        assert write_and_read_rows(again.url, ["ok"]) == ["ok"]
    finally:
        again.stop()


def test_the_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", STARTER_SCRIPT, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()

    assert eventually(lambda: process_gone(server_pid))
    again = start_postgres(tmp_path)
    again.stop()
