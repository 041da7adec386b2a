"""Scoring windows of readings with each equipment model's promoted multivariate model.

Each unit of a model with a promoted model keeps its last `window` readings; every `stride`
readings its newest window is scored, all ready units of a batch in one call. An anomaly
opens when OPEN_HITS of the last OPEN_WINDOWS windows reach the model's threshold and clears
after CLEAR_WINDOWS windows in a row below its lower threshold, so it does not flap.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from devices.records import Reading
from predictive.models.features import unit_features
from predictive.store import ModelStore, ModelStoreError
from predictive.training.artefacts import ScoringModel, load_multivariate, multivariate_name
from stream.health.findings import Finding
from stream.health.repository import UnitInfo

log = logging.getLogger(__name__)

KIND = "multivariate"
KEY_SEPARATOR = "\x1f"
OPEN_HITS = 2
OPEN_WINDOWS = 3
CLEAR_WINDOWS = 3
# Score above the threshold, in widths of the band between the two thresholds.
MEDIUM_EXCESS = 0.5
HIGH_EXCESS = 2.0


@dataclass
class _Unit:
    """One unit's recent readings and anomaly state under one model version."""

    readings: deque[Reading]
    since_scored: int = 0
    hits: deque[bool] = field(default_factory=lambda: deque(maxlen=OPEN_WINDOWS))
    calm: int = 0
    opened_us: int | None = None
    peak: float = 0.0


class ModelScorer:
    """The promoted model of every equipment model seen, and the units scored with them."""

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._models: dict[str, ScoringModel] = {}
        self._versions: dict[str, int | None] = {}
        self._units: dict[str, _Unit] = {}

    def known_models(self) -> list[str]:
        return sorted(self._versions)

    def stale_models(self, equipment_models: Iterable[str]) -> list[str]:
        """Models whose promoted version differs from the one held (one small read each)."""
        stale = []
        for name in equipment_models:
            try:
                if name not in self._versions or self._store.changed_since(
                    multivariate_name(name), self._versions[name]
                ):
                    stale.append(name)
            except ModelStoreError as exc:
                log.warning("model store: %s", exc)
        return stale

    def load(self, equipment_model: str) -> ScoringModel | None:
        """Read the promoted model from the store (blocking: call it off the event loop)."""
        try:
            return load_multivariate(self._store, equipment_model)
        except (ModelStoreError, KeyError, ValueError) as exc:
            log.error("not scoring %s with a multivariate model: %s", equipment_model, exc)
            return None

    def install(self, equipment_model: str, model: ScoringModel | None) -> None:
        """Use a loaded model from now on (its units' windows start afresh)."""
        self._versions[equipment_model] = None if model is None else model.version
        if model is None:
            self._models.pop(equipment_model, None)
        else:
            self._models[equipment_model] = model
            log.info("scoring %s with multivariate model v%d", equipment_model, model.version)
        prefix = f"{equipment_model}{KEY_SEPARATOR}"
        self._units = {k: v for k, v in self._units.items() if not k.startswith(prefix)}

    def update(self, readings: Sequence[tuple[UnitInfo, Reading]]) -> list[Finding]:
        """Buffer the readings; score the windows that are due; anomalies opened or cleared."""
        for info, _ in readings:
            if info.model is not None and info.model not in self._versions:
                self._versions.setdefault(info.model, None)  # picked up by the next refresh
        due: dict[str, list[tuple[str, _Unit]]] = {}
        for info, reading in readings:
            model = self._models.get(info.model or "")
            if model is None or not reading.metrics:
                continue
            unit = self._unit(info, model)
            if unit.readings and reading.ts_us <= unit.readings[-1].ts_us:
                continue  # a replay or a late reading: the window stays in time order
            unit.readings.append(reading)
            unit.since_scored += 1
            if len(unit.readings) == model.spec.window and unit.since_scored >= model.spec.stride:
                unit.since_scored = 0
                due.setdefault(info.model or "", []).append((info.equipment_id, unit))
        found: list[Finding] = []
        for name, units in due.items():
            found += self._score(self._models[name], units)
        return found

    def _unit(self, info: UnitInfo, model: ScoringModel) -> _Unit:
        key = f"{info.model}{KEY_SEPARATOR}{info.equipment_id}"
        unit = self._units.get(key)
        if unit is None:
            unit = self._units[key] = _Unit(deque(maxlen=model.spec.window))
        return unit

    def _score(self, model: ScoringModel, units: list[tuple[str, _Unit]]) -> list[Finding]:
        spec = model.spec
        rows = []
        for _, unit in units:
            ts_us = np.array([r.ts_us for r in unit.readings], dtype=np.int64)
            values = np.array(
                [[r.metrics.get(m, np.nan) for m in spec.metric_names] for r in unit.readings]
            )
            running = np.array([r.running is not False for r in unit.readings], dtype=np.bool_)
            rows.append(unit_features(spec, ts_us, values, running)[0][-1])
        features = np.vstack(rows)
        scores = model.model.scores(features)
        found = []
        for (unit_id, unit), score, row in zip(units, scores, features, strict=True):
            finding = self._step(model, unit_id, unit, float(score), row)
            if finding is not None:
                found.append(finding)
        return found

    def _step(
        self, model: ScoringModel, unit_id: str, unit: _Unit, score: float, row: np.ndarray
    ) -> Finding | None:
        if not np.isfinite(score):
            return None
        ts_us = unit.readings[-1].ts_us
        unit.hits.append(score >= model.threshold)
        if unit.opened_us is None:
            if sum(unit.hits) < OPEN_HITS:
                return None
            unit.opened_us, unit.peak, unit.calm = ts_us, score, 0
            return self._finding(model, unit_id, unit, score, ts_us, model.contributors(row))
        unit.peak = max(unit.peak, score)
        unit.calm = unit.calm + 1 if score < model.clear_below else 0
        if unit.calm < CLEAR_WINDOWS:
            return None
        finding = self._finding(model, unit_id, unit, unit.peak, ts_us, None)
        unit.opened_us, unit.peak, unit.calm = None, 0.0, 0
        unit.hits.clear()
        return finding

    def _finding(
        self,
        model: ScoringModel,
        unit_id: str,
        unit: _Unit,
        score: float,
        ts_us: int,
        contributors: list[tuple[str, float]] | None,
    ) -> Finding:
        assert unit.opened_us is not None
        return Finding(
            unit_id=unit_id,
            kind=KIND,
            opened=contributors is not None,
            ts_us=ts_us,
            opened_us=unit.opened_us,
            severity=_severity(score, model),
            score=score,
            contributors=tuple(contributors or ()),
            detector="multivariate",
            model_version=model.version,
        )


def _severity(score: float, model: ScoringModel) -> str:
    band = max(model.threshold - model.clear_below, 1e-9)
    excess = (score - model.threshold) / band
    if excess >= HIGH_EXCESS:
        return "high"
    return "medium" if excess >= MEDIUM_EXCESS else "low"
