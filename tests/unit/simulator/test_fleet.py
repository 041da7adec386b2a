from __future__ import annotations

import itertools
import re

import pytest

from devices.records import Position, Reading
from devices.simulator.equipment import EquipmentKind
from devices.simulator.faults import FaultKind, FaultSpec
from devices.simulator.fleet import Fleet, FleetConfig
from devices.simulator.geography import haversine_m
from tests.unit.simulator.factories import T0_US, US_PER_S, make_fleet

DEVICE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _run(fleet: Fleet, times_us: list[int]) -> list[Reading | Position]:
    samples: list[Reading | Position] = []
    for now_us in times_us:
        samples += fleet.advance(now_us)
    return samples


def test_same_seed_and_times_give_identical_samples() -> None:
    times_us = [T0_US + step * 7 * US_PER_S for step in range(200)]

    first = _run(make_fleet(seed=3), times_us)
    second = _run(make_fleet(seed=3), times_us)

    assert len(first) > 100
    assert first == second


def test_a_different_seed_gives_a_different_fleet_and_signal() -> None:
    times_us = [T0_US + step * 7 * US_PER_S for step in range(50)]

    assert make_fleet(seed=3).sites != make_fleet(seed=4).sites
    assert _run(make_fleet(seed=3), times_us) != _run(make_fleet(seed=4), times_us)


def test_samples_do_not_depend_on_how_often_advance_is_called() -> None:
    end_us = T0_US + 600 * US_PER_S
    fine = _run(make_fleet(), [T0_US + step * US_PER_S // 3 for step in range(1801)])
    coarse = _run(make_fleet(), [T0_US, end_us])

    assert fine == coarse


def test_registry_names_every_unit_and_site_consistently() -> None:
    fleet = make_fleet(equipment=20, vehicles=10)
    site_ids = {site.id for site in fleet.sites}

    assert [unit.id for unit in fleet.equipment] == [f"eq-{n:04d}" for n in range(1, 21)]
    assert [unit.id for unit in fleet.vehicles] == [f"veh-{n:03d}" for n in range(1, 11)]
    assert [site.id for site in fleet.sites] == [f"site-{n:03d}" for n in range(1, 8)]
    assert all(unit.site_id in site_ids for unit in fleet.equipment)
    assert all(unit.home_site_id in site_ids for unit in fleet.vehicles)
    assert {unit.kind for unit in fleet.equipment} <= set(EquipmentKind)
    assert len({unit.plate for unit in fleet.vehicles}) == 10
    unit_ids = [unit.id for unit in fleet.equipment] + [unit.id for unit in fleet.vehicles]
    assert all(DEVICE_ID.fullmatch(unit_id) for unit_id in unit_ids)


def test_sites_lie_within_the_radius_and_apart() -> None:
    config = FleetConfig(equipment=30, radius_km=10.0)
    fleet = Fleet(config)

    for site in fleet.sites:
        assert haversine_m(config.center_lat, config.center_lon, site.lat, site.lon) <= 10_000.0
        assert 80.0 <= site.radius_m <= 300.0
    for index, site in enumerate(fleet.sites):
        for other in fleet.sites[index + 1 :]:
            assert haversine_m(site.lat, site.lon, other.lat, other.lon) >= 1_000.0


def test_every_unit_reports_at_its_own_interval() -> None:
    fleet = make_fleet(equipment=4, vehicles=2)
    fleet.set_intervals(equipment_interval_s=10.0, vehicle_interval_s=5.0)

    samples = _run(fleet, [T0_US, T0_US + 100 * US_PER_S])

    by_device: dict[str, list[int]] = {}
    for sample in samples:
        by_device.setdefault(sample.device_id, []).append(sample.ts_us)
    for device_id, stamps in by_device.items():
        expected_us = 5 * US_PER_S if device_id.startswith("veh-") else 10 * US_PER_S
        assert {b - a for a, b in itertools.pairwise(stamps)} == {expected_us}
    assert len(by_device) == 6


def test_first_samples_are_spread_over_one_interval() -> None:
    fleet = make_fleet(equipment=20, vehicles=0, interval_s=60.0)

    samples = _run(fleet, [T0_US, T0_US + 60 * US_PER_S - 1])

    offsets_s = sorted((sample.ts_us - T0_US) / US_PER_S for sample in samples)
    assert len(offsets_s) == 20
    assert len(set(offsets_s)) == 20
    assert offsets_s[-1] - offsets_s[0] > 30.0


def test_advance_returns_samples_in_time_order_and_only_once() -> None:
    fleet = make_fleet(interval_s=2.0)

    first = fleet.advance(T0_US) + fleet.advance(T0_US + 30 * US_PER_S)
    again = fleet.advance(T0_US + 30 * US_PER_S)

    assert again == []
    stamps = [sample.ts_us for sample in first]
    assert stamps == sorted(stamps)
    assert all(T0_US <= ts_us <= T0_US + 30 * US_PER_S for ts_us in stamps)


def test_changing_intervals_mid_run_applies_from_each_units_next_sample() -> None:
    fleet = make_fleet(equipment=1, vehicles=0, interval_s=10.0)
    before = _run(fleet, [T0_US, T0_US + 40 * US_PER_S])

    fleet.set_intervals(equipment_interval_s=1.0, vehicle_interval_s=1.0)
    after = fleet.advance(T0_US + 50 * US_PER_S)

    assert after[0].ts_us == before[-1].ts_us + US_PER_S
    assert {b.ts_us - a.ts_us for a, b in itertools.pairwise(after)} == {US_PER_S}


def test_readings_and_positions_come_from_equipment_and_vehicles() -> None:
    fleet = make_fleet(equipment=3, vehicles=2, interval_s=1.0)

    samples = _run(fleet, [T0_US, T0_US + 10 * US_PER_S])

    assert {s.device_id for s in samples if isinstance(s, Reading)} == {
        "eq-0001",
        "eq-0002",
        "eq-0003",
    }
    assert {s.device_id for s in samples if isinstance(s, Position)} == {"veh-001", "veh-002"}


@pytest.mark.parametrize(
    "config",
    [
        FleetConfig(equipment=-1),
        FleetConfig(radius_km=0.0),
        FleetConfig(center_lat=91.0),
        FleetConfig(faults=(FaultSpec(FaultKind.OVERHEATING, "veh-001", T0_US),)),
        FleetConfig(faults=(FaultSpec(FaultKind.OVERHEATING, "eq-0999", T0_US),)),
    ],
)
def test_an_impossible_config_is_refused(config: FleetConfig) -> None:
    with pytest.raises(ValueError):
        Fleet(config)


def test_non_positive_intervals_are_refused() -> None:
    with pytest.raises(ValueError):
        make_fleet().set_intervals(equipment_interval_s=0.0, vehicle_interval_s=1.0)
