"""The models a training run stores per equipment model, and how consumers load them.

A multivariate model's metadata carries its feature spec and two score thresholds from its
training windows: above `threshold` a window is anomalous, below `clear_below` it is calm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from predictive.health import FailureRiskModel
from predictive.models.features import FeatureSpec
from predictive.models.isolation import MultivariateModel
from predictive.store import ModelStore

MULTIVARIATE: Final = "multivariate"
FAILURE_RISK: Final = "failure-risk"
MAX_CONTRIBUTORS: Final = 5

Floats = npt.NDArray[np.float64]


def multivariate_name(equipment_model: str) -> str:
    """The store name of an equipment model's multivariate model."""
    return f"{MULTIVARIATE} {equipment_model}"


def risk_name(equipment_model: str) -> str:
    """The store name of an equipment model's failure-risk model."""
    return f"{FAILURE_RISK} {equipment_model}"


@dataclass(frozen=True, slots=True)
class ScoringModel:
    """A promoted multivariate model ready to score windows."""

    version: int
    model: MultivariateModel
    threshold: float
    clear_below: float

    @property
    def spec(self) -> FeatureSpec:
        return self.model.spec

    def contributors(self, features: Floats) -> list[tuple[str, float]]:
        """The features of one window furthest from training, as z-scores (scaled space)."""
        scaled = self.model.pipeline.named_steps["scale"].transform(features[None, :])[0]
        order = np.argsort(-np.abs(scaled), kind="stable")[:MAX_CONTRIBUTORS]
        names = self.spec.names()
        return [(names[i], round(float(scaled[i]), 3)) for i in order]


@dataclass(frozen=True, slots=True)
class RiskModel:
    """A promoted failure-risk model and the windows it reads."""

    version: int
    spec: FeatureSpec
    model: FailureRiskModel


def load_multivariate(store: ModelStore, equipment_model: str) -> ScoringModel | None:
    """The promoted multivariate model of an equipment model; None if none is promoted.

    Raises ModelStoreError when the stored model cannot be trusted (versions, hash).
    """
    name = multivariate_name(equipment_model)
    found = _load(store, name)
    if found is None:
        return None
    version, spec, pipeline, extra = found
    return ScoringModel(
        version=version,
        model=MultivariateModel(spec=spec, pipeline=pipeline),
        threshold=float(extra["threshold"]),
        clear_below=float(extra["clear_below"]),
    )


def load_risk(store: ModelStore, equipment_model: str) -> RiskModel | None:
    """The promoted failure-risk model of an equipment model; None if none is promoted."""
    found = _load(store, risk_name(equipment_model))
    if found is None:
        return None
    version, spec, classifier, extra = found
    model = FailureRiskModel(spec.names(), classifier, int(extra["horizon_us"]))
    return RiskModel(version=version, spec=spec, model=model)


def _load(store: ModelStore, name: str) -> tuple[int, FeatureSpec, Any, dict[str, Any]] | None:
    version = store.current_version(name)
    if version is None:
        return None
    extra = store.metadata(name, version).extra
    spec = FeatureSpec.from_dict(extra["spec"])
    loaded = store.load(name, expected_features=spec.names(), version=version)
    return version, spec, loaded.pipeline, extra
