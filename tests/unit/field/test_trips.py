"""Trip segmentation: stops, short hops, ignition, distances, filtering, gaps, checkpoints."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import pytest
from msgspec.structs import replace

from devices.records import Position
from stream.field.events import TripCompleted
from stream.field.geofence_index import GeofenceIndex
from stream.field.trips import TripConfig, TripTracker
from tests.unit.field.tracks import Track, at, circle

US_PER_S = 1_000_000


def run(
    positions: Iterable[Position],
    tracker: TripTracker | None = None,
    index: GeofenceIndex | None = None,
) -> list[TripCompleted]:
    tracker = tracker or TripTracker()
    return [event for position in positions for event in tracker.observe(position, index)]


def two_trips() -> tuple[Track, list[Position]]:
    """Park at the centre, drive 3 km north, park, drive 3 km east, park; and the key fixes."""
    track = Track.starting_at(0, 0).park(600)
    marks = [track.fixes[-1]]
    track.drive_to(3_000, 0)
    marks.append(track.fixes[-1])
    track.park(600)
    marks.append(track.fixes[-1])
    track.drive_to(3_000, 3_000)
    marks.append(track.fixes[-1])
    track.park(600)
    return track, marks


def test_trips_are_split_at_stops_from_the_last_fix_parked_to_the_arrival() -> None:
    track, (left_a, reached_b, left_b, reached_c) = two_trips()
    first, second = run(track.fixes)
    assert (first.started_us, first.ended_us) == (left_a.ts_us, reached_b.ts_us)
    assert (second.started_us, second.ended_us) == (left_b.ts_us, reached_c.ts_us)
    assert (first.end_lat, first.end_lon) == (reached_b.lat, reached_b.lon)
    assert first.gps_distance_m == pytest.approx(3_000.0, rel=0.001)
    assert first.distance_source == "gps"
    assert first.duration_s == pytest.approx(270.0, abs=10.0)  # 3 km at 40 km/h


def test_a_trip_is_reported_once_the_stop_has_lasted_the_minimum() -> None:
    track, (_, reached_b, _, _) = two_trips()
    first = run(track.fixes)[0]
    assert first.occurred_us - reached_b.ts_us == 300 * US_PER_S


def test_speeds_are_the_reported_maximum_and_the_distance_over_time() -> None:
    track = Track.starting_at(0, 0).park(600).drive_to(2_000, 0, speed_kmh=30)
    track.drive_to(4_000, 0, speed_kmh=70).park(600)
    [trip] = run(track.fixes)
    assert trip.max_speed_kmh == 70.0
    assert trip.avg_speed_kmh == pytest.approx(trip.distance_m / trip.duration_s * 3.6)
    assert 30.0 < trip.avg_speed_kmh < 70.0


def test_a_hop_shorter_than_the_minimum_trip_merges_into_the_stop() -> None:
    track = Track.starting_at(0, 0).park(600).drive_to(250, 0, speed_kmh=10).park(600)
    hop_ends, last_parked = len(track.fixes), track.fixes[-1]
    track.drive_to(3_000, 0).park(600)
    tracker = TripTracker()
    assert run(track.fixes[:hop_ends], tracker) == []
    # Stopped at the new spot: the next trip starts from there.
    [trip] = run(track.fixes[hop_ends:], tracker)
    assert trip.started_us == last_parked.ts_us


def test_ignition_off_ends_a_trip_at_once() -> None:
    track = Track.starting_at(0, 0).park(600).drive_to(2_000, 0).park(60, ignition=False)
    ignition_off = next(p for p in track.fixes if p.ignition is False)
    [trip] = run(track.fixes)
    assert trip.ended_us == trip.occurred_us == ignition_off.ts_us


def test_odometer_distance_is_preferred_when_reported() -> None:
    track = Track.starting_at(0, 0, odometer_km=12_345.0).park(600).drive_to(3_000, 0).park(600)
    # The odometer counts wheel turns: 4% more than the GPS path on this road.
    fixes = [_scaled_odometer(p, 12_345.0, 1.04) for p in track.fixes]
    [trip] = run(fixes)
    assert trip.distance_source == "odometer"
    assert trip.odometer_distance_m == pytest.approx(3_120.0, rel=0.001)
    assert trip.distance_m == trip.odometer_distance_m
    assert trip.gps_distance_m == pytest.approx(3_000.0, rel=0.001)


def test_an_odometer_reset_falls_back_to_gps_distance() -> None:
    track = Track.starting_at(0, 0, odometer_km=500.0).park(600).drive_to(3_000, 0).park(600)
    reset = [p if p.ts_us < track.fixes[70].ts_us else _odometer(p, 0.0) for p in track.fixes]
    [trip] = run(reset)
    assert (trip.distance_source, trip.odometer_distance_m) == ("gps", None)
    assert trip.distance_m == pytest.approx(3_000.0, rel=0.001)


def test_a_coarse_odometer_far_below_the_gps_path_is_not_trusted() -> None:
    track = Track.starting_at(0, 0, odometer_km=100.2).park(600).drive_to(600, 0).park(600)
    # The odometer reports whole kilometres: 100 at both ends of a 600 m trip.
    [trip] = run([_odometer(p, math.floor(p.odometer_km or 0.0)) for p in track.fixes])
    assert (trip.distance_source, trip.odometer_distance_m) == ("gps", None)
    assert trip.distance_m == pytest.approx(600.0, rel=0.001)


def test_a_position_jump_is_dropped_from_the_path_and_counted() -> None:
    track = Track.starting_at(0, 0).park(600).drive_to(3_000, 0).park(600)
    jumped = list(track.fixes)
    jumped[80] = _moved(jumped[80], *at(0, 8_000))  # mid-drive, 8 km off
    tracker = TripTracker()
    [trip] = run(jumped, tracker)
    assert trip.gps_distance_m == pytest.approx(3_000.0, rel=0.001)
    assert tracker.counts.jump == 1


def test_three_jumps_in_a_row_relocate_the_track() -> None:
    track = Track.starting_at(0, 0).park(600)
    elsewhere = Track.starting_at(0, 20_000).park(600).fixes
    shift_us = track.fixes[-1].ts_us + 10 * US_PER_S - elsewhere[0].ts_us
    later = [replace(p, ts_us=p.ts_us + shift_us) for p in elsewhere]
    tracker = TripTracker()
    assert run([*track.fixes, *later], tracker) == []
    assert (tracker.counts.jump, tracker.counts.relocated) == (2, 1)


def test_jitter_while_parked_makes_no_trip() -> None:
    track = Track.starting_at(0, 0).park(7_200, jitter_m=15)
    assert run(track.fixes) == []


def test_parked_jitter_adds_nothing_to_the_trip_distance() -> None:
    track = Track.starting_at(0, 0).park(600, jitter_m=10).drive_to(3_000, 0)
    track.park(600, jitter_m=10)
    [trip] = run(track.fixes)
    assert trip.gps_distance_m == pytest.approx(3_000.0, abs=30.0)


def test_without_reported_speed_moves_shorter_than_the_accuracy_are_jitter() -> None:
    track = Track.starting_at(0, 0).park(600, jitter_m=5).drive_to(3_000, 0)
    track.park(600, jitter_m=5)
    [trip] = run([replace(p, speed_kmh=None) for p in track.fixes])
    assert trip.gps_distance_m == pytest.approx(3_000.0, abs=30.0)


def test_a_slow_arrival_ends_the_trip_at_the_last_moving_fix() -> None:
    track = Track.starting_at(0, 0).park(600).drive_to(3_000, 0).drive_to(3_080, 0, speed_kmh=5)
    parked_at = track.fixes[-1]
    track.park(600, jitter_m=5)
    [trip] = run(track.fixes)
    assert (trip.ended_us, trip.end_lat, trip.end_lon) == (
        parked_at.ts_us,
        parked_at.lat,
        parked_at.lon,
    )
    assert trip.gps_distance_m == pytest.approx(3_080.0, rel=0.001)


def test_a_single_spike_while_parked_is_not_a_departure() -> None:
    track = Track.starting_at(0, 0).park(600).fix(0, 400).park(600)
    tracker = TripTracker()
    assert run(track.fixes, tracker) == []
    assert tracker.counts.spike == 1


def test_gps_distance_follows_a_curved_road_not_the_chord() -> None:
    track = Track.starting_at(0, 0).park(600)
    track.arc(500.0, 180.0, heading=0.0, speed_kmh=30).park(600)
    [trip] = run(track.fixes)
    assert trip.gps_distance_m == pytest.approx(math.pi * 500.0, rel=0.01)
    chord_m = 1_000.0
    assert trip.gps_distance_m > 1.5 * chord_m


def test_inaccurate_fixes_are_ignored_and_counted() -> None:
    track = Track.starting_at(0, 0).park(600).fix(0, 5_000, accuracy_m=900.0).park(600)
    tracker = TripTracker()
    assert run(track.fixes, tracker) == []
    assert tracker.counts.inaccurate == 1


def test_trip_ends_are_matched_to_sites() -> None:
    index = GeofenceIndex([circle("depot", 0, 0, 150), circle("client", 3_000, 0, 150)])
    track, _ = two_trips()
    first, second = run(track.fixes, index=index)
    assert (first.start_site_id, first.end_site_id) == ("depot", "client")
    assert (second.start_site_id, second.end_site_id) == ("client", None)


def test_reappearing_far_away_after_a_long_gap_ends_the_trip_before_the_gap() -> None:
    track = Track.starting_at(0, 0).park(600).drive_to(3_000, 0)
    last_before_gap = track.fixes[-1]
    track.silence(3_600).fix(9_000, 0)
    tracker = TripTracker()
    [trip] = run(track.fixes, tracker)
    assert trip.ended_us == last_before_gap.ts_us
    assert tracker.counts.gap == 1


def test_expire_ends_the_trip_of_a_silent_vehicle() -> None:
    track = Track.starting_at(0, 0).park(600).drive_to(3_000, 0)
    tracker = TripTracker()
    assert run(track.fixes, tracker) == []
    last = track.fixes[-1]
    assert tracker.expire(last.ts_us + 600 * US_PER_S) == []
    [trip] = tracker.expire(last.ts_us + 901 * US_PER_S)
    assert trip.ended_us == last.ts_us
    assert tracker.expire(last.ts_us + 2_000 * US_PER_S) == []


def test_state_round_trip_through_json_continues_identically() -> None:
    track, _ = two_trips()
    whole = TripTracker()
    expected = run(track.fixes, whole)
    for cut in (30, 70, 95):  # parked, driving, arrived and waiting for the stop
        first = TripTracker()
        events = run(track.fixes[:cut], first)
        restored = TripTracker.from_state(json.loads(json.dumps(first.to_state())))
        events += run(track.fixes[cut:], restored)
        assert events == expected
        assert restored.to_state() == whole.to_state()


def test_out_of_order_fixes_are_ignored_and_counted() -> None:
    track, _ = two_trips()
    messy = [*track.fixes[:90], track.fixes[40], *track.fixes[90:]]
    tracker = TripTracker()
    assert run(messy, tracker) == run(track.fixes)
    assert tracker.counts.out_of_order == 1


def test_a_gap_shorter_than_the_stop_minimum_is_refused_in_config() -> None:
    with pytest.raises(ValueError, match="max_gap_s"):
        TripConfig(min_stop_s=600, max_gap_s=300)


def _moved(position: Position, lat: float, lon: float) -> Position:
    return replace(position, lat=lat, lon=lon)


def _odometer(position: Position, odometer_km: float) -> Position:
    return replace(position, odometer_km=odometer_km)


def _scaled_odometer(position: Position, base_km: float, factor: float) -> Position:
    assert position.odometer_km is not None
    return _odometer(position, base_km + (position.odometer_km - base_km) * factor)
