"""Scoring windows with a promoted multivariate model, picked up from the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devices.records import Reading
from predictive.models.features import FeatureSpec, unit_features
from predictive.models.isolation import train_model
from predictive.store import ModelStore
from predictive.training.artefacts import multivariate_name
from stream.health.findings import Finding
from stream.health.multivariate import ModelScorer
from stream.health.repository import UnitInfo

SPEC = FeatureSpec(
    ("current_a", "temperature_c"), window=10, stride=5, ratios=(("temperature_c", "current_a"),)
)
MODEL = "Pump X"
UNIT = UnitInfo("eq-1", MODEL)
T0_US = 1_780_000_000_000_000
STEP_US = 60_000_000


def _normal(count: int, seed: int) -> np.ndarray:
    """Temperature follows the load: each metric alone varies widely, together they agree."""
    rng = np.random.default_rng(seed)
    load = 30.0 + 10.0 * np.sin(np.arange(count) / 50.0) + rng.normal(0, 0.3, count)
    return np.column_stack([load, 20.0 + 1.5 * load + rng.normal(0, 0.3, count)])


def _store(root: Path) -> ModelStore:
    store = ModelStore(root)
    values = _normal(3_000, seed=1)
    ts_us = T0_US + np.arange(len(values), dtype=np.int64) * STEP_US
    model = train_model(SPEC, np.zeros(len(values), np.int64), ts_us, values)
    scores = model.scores(unit_features(SPEC, ts_us, values)[0])
    saved = store.save(
        multivariate_name(MODEL),
        model.pipeline,
        features=SPEC.names(),
        training_from_us=int(ts_us[0]),
        training_to_us=int(ts_us[-1]),
        extra={
            "spec": SPEC.to_dict(),
            "threshold": float(np.quantile(scores, 0.995)),
            "clear_below": float(np.quantile(scores, 0.95)),
        },
    )
    store.promote(saved.name, saved.version)
    return store


def _readings(values: np.ndarray, start: int) -> list[tuple[UnitInfo, Reading]]:
    return [
        (
            UNIT,
            Reading(
                "dev-1",
                T0_US + (start + i) * STEP_US,
                running=True,
                metrics={"current_a": float(row[0]), "temperature_c": float(row[1])},
            ),
        )
        for i, row in enumerate(values)
    ]


def _run(scorer: ModelScorer, values: np.ndarray, start: int) -> list[Finding]:
    found: list[Finding] = []
    readings = _readings(values, start)
    for begin in range(0, len(readings), 20):
        found += scorer.update(readings[begin : begin + 20])
    return found


def _scorer(tmp_path: Path) -> ModelScorer:
    scorer = ModelScorer(_store(tmp_path))
    scorer.update(_readings(_normal(1, seed=9), 0))  # the equipment model is now known
    for name in scorer.stale_models(scorer.known_models()):
        scorer.install(name, scorer.load(name))
    return scorer


def test_a_combination_no_single_metric_shows_opens_then_clears(tmp_path: Path) -> None:
    scorer = _scorer(tmp_path)
    # Full load, yet as cool as at the lightest load: each value alone is ordinary.
    broken = np.column_stack([np.full(60, 40.0), np.full(60, 20.0 + 1.5 * 20.0)])
    broken += np.random.default_rng(3).normal(0, 0.3, broken.shape)

    quiet = _run(scorer, _normal(200, seed=2), 1)
    opened = _run(scorer, broken, 201)
    cleared = _run(scorer, _normal(200, seed=4), 261)

    assert quiet == []
    assert [(f.kind, f.opened, f.model_version) for f in opened] == [("multivariate", True, 1)]
    assert opened[0].contributors
    assert [f.opened for f in cleared] == [False]
    assert cleared[0].opened_us == opened[0].opened_us


def test_a_newly_promoted_model_is_picked_up_and_none_means_no_scoring(tmp_path: Path) -> None:
    scorer = _scorer(tmp_path)
    store = ModelStore(tmp_path)

    assert scorer.stale_models([MODEL]) == []
    store.promote(multivariate_name(MODEL), 1)  # the same version again: nothing to do
    assert scorer.stale_models([MODEL]) == []
    (tmp_path / "multivariate-pump-x" / "current").unlink()
    assert scorer.stale_models([MODEL]) == [MODEL]
    scorer.install(MODEL, scorer.load(MODEL))
    assert _run(scorer, _normal(100, seed=5) * 3, 1) == []
