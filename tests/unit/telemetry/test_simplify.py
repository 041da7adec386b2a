"""Douglas-Peucker in metres: straight runs collapse, corners and far points stay."""

from devices.telemetry.simplify import simplify
from kernel.geo import offset_m


def _line(points_m: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    latlons = [offset_m(55.75, 37.6, north_m=n, east_m=e) for n, e in points_m]
    return [p[0] for p in latlons], [p[1] for p in latlons]


def test_a_straight_line_keeps_its_ends() -> None:
    lats, lons = _line([(0, x * 10.0) for x in range(100)])
    assert simplify(lats, lons, 1.0) == [0, 99]


def test_a_wiggle_under_the_tolerance_is_dropped_and_over_it_kept() -> None:
    lats, lons = _line([(0, 0), (3, 50), (0, 100), (30, 150), (0, 200)])
    assert simplify(lats, lons, 5.0) == [0, 2, 3, 4]
    assert simplify(lats, lons, 2.0) == [0, 1, 2, 3, 4]


def test_short_tracks_are_returned_whole() -> None:
    assert simplify([], [], 5.0) == []
    assert simplify([1.0, 1.0], [2.0, 2.0], 5.0) == [0, 1]


def test_repeated_points_at_one_place_collapse() -> None:
    lats, lons = _line([(0, 0)] * 5)
    assert simplify(lats, lons, 1.0) == [0, 4]


def test_a_track_across_the_antimeridian_is_not_a_detour_round_the_world() -> None:
    lons = [179.999, 179.9995, -179.9995, -179.999]
    assert simplify([0.0] * 4, lons, 1.0) == [0, 3]
