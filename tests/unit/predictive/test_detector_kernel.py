"""The compiled per-reading loop gives, to the bit, what the vectorised steps gave."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import numpy.typing as npt
import pytest

from predictive.online.config import KINDS, DetectorConfig, Hysteresis
from predictive.online.kernel import BatchScores, Settings, score_batch
from predictive.online.state import DetectorState
from predictive.settings import DEMO_DETECTOR, detector_config
from tests.unit.predictive.vectorised_reference import score_batch_by_steps

# Short warm-ups and eager thresholds: a few hundred readings a unit open and clear every kind.
EAGER = replace(
    DetectorConfig(),
    warmup_samples=20,
    drift_warmup_samples=40,
    stuck_samples=5,
    spike=Hysteresis(4.0, 2.0, 2, 3, 4),
    drift=Hysteresis(2.5, 1.5, 3, 6, 8),
)
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
CONFIGS = {"default": DetectorConfig(), "demo": detector_config(DEMO_DETECTOR), "eager": EAGER}


class Batches:
    """Readings of a few units: noise, gaps (NaN and inf), replays, stops and starts, a
    stuck sensor, spikes and a slow drift, in batches where a unit appears many times."""

    def __init__(self, seed: int, *, units: int, metrics: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.units, self.metrics = units, metrics
        self.next_us = 1_780_000_000_000_000
        self.sent = 0

    def batch(self, count: int) -> tuple[Ints, Ints, Ints, Floats]:
        rng = self.rng
        rows = rng.integers(0, self.units, count)
        ts_us = self.next_us + np.arange(count) * 1_000_000
        # One reading in twenty repeats an earlier time: a replay, skipped whole.
        replay = rng.random(count) < 0.05
        ts_us = np.where(replay, ts_us - rng.integers(1, 50, count) * 1_000_000, ts_us)
        self.next_us += count * 1_000_000
        index = self.sent + np.arange(count)
        self.sent += count
        mode = ((index // 97 + rows) % 5 == 4).astype(np.int64)
        mode[rng.random(count) < 0.02] ^= 1  # a few flickers: transients to settle
        return rows, ts_us, mode, self._values(rows, index)

    def _values(self, rows: Ints, index: Ints) -> Floats:
        rng = self.rng
        count = len(rows)
        values = 50.0 + rows[:, None] + rng.normal(0.0, 1.0, (count, self.metrics))
        values[:, 0] = np.where(rows % 3 == 0, 42.0, values[:, 0])  # a stuck sensor
        values[:, -1] += np.where(rows % 4 == 1, index / 40.0, 0.0)  # a slow drift
        values[rng.random((count, self.metrics)) < 0.02] += 40.0  # spikes
        values[rng.random((count, self.metrics)) < 0.05] = np.nan  # gaps
        values[rng.random((count, self.metrics)) < 0.005] = np.inf
        return values


def _assert_same(kernel: BatchScores, reference: BatchScores) -> None:
    for field in fields(BatchScores):
        got, want = getattr(kernel, field.name), getattr(reference, field.name)
        assert np.array_equal(got, want, equal_nan=True), field.name


def _assert_same_state(a: DetectorState, b: DetectorState) -> None:
    assert a.blocks.keys() == b.blocks.keys()
    for name in a.blocks:
        assert np.array_equal(a.blocks[name], b.blocks[name], equal_nan=True), name


def _run(config: DetectorConfig, seed: int, *, units: int, metrics: int) -> BatchScores:
    """Both ways over the same batches; every batch's scores and the state after it must
    match. The last batch's scores (kernel side), to see what was exercised."""
    settings = Settings.of(config, config.hysteresis())
    compiled, stepped = (
        DetectorState(regimes=config.regimes, metrics=metrics, kinds=len(KINDS)) for _ in "ab"
    )
    unit_ids = [f"unit-{i}" for i in range(units)]
    compiled.rows_of(unit_ids)
    stepped.rows_of(unit_ids)
    batches = Batches(seed, units=units, metrics=metrics)
    every = []
    for size in (1, 7, 300, 2_000, 2_000, 2_000):
        rows, ts_us, mode, values = batches.batch(size)
        got = score_batch(compiled, rows, ts_us, mode, values, settings)
        want = score_batch_by_steps(stepped, rows, ts_us, mode, values, config)
        _assert_same(got, want)
        _assert_same_state(compiled, stepped)
        every.append(got)
    return BatchScores(
        *(np.concatenate([getattr(b, f.name) for b in every]) for f in fields(BatchScores))
    )


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_events_and_state_match_the_vectorised_steps(name: str, seed: int) -> None:
    scores = _run(CONFIGS[name], seed, units=6, metrics=3)
    # Replays were skipped and stops scored against their own baselines.
    assert not scores.learnt.all()
    assert (scores.regime >= CONFIGS[name].regimes // 2).any()


def test_the_eager_settings_open_and_clear_every_kind() -> None:
    # The comparison above is only as good as what it exercises: with these settings every
    # kind of anomaly both opens and clears, so the hysteresis paths are all compared.
    scores = _run(EAGER, 4, units=6, metrics=3)
    assert scores.opened.any(axis=0).all()
    assert scores.cleared.any(axis=0).all()


@pytest.mark.parametrize("metrics", [1, 5])
def test_one_metric_and_many_match_too(metrics: int) -> None:
    scores = _run(EAGER, 5, units=4, metrics=metrics)
    assert scores.opened.any()


def test_a_unit_many_times_in_one_batch_is_learnt_in_arrival_order() -> None:
    config = EAGER
    state = DetectorState(regimes=config.regimes, metrics=1, kinds=len(KINDS))
    rows = state.rows_of(["pump"] * 4)
    ts_us = np.array([10, 20, 15, 30], dtype=np.int64)  # the third is older: a replay
    values = np.array([[1.0], [2.0], [9.0], [4.0]])
    scores = score_batch(
        state, rows, ts_us, np.zeros(4, np.int64), values, Settings.of(config, config.hysteresis())
    )
    assert scores.learnt.tolist() == [True, True, False, True]
    assert state.unit_ids == ["pump"]
    assert state.count.sum() == 3  # three readings learnt, all in the running regime 0
    assert state.prev[0, 0] == 4.0
