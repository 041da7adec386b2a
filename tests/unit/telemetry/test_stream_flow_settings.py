"""The stream app hands its prefetch settings to faust (their effect is measured by
`toir bench ingest-suite`, not here)."""

from pathlib import Path

import pytest

from ingest.packing import PACK_MAX_BYTES
from kernel.settings import SettingsError, load_settings
from stream.app import create_app


def test_prefetch_settings_reach_the_faust_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TOIR_STREAM_BUFFER_SIZE", "12345")
    monkeypatch.setenv("TOIR_STREAM_PARTITION_FETCH_BYTES", "3000000")
    settings = load_settings(
        kafka_url="kafka://127.0.0.1:9",
        database_url="postgresql://toir@127.0.0.1:9/toir",
        data_dir=tmp_path,
    )
    app = create_app(settings)
    assert app.conf.stream_buffer_maxsize == 12345
    assert app.conf.consumer_max_fetch_size == 3_000_000


def test_defaults_fetch_more_than_faust_does_and_bound_what_a_lagging_worker_holds() -> None:
    settings = load_settings()
    assert settings.stream_partition_fetch_bytes > 1024 * 1024
    assert settings.stream_buffer_size * PACK_MAX_BYTES <= 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TOIR_STREAM_BUFFER_SIZE", "0"), ("TOIR_STREAM_PARTITION_FETCH_BYTES", "1000")],
)
def test_nonsense_prefetch_is_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()
