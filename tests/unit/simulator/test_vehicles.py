from __future__ import annotations

import itertools
import random
from functools import cache
from statistics import mean

import pytest

from devices.records import Position
from devices.simulator.geography import angle_between_deg, bearing_deg, haversine_m
from devices.simulator.routes import plan_route, route_length_m
from devices.simulator.vehicles import VehicleSim, VehicleState
from tests.unit.simulator.factories import T0_US, US_PER_S, drive, make_fleet

SEED = 7
HOURS = 8.0
Track = list[tuple[VehicleState, Position]]


@cache
def _tracks() -> dict[str, Track]:
    fleet = make_fleet(equipment=9, vehicles=3, seed=SEED)
    tracks = {}
    for vehicle in fleet.vehicles:
        sim = VehicleSim(vehicle, sites=fleet.sites, seed=SEED, start_us=T0_US)
        tracks[vehicle.id] = drive(sim, start_us=T0_US, hours=HOURS)
    return tracks


def _states() -> list[list[VehicleState]]:
    return [[state for state, _ in track] for track in _tracks().values()]


def _pairs() -> list[tuple[VehicleState, VehicleState]]:
    return [pair for states in _states() for pair in itertools.pairwise(states)]


def test_vehicles_spend_time_both_driving_and_parked() -> None:
    for states in _states():
        driving_share = mean(1.0 if state.speed_kmh > 0 else 0.0 for state in states)
        assert 0.3 < driving_share < 0.95


def test_speeds_stay_within_city_limits_and_cruise_above_walking_pace() -> None:
    speeds = [state.speed_kmh for states in _states() for state in states]
    moving = [speed for speed in speeds if speed > 0]

    assert max(speeds) <= 60.0 + 1e-9
    assert 20.0 <= mean(moving) <= 60.0


def test_speed_changes_like_a_car_accelerates_and_brakes() -> None:
    changes_kmh_per_s = [b.speed_kmh - a.speed_kmh for a, b in _pairs()]

    assert max(changes_kmh_per_s) <= 1.2 * 3.6 + 1e-9
    assert min(changes_kmh_per_s) >= -4.0 * 3.6


def test_odometer_equals_the_distance_between_true_positions() -> None:
    for states in _states():
        steps_m = [haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.pairwise(states)]
        odometer_m = [(b.odometer_km - a.odometer_km) * 1000 for a, b in itertools.pairwise(states)]

        assert min(odometer_m) >= 0.0
        assert sum(odometer_m) > 50_000.0
        assert sum(odometer_m) == pytest.approx(sum(steps_m), rel=1e-3)
        # A step that rounds a corner drives a little more than the chord between its ends.
        assert all(-1e-6 < o - s < 0.5 for o, s in zip(odometer_m, steps_m, strict=False))


def test_reported_odometer_matches_the_true_one_to_the_metre() -> None:
    for track in _tracks().values():
        assert all(
            abs((fix.odometer_km or 0.0) - state.odometer_km) <= 5e-4 for state, fix in track
        )


def test_heading_points_along_the_direction_of_travel() -> None:
    moves = [(a, b) for a, b in _pairs() if haversine_m(a.lat, a.lon, b.lat, b.lon) > 3.0]
    errors = [
        angle_between_deg(bearing_deg(a.lat, a.lon, b.lat, b.lon), b.heading_deg) for a, b in moves
    ]

    assert len(moves) > 10_000
    assert mean(errors) < 1.0
    # Only a step that rounds a corner may differ much: the heading is the new leg's.
    assert sum(error > 5.0 for error in errors) / len(errors) < 0.02


def test_reported_heading_is_the_true_heading_with_a_little_noise() -> None:
    for track in _tracks().values():
        moving = [(state, fix) for state, fix in track if state.speed_kmh > 0]
        errors = [angle_between_deg(state.heading_deg, fix.heading or 0.0) for state, fix in moving]
        assert mean(errors) < 1.5
        assert max(errors) < 6.0
        assert all(0.0 <= (fix.heading or 0.0) < 360.0 for _, fix in track)


def _stops(states: list[VehicleState]) -> list[list[VehicleState]]:
    stops: list[list[VehicleState]] = []
    current: list[VehicleState] = []
    for state in states:
        if not state.ignition:
            current.append(state)
        elif current:
            stops.append(current)
            current = []
    # The first and the last stop may be cut by the window.
    return stops[1:] if states[0].ignition is False else stops


def test_vehicles_stop_at_sites_for_10_to_40_minutes_with_ignition_off() -> None:
    fleet = make_fleet(equipment=9, vehicles=3, seed=SEED)
    sites = {site.id: site for site in fleet.sites}
    all_stops = [stop for states in _states() for stop in _stops(states)]

    assert len(all_stops) >= 6
    for stop in all_stops:
        assert 10 * 60 - 1 <= len(stop) <= 40 * 60 + 1
        site = sites[stop[0].site_id or ""]
        assert all(state.speed_kmh == 0.0 and state.site_id == site.id for state in stop)
        assert haversine_m(site.lat, site.lon, stop[0].lat, stop[0].lon) <= site.radius_m


def test_standstills_with_ignition_on_are_short_traffic_stops() -> None:
    for states in _states():
        waits: list[int] = [0]
        for state in states:
            if state.ignition and state.speed_kmh == 0.0:
                waits[-1] += 1
            elif waits[-1]:
                waits.append(0)
        assert max(waits) <= 61
        assert sum(1 for wait in waits if wait >= 10) >= 3


def test_gps_fixes_scatter_around_the_truth_as_their_accuracy_says() -> None:
    track = [pair for track in _tracks().values() for pair in track]
    offsets = [(haversine_m(s.lat, s.lon, f.lat, f.lon), f.accuracy_m or 0.0) for s, f in track]

    assert all(3.0 <= accuracy <= 15.0 for _, accuracy in offsets)
    assert all(offset <= 3 * accuracy for offset, accuracy in offsets)
    within = mean(1.0 if offset <= accuracy else 0.0 for offset, accuracy in offsets)
    assert 0.8 < within < 0.92
    assert mean(offset for offset, _ in offsets) > 3.0


def test_ignition_and_speed_are_reported_as_they_are() -> None:
    for state, fix in (pair for track in _tracks().values() for pair in track):
        assert fix.ignition is state.ignition
        assert fix.speed_kmh == 0.0 if state.speed_kmh == 0.0 else (fix.speed_kmh or 0.0) >= 0.0
        assert abs((fix.speed_kmh or 0.0) - state.speed_kmh) < 2.0


def test_routes_bend_through_waypoints_and_end_at_the_destination() -> None:
    start, end = (55.70, 37.50), (55.80, 37.75)

    route = plan_route(random.Random(1), start, end)

    straight_m = haversine_m(*start, *end)
    assert len(route) >= 3
    assert (route[-1].lat, route[-1].lon) == end
    assert route[-1].end_kmh == 0.0
    assert straight_m < route_length_m(start, route) < 1.2 * straight_m
    assert all(20.0 <= waypoint.cruise_kmh <= 60.0 for waypoint in route)


def test_a_vehicle_is_deterministic_for_its_seed() -> None:
    fleet = make_fleet(equipment=9, vehicles=1, seed=SEED)
    vehicle = fleet.vehicles[0]
    first = VehicleSim(vehicle, sites=fleet.sites, seed=SEED, start_us=T0_US)
    second = VehicleSim(vehicle, sites=fleet.sites, seed=SEED, start_us=T0_US)

    stamps = [T0_US + n * 5 * US_PER_S for n in range(1, 2000)]

    assert [first.sample(t) for t in stamps] == [second.sample(t) for t in stamps]
