from __future__ import annotations

import numpy as np
import pytest

from predictive.models.features import FeatureSpec, fleet_features, unit_features
from predictive.models.isolation import TrainingError, fit_features, train_model

METRICS = ("temperature_c", "current_a")
SPEC = FeatureSpec(METRICS, window=20, stride=20, ratios=(("temperature_c", "current_a"),))
STEP_US = 60_000_000


def _normal_history(samples: int, seed: int) -> np.ndarray:
    """Temperature follows the load (current): each metric alone has a wide range."""
    rng = np.random.default_rng(seed)
    load = 20.0 + 10.0 * np.sin(np.arange(samples) / 200.0) + rng.normal(0, 0.5, samples)
    temperature = 30.0 + 1.5 * load + rng.normal(0, 0.5, samples)
    return np.column_stack([temperature, load])


def test_feature_names_follow_metrics_statistics_and_ratios() -> None:
    names = SPEC.names()

    assert names[:5] == (
        "temperature_c_mean",
        "temperature_c_std",
        "temperature_c_min",
        "temperature_c_max",
        "temperature_c_slope_per_h",
    )
    assert names[-2:] == ("temperature_c_per_current_a", "running_fraction")
    assert len(names) == 2 * 5 + 2


def test_window_statistics_and_slope_are_exact_on_a_ramp() -> None:
    ts_us = np.arange(40, dtype=np.int64) * STEP_US
    # Rises by 1 per minute: 60 per hour.
    values = np.column_stack([np.arange(40.0), np.full(40, 2.0)])
    running = np.arange(40) % 2 == 0

    features, ends = unit_features(SPEC, ts_us, values, running)

    first = dict(zip(SPEC.names(), features[0], strict=True))
    assert features.shape == (2, len(SPEC.names()))
    assert ends.tolist() == [19 * STEP_US, 39 * STEP_US]
    assert first["temperature_c_mean"] == pytest.approx(9.5)
    assert (first["temperature_c_min"], first["temperature_c_max"]) == (0.0, 19.0)
    assert first["temperature_c_slope_per_h"] == pytest.approx(60.0)
    assert first["current_a_slope_per_h"] == pytest.approx(0.0)
    assert first["temperature_c_per_current_a"] == pytest.approx(9.5 / 2.001)
    assert first["running_fraction"] == pytest.approx(0.5)


def test_a_unit_with_fewer_readings_than_a_window_has_no_features() -> None:
    features, ends = unit_features(SPEC, np.arange(5, dtype=np.int64), np.ones((5, 2)))

    assert features.shape == (0, len(SPEC.names())) and len(ends) == 0


def test_the_forest_scores_an_unseen_combination_above_normal_windows() -> None:
    history = _normal_history(8_000, seed=1)
    ts_us = np.arange(8_000, dtype=np.int64) * STEP_US
    model = train_model(SPEC, np.zeros(8_000, np.int64), ts_us, history)
    normal = _normal_history(2_000, seed=2)
    odd = normal.copy()
    # Hot at light load: each metric stays within its usual range, the pair does not.
    odd[:, 0] = 30.0 + 1.5 * 28.0 + np.random.default_rng(3).normal(0, 0.5, 2_000)
    odd[:, 1] = 12.0 + np.random.default_rng(4).normal(0, 0.5, 2_000)
    test_ts = np.arange(2_000, dtype=np.int64) * STEP_US

    normal_scores = model.scores(unit_features(SPEC, test_ts, normal)[0])
    odd_scores = model.scores(unit_features(SPEC, test_ts, odd)[0])

    assert odd[:, 0].max() < history[:, 0].max() and odd[:, 1].min() > history[:, 1].min()
    assert np.median(odd_scores) > np.percentile(normal_scores, 95)
    assert (odd_scores > 0).mean() > 0.9 > (normal_scores > 0).mean()


def test_windows_with_a_missing_metric_score_nan() -> None:
    history = _normal_history(4_000, seed=1)
    ts_us = np.arange(4_000, dtype=np.int64) * STEP_US
    model = train_model(SPEC, np.zeros(4_000, np.int64), ts_us, history)
    gappy = history[:40].copy()
    gappy[5, 1] = np.nan

    scores = model.scores(unit_features(SPEC, ts_us[:40], gappy)[0])

    assert np.isnan(scores[0]) and np.isfinite(scores[1])


def test_fleet_features_keep_units_apart_and_in_time_order() -> None:
    unit_index = np.array([0, 1] * 40, dtype=np.int64)
    ts_us = np.repeat(np.arange(40, dtype=np.int64) * STEP_US, 2)[::-1].copy()
    values = np.column_stack([np.where(unit_index == 0, 1.0, 2.0), np.ones(80)])

    features, units, ends = fleet_features(SPEC, unit_index, ts_us, values)

    assert units.tolist() == [0, 0, 1, 1]
    assert ends.tolist() == [19 * STEP_US, 39 * STEP_US] * 2
    assert features[:, 0].tolist() == [1.0, 1.0, 2.0, 2.0]


def test_too_little_history_cannot_train() -> None:
    with pytest.raises(TrainingError, match="at least 50"):
        fit_features(SPEC, np.ones((10, len(SPEC.names()))))


def test_a_ratio_of_an_unknown_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown metrics"):
        FeatureSpec(METRICS, ratios=(("temperature_c", "pressure_bar"),))
