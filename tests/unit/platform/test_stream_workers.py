"""Several `toir stream` workers started together: each with its own data and log."""

from __future__ import annotations

from pathlib import Path

from kernel.settings import Settings
from toir.processes import ServiceUrls, _stream_workers

URLS = ServiceUrls("postgresql://db/toir", "mqtt://broker:1883", "kafka://broker:9092")


def test_one_worker_keeps_the_platforms_data_directory(tmp_path: Path) -> None:
    [worker] = _stream_workers(Settings(data_dir=tmp_path), URLS, 1, {})
    assert worker.command == "stream"
    assert worker.env["TOIR_DATA_DIR"] == str(tmp_path)
    assert worker.log_path == tmp_path / "logs" / "stream.log"


def test_each_of_several_workers_has_a_data_directory_and_log_of_its_own(tmp_path: Path) -> None:
    # faust keeps per-worker files under the data directory: shared, they would collide.
    workers = _stream_workers(Settings(data_dir=tmp_path), URLS, 3, {"log_level": "DEBUG"})
    assert [w.command for w in workers] == ["stream"] * 3
    assert len({w.env["TOIR_DATA_DIR"] for w in workers}) == 3
    assert len({w.log_path for w in workers}) == 3
    assert all(Path(w.env["TOIR_DATA_DIR"]).parent == tmp_path for w in workers)
    assert all(w.env["TOIR_KAFKA_URL"] == URLS.kafka_url for w in workers)
    assert all(w.env["TOIR_LOG_LEVEL"] == "DEBUG" for w in workers)
