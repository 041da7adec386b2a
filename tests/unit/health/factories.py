"""A promoted multivariate model and readings for it: temperature follows the load."""

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


def normal(count: int, seed: int) -> np.ndarray:
    """Temperature follows the load: each metric alone varies widely, together they agree."""
    rng = np.random.default_rng(seed)
    load = 30.0 + 10.0 * np.sin(np.arange(count) / 50.0) + rng.normal(0, 0.3, count)
    return np.column_stack([load, 20.0 + 1.5 * load + rng.normal(0, 0.3, count)])


def broken(count: int, seed: int) -> np.ndarray:
    """Full load, yet as cool as at the lightest load: each value alone is ordinary."""
    values = np.column_stack([np.full(count, 40.0), np.full(count, 20.0 + 1.5 * 20.0)])
    return values + np.random.default_rng(seed).normal(0, 0.3, values.shape)


def model_store(root: Path) -> ModelStore:
    """A store with a model of MODEL trained on normal() and promoted."""
    store = ModelStore(root)
    values = normal(3_000, seed=1)
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


def readings(values: np.ndarray, start: int) -> list[Reading]:
    """One reading of UNIT per row, a minute apart from sample `start` on."""
    return [
        Reading(
            "dev-1",
            T0_US + (start + i) * STEP_US,
            running=True,
            metrics={"current_a": float(row[0]), "temperature_c": float(row[1])},
        )
        for i, row in enumerate(values)
    ]


def run(scorer: ModelScorer, values: np.ndarray, start: int) -> list[Finding]:
    """Feed the rows in batches of 20; every finding."""
    found: list[Finding] = []
    batch = readings(values, start)
    for begin in range(0, len(batch), 20):
        chunk = batch[begin : begin + 20]
        found += scorer.update([UNIT] * len(chunk), chunk)
    return found


def scorer_of(store: ModelStore) -> ModelScorer:
    """A scorer that has seen MODEL and installed its promoted model (a worker's start)."""
    scorer = ModelScorer(store)
    scorer.update([UNIT], readings(normal(1, seed=9), 0))  # the equipment model is now known
    for name in scorer.stale_models(scorer.known_models()):
        scorer.install(name, scorer.load(name))
    return scorer
