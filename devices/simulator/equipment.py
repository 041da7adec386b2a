"""Equipment units of the simulated fleet and the plausible operating levels of each kind."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from devices.simulator.duty import DutyProfile

TEMPERATURE: Final = "temperature_c"
VIBRATION: Final = "vibration_mm_s"
PRESSURE: Final = "pressure_bar"
CURRENT: Final = "current_a"
METRIC_NAMES: Final = (TEMPERATURE, VIBRATION, PRESSURE, CURRENT)


class EquipmentKind(StrEnum):
    """What a unit is; decides its duty cycle and operating levels."""

    GENERATOR = "generator"
    PUMP = "pump"
    HVAC = "hvac"
    COMPRESSOR = "compressor"


@dataclass(frozen=True, slots=True)
class Equipment:
    """One equipment unit as the asset registry knows it."""

    id: str
    kind: EquipmentKind
    model: str
    site_id: str


@dataclass(frozen=True, slots=True)
class KindProfile:
    """How a kind of equipment behaves: duty cycle, warmed-up levels, time constants, noise."""

    models: tuple[str, ...]
    duty: DutyProfile
    hours_initial: tuple[float, float]
    temperature_rise_c: float
    warm_tau_s: float
    vibration_mm_s: float
    pressure_bar: float
    stopped_pressure_bar: float
    pressure_rise_tau_s: float
    pressure_fall_tau_s: float
    current_a: float
    # Motor starting current as a multiple of the running current; a generator has none.
    inrush: float
    noise_fraction: float


PROFILES: Final[dict[EquipmentKind, KindProfile]] = {
    EquipmentKind.GENERATOR: KindProfile(
        models=("Cummins C110D5", "FG Wilson P165-5", "Kohler KD800", "Aksa AD 220"),
        duty=DutyProfile(
            first_start_h=(6.5, 8.5), last_stop_h=(17.0, 20.0), on_min=(120, 300), off_min=(10, 40)
        ),
        hours_initial=(500.0, 20_000.0),
        temperature_rise_c=68.0,
        warm_tau_s=600.0,
        vibration_mm_s=4.0,
        pressure_bar=4.2,
        stopped_pressure_bar=0.0,
        pressure_rise_tau_s=5.0,
        pressure_fall_tau_s=10.0,
        current_a=180.0,
        inrush=0.0,
        noise_fraction=0.05,
    ),
    EquipmentKind.PUMP: KindProfile(
        models=("Grundfos CR 32-2", "Wilo Helix V 1605", "KSB Etanorm 065", "Lowara e-SV 33"),
        duty=DutyProfile(
            first_start_h=(0.2, 0.8), last_stop_h=(23.0, 23.8), on_min=(30, 90), off_min=(10, 45)
        ),
        hours_initial=(1_000.0, 40_000.0),
        temperature_rise_c=28.0,
        warm_tau_s=900.0,
        vibration_mm_s=2.5,
        pressure_bar=6.0,
        stopped_pressure_bar=1.5,
        pressure_rise_tau_s=10.0,
        pressure_fall_tau_s=30.0,
        current_a=38.0,
        inrush=2.0,
        noise_fraction=0.04,
    ),
    EquipmentKind.HVAC: KindProfile(
        models=("Daikin VRV IV", "Carrier 30RB-120", "Trane CGAM 052", "Mitsubishi City Multi"),
        duty=DutyProfile(
            first_start_h=(6.0, 8.0), last_stop_h=(19.0, 22.0), on_min=(20, 45), off_min=(5, 15)
        ),
        hours_initial=(2_000.0, 30_000.0),
        temperature_rise_c=30.0,
        warm_tau_s=600.0,
        vibration_mm_s=1.6,
        pressure_bar=14.0,
        stopped_pressure_bar=7.0,
        pressure_rise_tau_s=60.0,
        pressure_fall_tau_s=300.0,
        current_a=24.0,
        inrush=1.5,
        noise_fraction=0.03,
    ),
    EquipmentKind.COMPRESSOR: KindProfile(
        models=("Atlas Copco GA 37", "Kaeser ASD 40", "Ingersoll Rand R37i", "Remeza VK 30"),
        duty=DutyProfile(
            first_start_h=(5.5, 7.0), last_stop_h=(21.0, 23.0), on_min=(8, 30), off_min=(3, 15)
        ),
        hours_initial=(1_000.0, 30_000.0),
        temperature_rise_c=60.0,
        warm_tau_s=480.0,
        vibration_mm_s=3.2,
        pressure_bar=7.5,
        stopped_pressure_bar=0.5,
        pressure_rise_tau_s=90.0,
        pressure_fall_tau_s=1_800.0,
        current_a=65.0,
        inrush=2.5,
        noise_fraction=0.05,
    ),
}
