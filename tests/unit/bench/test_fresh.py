"""Each benchmark run gets an empty data directory of its own, gone after a good run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kernel.settings import Settings
from toir.bench.fresh import fresh_data_dir
from toir.devstack import DataDirError


def test_a_run_gets_an_empty_directory_of_its_own_removed_after_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    (tmp_path / "postgres").mkdir()  # what an earlier run (or the demo) left

    with fresh_data_dir(settings, say=lambda _: None) as first:
        run_dir = first.data_dir
        (run_dir / "postgres").mkdir()
        assert run_dir.parent == tmp_path / "bench"
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o755
    with fresh_data_dir(settings, say=lambda _: None) as second:
        assert list(second.data_dir.iterdir()) == []

    assert settings.data_dir == tmp_path
    assert second.data_dir != run_dir
    assert not run_dir.exists() and not second.data_dir.exists()
    assert (tmp_path / "postgres").is_dir()


def test_a_failed_run_keeps_its_directory_and_says_where(tmp_path: Path) -> None:
    said: list[str] = []

    with (
        pytest.raises(RuntimeError),
        fresh_data_dir(Settings(data_dir=tmp_path), say=said.append) as s,
    ):
        (s.data_dir / "logs").mkdir()
        raise RuntimeError("the stream worker did not start")

    [kept] = list((tmp_path / "bench").iterdir())
    assert (kept / "logs").is_dir()
    assert said == [f"benchmark run failed; its services' data and logs are kept in {kept}"]


def test_an_unusable_data_directory_is_refused_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")  # nobody, root included, can make a folder in it
    data_dir = tmp_path / "afile" / "sub"
    said: list[str] = []

    with (
        pytest.raises(DataDirError) as refused,
        fresh_data_dir(Settings(data_dir=data_dir), say=said.append),
    ):
        pytest.fail("the run started")

    assert str(refused.value) == f"cannot use data directory {data_dir / 'bench'}: not a directory"
    assert said == []
