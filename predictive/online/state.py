"""The detector's per-unit arrays, grown as units appear and serialised as plain lists.

Fields that are read and written together share one array (a trailing field axis), so a
step gathers and scatters each block once: with a few units per step, numpy's per-call
overhead, not arithmetic, is what a step costs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

NO_TIME_US = -(2**62)

# Per unit, regime and metric (floats): the baselines.
MEAN, SPREAD, REFERENCE, RECENT, DRIFT_VAR = range(5)
# Per unit (ints).
SEEN, LAST_TS_US, MODE, SINCE_SWITCH = range(4)
# Per unit and metric (ints), beside the previous value itself.
HAS_PREV, SAME_RUN = range(2)
# Per unit and kind (ints), beside the episode's peak score.
HITS, CALM, IS_OPEN, OPEN_REGIME, OPENED_US = range(5)

# Serialised name -> (block, index on its last axis, or None for the whole block).
_FIELDS: dict[str, tuple[str, int | None]] = {
    "count": ("count", None),
    "mean": ("baseline", MEAN),
    "spread": ("baseline", SPREAD),
    "reference": ("baseline", REFERENCE),
    "recent": ("baseline", RECENT),
    "drift_var": ("baseline", DRIFT_VAR),
    "seen": ("unit", SEEN),
    "last_ts_us": ("unit", LAST_TS_US),
    "mode": ("unit", MODE),
    "since_switch": ("unit", SINCE_SWITCH),
    "prev": ("prev", None),
    "has_prev": ("stuck", HAS_PREV),
    "same_run": ("stuck", SAME_RUN),
    "hits": ("kinds", HITS),
    "calm": ("kinds", CALM),
    "is_open": ("kinds", IS_OPEN),
    "open_regime": ("kinds", OPEN_REGIME),
    "opened_us": ("kinds", OPENED_US),
    "peak": ("peak", None),
}


class DetectorState:
    """Blocks of arrays whose first axis is the unit; units keep their row for life."""

    def __init__(self, *, regimes: int, metrics: int, kinds: int) -> None:
        self.regimes = regimes
        self.metrics = metrics
        self.kinds_count = kinds
        self.unit_ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.blocks: dict[str, npt.NDArray[Any]] = self._blank(0)

    @property
    def baseline(self) -> npt.NDArray[np.float64]:
        """(units, regimes, metrics, 5): mean, spread, reference, recent, drift_var."""
        return self.blocks["baseline"]

    @property
    def count(self) -> npt.NDArray[np.int64]:
        """(units, regimes, metrics): samples learnt per baseline."""
        return self.blocks["count"]

    @property
    def unit(self) -> npt.NDArray[np.int64]:
        """(units, 4): seen, last_ts_us, mode, since_switch."""
        return self.blocks["unit"]

    @property
    def prev(self) -> npt.NDArray[np.float64]:
        """(units, metrics): the previous value of each metric."""
        return self.blocks["prev"]

    @property
    def stuck(self) -> npt.NDArray[np.int64]:
        """(units, metrics, 2): has_prev, same_run."""
        return self.blocks["stuck"]

    @property
    def kinds(self) -> npt.NDArray[np.int64]:
        """(units, kinds, 5): hits, calm, is_open, open_regime, opened_us."""
        return self.blocks["kinds"]

    @property
    def peak(self) -> npt.NDArray[np.float64]:
        """(units, kinds): the highest score of the open episode."""
        return self.blocks["peak"]

    def rows_of(self, unit_ids: list[str]) -> npt.NDArray[np.int64]:
        """The row of each unit id, adding rows for units never seen."""
        rows = self.rows
        for unit_id in dict.fromkeys(unit_ids):
            if unit_id not in rows:
                rows[unit_id] = len(self.unit_ids)
                self.unit_ids.append(unit_id)
        self._fit(len(self.unit_ids))
        return np.fromiter(map(rows.__getitem__, unit_ids), dtype=np.int64, count=len(unit_ids))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values: the unit ids and every field for those units."""
        count = len(self.unit_ids)
        return {
            "unit_ids": list(self.unit_ids),
            "arrays": {name: self._field(name)[:count].tolist() for name in _FIELDS},
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, regimes: int, metrics: int, kinds: int
    ) -> DetectorState:
        """The state saved by to_dict()."""
        state = cls(regimes=regimes, metrics=metrics, kinds=kinds)
        count = len(state.rows_of(list(data["unit_ids"])))
        for name, values in data["arrays"].items():
            target = state._field(name)
            target[:count] = np.asarray(values, dtype=target.dtype).reshape(
                (count, *target.shape[1:])
            )
        return state

    def _field(self, name: str) -> npt.NDArray[Any]:
        block, index = _FIELDS[name]
        array = self.blocks[block]
        return array if index is None else array[..., index]

    def _fit(self, count: int) -> None:
        capacity = len(self.blocks["unit"])
        if count <= capacity:
            return
        # Doubling keeps adding units one by one linear overall.
        grown = self._blank(max(count, 2 * capacity, 16))
        for name, array in self.blocks.items():
            grown[name][:capacity] = array
        self.blocks = grown

    def _blank(self, capacity: int) -> dict[str, npt.NDArray[Any]]:
        regimes, metrics, kinds = self.regimes, self.metrics, self.kinds_count
        blocks: dict[str, npt.NDArray[Any]] = {
            "baseline": np.zeros((capacity, regimes, metrics, 5)),
            "count": np.zeros((capacity, regimes, metrics), np.int64),
            "unit": np.zeros((capacity, 4), np.int64),
            "prev": np.zeros((capacity, metrics)),
            "stuck": np.zeros((capacity, metrics, 2), np.int64),
            "kinds": np.zeros((capacity, kinds, 5), np.int64),
            "peak": np.zeros((capacity, kinds)),
        }
        blocks["unit"][:, LAST_TS_US] = NO_TIME_US
        blocks["kinds"][:, :, OPENED_US] = NO_TIME_US
        return blocks
