"""Train, store and promote the models of each equipment model from the history in the DB."""

from __future__ import annotations

from datetime import datetime
from itertools import combinations
from typing import Any, Final

import numpy as np
import psycopg

from predictive.health import failure_labels, train_failure_risk
from predictive.models.features import FeatureSpec, fleet_features
from predictive.models.isolation import TrainingError, fit_features
from predictive.store import ModelStore
from predictive.training import repository
from predictive.training.artefacts import multivariate_name, risk_name
from predictive.training.repository import Readings

WINDOW_READINGS: Final = 30
STRIDE_READINGS: Final = 10
# Of the training windows (assumed mostly normal), the share the model may call anomalous.
THRESHOLD_QUANTILE: Final = 0.995
CLEAR_QUANTILE: Final = 0.95
MAX_RATIO_METRICS: Final = 6
RISK_HORIZON_US: Final = 7 * 86_400 * 1_000_000


def feature_spec(metric_names: tuple[str, ...]) -> FeatureSpec:
    """Windows of every metric, plus each pair's ratio when there are few metrics: a ratio
    out of line (temperature high for the load) is what no single metric shows."""
    pairs = tuple(combinations(metric_names, 2)) if len(metric_names) <= MAX_RATIO_METRICS else ()
    return FeatureSpec(metric_names, window=WINDOW_READINGS, stride=STRIDE_READINGS, ratios=pairs)


def train_all(
    *,
    conn: psycopg.Connection,
    store: ModelStore,
    since: datetime,
    until: datetime,
    equipment_models: list[str] | None = None,
    promote: bool = True,
) -> list[dict[str, Any]]:
    """Train every equipment model (or those given); one JSON-able outcome each."""
    chosen = equipment_models or repository.equipment_models(conn)
    return [
        train_equipment_model(
            conn=conn, store=store, equipment_model=m, since=since, until=until, promote=promote
        )
        for m in chosen
    ]


def train_equipment_model(
    *,
    conn: psycopg.Connection,
    store: ModelStore,
    equipment_model: str,
    since: datetime,
    until: datetime,
    promote: bool = True,
) -> dict[str, Any]:
    """Fit, store (and promote) the multivariate model, and a risk model if failures exist."""
    readings = repository.history(conn, equipment_model, since=since, until=until)
    outcome: dict[str, Any] = {"equipment_model": equipment_model, "readings": len(readings.ts_us)}
    if not readings.metric_names:
        return {**outcome, "skipped": "no readings with metrics"}
    spec = feature_spec(readings.metric_names)
    features, window_unit, window_end = fleet_features(
        spec, readings.unit_index, readings.ts_us, readings.values, readings.running
    )
    try:
        model = fit_features(spec, features)
    except TrainingError as exc:
        return {**outcome, "skipped": str(exc)}
    scores = model.scores(features)
    scores = scores[np.isfinite(scores)]
    threshold = float(np.quantile(scores, THRESHOLD_QUANTILE))
    clear_below = float(np.quantile(scores, CLEAR_QUANTILE))
    metrics = {"windows": len(scores), "units": len(readings.unit_ids), "threshold": threshold}
    saved = store.save(
        multivariate_name(equipment_model),
        model.pipeline,
        features=spec.names(),
        training_from_us=int(readings.ts_us.min()),
        training_to_us=int(readings.ts_us.max()),
        metrics=metrics,
        extra={
            "spec": spec.to_dict(),
            "threshold": threshold,
            "clear_below": clear_below,
            "equipment_model": equipment_model,
        },
    )
    if promote:
        store.promote(saved.name, saved.version)
    risk = _train_risk(
        conn,
        store,
        equipment_model,
        readings,
        spec,
        features,
        window_unit,
        window_end,
        since=since,
        promote=promote,
    )
    return {**outcome, **metrics, "version": saved.version, "promoted": promote, **risk}


def _train_risk(
    conn: psycopg.Connection,
    store: ModelStore,
    equipment_model: str,
    readings: Readings,
    spec: FeatureSpec,
    features: np.ndarray[Any, Any],
    window_unit: np.ndarray[Any, Any],
    window_end: np.ndarray[Any, Any],
    *,
    since: datetime,
    promote: bool,
) -> dict[str, Any]:
    position = {unit: index for index, unit in enumerate(readings.unit_ids)}
    failures = [
        (position[unit], at_us)
        for unit, at_us in repository.breakdowns(conn, equipment_model, since=since)
        if unit in position
    ]
    labels = failure_labels(window_unit, window_end, failures, horizon_us=RISK_HORIZON_US)
    risk = train_failure_risk(features, labels, names=spec.names(), horizon_us=RISK_HORIZON_US)
    if risk is None:
        return {"failure_risk": None, "failures": len(failures)}
    saved = store.save(
        risk_name(equipment_model),
        risk.classifier,
        features=spec.names(),
        training_from_us=int(readings.ts_us.min()),
        training_to_us=int(readings.ts_us.max()),
        metrics={"failures": len(failures), "positive_windows": int(labels.sum())},
        extra={"spec": spec.to_dict(), "horizon_us": RISK_HORIZON_US},
    )
    if promote:
        store.promote(saved.name, saved.version)
    return {"failure_risk": saved.version, "failures": len(failures)}
