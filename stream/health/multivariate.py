"""Scoring windows of readings with each equipment model's promoted multivariate model.

Each unit of a model with a promoted model keeps its last `window` readings; every `stride`
readings its newest window is scored, all ready units of a batch in one call. An anomaly
opens when OPEN_HITS of the last OPEN_WINDOWS windows reach the model's threshold and clears
after CLEAR_WINDOWS windows in a row below its lower threshold, so it does not flap.

That open/clear state outlives the worker: `checkpoints()` gives what changed, to save in
predictive.multivariate_state, and `restore()` takes it back (with the episode recorded in
predictive.anomalies), so a restarted worker neither opens an anomaly again nor forgets to
clear it. A new model version starts the windows afresh but keeps the state.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from devices.records import Reading
from predictive.models.features import unit_features
from predictive.store import ModelStore, ModelStoreError
from predictive.training.artefacts import ScoringModel, load_multivariate, multivariate_name
from stream.health.findings import Finding
from stream.health.repository import MultivariateState, UnitInfo

log = logging.getLogger(__name__)

KIND = "multivariate"
KEY_SEPARATOR = "\x1f"
OPEN_HITS = 2
OPEN_WINDOWS = 3
CLEAR_WINDOWS = 3
# Score above the threshold, in widths of the band between the two thresholds.
MEDIUM_EXCESS = 0.5
HIGH_EXCESS = 2.0
NEVER_US = -1
_MODEL = attrgetter("model")


@dataclass
class _Window:
    """One unit's recent readings under one model version."""

    readings: deque[Reading]
    since_scored: int = 0


@dataclass
class _UnitState:
    """One unit's hysteresis: recent window verdicts, calm streak and the open episode."""

    hits: deque[bool] = field(default_factory=lambda: deque(maxlen=OPEN_WINDOWS))
    calm: int = 0
    opened_us: int | None = None
    peak: float = 0.0
    # The newest reading of the last window scored: a replayed window is not counted twice.
    last_ts_us: int = NEVER_US

    @classmethod
    def of(cls, saved: MultivariateState) -> _UnitState:
        return cls(
            hits=deque(saved.hits[-OPEN_WINDOWS:], maxlen=OPEN_WINDOWS),
            calm=saved.calm,
            opened_us=saved.opened_us,
            peak=saved.peak,
            last_ts_us=saved.last_ts_us,
        )

    def saved(self, equipment_id: str) -> MultivariateState:
        return MultivariateState(
            equipment_id=equipment_id,
            last_ts_us=self.last_ts_us,
            hits=tuple(self.hits),
            calm=self.calm,
            opened_us=self.opened_us,
            peak=self.peak,
        )


class ModelScorer:
    """The promoted model of every equipment model seen, and the units scored with them."""

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._models: dict[str, ScoringModel] = {}
        self._versions: dict[str, int | None] = {}
        self._windows: dict[str, _Window] = {}
        self._states: dict[str, _UnitState] = {}
        self._dirty: set[str] = set()

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
        self._windows = {k: v for k, v in self._windows.items() if not k.startswith(prefix)}

    def restore(self, saved: Sequence[MultivariateState]) -> int:
        """Take saved states newer than those held (a restart, a rebalance); how many."""
        taken = 0
        for state in saved:
            held = self._states.get(state.equipment_id)
            if held is None or state.last_ts_us > held.last_ts_us:
                self._states[state.equipment_id] = _UnitState.of(state)
                taken += 1
        return taken

    def checkpoints(self) -> list[MultivariateState]:
        """The state of every unit whose state changed since the last call."""
        dirty, self._dirty = self._dirty, set()
        return [self._states[unit_id].saved(unit_id) for unit_id in sorted(dirty)]

    def forget_dirty(self, rows: Sequence[MultivariateState]) -> None:
        """Mark units dirty again (their state could not be saved)."""
        self._dirty.update(r.equipment_id for r in rows)

    def open_since(self, equipment_id: str) -> int | None:
        """When the unit's open multivariate anomaly opened; None if none is open."""
        state = self._states.get(equipment_id)
        return None if state is None else state.opened_us

    def update(self, units: Sequence[UnitInfo], readings: Sequence[Reading]) -> list[Finding]:
        """Buffer the readings, each of the unit at its index in units; score the windows that
        are due; anomalies opened or cleared."""
        # The equipment models of the step, in order of first appearance: dict.fromkeys over
        # a map runs in C per reading, the loops below per model.
        models = dict.fromkeys(map(_MODEL, units))
        for name in models:
            if name is not None and name not in self._versions:
                self._versions[name] = None  # picked up by the next refresh
        if not any((name or "") in self._models for name in models):
            return []  # the usual step: no unit in it has a promoted model loaded
        return self._buffer(units, readings)

    def _buffer(self, units: Sequence[UnitInfo], readings: Sequence[Reading]) -> list[Finding]:
        """Append readings to their unit's window, reading by reading; score those due."""
        due: dict[str, list[tuple[str, _Window]]] = {}
        for info, reading in zip(units, readings, strict=True):
            model = self._models.get(info.model or "")
            if model is None or not reading.metrics:
                continue
            window = self._window(info, model)
            if window.readings and reading.ts_us <= window.readings[-1].ts_us:
                continue  # a replay or a late reading: the window stays in time order
            window.readings.append(reading)
            window.since_scored += 1
            full = len(window.readings) == model.spec.window
            if full and window.since_scored >= model.spec.stride:
                window.since_scored = 0
                due.setdefault(info.model or "", []).append((info.equipment_id, window))
        found: list[Finding] = []
        for name, windows in due.items():
            found += self._score(self._models[name], windows)
        return found

    def _window(self, info: UnitInfo, model: ScoringModel) -> _Window:
        key = f"{info.model}{KEY_SEPARATOR}{info.equipment_id}"
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(deque(maxlen=model.spec.window))
        return window

    def _score(self, model: ScoringModel, windows: list[tuple[str, _Window]]) -> list[Finding]:
        spec = model.spec
        rows = []
        for _, window in windows:
            ts_us = np.array([r.ts_us for r in window.readings], dtype=np.int64)
            values = np.array(
                [[r.metrics.get(m, np.nan) for m in spec.metric_names] for r in window.readings]
            )
            running = np.array([r.running is not False for r in window.readings], dtype=np.bool_)
            rows.append(unit_features(spec, ts_us, values, running)[0][-1])
        features = np.vstack(rows)
        scores = model.model.scores(features)
        found = []
        for (unit_id, window), score, row in zip(windows, scores, features, strict=True):
            finding = self._step(model, unit_id, window.readings[-1].ts_us, float(score), row)
            if finding is not None:
                found.append(finding)
        return found

    def _step(
        self, model: ScoringModel, unit_id: str, ts_us: int, score: float, row: np.ndarray
    ) -> Finding | None:
        unit = self._states.setdefault(unit_id, _UnitState())
        if not np.isfinite(score) or ts_us <= unit.last_ts_us:
            return None
        unit.last_ts_us = ts_us
        self._dirty.add(unit_id)
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
        unit: _UnitState,
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
