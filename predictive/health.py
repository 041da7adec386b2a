"""Unit health: a 0-100 score from anomalies, overdue maintenance and age; failure risk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

US_PER_DAY = 86_400_000_000
# Points lost per anomaly by severity while it is open; a cleared one fades with a half-life.
SEVERITY_PENALTY = {"low": 5.0, "medium": 10.0, "high": 20.0}
CLEARED_WEIGHT = 0.5
CLEARED_HALFLIFE_DAYS = 7.0
# Caps per cause, so no single cause can take the whole score alone.
MAX_ANOMALY_PENALTY = 50.0
MAX_OVERDUE_PENALTY = 30.0
MAX_AGE_PENALTY = 20.0
# A risk model needs failures and non-failures to learn anything.
MIN_CLASS_WINDOWS = 10


@dataclass(frozen=True, slots=True)
class AnomalyRecord:
    """An anomaly in a unit's history: its severity, when it opened and when it cleared."""

    severity: str
    opened_us: int
    cleared_us: int | None = None


def health_score(
    *,
    anomalies: Sequence[AnomalyRecord],
    now_us: int,
    overdue_fraction: float,
    age_fraction: float,
) -> float:
    """Health 0-100 (100 = healthy).

    overdue_fraction: how far past due the maintenance is, in intervals (0 = not overdue);
    age_fraction: age over the expected service life (0 = new, 1 = at its end).
    """
    anomaly = min(MAX_ANOMALY_PENALTY, sum(_anomaly_penalty(a, now_us) for a in anomalies))
    overdue = MAX_OVERDUE_PENALTY * _unit_interval(overdue_fraction)
    age = MAX_AGE_PENALTY * _unit_interval(age_fraction)
    return round(max(0.0, 100.0 - anomaly - overdue - age), 1)


def _anomaly_penalty(record: AnomalyRecord, now_us: int) -> float:
    penalty = SEVERITY_PENALTY.get(record.severity, SEVERITY_PENALTY["medium"])
    if record.cleared_us is None:
        return penalty
    days = max(0.0, (now_us - record.cleared_us) / US_PER_DAY)
    return float(penalty * CLEARED_WEIGHT * 0.5 ** (days / CLEARED_HALFLIFE_DAYS))


def _unit_interval(value: float) -> float:
    return min(1.0, max(0.0, value))


@dataclass(frozen=True, slots=True)
class FailureRiskModel:
    """A fitted gradient-boosting classifier over window features."""

    features: tuple[str, ...]
    classifier: HistGradientBoostingClassifier
    horizon_us: int


def failure_labels(
    window_unit: Ints,
    window_end_us: Ints,
    failures: Sequence[tuple[int, int]],
    *,
    horizon_us: int,
) -> npt.NDArray[np.bool_]:
    """Whether each window ends within horizon_us before (or after) a failure of its unit.

    failures are (unit, start_us) pairs, units numbered as in window_unit.
    """
    labels = np.zeros(len(window_end_us), dtype=np.bool_)
    for unit, start_us in failures:
        labels |= (window_unit == unit) & (window_end_us >= start_us - horizon_us)
    return labels


def train_failure_risk(
    features: Floats,
    labels: npt.NDArray[np.bool_],
    *,
    names: tuple[str, ...],
    horizon_us: int,
    random_state: int = 0,
) -> FailureRiskModel | None:
    """A risk model from labelled windows; None when history holds too few failures."""
    # NaN (a missing metric) is fine for gradient boosting; infinities are not.
    usable = ~np.isinf(features).any(axis=1)
    positives = int(labels[usable].sum())
    if min(positives, int(usable.sum()) - positives) < MIN_CLASS_WINDOWS:
        return None
    classifier = HistGradientBoostingClassifier(random_state=random_state)
    classifier.fit(features[usable], labels[usable])
    return FailureRiskModel(features=names, classifier=classifier, horizon_us=horizon_us)


def failure_risk(model: FailureRiskModel | None, features: Floats) -> Floats | None:
    """Probability of a failure within the model's horizon per window; None without a model."""
    if model is None:
        return None
    probabilities = model.classifier.predict_proba(np.where(np.isinf(features), np.nan, features))
    positive = list(model.classifier.classes_).index(True)
    return np.asarray(probabilities[:, positive], dtype=np.float64)
