"""Settings of the online detector, in samples so they hold for any reporting interval."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class AnomalyKind(StrEnum):
    """What an anomaly looks like; one can be open per unit and kind."""

    SPIKE = "spike"
    DRIFT = "drift"
    STUCK = "stuck"


# Column order of the per-kind arrays in the detector state.
KINDS: tuple[AnomalyKind, ...] = (AnomalyKind.SPIKE, AnomalyKind.DRIFT, AnomalyKind.STUCK)


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """Open when open_hits of the last window scores reach open_at; clear after calm samples."""

    open_at: float
    clear_below: float
    open_hits: int
    window: int
    clear_samples: int

    def __post_init__(self) -> None:
        if not 0 < self.open_hits <= self.window <= 62:
            raise ValueError("need 0 < open_hits <= window <= 62 (the window is a bit mask)")
        if self.clear_below > self.open_at:
            raise ValueError("clear_below must not exceed open_at, or anomalies would flap")
        if self.clear_samples < 1:
            raise ValueError("clear_samples must be at least 1")


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Generic settings, tuned on the simulator only; never on evaluation labels."""

    # No alarm before a unit, state and metric has this many samples behind it.
    warmup_samples: int = 720
    # Drift compares two averages whose spread must be learnt first: a longer warm-up.
    drift_warmup_samples: int = 1440
    baseline_halflife_samples: float = 2000.0
    # The drift's recent level moves at most one scale per this many samples.
    recent_samples: float = 30.0
    # Residuals beyond huber_c scales are clipped, so outliers barely move the baseline.
    huber_c: float = 3.0
    # Per sample, the baseline also steps this many scales towards the reading (a median
    # tracker).
    location_step: float = 0.002
    # The scale is a standard deviation read from this quantile of the absolute deviations
    # (0.5: the median absolute deviation), tracked by relative steps of scale_gain / n
    # after n samples, and never less than scale_step.
    scale_quantile: float = 0.5
    scale_gain: float = 10.0
    scale_step: float = 0.002
    # A deviation under 1 % of the level is never anomalous, however quiet the sensor.
    scale_floor_fraction: float = 0.01
    scale_floor_abs: float = 1e-6
    # Samples after a running/stopped switch that are learnt from but not scored (transients).
    settle_samples: int = 3
    # Baselines are kept per mode (running, stopped) and per phase since the last switch,
    # split at these sample counts: a machine just stopped is still hot, one stopped for
    # hours is not, and both are normal.
    phase_edges_samples: tuple[int, ...] = (5, 15, 45, 135)
    stuck_samples: int = 30
    max_contributors: int = 5
    spike: Hysteresis = field(default_factory=lambda: Hysteresis(6.0, 3.0, 3, 5, 10))
    # Drift opens at 4: the lowest whole threshold without a drift false alarm on the
    # simulator's tuning fleets (seeds 1 and 2); 3 raised forty.
    drift: Hysteresis = field(default_factory=lambda: Hysteresis(4.0, 2.0, 20, 30, 60))
    stuck: Hysteresis = field(default_factory=lambda: Hysteresis(1.0, 1.0, 1, 1, 3))

    def __post_init__(self) -> None:
        if not 0.0 < self.scale_quantile < 1.0:
            raise ValueError("scale_quantile must lie strictly between 0 and 1")

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        """Settings back from to_dict()."""
        values = dict(data)
        for kind in KINDS:
            values[kind.value] = Hysteresis(**data[kind.value])
        values["phase_edges_samples"] = tuple(data["phase_edges_samples"])
        return cls(**values)

    @property
    def regimes(self) -> int:
        """How many baselines each unit keeps per metric: modes times phases."""
        return 2 * (len(self.phase_edges_samples) + 1)

    def hysteresis(self) -> tuple[Hysteresis, ...]:
        """The hysteresis of each kind, in KINDS order."""
        return (self.spike, self.drift, self.stuck)
