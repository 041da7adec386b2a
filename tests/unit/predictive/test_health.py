from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from devices.simulator.faults import FaultKind, FaultSpec
from predictive.evaluation.history import History, equipment_models, simulate_history
from predictive.health import (
    AnomalyRecord,
    failure_labels,
    failure_risk,
    health_score,
    train_failure_risk,
)
from predictive.models.features import FeatureSpec, fleet_features

DAY_US = 86_400_000_000
T0_US = 1_717_372_800_000_000
HORIZON_US = DAY_US // 4
SPEC = FeatureSpec(
    ("temperature_c", "vibration_mm_s", "pressure_bar", "current_a"), window=30, stride=15
)


def test_a_new_unit_without_anomalies_or_overdue_work_is_fully_healthy() -> None:
    assert health_score(anomalies=[], now_us=T0_US, overdue_fraction=0.0, age_fraction=0.0) == 100


def test_an_open_anomaly_weighs_more_than_a_cleared_one_which_fades() -> None:
    def score(record: AnomalyRecord) -> float:
        return health_score(
            anomalies=[record], now_us=T0_US, overdue_fraction=0.0, age_fraction=0.0
        )

    open_high = score(AnomalyRecord("high", T0_US - DAY_US))
    cleared_now = score(AnomalyRecord("high", T0_US - DAY_US, cleared_us=T0_US))
    cleared_long_ago = score(AnomalyRecord("high", T0_US - 60 * DAY_US, T0_US - 50 * DAY_US))

    assert open_high < cleared_now < cleared_long_ago < 100
    assert score(AnomalyRecord("high", T0_US)) < score(AnomalyRecord("low", T0_US))


def test_overdue_maintenance_and_age_lower_health_within_bounds() -> None:
    many = [AnomalyRecord("high", T0_US)] * 10

    assert health_score(
        anomalies=[], now_us=T0_US, overdue_fraction=0.5, age_fraction=0.5
    ) == pytest.approx(100 - 15 - 10)
    assert health_score(anomalies=many, now_us=T0_US, overdue_fraction=3.0, age_fraction=2.0) == 0


def _labelled(seed: int) -> tuple[np.ndarray, np.ndarray]:
    units = tuple(equipment_models(units=6, seed=seed))
    faults = tuple(
        FaultSpec(kind, unit, T0_US + DAY_US + index * DAY_US // 4, 6 * 3600.0)
        for index, (kind, unit) in enumerate(
            [(FaultKind.BEARING_WEAR, units[0]), (FaultKind.OVERHEATING, units[1])]
        )
    )
    history: History = simulate_history(units=6, days=2.5, start_us=T0_US, seed=seed, faults=faults)
    features, window_unit, ends = fleet_features(
        SPEC, history.unit_index, history.ts_us, history.values, history.running
    )
    starts = [(history.unit_ids.index(f.device_id), f.start_us) for f in faults]
    return features, failure_labels(window_unit, ends, starts, horizon_us=HORIZON_US)


def test_failure_risk_learnt_from_simulator_faults_ranks_faulty_windows_higher() -> None:
    train_x, train_y = _labelled(seed=1)
    test_x, test_y = _labelled(seed=2)

    # OpenMP threads cost more than they give on a few hundred windows (and a busy CI box).
    with threadpool_limits(limits=1, user_api="openmp"):
        model = train_failure_risk(train_x, train_y, names=SPEC.names(), horizon_us=HORIZON_US)
        risk = failure_risk(model, test_x)

    assert model is not None and risk is not None
    assert 0.05 < train_y.mean() < 0.5
    assert risk[test_y].mean() > 2 * risk[~test_y].mean()


def test_without_failures_in_history_there_is_no_risk_model() -> None:
    features = np.random.default_rng(0).normal(size=(200, 4))

    model = train_failure_risk(
        features, np.zeros(200, np.bool_), names=("a", "b", "c", "d"), horizon_us=HORIZON_US
    )

    assert model is None
    assert failure_risk(model, features) is None


def test_failure_labels_mark_windows_from_the_horizon_before_a_failure() -> None:
    units = np.array([0, 0, 0, 1, 1], dtype=np.int64)
    ends = np.array([10, 20, 30, 20, 30], dtype=np.int64)

    labels = failure_labels(units, ends, [(0, 25)], horizon_us=10)

    assert labels.tolist() == [False, True, True, False, False]
