"""A data directory `toir demo` or a benchmark cannot use is one line and a failed exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from toir.devstack import DataDirError
from toir.devstack.lock import DirLock

# Each command fails before it starts a service; the timeout only bounds a regression.
COMMAND_TIMEOUT_S = 60

DATA_DIR_COMMANDS = [
    ["demo", "--duration", "1"],
    ["bench", "ingest", "--duration", "1"],
    ["bench", "ingest-suite"],
    ["bench", "queries"],
    ["bench", "memory"],
    ["bench", "loop"],
    ["bench", "tickets-api"],
]


def _toir(data_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    # Nothing configured: every service would be started under the data directory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOIR_")}
    env["TOIR_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "toir", *arguments],
        env=env,
        cwd=data_dir.parent if data_dir.parent.is_dir() else None,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


@pytest.mark.parametrize("arguments", DATA_DIR_COMMANDS, ids=" ".join)
def test_a_data_dir_under_a_regular_file_is_one_line_naming_it(
    tmp_path: Path, arguments: list[str]
) -> None:
    # Root may write anywhere; nobody can make a directory inside a regular file.
    (tmp_path / "afile").write_text("")
    data_dir = tmp_path / "afile" / "sub"

    done = _toir(data_dir, *arguments)

    assert done.returncode != 0
    [line] = done.stderr.splitlines()
    assert line.startswith(f"toir: cannot use data directory {data_dir}/")
    assert line.endswith(": not a directory")
    assert not data_dir.exists()


def test_a_service_folder_taken_by_a_regular_file_is_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "postgres").write_text("")

    done = _toir(data_dir, "demo", "--duration", "1")

    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        f"toir: cannot use data directory {data_dir / 'postgres'}: file exists"
    ]


@pytest.mark.parametrize(
    ("service", "arguments"),
    [("postgres", ["demo", "--duration", "1"]), ("bench-queries", ["bench", "queries"])],
)
def test_a_data_dir_another_stack_runs_on_is_one_line_naming_the_holder(
    tmp_path: Path, service: str, arguments: list[str]
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / service).mkdir(parents=True)
    holder = DirLock(data_dir / service)
    holder.acquire()
    try:
        done = _toir(data_dir, *arguments)
    finally:
        holder.release()

    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        f"toir: data directory {data_dir / service} is in use by process {os.getpid()}"
    ]


def test_a_lock_file_that_cannot_be_opened_is_a_data_dir_error(tmp_path: Path) -> None:
    (tmp_path / ".lock").mkdir()

    with pytest.raises(DataDirError) as refused:
        DirLock(tmp_path).acquire()

    assert str(refused.value) == f"cannot use data directory {tmp_path}: is a directory"
