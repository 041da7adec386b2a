"""The simulated fleet: sites, equipment and vehicles, sampled on a deterministic schedule."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from devices.records import Position, Reading
from devices.simulator.equipment import PROFILES, Equipment, EquipmentKind
from devices.simulator.equipment_sim import EquipmentSim
from devices.simulator.faults import FaultSpec, active_fault
from devices.simulator.geography import Site, place_sites
from devices.simulator.vehicles import Vehicle, VehicleSim

US_PER_S = 1_000_000
DEFAULT_EQUIPMENT_INTERVAL_S = 10.0
DEFAULT_VEHICLE_INTERVAL_S = 5.0
EQUIPMENT_PER_SITE = 3
MIN_SITES = 3
# Russian plates use only the 12 Cyrillic letters that look Latin; registries store them as Latin.
PLATE_LETTERS = "ABEKMHOPCTYX"
PLATE_REGIONS = ("77", "97", "99", "177", "197", "199", "777", "50", "150", "750")


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """What to simulate: how many units, where, with which seed and faults."""

    equipment: int = 20
    vehicles: int = 10
    seed: int = 1
    center_lat: float = 55.75
    center_lon: float = 37.62
    radius_km: float = 25.0
    faults: tuple[FaultSpec, ...] = ()


class Fleet:
    """Every unit of a fleet, advanced together to a simulated time."""

    def __init__(
        self,
        config: FleetConfig,
        *,
        equipment_interval_s: float = DEFAULT_EQUIPMENT_INTERVAL_S,
        vehicle_interval_s: float = DEFAULT_VEHICLE_INTERVAL_S,
    ) -> None:
        _check_config(config)
        rng = random.Random(f"toir-fleet:{config.seed}")
        self.config = config
        self.sites = place_sites(
            rng,
            count=max(MIN_SITES, math.ceil(config.equipment / EQUIPMENT_PER_SITE)),
            center_lat=config.center_lat,
            center_lon=config.center_lon,
            radius_km=config.radius_km,
        )
        self.equipment = _build_equipment(rng, config.equipment, self.sites)
        self.vehicles = _build_vehicles(rng, config.vehicles, self.sites)
        _check_faults(config.faults, self.equipment)
        # Local solar time drives the daily cycles: good enough without a time-zone database.
        self.utc_offset_s = round(config.center_lon / 15.0 * 3600)
        device_ids = [unit.id for unit in self.equipment] + [unit.id for unit in self.vehicles]
        self._phases = [random.Random(f"{config.seed}:{id_}:phase").random() for id_ in device_ids]
        self._start_us: int | None = None
        self._units: list[EquipmentSim | VehicleSim] = []
        self._last_us: list[int | None] = [None] * len(device_ids)
        self._due: list[tuple[int, int]] = []
        self._interval_us: list[int] = []
        self.set_intervals(
            equipment_interval_s=equipment_interval_s, vehicle_interval_s=vehicle_interval_s
        )

    @property
    def size(self) -> int:
        """How many units publish."""
        return len(self.equipment) + len(self.vehicles)

    def set_intervals(self, *, equipment_interval_s: float, vehicle_interval_s: float) -> None:
        """Change how often units report; takes effect from each unit's next sample."""
        if equipment_interval_s <= 0 or vehicle_interval_s <= 0:
            raise ValueError("sample intervals must be positive")
        equipment_us = max(1, round(equipment_interval_s * US_PER_S))
        vehicle_us = max(1, round(vehicle_interval_s * US_PER_S))
        self._interval_us = [equipment_us] * len(self.equipment) + [vehicle_us] * len(self.vehicles)
        if self._start_us is not None:
            self._schedule(self._start_us)

    def advance(self, now_us: int) -> list[Reading | Position]:
        """Advance every unit to now_us and return the samples due since the previous call."""
        if self._start_us is None:
            self._start(now_us)
        samples: list[Reading | Position] = []
        due, units, interval_us = self._due, self._units, self._interval_us
        while due and due[0][0] <= now_us:
            due_us, index = due[0]
            samples.append(units[index].sample(due_us))
            self._last_us[index] = due_us
            heapq.heapreplace(due, (due_us + interval_us[index], index))
        return samples

    def next_due_us(self) -> int | None:
        """When the next sample falls due, once the fleet has started."""
        return self._due[0][0] if self._due else None

    def fault_state(self, device_id: str, now_us: int) -> tuple[str, float] | None:
        """The fault active on a unit at now_us and how far it has developed (0..1)."""
        found = active_fault(
            (fault for fault in self.config.faults if fault.device_id == device_id), now_us
        )
        return None if found is None else (str(found[0].kind), found[1])

    def _start(self, now_us: int) -> None:
        self._start_us = now_us
        seed = self.config.seed
        self._units = [
            EquipmentSim(
                unit,
                seed=seed,
                start_us=now_us,
                utc_offset_s=self.utc_offset_s,
                faults=self.config.faults,
            )
            for unit in self.equipment
        ]
        self._units += [
            VehicleSim(unit, sites=self.sites, seed=seed, start_us=now_us) for unit in self.vehicles
        ]
        self._schedule(now_us)

    def _schedule(self, start_us: int) -> None:
        due: list[tuple[int, int]] = []
        for index, interval_us in enumerate(self._interval_us):
            last_us = self._last_us[index]
            if last_us is None:
                # The seed spreads first samples over one interval so units don't fire together.
                due.append((start_us + int(self._phases[index] * interval_us), index))
            else:
                due.append((last_us + interval_us, index))
        heapq.heapify(due)
        self._due = due


def _check_config(config: FleetConfig) -> None:
    if config.equipment < 0 or config.vehicles < 0:
        raise ValueError("unit counts must not be negative")
    if config.radius_km <= 0:
        raise ValueError("radius_km must be positive")
    if not (-85.0 <= config.center_lat <= 85.0 and -180.0 <= config.center_lon <= 180.0):
        raise ValueError("the centre must be a latitude within ±85 and a longitude within ±180")


def _check_faults(faults: tuple[FaultSpec, ...], equipment: tuple[Equipment, ...]) -> None:
    known = {unit.id for unit in equipment}
    for fault in faults:
        if fault.device_id not in known:
            raise ValueError(f"fault {fault.kind} targets {fault.device_id!r}: no such equipment")


def _build_equipment(
    rng: random.Random, count: int, sites: tuple[Site, ...]
) -> tuple[Equipment, ...]:
    kinds = list(EquipmentKind)
    units = []
    for index in range(count):
        kind = rng.choice(kinds)
        units.append(
            Equipment(
                id=f"eq-{index + 1:04d}",
                kind=kind,
                model=rng.choice(PROFILES[kind].models),
                site_id=sites[index % len(sites)].id,
            )
        )
    return tuple(units)


def _build_vehicles(rng: random.Random, count: int, sites: tuple[Site, ...]) -> tuple[Vehicle, ...]:
    plates: list[str] = []
    while len(plates) < count:
        plate = _plate(rng)
        if plate not in plates:
            plates.append(plate)
    return tuple(
        Vehicle(id=f"veh-{index + 1:03d}", plate=plate, home_site_id=rng.choice(sites).id)
        for index, plate in enumerate(plates)
    )


def _plate(rng: random.Random) -> str:
    letters = "".join(rng.choice(PLATE_LETTERS) for _ in range(3))
    digits = f"{rng.randrange(1, 1000):03d}"
    return f"{letters[0]}{digits}{letters[1:]}{rng.choice(PLATE_REGIONS)}"
