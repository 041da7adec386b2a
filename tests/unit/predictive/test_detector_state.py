from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from predictive.online.batch import to_batch
from predictive.online.config import DetectorConfig, Hysteresis
from predictive.online.detector import OnlineDetector
from predictive.online.events import AnomalyEvent
from tests.unit.predictive.factories import WARM_SAMPLES, noisy, timestamps

METRICS = ("temperature_c", "vibration_mm_s")
UNITS = ("eq-1", "eq-2", "eq-3")


@dataclass(frozen=True)
class Rows:
    """Readings of several units in arrival order, as update_batch takes them."""

    unit_ids: list[str]
    ts_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    running: npt.NDArray[np.bool_]

    def part(self, start: int, stop: int | None = None) -> Rows:
        """The rows from start to stop."""
        cut = slice(start, stop)
        return Rows(self.unit_ids[cut], self.ts_us[cut], self.values[cut], self.running[cut])


def _fleet_rows(samples: int) -> Rows:
    """Three units interleaved in time, with a spike, a drift, a stuck sensor and stops."""
    series = [noisy(samples, metrics=2, seed=unit, daily_amplitude=2.0) for unit in range(3)]
    series[0].values[WARM_SAMPLES + 300 : WARM_SAMPLES + 310, 0] += 20.0
    series[1].values[WARM_SAMPLES:, 1] += np.linspace(0.0, 30.0, samples - WARM_SAMPLES)
    series[2].values[WARM_SAMPLES + 60 :, 0] = series[2].values[WARM_SAMPLES + 60, 0]
    for unit in series:
        unit.running[::500] = False
    return Rows(
        unit_ids=list(UNITS) * samples,
        ts_us=np.repeat(timestamps(samples), 3),
        values=np.stack([s.values for s in series], axis=1).reshape(-1, 2),
        running=np.stack([s.running for s in series], axis=1).reshape(-1),
    )


def _run(detector: OnlineDetector, rows: Rows, batch: int) -> list[AnomalyEvent]:
    events: list[AnomalyEvent] = []
    for start in range(0, len(rows.unit_ids), batch):
        part = rows.part(start, start + batch)
        events += detector.update_batch(part.unit_ids, part.ts_us, part.values, part.running)
    return events


def test_a_batched_update_equals_a_reading_by_reading_update() -> None:
    rows = _fleet_rows(WARM_SAMPLES + 400)
    batched, single = OnlineDetector(METRICS), OnlineDetector(METRICS)

    batched_events = _run(batched, rows, batch=1_000)
    single_events = _run(single, rows, batch=1)

    assert len(batched_events) >= 3
    assert batched_events == single_events
    assert batched.to_dict() == single.to_dict()


def test_state_round_trips_through_json_and_continues_identically() -> None:
    rows = _fleet_rows(WARM_SAMPLES + 400)
    first, rest = rows.part(0, 3 * (WARM_SAMPLES + 100)), rows.part(3 * (WARM_SAMPLES + 100))
    original = OnlineDetector(METRICS)
    _run(original, first, batch=1_000)

    restored = OnlineDetector.from_dict(json.loads(json.dumps(original.to_dict())))

    assert restored.to_dict() == original.to_dict()
    original_events = _run(original, rest, batch=1_000)
    assert _run(restored, rest, batch=1_000) == original_events
    assert original_events
    assert restored.to_dict() == original.to_dict()


def test_settings_travel_with_the_state() -> None:
    config = DetectorConfig(warmup_samples=100, spike=Hysteresis(5.0, 2.0, 2, 4, 7))

    restored = OnlineDetector.from_dict(
        json.loads(json.dumps(OnlineDetector(METRICS, config).to_dict()))
    )

    assert restored.config == config
    assert restored.metric_names == METRICS


def test_a_replayed_batch_is_skipped() -> None:
    rows = _fleet_rows(WARM_SAMPLES + 100)
    detector = OnlineDetector(METRICS)
    _run(detector, rows, batch=1_000)
    before = detector.to_dict()

    assert _run(detector, rows, batch=1_000) == []
    assert detector.to_dict() == before


def test_an_unknown_state_format_is_refused() -> None:
    data = OnlineDetector(METRICS).to_dict()
    data["format"] = 99

    with pytest.raises(ValueError, match="format"):
        OnlineDetector.from_dict(data)


def test_readings_become_columns_in_metric_order() -> None:
    from devices.records import Reading

    readings = [
        Reading("eq-1", 10, running=None, metrics={"vibration_mm_s": 2.0, "temperature_c": 40.0}),
        Reading("eq-2", 11, running=False, metrics={"temperature_c": 35.0}),
    ]

    batch = to_batch(readings, METRICS)

    assert batch.unit_ids == ["eq-1", "eq-2"]
    assert batch.ts_us.tolist() == [10, 11]
    assert batch.values[0].tolist() == [40.0, 2.0]
    assert batch.values[1, 0] == 35.0 and np.isnan(batch.values[1, 1])
    assert batch.running.tolist() == [True, False]
