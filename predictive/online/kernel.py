"""The detector's per-reading arithmetic, compiled: one loop over a batch in arrival order.

A reading updates its unit's baselines, stuck-run counters and open/clear state from what
the unit's previous reading left, so a unit's readings are strictly sequential. Vectorised
over units instead, a batch of devices sending fifty readings a message became fifty rounds
of about a hundred numpy calls each, and that cost half of a stream worker's time; compiled,
the same arithmetic runs once per reading and metric with no call overhead.

Every formula keeps the order of operations of the float arithmetic it replaced, so the
results are the same to the bit (tests hold it against the vectorised reference).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

from predictive.online.config import DetectorConfig, Hysteresis
from predictive.online.state import (
    CALM,
    DRIFT_VAR,
    HAS_PREV,
    HITS,
    IS_OPEN,
    LAST_TS_US,
    MEAN,
    MODE,
    OPEN_REGIME,
    OPENED_US,
    RECENT,
    REFERENCE,
    SAME_RUN,
    SEEN,
    SINCE_SWITCH,
    SPREAD,
    DetectorState,
)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# Before this many samples the spread is a plain mean of deviations, the recent level a plain
# average, and nothing is clipped.
EARLY_SAMPLES = 10
# Mean absolute deviation to standard deviation, for normal noise: sqrt(pi / 2).
MEAN_ABS_TO_SIGMA = math.sqrt(math.pi / 2.0)

# Float settings, by index into Settings.floats (the compiled loop takes plain arrays).
(
    F_RATE,
    F_HUBER_C,
    F_LOCATION_STEP,
    F_SCALE_QUANTILE,
    F_SCALE_GAIN,
    F_SCALE_STEP,
    F_FLOOR_FRACTION,
    F_FLOOR_ABS,
    F_RECENT_SAMPLES,
    F_ABOVE_FACTOR,
    F_SPIKE_OPEN_AT,
    F_DRIFT_CLEAR_BELOW,
    F_STUCK_SAMPLES,
) = range(13)
# Integer settings, by index into Settings.ints.
I_WARMUP, I_DRIFT_WARMUP, I_SETTLE = range(3)
# Per-kind hysteresis thresholds, by index into the first axis of Settings.kind_floats ...
H_OPEN_AT, H_CLEAR_BELOW = range(2)
# ... and of Settings.kind_ints (the window mask needs all of its 62 bits).
H_OPEN_HITS, H_WINDOW_MASK, H_CLEAR_SAMPLES = range(3)


def halflife_rate(halflife_samples: float) -> float:
    """The EWMA weight of a new sample for a half-life counted in samples."""
    return 1.0 - math.exp(-math.log(2.0) / halflife_samples)


@dataclass(frozen=True, slots=True)
class Settings:
    """A DetectorConfig as the arrays the compiled loop takes."""

    floats: Floats
    ints: Ints
    phase_edges: Ints
    kind_floats: Floats  # (2, kinds): open_at, clear_below
    kind_ints: Ints  # (3, kinds): open_hits, window mask, clear_samples

    @classmethod
    def of(cls, config: DetectorConfig, hysteresis: tuple[Hysteresis, ...]) -> Settings:
        p = config.scale_quantile
        floats = [0.0] * 13
        floats[F_RATE] = halflife_rate(config.baseline_halflife_samples)
        floats[F_HUBER_C] = config.huber_c
        floats[F_LOCATION_STEP] = config.location_step
        floats[F_SCALE_QUANTILE] = p
        floats[F_SCALE_GAIN] = config.scale_gain
        floats[F_SCALE_STEP] = config.scale_step
        floats[F_FLOOR_FRACTION] = config.scale_floor_fraction
        floats[F_FLOOR_ABS] = config.scale_floor_abs
        floats[F_RECENT_SAMPLES] = config.recent_samples
        # A deviation is above the spread's quantile when past this many spreads.
        floats[F_ABOVE_FACTOR] = NormalDist().inv_cdf((1.0 + p) / 2.0)
        floats[F_SPIKE_OPEN_AT] = config.spike.open_at
        floats[F_DRIFT_CLEAR_BELOW] = config.drift.clear_below
        floats[F_STUCK_SAMPLES] = float(config.stuck_samples)
        ints = [config.warmup_samples, config.drift_warmup_samples, config.settle_samples]
        kind_floats = [[h.open_at for h in hysteresis], [h.clear_below for h in hysteresis]]
        kind_ints = [
            [h.open_hits for h in hysteresis],
            [(1 << h.window) - 1 for h in hysteresis],
            [h.clear_samples for h in hysteresis],
        ]
        return cls(
            floats=np.array(floats, dtype=np.float64),
            ints=np.array(ints, dtype=np.int64),
            phase_edges=np.array(config.phase_edges_samples, dtype=np.int64),
            kind_floats=np.array(kind_floats, dtype=np.float64),
            kind_ints=np.array(kind_ints, dtype=np.int64),
        )


@dataclass(frozen=True, slots=True)
class BatchScores:
    """Per reading of a batch, what the loop found.

    learnt is False for a replay (not newer than its unit's last reading): skipped, every
    other field zero. Per metric: spike z, drift z and unchanged-run ratio (zero where
    unscored). Per kind: the score, opened or cleared at this reading, the episode's peak and
    its start.
    """

    learnt: Bools
    regime: Ints
    spike_z: Floats
    drift_z: Floats
    stuck_ratio: Floats
    per_kind: Floats
    opened: Bools
    cleared: Bools
    peak: Floats
    opened_us: Ints


def score_batch(
    state: DetectorState,
    rows: Ints,
    ts_us: Ints,
    mode: Ints,
    values: Floats,
    settings: Settings,
) -> BatchScores:
    """Score every reading against its unit's state before it, then learn from it.

    rows, ts_us and mode (0 running or unknown, 1 stopped) are per reading, values is
    (readings, metrics) with NaN where a metric is missing; readings in arrival order.
    """
    count, metrics = values.shape
    kinds = settings.kind_ints.shape[1]
    out = BatchScores(
        learnt=np.zeros(count, np.bool_),
        regime=np.zeros(count, np.int64),
        spike_z=np.zeros((count, metrics)),
        drift_z=np.zeros((count, metrics)),
        stuck_ratio=np.zeros((count, metrics)),
        per_kind=np.zeros((count, kinds)),
        opened=np.zeros((count, kinds), np.bool_),
        cleared=np.zeros((count, kinds), np.bool_),
        peak=np.zeros((count, kinds)),
        opened_us=np.zeros((count, kinds), np.int64),
    )
    blocks = state.blocks
    _score_loop(
        (blocks["baseline"], blocks["count"], blocks["unit"], blocks["prev"]),
        (blocks["stuck"], blocks["kinds"], blocks["peak"]),
        (rows, ts_us, mode, values),
        (settings.floats, settings.ints, settings.phase_edges),
        (settings.kind_floats, settings.kind_ints),
        (out.learnt, out.regime, out.spike_z, out.drift_z, out.stuck_ratio),
        (out.per_kind, out.opened, out.cleared, out.peak, out.opened_us),
    )
    return out


def compile_ahead(config: DetectorConfig) -> None:
    """Compile the loop now (or load it from the cache), so a worker's first batch does not
    wait seconds for it: one throwaway reading of one unit."""
    state = DetectorState(regimes=config.regimes, metrics=1, kinds=len(config.hysteresis()))
    rows = state.rows_of(["warm-up"])
    one = np.ones(1, np.int64)
    score_batch(state, rows, one, one, np.ones((1, 1)), Settings.of(config, config.hysteresis()))


# The functions below are compiled on first use (and cached on disk): plain scalar code
# over arrays, split by concern so each stays readable. numba inlines the calls between
# them; only _score_loop is called from Python, once per batch. IEEE float semantics
# (error_model="numpy"): a division by zero gives inf or NaN as numpy does, no exception.

F = TypeVar("F", bound=Callable[..., Any])


def _compiled(func: F) -> F:
    try:
        return cast(F, numba.njit(func, cache=True, error_model="numpy", inline="always"))
    except RuntimeError:  # nowhere writable to cache: compile at every start instead
        return cast(F, numba.njit(func, error_model="numpy", inline="always"))


@_compiled
def _nan_max(best: float, value: float) -> float:
    """numpy's maximum of two floats: NaN if either is."""
    if value != value or value > best:
        return value
    return best


@_compiled
def _clip(value: float, bound: float) -> float:
    """numpy's clip to [-bound, bound]: the lower bound first, then the upper."""
    return min(max(value, -bound), bound)


@_compiled
def _sign(value: float) -> float:
    if value > 0.0:
        return 1.0
    if value < 0.0:
        return -1.0
    return value  # zero, or NaN


@_compiled
def _spread_step(spread: float, deviation: float, n: int, outlier: bool, s: Floats) -> float:
    """The new spread, a standard deviation, from an absolute deviation.

    At first the mean absolute deviation (times sqrt(pi/2), exact for normal noise), from
    the second reading on: the first has nothing to deviate from, and measured from zero it
    would count a unit's whole level as spread. Then a quantile tracker: it steps up when a
    deviation exceeds the spread's quantile and down otherwise, by a step shrinking as
    scale_gain / n down to scale_step (a unit first seen at rest must not hold its first
    spread for long). Outliers (past the spike threshold) never push it up.
    """
    if n < EARLY_SAMPLES:
        if n == 0:
            return 0.0
        return spread + (deviation * MEAN_ABS_TO_SIGMA - spread) / max(n, 1)
    p: float = s[F_SCALE_QUANTILE]
    gain: float = min(max(s[F_SCALE_STEP], s[F_SCALE_GAIN] / (n + 1)), 0.5)
    if deviation > spread * s[F_ABOVE_FACTOR]:
        return spread if outlier else spread * (1.0 + gain * p)
    return spread * (1.0 - gain * (1.0 - p))


@_compiled
def _level_floor(baseline: Floats, r: int, m: int, s: Floats) -> float:
    """The least scale of a metric: it follows the metric's largest level in any regime (a
    stopped pump's pressure sits at zero, yet a wobble of a hundredth of a bar is not news)."""
    level = abs(baseline[r, 0, m, MEAN])
    for g in range(1, baseline.shape[1]):
        level = _nan_max(level, abs(baseline[r, g, m, MEAN]))
    floor: float = s[F_FLOOR_ABS] + s[F_FLOOR_FRACTION] * level
    return floor


@_compiled
def _drift_var_step(
    drift_var: float, gap: float, drift_scale: float, n: int, rate: float, s: Floats, si: Ints
) -> float:
    """The gap's variance, clipped, learnt only from calm gaps (or before the drift warm-up):
    a drift under way is not spread, and learnt as spread it would hide itself."""
    calm = abs(gap / drift_scale) < s[F_DRIFT_CLEAR_BELOW]
    if n >= si[I_DRIFT_WARMUP] and not calm:
        return drift_var
    drift_clip = s[F_HUBER_C] * drift_scale if n >= si[I_WARMUP] else np.inf
    clipped_gap = _clip(gap, drift_clip)
    return drift_var + rate * (clipped_gap * clipped_gap - drift_var)


@_compiled
def _baseline_metric(
    baseline: Floats,
    counts: Ints,
    at: tuple[int, int, int],
    x_in: float,
    present: bool,
    s: Floats,
    si: Ints,
) -> tuple[float, float]:
    """Spike z and drift z of one metric's value; learnt into its baseline if present.

    Residuals past huber_c scales are clipped, and the mean also steps location_step scales
    towards each reading (a median tracker), so it follows a genuine change of level. The
    drift is the gap between a recent level, which moves at most one scale per
    recent_samples readings, and a slow reference moved by clipped residuals only, in units
    of the gap's usual spread. A reading past the spike threshold is an outlier, not spread.
    """
    r, regime, m = at
    mean = baseline[r, regime, m, MEAN]
    spread = baseline[r, regime, m, SPREAD]
    reference = baseline[r, regime, m, REFERENCE]
    recent = baseline[r, regime, m, RECENT]
    drift_var = baseline[r, regime, m, DRIFT_VAR]
    n = counts[r, regime, m]
    x = x_in if present else mean
    floor = _level_floor(baseline, r, m, s)
    scale = _nan_max(spread, floor)
    deviation = x - mean
    warm = n >= si[I_WARMUP]
    spike_z = deviation / scale if warm else 0.0
    outlier = warm and abs(spike_z) >= s[F_SPIKE_OPEN_AT]

    # Early samples get plain-average weights, so the baseline starts from the data.
    rate = _nan_max(s[F_RATE], 1.0 / (n + 1))
    robust = n >= EARLY_SAMPLES
    clip = s[F_HUBER_C] * scale if robust else np.inf
    step = s[F_LOCATION_STEP] * scale if robust else 0.0
    new_mean = mean + rate * _clip(deviation, clip) + step * _sign(deviation)
    new_reference = reference + rate * _clip(x - reference, clip)
    if robust:
        new_recent = recent + _clip(x - recent, scale / s[F_RECENT_SAMPLES])
    else:
        new_recent = recent + (x - recent) / (n + 1)
    gap = new_recent - new_reference
    drift_scale = _nan_max(math.sqrt(drift_var), floor)
    drift_z = gap / drift_scale if n >= si[I_DRIFT_WARMUP] else 0.0
    if not present:
        return spike_z, 0.0
    baseline[r, regime, m, MEAN] = new_mean
    baseline[r, regime, m, SPREAD] = _spread_step(spread, abs(deviation), n, outlier, s)
    baseline[r, regime, m, REFERENCE] = new_reference
    baseline[r, regime, m, RECENT] = new_recent
    baseline[r, regime, m, DRIFT_VAR] = _drift_var_step(drift_var, gap, drift_scale, n, rate, s, si)
    counts[r, regime, m] = n + 1
    return spike_z, drift_z


@_compiled
def _stuck_metric(
    prev: Floats, stuck: Ints, r: int, m: int, value: float, present: bool, running: int
) -> int:
    """How many running samples the metric has repeated its value for (a stopped machine
    may legitimately read the same value, so only running samples count)."""
    run: int = stuck[r, m, SAME_RUN]
    if present:
        run = run + running if stuck[r, m, HAS_PREV] == 1 and value == prev[r, m] else 0
        prev[r, m] = value
        stuck[r, m, HAS_PREV] = 1
        stuck[r, m, SAME_RUN] = run
    return run


@_compiled
def _popcount(bits: int) -> int:
    count = 0
    while bits:
        count += bits & 1
        bits >>= 1
    return count


@_compiled
def _hysteresis(
    held: Ints,
    peaks: Floats,
    at: tuple[int, int],
    reading: tuple[int, int, float],
    kind_floats: Floats,
    kind_ints: Ints,
) -> tuple[bool, bool, float, int]:
    """One kind, one reading: open on open_hits of the last window scores past open_at,
    clear after clear_samples calm ones; opened, cleared, the episode's peak and start.

    A fault seen while running may be invisible while stopped (a worn bearing does not
    vibrate at rest): only readings scored against the baseline the anomaly opened on
    (same mode, same phase since the last start or stop) count towards clearing it.
    """
    r, k = at
    ts, regime, score = reading
    past = 1 if score >= kind_floats[H_OPEN_AT, k] else 0
    hits = ((held[r, k, HITS] << 1) | past) & kind_ints[H_WINDOW_MASK, k]
    was_open = held[r, k, IS_OPEN] == 1
    calm = held[r, k, CALM]
    if not was_open or held[r, k, OPEN_REGIME] == regime:
        calm = calm + 1 if score < kind_floats[H_CLEAR_BELOW, k] else 0
    opened = not was_open and _popcount(hits) >= kind_ints[H_OPEN_HITS, k]
    cleared = was_open and calm >= kind_ints[H_CLEAR_SAMPLES, k]
    if opened:
        held[r, k, OPEN_REGIME] = regime
        held[r, k, OPENED_US] = ts
        calm = 0
    is_open = (was_open or opened) and not cleared
    held[r, k, HITS] = 0 if cleared else hits
    held[r, k, CALM] = calm
    held[r, k, IS_OPEN] = 1 if is_open else 0
    peak = score if opened else _nan_max(peaks[r, k], score)
    peaks[r, k] = peak if is_open else 0.0
    return opened, cleared, peak, held[r, k, OPENED_US]


@_compiled
def _track_unit(unit: Ints, r: int, ts: int, mode: int) -> tuple[int, int]:
    """Readings seen, and samples since the unit last started or stopped (0 at a switch)."""
    seen = unit[r, SEEN] + 1
    since = 0 if unit[r, MODE] != mode else unit[r, SINCE_SWITCH] + 1
    unit[r, SEEN] = seen
    unit[r, LAST_TS_US] = ts
    unit[r, MODE] = mode
    unit[r, SINCE_SWITCH] = since
    return seen, since


@_compiled
def _regime(mode: int, since: int, edges: Ints) -> int:
    """The baseline a reading belongs to: its mode, and its phase since the last switch."""
    phase = 0
    for edge in edges:
        if since >= edge:
            phase += 1
    return mode * (len(edges) + 1) + phase


@_compiled
def _score_loop(
    held: tuple[Floats, Ints, Ints, Floats],
    held_kinds: tuple[Ints, Ints, Floats],
    batch: tuple[Ints, Ints, Ints, Floats],
    settings: tuple[Floats, Ints, Ints],
    kind_settings: tuple[Floats, Ints],
    out_metrics: tuple[Bools, Ints, Floats, Floats, Floats],
    out_kinds: tuple[Floats, Bools, Bools, Floats, Ints],
) -> None:
    baseline, counts, unit, prev = held
    stuck, kinds_state, peaks = held_kinds
    rows, ts_us, modes, values = batch
    s, si, edges = settings
    kind_floats, kind_ints = kind_settings
    learnt, regimes, spike_out, drift_out, stuck_out = out_metrics
    per_kind, opened, cleared, peak_out, opened_us = out_kinds
    for i in range(len(rows)):
        r, ts, mode = rows[i], ts_us[i], modes[i]
        if ts <= unit[r, LAST_TS_US]:
            continue  # a replay: already learnt
        learnt[i] = True
        seen, since = _track_unit(unit, r, ts, mode)
        regime = _regime(mode, since, edges)
        regimes[i] = regime
        # A unit's first readings are no switch, whatever mode they start in.
        settled = since >= si[I_SETTLE] or seen <= si[I_SETTLE]
        armed = seen > si[I_WARMUP]
        running = 1 if mode == 0 else 0
        spike_max, drift_max, stuck_max = 0.0, 0.0, 0.0
        for m in range(values.shape[1]):
            value = values[i, m]
            present = math.isfinite(value)
            spike_z, drift_z = _baseline_metric(
                baseline, counts, (r, regime, m), value, present, s, si
            )
            run = _stuck_metric(prev, stuck, r, m, value, present, running)
            if present and settled:
                spike_out[i, m] = spike_z
                drift_out[i, m] = drift_z
                spike_max = _nan_max(spike_max, abs(spike_z))
                drift_max = _nan_max(drift_max, abs(drift_z))
            if armed:
                stuck_out[i, m] = run / s[F_STUCK_SAMPLES]
                stuck_max = _nan_max(stuck_max, stuck_out[i, m])
        per_kind[i, 0], per_kind[i, 1], per_kind[i, 2] = spike_max, drift_max, stuck_max
        for k in range(per_kind.shape[1]):
            moved = _hysteresis(
                kinds_state, peaks, (r, k), (ts, regime, per_kind[i, k]), kind_floats, kind_ints
            )
            opened[i, k], cleared[i, k], peak_out[i, k], opened_us[i, k] = moved
