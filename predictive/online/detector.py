"""The online per-unit anomaly detector: spikes, drifts and stuck sensors from the first reading."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from predictive.online.config import KINDS, AnomalyKind, DetectorConfig
from predictive.online.events import (
    AnomalyEvent,
    Contribution,
    Transition,
    severity_of,
)
from predictive.online.hysteresis import Thresholds, Transitions, step_hysteresis
from predictive.online.scoring import StepScores, max_along, score_step
from predictive.online.state import IS_OPEN, LAST_TS_US, NO_TIME_US, DetectorState

# 2: the scale is a spread (a standard deviation), no longer a median absolute deviation.
STATE_FORMAT = 2
Ints = npt.NDArray[np.int64]


class OnlineDetector:
    """Robust per (unit, running state, metric) baselines with per-kind hysteresis."""

    def __init__(
        self,
        metric_names: Sequence[str],
        config: DetectorConfig | None = None,
        *,
        state: DetectorState | None = None,
    ) -> None:
        if not metric_names:
            raise ValueError("the detector needs at least one metric")
        self.metric_names = tuple(metric_names)
        self.config = config or DetectorConfig()
        self._limits = Thresholds.of(self.config.hysteresis())
        self._state = state or DetectorState(
            regimes=self.config.regimes, metrics=len(self.metric_names), kinds=len(KINDS)
        )

    def update_batch(
        self,
        unit_ids: Sequence[str],
        ts_us: npt.ArrayLike,
        metrics: npt.ArrayLike,
        running: npt.ArrayLike | None = None,
    ) -> list[AnomalyEvent]:
        """Score and learn a batch of readings (rows in arrival order); events in that order.

        metrics is (readings, metrics) in metric_names order, NaN where a metric is missing;
        running is a bool per reading, or None when unknown (treated as running). A reading
        not newer than the unit's last one is a replay and is skipped.
        """
        count = len(unit_ids)
        values = np.asarray(metrics, dtype=np.float64).reshape(count, len(self.metric_names))
        times = np.asarray(ts_us, dtype=np.int64).reshape(count)
        flags = np.ones(count, np.bool_) if running is None else np.asarray(running, np.bool_)
        mode = np.where(flags.reshape(count), 0, 1).astype(np.int64)
        rows = self._state.rows_of(list(unit_ids))
        found: list[tuple[int, AnomalyEvent]] = []
        for step in _steps(rows):
            fresh = step[times[step] > self._state.unit[rows[step], LAST_TS_US]]
            if len(fresh):
                found += self._step(fresh, rows[fresh], times[fresh], values[fresh], mode[fresh])
        found.sort(key=lambda item: item[0])
        return [event for _, event in found]

    def open_kinds(self, unit_id: str) -> tuple[AnomalyKind, ...]:
        """The kinds of anomaly open on a unit now."""
        row = self._state.rows.get(unit_id)
        if row is None:
            return ()
        flags = self._state.kinds[row, :, IS_OPEN]
        return tuple(kind for k, kind in enumerate(KINDS) if flags[k])

    def last_ts_us(self, unit_id: str) -> int | None:
        """The time of the newest reading learnt from the unit; None if it has none."""
        row = self._state.rows.get(unit_id)
        if row is None:
            return None
        ts_us = int(self._state.unit[row, LAST_TS_US])
        return None if ts_us == NO_TIME_US else ts_us

    def to_dict(self) -> dict[str, Any]:
        """The whole detector (settings and state) as JSON-able values, for a checkpoint."""
        return {
            "format": STATE_FORMAT,
            "metric_names": list(self.metric_names),
            "config": self.config.to_dict(),
            "state": self._state.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OnlineDetector:
        """A detector restored from to_dict(); it continues exactly where it stopped."""
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported detector state format {data.get('format')!r}")
        names = tuple(data["metric_names"])
        config = DetectorConfig.from_dict(data["config"])
        state = DetectorState.from_dict(
            data["state"], regimes=config.regimes, metrics=len(names), kinds=len(KINDS)
        )
        return cls(names, config, state=state)

    def _step(
        self,
        index: Ints,
        rows: Ints,
        ts_us: Ints,
        values: npt.NDArray[np.float64],
        mode: Ints,
    ) -> list[tuple[int, AnomalyEvent]]:
        scores = score_step(self._state, rows, ts_us, mode, values, self.config)
        per_kind = np.column_stack(
            (
                max_along(np.abs(scores.spike_z), axis=1),
                max_along(np.abs(scores.drift_z), axis=1),
                max_along(scores.stuck_ratio, axis=1),
            )
        )
        moved = step_hysteresis(self._state, rows, ts_us, scores.regime, per_kind, self._limits)
        if not (moved.opened.any() or moved.cleared.any()):
            return []
        return self._events(index, rows, ts_us, per_kind, scores, moved)

    def _events(
        self,
        index: Ints,
        rows: Ints,
        ts_us: Ints,
        per_kind: npt.NDArray[np.float64],
        scores: StepScores,
        moved: Transitions,
    ) -> list[tuple[int, AnomalyEvent]]:
        found = []
        for i, k in zip(*np.nonzero(moved.opened | moved.cleared), strict=True):
            opened = bool(moved.opened[i, k])
            score = float(per_kind[i, k] if opened else moved.peak[i, k])
            event = AnomalyEvent(
                unit_id=self._state.unit_ids[int(rows[i])],
                kind=KINDS[k],
                transition=Transition.OPENED if opened else Transition.CLEARED,
                ts_us=int(ts_us[i]),
                opened_us=int(moved.opened_us[i, k]),
                severity=severity_of(score, float(self._limits.open_at[k])),
                score=score,
                contributors=self._contributors(scores, int(i), int(k)) if opened else (),
            )
            found.append((int(index[i]), event))
        return found

    def _contributors(self, scores: StepScores, i: int, k: int) -> tuple[Contribution, ...]:
        spike_z = scores.spike_z[i]
        if KINDS[k] is AnomalyKind.STUCK:
            stuck = scores.stuck_ratio[i] >= self._limits.open_at[k]
            ranked = [m for m in np.argsort(-scores.stuck_ratio[i], kind="stable") if stuck[m]]
            z = spike_z
        else:
            z = scores.spike_z[i] if KINDS[k] is AnomalyKind.SPIKE else scores.drift_z[i]
            notable = np.abs(z) >= self._limits.clear_below[k]
            ranked = [m for m in np.argsort(-np.abs(z), kind="stable") if notable[m]]
        top = ranked[: self.config.max_contributors]
        return tuple(Contribution(self.metric_names[m], float(z[m])) for m in top)


def _steps(rows: Ints) -> list[Ints]:
    """Cut a batch into steps holding at most one reading per unit, keeping each unit's order."""
    count = len(rows)
    if count == 0:
        return []
    by_unit = np.argsort(rows, kind="stable")
    sorted_rows = rows[by_unit]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, count]))
    rank = np.empty(count, dtype=np.int64)
    rank[by_unit] = np.arange(count) - group_start
    order = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[order], np.arange(int(rank.max()) + 2))
    return [order[bounds[s] : bounds[s + 1]] for s in range(len(bounds) - 1)]
