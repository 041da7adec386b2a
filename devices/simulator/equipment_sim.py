"""The physics of one simulated equipment unit: duty cycle, hours run and sensor levels."""

from __future__ import annotations

import math
import random

from devices.records import Reading
from devices.simulator.duty import DAY_US, US_PER_H, US_PER_S, DutyCycle, Interval
from devices.simulator.equipment import (
    CURRENT,
    PRESSURE,
    PROFILES,
    TEMPERATURE,
    VIBRATION,
    Equipment,
)
from devices.simulator.faults import FaultKind, FaultSpec, apply_fault, stuck_metric

AMBIENT_MEAN_C = 15.0
AMBIENT_SWING_C = 5.0
AMBIENT_PEAK_H = 15.0
AMBIENT_SPREAD_C = 3.0
TEMPERATURE_NOISE_C = 0.3
STOPPED_VIBRATION_MM_S = 0.05
STANDBY_CURRENT_A = 0.2
INRUSH_TAU_S = 3.0
# A stopped machine sheds heat more slowly than it gains it under load.
COOL_TAU_FACTOR = 2.0
UNIT_SPREAD = 0.1
METRIC_DECIMALS = 3


class EquipmentSim:
    """One unit advanced sample by sample; deterministic for a given seed and sample times."""

    def __init__(
        self,
        unit: Equipment,
        *,
        seed: int,
        start_us: int,
        utc_offset_s: int,
        faults: tuple[FaultSpec, ...] = (),
    ) -> None:
        key = f"{seed}:{unit.id}"
        setup = random.Random(f"{key}:setup")
        self.unit = unit
        self._profile = PROFILES[unit.kind]
        self._duty = DutyCycle(self._profile.duty, key=key, utc_offset_s=utc_offset_s)
        self._noise = random.Random(f"{key}:noise")
        self._utc_offset_s = utc_offset_s
        self._hours_initial = round(setup.uniform(*self._profile.hours_initial), 1)
        self._ambient_offset_c = setup.uniform(-AMBIENT_SPREAD_C, AMBIENT_SPREAD_C)
        self._scale = setup.uniform(1.0 - UNIT_SPREAD, 1.0 + UNIT_SPREAD)
        self._faults = tuple(fault for fault in faults if fault.device_id == unit.id)
        self._last_us = start_us
        self._running_us = 0
        self._last_metrics: dict[str, float] | None = None
        self._frozen: dict[FaultSpec, float] = {}

    @property
    def duty(self) -> DutyCycle:
        """The unit's duty cycle (when it runs)."""
        return self._duty

    @property
    def hours_run(self) -> float:
        """The hours-run meter at the last sample."""
        return self._hours_initial + self._running_us / US_PER_H

    def sample(self, t_us: int) -> Reading:
        """Advance the unit to t_us and read its meters and sensors."""
        if t_us > self._last_us:
            self._running_us += self._duty.running_us_between(self._last_us, t_us)
            self._last_us = t_us
        run = self._duty.run_at(t_us)
        running = run is not None
        metrics = self._physics(t_us, run)
        self._apply_faults(t_us, metrics, running=running)
        metrics = {name: round(value, METRIC_DECIMALS) for name, value in metrics.items()}
        self._freeze_stuck(t_us, metrics)
        self._last_metrics = metrics
        return Reading(
            device_id=self.unit.id,
            ts_us=t_us,
            hours_run=self.hours_run,
            running=running,
            metrics=metrics,
        )

    def ambient_c(self, t_us: int) -> float:
        """Air temperature at the unit, on a daily cycle that peaks mid-afternoon."""
        local_h = ((t_us // US_PER_S + self._utc_offset_s) % (DAY_US // US_PER_S)) / 3600.0
        swing = math.cos(2 * math.pi * (local_h - AMBIENT_PEAK_H) / 24.0)
        return AMBIENT_MEAN_C + self._ambient_offset_c + AMBIENT_SWING_C * swing

    def _physics(self, t_us: int, run: Interval | None) -> dict[str, float]:
        ambient_c = self.ambient_c(t_us)
        if run is not None:
            levels = self._running_levels(ambient_c, (t_us - run[0]) / US_PER_S)
        else:
            levels = self._stopped_levels(ambient_c, t_us)
        return self._with_noise(levels, running=run is not None)

    def _running_levels(self, ambient_c: float, since_start_s: float) -> dict[str, float]:
        profile, scale = self._profile, self._scale
        warm = 1.0 - math.exp(-since_start_s / profile.warm_tau_s)
        pressure_bar = profile.stopped_pressure_bar + (
            profile.pressure_bar * scale - profile.stopped_pressure_bar
        ) * (1.0 - math.exp(-since_start_s / profile.pressure_rise_tau_s))
        inrush = profile.inrush * math.exp(-since_start_s / INRUSH_TAU_S)
        return {
            TEMPERATURE: ambient_c + profile.temperature_rise_c * scale * warm,
            VIBRATION: profile.vibration_mm_s * scale * (0.85 + 0.15 * warm),
            PRESSURE: pressure_bar,
            CURRENT: profile.current_a * scale * (1.0 + inrush),
        }

    def _stopped_levels(self, ambient_c: float, t_us: int) -> dict[str, float]:
        profile, scale = self._profile, self._scale
        temperature_c, pressure_bar = ambient_c, profile.stopped_pressure_bar
        last = self._duty.last_run_before(t_us)
        if last is not None:
            ran_s, since_stop_s = (last[1] - last[0]) / US_PER_S, (t_us - last[1]) / US_PER_S
            heat_c = (
                profile.temperature_rise_c * scale * (1 - math.exp(-ran_s / profile.warm_tau_s))
            )
            cooling = math.exp(-since_stop_s / (profile.warm_tau_s * COOL_TAU_FACTOR))
            temperature_c += heat_c * cooling
            built_bar = (profile.pressure_bar * scale - profile.stopped_pressure_bar) * (
                1 - math.exp(-ran_s / profile.pressure_rise_tau_s)
            )
            pressure_bar += built_bar * math.exp(-since_stop_s / profile.pressure_fall_tau_s)
        return {
            TEMPERATURE: temperature_c,
            VIBRATION: STOPPED_VIBRATION_MM_S,
            PRESSURE: pressure_bar,
            CURRENT: STANDBY_CURRENT_A,
        }

    def _with_noise(self, levels: dict[str, float], *, running: bool) -> dict[str, float]:
        gauss, fraction = self._noise.gauss, self._profile.noise_fraction
        # Relative noise for the metrics whose spread grows with their level.
        relative = fraction if running else fraction * 0.5
        return {
            TEMPERATURE: levels[TEMPERATURE] + gauss(0.0, TEMPERATURE_NOISE_C),
            VIBRATION: abs(levels[VIBRATION] * (1.0 + gauss(0.0, relative * 2))),
            PRESSURE: max(0.0, levels[PRESSURE] + gauss(0.0, 0.05 + levels[PRESSURE] * relative)),
            CURRENT: max(0.0, levels[CURRENT] * (1.0 + gauss(0.0, relative))),
        }

    def _apply_faults(self, t_us: int, metrics: dict[str, float], *, running: bool) -> None:
        for fault in self._faults:
            fraction = fault.fraction(t_us)
            if fraction is not None and fault.kind is not FaultKind.STUCK_SENSOR:
                apply_fault(metrics, kind=fault.kind, fraction=fraction, running=running)

    def _freeze_stuck(self, t_us: int, metrics: dict[str, float]) -> None:
        for fault in self._faults:
            if fault.kind is FaultKind.STUCK_SENSOR and fault.fraction(t_us) is not None:
                name = stuck_metric(self.unit.id)
                if fault not in self._frozen:
                    self._frozen[fault] = (self._last_metrics or metrics)[name]
                metrics[name] = self._frozen[fault]
