"""One vectorised step of the per-unit baselines: score readings, then learn from them.

Every row of a step belongs to a different unit, so a whole step is a handful of numpy
operations on (units, metrics) arrays; the detector cuts a batch into such steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from predictive.online.config import DetectorConfig
from predictive.online.state import (
    DRIFT_VAR,
    HAS_PREV,
    MAD,
    MEAN,
    MODE,
    RECENT,
    REFERENCE,
    SAME_RUN,
    SEEN,
    SINCE_SWITCH,
    DetectorState,
)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# Before this many samples the scale is a plain mean of deviations and nothing is clipped.
MAD_START_SAMPLES = 10
# Median absolute deviation to standard deviation, for normal noise.
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class StepScores:
    """Per row and metric: spike z, drift z and unchanged-run ratio; zero where unscored.

    regime is the baseline each row was scored against (mode and phase since the switch).
    """

    regime: Ints
    spike_z: Floats
    drift_z: Floats
    stuck_ratio: Floats


def halflife_rate(halflife_samples: float) -> float:
    """The EWMA weight of a new sample for a half-life counted in samples."""
    return 1.0 - math.exp(-math.log(2.0) / halflife_samples)


def score_step(
    state: DetectorState,
    rows: Ints,
    ts_us: Ints,
    mode: Ints,
    values: Floats,
    config: DetectorConfig,
) -> StepScores:
    """Score one reading per unit against the state before it, then update that state.

    mode is 0 for running (or unknown) and 1 for stopped.
    """
    present = np.isfinite(values)
    seen, since = _track_unit(state, rows, ts_us, mode)
    phase = np.searchsorted(np.asarray(config.phase_edges_samples), since, side="right")
    regime = mode * (len(config.phase_edges_samples) + 1) + phase
    spike_z, drift_z = _baseline_step(state, rows, regime, values, present, config)
    stuck_ratio = _stuck_step(state, rows, mode, values, present)
    # A unit's first readings are no switch, whatever mode they start in.
    settled = (since >= config.settle_samples) | (seen <= config.settle_samples)
    scored = present & settled[:, None]
    armed = (seen > config.warmup_samples)[:, None]
    return StepScores(
        regime=regime,
        spike_z=np.where(scored, spike_z, 0.0),
        drift_z=np.where(scored, drift_z, 0.0),
        stuck_ratio=np.where(armed, stuck_ratio / config.stuck_samples, 0.0),
    )


def _track_unit(state: DetectorState, rows: Ints, ts_us: Ints, mode: Ints) -> tuple[Ints, Ints]:
    """Readings seen, and samples since the unit last started or stopped (0 at a switch)."""
    unit = state.unit[rows]
    seen = unit[:, SEEN] + 1
    since = np.where(unit[:, MODE] != mode, 0, unit[:, SINCE_SWITCH] + 1)
    state.unit[rows] = np.column_stack((seen, ts_us, mode, since))
    return seen, since


def _baseline_step(
    state: DetectorState,
    rows: Ints,
    regime: Ints,
    values: Floats,
    present: Bools,
    config: DetectorConfig,
) -> tuple[Floats, Floats]:
    at = (rows, regime)
    block, count = state.baseline[at], state.count[at]
    mean, mad = block[..., MEAN], block[..., MAD]
    x = np.where(present, values, mean)
    # The floor follows the metric's largest level in any regime: a stopped pump's pressure
    # sits at zero, yet a wobble of a hundredth of a bar is not news.
    level = np.abs(state.baseline[rows, :, :, MEAN]).max(axis=1)
    floor = config.scale_floor_abs + config.scale_floor_fraction * level
    scale = np.maximum(MAD_TO_SIGMA * mad, floor)
    spike_z = np.where(count >= config.warmup_samples, (x - mean) / scale, 0.0)

    # Early samples get plain-average weights, so the baseline starts from the data.
    rate = np.maximum(halflife_rate(config.baseline_halflife_samples), 1.0 / (count + 1))
    clip = np.where(count >= MAD_START_SAMPLES, config.huber_c * scale, np.inf)
    residual = np.clip(x - mean, -clip, clip)
    # Clipped residuals alone move the baseline too slowly after a genuine change of level,
    # and the scale then inflates and hides the next real anomaly: a fixed step towards
    # each reading (a median tracker) lets it follow.
    step = np.where(count >= MAD_START_SAMPLES, config.location_step * scale, 0.0)
    new_mean = mean + rate * residual + step * np.sign(x - mean)
    new_mad = _track_mad(mad, np.abs(x - mean), count, config.scale_step)
    drift = _drift_step(block, count, x, mean + residual, clip, rate, floor, config)

    updated = np.stack((new_mean, new_mad, *drift[1:]), axis=-1)
    state.baseline[at] = np.where(present[..., None], updated, block)
    state.count[at] = count + present
    return spike_z, np.where(present, drift[0], 0.0)


def _drift_step(
    block: Floats,
    count: Ints,
    x: Floats,
    clipped_x: Floats,
    clip: Floats,
    rate: Floats,
    floor: Floats,
    config: DetectorConfig,
) -> tuple[Floats, Floats, Floats, Floats]:
    """Drift z, then the new reference, recent average and gap variance.

    The drift is the gap between a recent average and a slow reference, in units of its
    usual spread. The reference moves only by clipped residuals (no median step), so a
    slow drift cannot drag it along; the spread is a clipped variance, which covers daily
    cycles that a median of the gap would understate.
    """
    reference, recent, drift_var = block[..., REFERENCE], block[..., RECENT], block[..., DRIFT_VAR]
    new_reference = reference + rate * np.clip(x - reference, -clip, clip)
    recent_rate = np.maximum(halflife_rate(config.recent_halflife_samples), 1.0 / (count + 1))
    # The recent average sees clipped values too: one wild sample is a spike, not a drift.
    new_recent = recent + recent_rate * (clipped_x - recent)
    gap = new_recent - new_reference
    drift_scale = np.maximum(np.sqrt(drift_var), floor)
    drift_clip = np.where(count >= config.warmup_samples, config.huber_c * drift_scale, np.inf)
    clipped_gap = np.clip(gap, -drift_clip, drift_clip)
    new_drift_var = drift_var + rate * (clipped_gap * clipped_gap - drift_var)
    drift_z = np.where(count >= config.drift_warmup_samples, gap / drift_scale, 0.0)
    return drift_z, new_reference, new_recent, new_drift_var


def _track_mad(mad: Floats, deviation: Floats, count: Ints, step: float) -> Floats:
    """The median absolute deviation: a plain mean at first, then a quantile tracker.

    The tracker moves by a fixed factor up or down, so it settles where half the
    deviations are above it however large the other half are: occasional excursions
    do not inflate it the way they inflate a variance.
    """
    early = mad + (deviation - mad) / (count + 1)
    tracked = np.where(deviation > mad, mad * (1.0 + step), mad * (1.0 - step))
    return np.where(count < MAD_START_SAMPLES, early, tracked)


def _stuck_step(
    state: DetectorState, rows: Ints, mode: Ints, values: Floats, present: Bools
) -> Ints:
    """How many running samples each metric has repeated its value for."""
    prev, stuck = state.prev[rows], state.stuck[rows]
    has_prev, run = stuck[..., HAS_PREV], stuck[..., SAME_RUN]
    same = present & (has_prev == 1) & (values == prev)
    # A stopped machine may legitimately read the same value: count only while running.
    running = (mode == 0)[:, None]
    new_run = np.where(same, run + running, np.where(present, 0, run))
    state.prev[rows] = np.where(present, values, prev)
    state.stuck[rows] = np.stack((has_prev | present, new_run), axis=-1)
    return new_run
