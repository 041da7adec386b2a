"""Online detectors of a stream worker: one per metric set, units checkpointed one by one.

A unit belongs to the set of the metrics it has ever reported (a reading that lacks one
scores NaN there); a unit reporting a new metric moves to the larger set and starts afresh
in it. Readings of all units of a set go through one vectorised `update_batch`.

Per-unit checkpoints make rebalancing safe: a unit this worker has not touched for a while
(or never) is reloaded from the database if the saved state is newer than its own, and only
units updated since the last checkpoint are saved, never going backwards in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, compress, repeat
from operator import attrgetter, is_not, itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from devices.records import Reading, metric_names
from predictive.online.config import DetectorConfig
from predictive.online.detector import STATE_FORMAT, OnlineDetector
from stream.health.findings import Finding
from stream.health.repository import Checkpoint

MetricSet = tuple[str, ...]
NAN = float("nan")
NEVER_US = -1
_TS_US = attrgetter("ts_us")
_METRICS = attrgetter("metrics")
_RUNNING = attrgetter("running")
# Per metric set: the unit ids and the readings of those units, index for index.
Groups = dict[MetricSet, tuple[list[str], list[Reading]]]


class DetectorSet:
    """The detectors of this worker and the bookkeeping of their units."""

    def __init__(self, config: DetectorConfig) -> None:
        self._config = config
        self._detectors: dict[MetricSet, OnlineDetector] = {}
        self._set_of: dict[str, MetricSet] = {}
        self._names_of: dict[str, frozenset[str]] = {}
        self._touched_s: dict[str, float] = {}
        self._dirty: set[str] = set()

    def stale(self, unit_ids: Sequence[str], *, now_s: float, after_s: float) -> list[str]:
        """Units never seen here, or not for after_s: another worker may have moved them on."""
        touched = self._touched_s
        return [u for u in dict.fromkeys(unit_ids) if now_s - touched.get(u, -1e18) > after_s]

    def restore(self, checkpoints: Sequence[Checkpoint]) -> int:
        """Take saved states newer than what this worker holds; how many were taken."""
        usable = [
            c
            for c in checkpoints
            if c.format == STATE_FORMAT
            and c.regimes == self._config.regimes
            and c.last_ts_us > self._held_ts_us(c.unit_id)
        ]
        by_set: dict[MetricSet, list[Checkpoint]] = {}
        for checkpoint in usable:
            by_set.setdefault(checkpoint.metric_set, []).append(checkpoint)
        for names, group in by_set.items():
            self._merge(names, {c.unit_id: c.state for c in group})
            for c in group:
                self._place(c.unit_id, names)
        return len(usable)

    def update(
        self, unit_ids: Sequence[str], readings: Sequence[Reading], *, now_s: float
    ) -> list[Finding]:
        """Score and learn readings, each of the unit at its index in unit_ids; the anomalies
        opened and cleared."""
        groups = self._known_groups(unit_ids, readings)
        if groups is None:
            groups = self._grown_groups(unit_ids, readings)
        found: list[Finding] = []
        for names, (ids, group) in groups.items():
            found += self._update_set(names, ids, group, now_s)
        return sorted(found, key=_TS_US)

    def checkpoints(self) -> list[Checkpoint]:
        """The state of every unit updated since the last call."""
        dirty, self._dirty = self._dirty, set()
        rows: list[Checkpoint] = []
        for names, detector in self._detectors.items():
            mine = [u for u in dirty if self._set_of.get(u) == names]
            if mine:
                rows += _unit_checkpoints(names, detector.to_dict(), mine)
        return rows

    def forget_dirty(self, rows: Sequence[Checkpoint]) -> None:
        """Mark units dirty again (their checkpoint could not be saved)."""
        self._dirty.update(r.unit_id for r in rows)

    @property
    def units(self) -> int:
        return len(self._set_of)

    def _known_groups(self, unit_ids: Sequence[str], readings: Sequence[Reading]) -> Groups | None:
        """The readings by metric set if every unit is known and no reading has a metric new
        to its unit (the usual step); None otherwise."""
        # Per reading only C-level calls (dict.fromkeys, map, compress, set.update); Python
        # loops run per metric set. A step holds tens of thousands of readings.
        set_of = self._set_of
        units = dict.fromkeys(unit_ids)
        if not set_of.keys() >= units.keys():
            return None  # a unit seen for the first time
        # The sets in order of first appearance (that of their first unit's first reading).
        distinct = dict.fromkeys(map(set_of.__getitem__, units))
        if len(distinct) == 1:
            groups = {next(iter(distinct)): (list(unit_ids), list(readings))}
        else:
            groups = _by_set(distinct, list(map(set_of.__getitem__, unit_ids)), unit_ids, readings)
        for names, (_, group) in groups.items():
            if not metric_names(group).issubset(names):
                return None  # a unit reporting a metric new to it
        return groups

    def _grown_groups(self, unit_ids: Sequence[str], readings: Sequence[Reading]) -> Groups:
        """The readings by metric set, units placed (or moved to a larger set) as they come."""
        groups: Groups = {}
        set_of, names_of = self._set_of, self._names_of
        for unit_id, reading in zip(unit_ids, readings, strict=True):
            names = set_of.get(unit_id)
            if names is None or not reading.metrics.keys() <= names_of[unit_id]:
                names = self._grow(unit_id, reading)
            group = groups.get(names)
            if group is None:
                group = groups[names] = ([], [])
            group[0].append(unit_id)
            group[1].append(reading)
        return groups

    def _grow(self, unit_id: str, reading: Reading) -> MetricSet:
        """The set of a unit seen for the first time, or reporting a metric new to it."""
        grown = tuple(sorted({*self._set_of.get(unit_id, ()), *reading.metrics}))
        self._place(unit_id, grown)
        return grown

    def _held_ts_us(self, unit_id: str) -> int:
        """The newest reading of the unit this worker has learnt from (NEVER_US if none)."""
        detector = self._detectors.get(self._set_of.get(unit_id, ()))
        held = None if detector is None else detector.last_ts_us(unit_id)
        return NEVER_US if held is None else held

    def _place(self, unit_id: str, names: MetricSet) -> None:
        self._set_of[unit_id] = names
        self._names_of[unit_id] = frozenset(names)

    def _update_set(
        self, names: MetricSet, unit_ids: list[str], group: list[Reading], now_s: float
    ) -> list[Finding]:
        if not names:
            return []
        detector = self._detectors.get(names)
        if detector is None:
            detector = self._detectors[names] = OnlineDetector(names, self._config)
        count = len(group)
        ts_us = np.fromiter(map(_TS_US, group), dtype=np.int64, count=count)
        # running is not False (None counts as running), mapped in C rather than a generator.
        running = np.fromiter(
            map(is_not, map(_RUNNING, group), repeat(False)), dtype=np.bool_, count=count
        )
        events = detector.update_batch(unit_ids, ts_us, _values(group, names), running)
        self._touched_s.update(dict.fromkeys(unit_ids, now_s))
        self._dirty.update(unit_ids)
        return [Finding.of(event) for event in events]

    def _merge(self, names: MetricSet, states: dict[str, dict[str, Any]]) -> None:
        """Put units' saved states into the set's detector (replacing what it held of them)."""
        existing = self._detectors.get(names) or OnlineDetector(names, self._config)
        data = existing.to_dict()
        unit_ids: list[str] = data["state"]["unit_ids"]
        arrays: dict[str, list[Any]] = data["state"]["arrays"]
        row_of = {unit_id: row for row, unit_id in enumerate(unit_ids)}
        for unit_id, state in states.items():
            row = row_of.get(unit_id)
            if row is None:
                unit_ids.append(unit_id)
                for name, values in arrays.items():
                    values.append(state[name])
            else:
                for name, values in arrays.items():
                    values[row] = state[name]
        # The running settings win over those saved: an operator's change takes effect.
        data["config"] = self._config.to_dict()
        self._detectors[names] = OnlineDetector.from_dict(data)


def _by_set(
    names_in_order: Iterable[MetricSet],
    sets: list[MetricSet],
    unit_ids: Sequence[str],
    readings: Sequence[Reading],
) -> Groups:
    """The unit ids and readings (each in order) of every metric set; sets[i] is that of
    unit_ids[i]."""
    groups: Groups = {}
    for names in names_in_order:
        mine = list(map(names.__eq__, sets))
        groups[names] = (list(compress(unit_ids, mine)), list(compress(readings, mine)))
    return groups


def _values(readings: list[Reading], names: MetricSet) -> npt.NDArray[np.float64]:
    """(readings, metrics) in the set's order, NaN where a reading lacks a metric."""
    metrics = list(map(_METRICS, readings))
    shape = (len(metrics), len(names))
    try:
        # The usual case, every metric present: one C call per reading.
        row = itemgetter(*names)
        flat = map(row, metrics) if len(names) == 1 else chain.from_iterable(map(row, metrics))
        return np.fromiter(flat, dtype=np.float64, count=shape[0] * shape[1]).reshape(shape)
    except KeyError:
        rows = [[m.get(name, NAN) for name in names] for m in metrics]
        return np.array(rows, dtype=np.float64).reshape(shape)


def _unit_checkpoints(
    names: MetricSet, data: dict[str, Any], unit_ids: list[str]
) -> list[Checkpoint]:
    state = data["state"]
    row_of = {unit_id: row for row, unit_id in enumerate(state["unit_ids"])}
    regimes = DetectorConfig.from_dict(data["config"]).regimes
    rows = []
    for unit_id in sorted(unit_ids):
        row = row_of[unit_id]
        unit_state = {name: values[row] for name, values in state["arrays"].items()}
        last_us = int(unit_state["last_ts_us"])
        rows.append(Checkpoint(unit_id, names, data["format"], regimes, last_us, unit_state))
    return rows
