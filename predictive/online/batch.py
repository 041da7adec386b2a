"""Readings into the arrays the detector takes, for callers holding reading records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt


class ReadingLike(Protocol):
    """What the detector needs from a reading (devices.records.Reading fits)."""

    @property
    def device_id(self) -> str: ...

    @property
    def ts_us(self) -> int: ...

    @property
    def running(self) -> bool | None: ...

    @property
    def metrics(self) -> Mapping[str, float]: ...


@dataclass(frozen=True, slots=True)
class ReadingBatch:
    """Columns of a batch of readings, metrics in a fixed order (NaN where missing)."""

    unit_ids: list[str]
    ts_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    running: npt.NDArray[np.bool_]


def to_batch(readings: Sequence[ReadingLike], metric_names: Sequence[str]) -> ReadingBatch:
    """Columns for OnlineDetector.update_batch; an unknown running state counts as running."""
    nan = float("nan")
    values = np.array(
        [[r.metrics.get(name, nan) for name in metric_names] for r in readings],
        dtype=np.float64,
    ).reshape(len(readings), len(metric_names))
    return ReadingBatch(
        unit_ids=[r.device_id for r in readings],
        ts_us=np.fromiter((r.ts_us for r in readings), dtype=np.int64, count=len(readings)),
        values=values,
        running=np.fromiter(
            (r.running is not False for r in readings), dtype=np.bool_, count=len(readings)
        ),
    )
