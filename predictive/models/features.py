"""Windowed features per unit: level, spread, range and trend of each metric, plus ratios."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

US_PER_H = 3_600_000_000
# Keeps a ratio finite when its denominator sits at zero (a stopped motor draws no current).
RATIO_EPSILON = 1e-3
STATISTICS = ("mean", "std", "min", "max", "slope_per_h")


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which features a model sees: windows of `window` readings every `stride` readings."""

    metric_names: tuple[str, ...]
    window: int = 30
    stride: int = 10
    ratios: tuple[tuple[str, str], ...] = ()
    with_running: bool = True

    def __post_init__(self) -> None:
        if self.window < 2 or self.stride < 1:
            raise ValueError("a window needs at least 2 readings and a stride of at least 1")
        unknown = {name for pair in self.ratios for name in pair} - set(self.metric_names)
        if unknown:
            raise ValueError(f"ratios name unknown metrics: {sorted(unknown)}")

    def names(self) -> tuple[str, ...]:
        """Feature names, in column order."""
        names = [f"{metric}_{stat}" for metric in self.metric_names for stat in STATISTICS]
        names += [f"{top}_per_{bottom}" for top, bottom in self.ratios]
        return (*names, "running_fraction") if self.with_running else tuple(names)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for model metadata."""
        return {
            "metric_names": list(self.metric_names),
            "window": self.window,
            "stride": self.stride,
            "ratios": [list(pair) for pair in self.ratios],
            "with_running": self.with_running,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """The spec saved by to_dict()."""
        return cls(
            metric_names=tuple(data["metric_names"]),
            window=int(data["window"]),
            stride=int(data["stride"]),
            ratios=tuple((str(a), str(b)) for a, b in data["ratios"]),
            with_running=bool(data["with_running"]),
        )


def unit_features(
    spec: FeatureSpec, ts_us: Ints, values: Floats, running: npt.NDArray[np.bool_] | None = None
) -> tuple[Floats, Ints]:
    """Features of one unit's time-ordered readings, and each window's last timestamp."""
    count = len(ts_us)
    if count < spec.window:
        return np.empty((0, len(spec.names()))), np.empty(0, dtype=np.int64)
    # (windows, metrics, window) views: no copy until the statistics reduce them.
    stacked = sliding_window_view(values, spec.window, axis=0)[:: spec.stride]
    hours = sliding_window_view(ts_us, spec.window)[:: spec.stride] / US_PER_H
    mean = stacked.mean(axis=2)
    columns = [mean, stacked.std(axis=2), stacked.min(axis=2), stacked.max(axis=2)]
    columns.append(_slopes(hours, stacked))
    per_metric = np.stack(columns, axis=2).reshape(len(stacked), -1)
    parts = [per_metric, _ratios(spec, mean)]
    if spec.with_running:
        flags = np.ones(count, np.bool_) if running is None else np.asarray(running, np.bool_)
        parts.append(sliding_window_view(flags, spec.window)[:: spec.stride].mean(axis=1)[:, None])
    ends = sliding_window_view(ts_us, spec.window)[:: spec.stride, -1]
    return np.hstack(parts), np.asarray(ends, dtype=np.int64)


def fleet_features(
    spec: FeatureSpec,
    unit_index: Ints,
    ts_us: Ints,
    values: Floats,
    running: npt.NDArray[np.bool_] | None = None,
) -> tuple[Floats, Ints, Ints]:
    """Features of every unit in a mixed history: (features, unit of each row, window end)."""
    blocks, units, ends = [], [], []
    for unit in np.unique(unit_index):
        rows = np.flatnonzero(unit_index == unit)
        rows = rows[np.argsort(ts_us[rows], kind="stable")]
        flags = None if running is None else running[rows]
        features, window_ends = unit_features(spec, ts_us[rows], values[rows], flags)
        blocks.append(features)
        units.append(np.full(len(features), unit, dtype=np.int64))
        ends.append(window_ends)
    if not blocks:
        return np.empty((0, len(spec.names()))), np.empty(0, np.int64), np.empty(0, np.int64)
    return np.vstack(blocks), np.concatenate(units), np.concatenate(ends)


def _slopes(hours: Floats, stacked: Floats) -> Floats:
    """Least-squares slope of each metric against time in each window, per hour."""
    centred_t = hours - hours.mean(axis=1, keepdims=True)
    spread = (centred_t * centred_t).sum(axis=1)
    centred_x = stacked - stacked.mean(axis=2, keepdims=True)
    covariance = (centred_x * centred_t[:, None, :]).sum(axis=2)
    safe = np.where(spread > 0, spread, 1.0)
    return np.where(spread[:, None] > 0, covariance / safe[:, None], 0.0)


def _ratios(spec: FeatureSpec, mean: Floats) -> Floats:
    column = {name: index for index, name in enumerate(spec.metric_names)}
    ratios = [
        mean[:, column[top]] / (np.abs(mean[:, column[bottom]]) + RATIO_EPSILON)
        for top, bottom in spec.ratios
    ]
    return np.stack(ratios, axis=1) if ratios else np.empty((len(mean), 0))
