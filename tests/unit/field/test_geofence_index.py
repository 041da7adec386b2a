"""The geofence index answers exactly what a scan over every site would."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.geo import LatLon, LocalProjection, destination
from stream.field.geofence_index import Geofence, GeofenceIndex, measure_fence
from tests.unit.field.tracks import at, circle, square

MAX_MARGIN_M = 200.0
Draw = Callable[[st.SearchStrategy[float]], float]
CENTRE_POINT = at(0, 0)


def brute_force(fences: list[Geofence], lat: float, lon: float, margin_m: float) -> list[str]:
    """Every site within margin_m of the point, found by measuring all of them."""
    return sorted(f.site_id for f in fences if measure_fence(f, lat, lon).edge_m <= margin_m)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[LocalProjection, list[Geofence]]:
    """Up to 30 sites, circles and star-shaped polygons, scattered over 10 km somewhere on Earth."""
    lat0 = draw(st.floats(-84.0, 84.0))
    lon0 = draw(
        st.floats(-180.0, 180.0, exclude_max=True)
        | st.floats(179.95, 180.0, exclude_max=True)
        | st.floats(-180.0, -179.95)
    )
    projection = LocalProjection(lat0, lon0)
    fences = [draw(_fence(projection, f"s{i}")) for i in range(draw(st.integers(1, 30)))]
    return projection, fences


@st.composite
def _fence(draw: st.DrawFn, projection: LocalProjection, site_id: str) -> Geofence:
    lat, lon = projection.to_latlon(draw(st.floats(-5e3, 5e3)), draw(st.floats(-5e3, 5e3)))
    if draw(st.booleans()):
        return Geofence.circle(site_id, lat, lon, draw(st.floats(5.0, 2_000.0)))
    # Vertices at increasing bearings around the centre never cross each other.
    bearings = sorted(draw(st.lists(st.integers(0, 35), min_size=3, max_size=8, unique=True)))
    ring = [destination(lat, lon, 10.0 * b, draw(st.floats(20.0, 1_500.0))) for b in bearings]
    return Geofence.area(site_id, ring)


def _points(draw: Draw, projection: LocalProjection, fences: list[Geofence]) -> list[LatLon]:
    spread = st.floats(-7e3, 7e3)
    points = [projection.to_latlon(draw(spread), draw(spread)) for _ in range(20)]
    # Points right at the edge of a circle grown by the margin are where a grid would slip.
    for fence in fences:
        if not fence.polygon:
            reach_m = fence.radius_m + draw(st.floats(0.0, MAX_MARGIN_M + 2.0))
            points.append(destination(fence.lat, fence.lon, draw(st.floats(0, 360)), reach_m))
    return points


@settings(max_examples=150, deadline=None)
@given(
    scene=scenes(),
    margin_m=st.floats(0.0, MAX_MARGIN_M),
    cell_m=st.sampled_from([250.0, 1_000.0, 2_500.0]),
    data=st.data(),
)
def test_index_finds_exactly_the_sites_a_scan_over_all_sites_finds(
    scene: tuple[LocalProjection, list[Geofence]],
    margin_m: float,
    cell_m: float,
    data: st.DataObject,
) -> None:
    projection, fences = scene
    index = GeofenceIndex(fences, cell_m=cell_m, max_margin_m=MAX_MARGIN_M)
    for lat, lon in _points(data.draw, projection, fences):
        assert sorted(index.inside(lat, lon, margin_m)) == brute_force(fences, lat, lon, margin_m)
        assert set(index.inside(lat, lon, margin_m)) <= set(index.candidates(lat, lon))


def test_overlapping_sites_are_both_returned() -> None:
    fences = [circle("a", 0, 0, 200), circle("b", 0, 250, 200)]
    index = GeofenceIndex(fences)
    assert sorted(index.inside(*at(0, 125))) == ["a", "b"]
    assert index.inside(*at(0, -100)) == ["a"]


def test_margin_grows_the_site_by_that_many_metres() -> None:
    index = GeofenceIndex([circle("a", 0, 0, 100)])
    assert index.inside(*at(0, 140)) == []
    assert index.inside(*at(0, 140), margin_m=50) == ["a"]
    hit = index.near(*at(0, 140), margin_m=50)[0]
    assert hit.edge_m == pytest.approx(40.0, abs=0.01)
    assert hit.centre_m == pytest.approx(140.0, abs=0.01)


def test_polygon_sites_are_matched_by_shape_not_by_their_box() -> None:
    index = GeofenceIndex([square("yard", 0, 0, 400)])
    assert index.inside(*at(150, 150)) == ["yard"]
    assert index.inside(*at(250, 0)) == []
    assert index.inside(*at(250, 0), margin_m=60) == ["yard"]


def test_far_away_points_have_no_candidates() -> None:
    index = GeofenceIndex([circle("a", 0, 0, 100)])
    assert index.candidates(*at(20_000, 0)) == ()


def test_site_at_prefers_the_site_whose_centre_is_nearest() -> None:
    index = GeofenceIndex([circle("big", 0, 0, 500), circle("small", 0, 300, 100)])
    assert index.site_at(*at(0, 290)) == "small"
    assert index.site_at(*at(0, -300)) == "big"
    assert index.site_at(*at(5_000, 0)) is None


def test_rebuilt_index_forgets_removed_sites_and_learns_new_ones() -> None:
    index = GeofenceIndex([circle("old", 0, 0, 100)])
    rebuilt = index.rebuilt([circle("new", 0, 0, 100)])
    assert rebuilt.inside(*CENTRE_POINT) == ["new"]
    assert index.inside(*CENTRE_POINT) == ["old"]
    assert (rebuilt.cell_m, rebuilt.max_margin_m) == (index.cell_m, index.max_margin_m)


def test_a_margin_beyond_what_the_index_was_built_for_is_refused() -> None:
    index = GeofenceIndex([circle("a", 0, 0, 100)], max_margin_m=50)
    with pytest.raises(ValueError, match="exceeds"):
        index.near(*CENTRE_POINT, margin_m=60)


def test_duplicate_site_ids_and_bad_geometry_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        GeofenceIndex([circle("a", 0, 0, 100), circle("a", 500, 0, 100)])
    with pytest.raises(ValueError, match="radius_m"):
        Geofence.circle("a", 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="cell_m"):
        GeofenceIndex([], cell_m=10.0)


def test_a_site_near_the_pole_is_found_at_every_longitude() -> None:
    index = GeofenceIndex([Geofence.circle("pole", 89.995, 0.0, 2_000.0)])
    for lon in range(-180, 180, 15):
        assert index.inside(89.999, float(lon)) == ["pole"]
    assert math.isclose(index.fence("pole").radius_m, 2_000.0)
