"""Travel estimates: great circle, detour factor, speed per area, and pluggable estimators."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from tests.unit.assignment.factories import NOW, engineer, ranking_of, ticket
from tickets.assignment import EngineerTable, GreatCircleTravel, TravelEstimator, rank
from tickets.assignment.arrays import FloatArray
from tickets.assignment.rules import DEFAULT_RULE

MOSCOW = (55.7558, 37.6173)
ST_PETERSBURG = (59.9343, 30.3351)


def _minutes(estimator: GreatCircleTravel, areas: Sequence[str | None]) -> FloatArray:
    return estimator.travel_min(
        from_lat=np.array([MOSCOW[0]]),
        from_lon=np.array([MOSCOW[1]]),
        to_lat=np.full(len(areas), ST_PETERSBURG[0]),
        to_lon=np.full(len(areas), ST_PETERSBURG[1]),
        to_areas=areas,
    )


def test_travel_is_great_circle_distance_times_detour_over_speed() -> None:
    # Moscow to St Petersburg is about 634 km along the great circle.
    minutes = _minutes(GreatCircleTravel(detour_factor=1.0, speed_kmh=60.0), [None])
    assert minutes.shape == (1, 1)
    assert minutes[0, 0] == pytest.approx(634.0, rel=0.01)


def test_detour_factor_lengthens_travel_proportionally() -> None:
    straight = _minutes(GreatCircleTravel(detour_factor=1.0), [None])[0, 0]
    winding = _minutes(GreatCircleTravel(detour_factor=1.5), [None])[0, 0]
    assert winding == pytest.approx(1.5 * straight)


def test_speed_is_taken_from_the_destination_area() -> None:
    estimator = GreatCircleTravel(speed_kmh=30.0, speed_kmh_by_area={"ring-road": 60.0})
    minutes = _minutes(estimator, ["ring-road", "centre", None])[:, 0]
    assert minutes[0] == pytest.approx(minutes[1] / 2)
    assert minutes[1] == pytest.approx(minutes[2])


def test_matrix_has_one_row_per_destination_and_one_column_per_origin() -> None:
    minutes = GreatCircleTravel().travel_min(
        from_lat=np.array([55.7, 55.8, 55.9]),
        from_lon=np.array([37.6, 37.6, 37.6]),
        to_lat=np.array([55.7, 55.9]),
        to_lon=np.array([37.6, 37.6]),
        to_areas=[None, None],
    )
    assert minutes.shape == (2, 3)
    assert minutes[0, 0] == pytest.approx(0.0)
    assert minutes[1, 2] == pytest.approx(0.0)


def test_unusable_detour_or_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="detour_factor"):
        GreatCircleTravel(detour_factor=0.9)
    with pytest.raises(ValueError, match="speeds positive"):
        GreatCircleTravel(speed_kmh_by_area={"jam": 0.0})


class _FixedRoute:
    """A routing service stand-in: every trip takes the same time."""

    def travel_min(
        self,
        *,
        from_lat: FloatArray,
        from_lon: FloatArray,
        to_lat: FloatArray,
        to_lon: FloatArray,
        to_areas: Sequence[str | None],
    ) -> FloatArray:
        return np.full((to_lat.size, from_lat.size), 42.0)


def test_another_travel_estimator_plugs_in_behind_the_same_protocol() -> None:
    estimator: TravelEstimator = _FixedRoute()
    table = EngineerTable.from_profiles([engineer("e1", km=0.0)])
    ranking = rank(ticket(), table, DEFAULT_RULE, NOW, travel=estimator)
    assert ranking.candidates()[0].travel_min == 42.0
    assert ranking_of(engineer("e1", km=0.0)).candidates()[0].travel_min == pytest.approx(0.0)
