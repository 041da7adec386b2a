"""Small factories for simulator tests: fixed times, fleets, and driven vehicles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from devices.records import Position
from devices.simulator.faults import FaultSpec
from devices.simulator.fleet import Fleet, FleetConfig
from devices.simulator.vehicles import VehicleSim, VehicleState
from kernel.clock import to_epoch_us

US_PER_S = 1_000_000
US_PER_H = 3_600 * US_PER_S
# Monday 3 June 2024, 00:00 UTC: local solar time around Moscow is 02:30.
T0_US = to_epoch_us(datetime(2024, 6, 3, tzinfo=UTC))


def make_fleet(
    *,
    equipment: int = 6,
    vehicles: int = 3,
    seed: int = 7,
    faults: tuple[FaultSpec, ...] = (),
    interval_s: float | None = None,
) -> Fleet:
    """A small fleet; interval_s sets both kinds' sample interval when given."""
    config = replace(
        FleetConfig(), equipment=equipment, vehicles=vehicles, seed=seed, faults=faults
    )
    if interval_s is None:
        return Fleet(config)
    return Fleet(config, equipment_interval_s=interval_s, vehicle_interval_s=interval_s)


def local_us(fleet: Fleet, day: int, hour: float) -> int:
    """Epoch µs of a local (solar) hour on the given day after T0's local midnight."""
    midnight_us = T0_US - fleet.utc_offset_s * US_PER_S
    return midnight_us + day * 24 * US_PER_H + int(hour * US_PER_H)


def drive(
    sim: VehicleSim, *, start_us: int, hours: float, step_s: float = 1.0
) -> list[tuple[VehicleState, Position]]:
    """Sample a vehicle every step_s for hours; the true state alongside each GPS fix."""
    step_us = int(step_s * US_PER_S)
    samples = []
    for index in range(1, int(hours * 3600 / step_s) + 1):
        fix = sim.sample(start_us + index * step_us)
        samples.append((sim.state, fix))
    return samples
