from __future__ import annotations

import pytest

from devices.simulator.run import pace
from tests.unit.simulator.factories import T0_US, US_PER_S, make_fleet


def _count_over(seconds: int, *, rate_msgs_s: float, invalid_every: int | None = None) -> int:
    fleet = make_fleet(equipment=8, vehicles=2)
    pace(fleet, rate_msgs_s=rate_msgs_s, invalid_every=invalid_every)
    fleet.advance(T0_US)
    return len(fleet.advance(T0_US + seconds * US_PER_S))


def test_pacing_spreads_the_rate_over_every_unit() -> None:
    assert _count_over(60, rate_msgs_s=50.0) == pytest.approx(3000, abs=10)


def test_pacing_leaves_room_for_the_bad_messages() -> None:
    assert _count_over(60, rate_msgs_s=50.0, invalid_every=4) == pytest.approx(2400, abs=10)


def test_pacing_refuses_a_rate_that_is_not_positive() -> None:
    with pytest.raises(ValueError):
        pace(make_fleet(), rate_msgs_s=0.0)
