"""The multivariate model per equipment model: scaled window features into an IsolationForest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from predictive.models.features import FeatureSpec, fleet_features

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DEFAULT_TREES = 200
# Fewer windows than this and the forest has nothing to say.
MIN_TRAINING_WINDOWS = 50


class TrainingError(ValueError):
    """The history cannot train a model (too little of it, or no usable window)."""


@dataclass(frozen=True, slots=True)
class MultivariateModel:
    """A fitted pipeline and the feature spec its columns follow."""

    spec: FeatureSpec
    pipeline: Pipeline

    def scores(self, features: Floats) -> Floats:
        """Anomaly score per window: above 0 the forest calls it an outlier; NaN if unusable."""
        result = np.full(len(features), np.nan)
        usable = np.isfinite(features).all(axis=1)
        if usable.any():
            # decision_function is negative for outliers: flip it so higher means stranger.
            result[usable] = -self.pipeline.decision_function(features[usable])
        return result


def build_pipeline(*, trees: int = DEFAULT_TREES, random_state: int = 0) -> Pipeline:
    """An unfitted StandardScaler + IsolationForest pipeline."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("forest", IsolationForest(n_estimators=trees, random_state=random_state)),
        ]
    )


def train_model(
    spec: FeatureSpec,
    unit_index: Ints,
    ts_us: Ints,
    values: Floats,
    running: npt.NDArray[np.bool_] | None = None,
    *,
    random_state: int = 0,
) -> MultivariateModel:
    """Fit a model on the history of the units of one equipment model."""
    features, _, _ = fleet_features(spec, unit_index, ts_us, values, running)
    return fit_features(spec, features, random_state=random_state)


def fit_features(
    spec: FeatureSpec, features: Floats, *, random_state: int = 0
) -> MultivariateModel:
    """Fit a model on precomputed window features (rows with NaN are left out)."""
    usable = features[np.isfinite(features).all(axis=1)]
    if len(usable) < MIN_TRAINING_WINDOWS:
        raise TrainingError(
            f"{len(usable)} usable windows, at least {MIN_TRAINING_WINDOWS} are needed"
        )
    pipeline = build_pipeline(random_state=random_state)
    pipeline.fit(usable)
    return MultivariateModel(spec=spec, pipeline=pipeline)
