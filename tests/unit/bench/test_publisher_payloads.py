"""The benchmark publisher's readings vary as a real device's do, batched or not."""

from __future__ import annotations

from itertools import islice, pairwise

import orjson
import pytest

from toir.bench.publisher import Load, Payloads


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
