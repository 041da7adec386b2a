"""kernel.geo: distances, bearings, projection, polygons and boxes."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from kernel.geo import (
    METRES_PER_DEG,
    BBox,
    LocalProjection,
    ProjectedPolygon,
    bearing_deg,
    circle_bbox,
    destination,
    haversine_m,
    haversine_m_array,
    point_in_polygon,
    polygon_bbox,
)

MOSCOW = (55.7558, 37.6173)
ST_PETERSBURG = (59.9343, 30.3351)


def test_one_degree_of_longitude_at_the_equator_is_about_111_km() -> None:
    assert haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195.0, abs=1.0)
    assert haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(METRES_PER_DEG)


def test_moscow_to_st_petersburg_is_about_634_km() -> None:
    assert haversine_m(*MOSCOW, *ST_PETERSBURG) == pytest.approx(634_400.0, rel=0.005)


def test_distance_across_the_antimeridian_is_short() -> None:
    assert haversine_m(0.0, 179.999, 0.0, -179.999) == pytest.approx(222.4, abs=0.1)


def test_vectorised_haversine_matches_the_scalar_one_and_broadcasts() -> None:
    rng = random.Random(3)
    lats = [rng.uniform(-80, 80) for _ in range(50)]
    lons = [rng.uniform(-180, 180) for _ in range(50)]
    distances = haversine_m_array(MOSCOW[0], MOSCOW[1], np.array(lats), np.array(lons))
    assert distances.shape == (50,)
    expected = [haversine_m(*MOSCOW, lat, lon) for lat, lon in zip(lats, lons, strict=True)]
    assert distances.tolist() == pytest.approx(expected, rel=1e-12)


def test_bearings_point_along_the_compass() -> None:
    assert bearing_deg(0.0, 0.0, 1.0, 0.0) == pytest.approx(0.0)
    assert bearing_deg(0.0, 0.0, 0.0, 1.0) == pytest.approx(90.0)
    assert bearing_deg(0.0, 0.0, -1.0, 0.0) == pytest.approx(180.0)
    assert bearing_deg(0.0, 0.0, 0.0, -1.0) == pytest.approx(270.0)


def test_destination_is_at_the_requested_distance_and_bearing() -> None:
    lat, lon = destination(*MOSCOW, 37.0, 5_000.0)
    assert haversine_m(*MOSCOW, lat, lon) == pytest.approx(5_000.0, abs=1e-6)
    assert bearing_deg(*MOSCOW, lat, lon) == pytest.approx(37.0, abs=1e-6)


def test_local_projection_round_trips_and_measures_metres() -> None:
    projection = LocalProjection(*MOSCOW)
    east = destination(*MOSCOW, 90.0, 1_000.0)
    x_m, y_m = projection.to_xy(*east)
    assert x_m == pytest.approx(1_000.0, rel=1e-4)
    # A great circle heading east bends towards the equator: 0.12 m over the first kilometre.
    assert y_m == pytest.approx(-0.115, abs=0.01)
    assert projection.to_latlon(x_m, y_m) == pytest.approx(east, abs=1e-12)


def test_local_projection_is_continuous_across_the_antimeridian() -> None:
    projection = LocalProjection(10.0, 179.9999)
    x_m, _ = projection.to_xy(10.0, -179.9999)
    assert x_m == pytest.approx(2 * 0.0001 * METRES_PER_DEG * math.cos(math.radians(10.0)))


SQUARE = [(0.0, 0.0), (0.0, 0.01), (0.01, 0.01), (0.01, 0.0)]
# An L shape: the square without its north-east quarter.
L_SHAPE = [(0.0, 0.0), (0.0, 0.01), (0.005, 0.01), (0.005, 0.005), (0.01, 0.005), (0.01, 0.0)]


def test_point_in_polygon_tells_inside_from_outside() -> None:
    assert point_in_polygon(0.005, 0.005, SQUARE)
    assert not point_in_polygon(0.011, 0.005, SQUARE)
    assert not point_in_polygon(0.005, -0.0001, SQUARE)


def test_point_in_a_concave_polygon_notch_is_outside() -> None:
    assert point_in_polygon(0.002, 0.008, L_SHAPE)
    assert point_in_polygon(0.008, 0.002, L_SHAPE)
    assert not point_in_polygon(0.008, 0.008, L_SHAPE)


def test_polygon_across_the_antimeridian_contains_points_on_both_sides() -> None:
    ring = [(-0.01, 179.99), (-0.01, -179.99), (0.01, -179.99), (0.01, 179.99)]
    assert point_in_polygon(0.0, 179.995, ring)
    assert point_in_polygon(0.0, -179.995, ring)
    assert not point_in_polygon(0.0, 179.98, ring)


def test_closed_rings_are_accepted_and_degenerate_ones_refused() -> None:
    assert point_in_polygon(0.005, 0.005, [*SQUARE, SQUARE[0]])
    with pytest.raises(ValueError, match="three vertices"):
        ProjectedPolygon([(0.0, 0.0), (0.0, 0.01), (0.0, 0.0)])


def test_signed_distance_to_a_polygon_is_negative_inside_and_metric_outside() -> None:
    polygon = ProjectedPolygon(SQUARE)
    outside = destination(0.005, 0.01, 90.0, 30.0)
    assert polygon.signed_distance_m(*outside) == pytest.approx(30.0, rel=1e-3)
    inside = destination(0.005, 0.01, 270.0, 30.0)
    assert polygon.signed_distance_m(*inside) == pytest.approx(-30.0, rel=1e-3)


@pytest.mark.parametrize("lat", [0.0, 45.0, 70.0, -60.0])
def test_circle_bbox_contains_every_point_of_the_circle(lat: float) -> None:
    box = circle_bbox(lat, 20.0, 2_000.0)
    for bearing in range(0, 360, 5):
        # A millimetre inside: exactly on the circle is up to float rounding.
        assert box.contains(*destination(lat, 20.0, float(bearing), 1_999.999))
    assert not box.contains(*destination(lat, 20.0, 45.0, 3_000.0))


def test_circle_bbox_across_the_antimeridian_wraps() -> None:
    box = circle_bbox(0.0, 179.999, 1_000.0)
    assert box.max_lon > 180.0
    assert box.contains(0.0, -179.995)
    assert not box.contains(0.0, -179.9)


def test_box_grown_near_a_pole_covers_every_longitude() -> None:
    box = BBox(89.99, 10.0, 89.99, 10.0).expanded(5_000.0)
    assert (box.min_lat, box.min_lon, box.max_lat, box.max_lon) == (
        box.min_lat,
        -180.0,
        90.0,
        180.0,
    )


def test_polygon_bbox_spans_the_vertices() -> None:
    assert polygon_bbox(L_SHAPE) == BBox(0.0, 0.0, 0.01, 0.01)
