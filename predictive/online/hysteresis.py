"""Open and clear anomalies per unit and kind: N of M to open, K calm samples to clear."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from predictive.online.config import Hysteresis
from predictive.online.state import CALM, HITS, IS_OPEN, OPEN_REGIME, OPENED_US, DetectorState

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The hysteresis of every kind as (kinds,) arrays, to step all kinds at once."""

    open_at: Floats
    clear_below: Floats
    open_hits: Ints
    window_mask: Ints
    clear_samples: Ints

    @classmethod
    def of(cls, settings: tuple[Hysteresis, ...]) -> Thresholds:
        """Thresholds from the per-kind settings."""
        return cls(
            open_at=np.array([s.open_at for s in settings], dtype=np.float64),
            clear_below=np.array([s.clear_below for s in settings], dtype=np.float64),
            open_hits=np.array([s.open_hits for s in settings], dtype=np.int64),
            window_mask=np.array([(1 << s.window) - 1 for s in settings], dtype=np.int64),
            clear_samples=np.array([s.clear_samples for s in settings], dtype=np.int64),
        )


@dataclass(frozen=True, slots=True)
class Transitions:
    """Per row and kind: opened or cleared at this reading, the episode's peak and start."""

    opened: Bools
    cleared: Bools
    peak: Floats
    opened_us: Ints


def step_hysteresis(
    state: DetectorState,
    rows: Ints,
    ts_us: Ints,
    regime: Ints,
    scores: Floats,
    limits: Thresholds,
) -> Transitions:
    """Advance every kind's open/clear state by one reading per unit."""
    block = state.kinds[rows]
    hits = ((block[..., HITS] << 1) | (scores >= limits.open_at)) & limits.window_mask
    was_open = block[..., IS_OPEN] == 1
    # A fault seen while running may be invisible while stopped (a worn bearing does not
    # vibrate at rest): only readings scored against the baseline the anomaly opened on
    # (same mode, same phase since the last start or stop) can clear it.
    telling = ~was_open | (block[..., OPEN_REGIME] == regime[:, None])
    calm = block[..., CALM]
    calm = np.where(telling, np.where(scores < limits.clear_below, calm + 1, 0), calm)
    opened = ~was_open & (np.bitwise_count(hits) >= limits.open_hits)
    cleared = was_open & (calm >= limits.clear_samples)
    is_open = (was_open | opened) & ~cleared
    opened_us = np.where(opened, ts_us[:, None], block[..., OPENED_US])

    state.kinds[rows] = np.stack(
        (
            np.where(cleared, 0, hits),
            np.where(opened, 0, calm),
            is_open,
            np.where(opened, regime[:, None], block[..., OPEN_REGIME]),
            opened_us,
        ),
        axis=-1,
    )
    peak = np.where(opened, scores, np.maximum(state.peak[rows], scores))
    state.peak[rows] = np.where(is_open, peak, 0.0)
    return Transitions(opened=opened, cleared=cleared, peak=peak, opened_us=opened_us)
