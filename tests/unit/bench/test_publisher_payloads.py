"""The benchmark publisher's readings vary as a real device's do, batched or not."""

from __future__ import annotations

import socket
from itertools import islice, pairwise

import orjson
import pytest

from toir.bench.publisher import Load, Payloads, main


def _series(batch: int, messages: int) -> dict[str, list[dict[str, float]]]:
    load = Load(equipment=["eq-1", "eq-2", "eq-3"], vehicles=[], rate_msgs_s=0, batch=batch)
    series: dict[str, list[dict[str, float]]] = {}
    for topic, payload, count in islice(Payloads(load), messages):
        body = orjson.loads(payload)
        items = body if isinstance(body, list) else [body]
        assert len(items) == count == batch
        series.setdefault(topic.split("/")[3], []).extend(item["metrics"] for item in items)
    return series


@pytest.mark.parametrize("batch", [1, 50])
def test_no_metric_repeats_from_one_reading_to_the_next(batch: int) -> None:
    # Equal consecutive values are what a stuck sensor sends: the detectors would open an
    # anomaly on every unit and the benchmark would measure tickets instead of ingest.
    series = _series(batch, messages=30)
    assert sorted(series) == ["eq-1", "eq-2", "eq-3"]
    for readings in series.values():
        assert len(readings) == 10 * batch
        for before, after in pairwise(readings):
            assert all(before[name] != after[name] for name in before)


def test_a_batched_device_sends_the_series_it_would_send_one_reading_at_a_time() -> None:
    one_by_one = _series(1, messages=3 * 100)
    batched = _series(50, messages=3 * 2)
    assert batched == one_by_one


def test_a_load_without_devices_is_refused_rather_than_spinning() -> None:
    with pytest.raises(ValueError, match="at least one device"):
        Payloads(Load(equipment=[], vehicles=[], rate_msgs_s=0, batch=1))
    with pytest.raises(ValueError, match="one reading per message"):
        Payloads(Load(equipment=["eq-1"], vehicles=[], rate_msgs_s=0, batch=0))


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--equipment", "0"], "at least one device"),
        (["--equipment", "-3", "--vehicles", "5"], "none negative"),
        (["--batch", "0"], "--batch"),
        (["--rate", "-1"], "--rate"),
        (["--messages", "0"], "more than zero"),
        (["--duration-s", "-2"], "more than zero"),
        (["--mqtt-url", "nonsense"], "--mqtt-url: scheme must be one of mqtt, mqtts"),
        (["--mqtt-url", "mqtt://"], "--mqtt-url: a host is required"),
    ],
)
def test_the_command_refuses_a_load_it_cannot_publish_in_one_line(
    arguments: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--mqtt-url", "mqtt://127.0.0.1:1", "--messages", "1", *arguments])
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err.splitlines()[-1]


def test_a_broker_that_refuses_is_one_line_and_a_failed_exit() -> None:
    with socket.socket() as listener:  # a port that nothing will accept on
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    with pytest.raises(SystemExit) as exited:
        main(["--mqtt-url", f"mqtt://127.0.0.1:{port}", "--equipment", "1", "--messages", "1"])
    assert str(exited.value.code).startswith("publisher: ")
    assert "\n" not in str(exited.value.code)
