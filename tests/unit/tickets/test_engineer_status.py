"""The rules by which GPS arrivals and departures move an engineer's status."""

from __future__ import annotations

import pytest

from tickets.engineers.models import EngineerStatus
from tickets.engineers.status import on_arrival, on_departure

AVAILABLE, EN_ROUTE, ON_SITE, OFF = (
    EngineerStatus.AVAILABLE,
    EngineerStatus.EN_ROUTE,
    EngineerStatus.ON_SITE,
    EngineerStatus.OFF,
)


@pytest.mark.parametrize("current", [AVAILABLE, EN_ROUTE])
def test_arriving_where_a_ticket_of_theirs_is_on_site_puts_the_engineer_on_site(
    current: EngineerStatus,
) -> None:
    assert on_arrival(current, working_here=True) is ON_SITE


@pytest.mark.parametrize("current", list(EngineerStatus))
def test_arriving_where_they_have_no_ticket_on_site_changes_nothing(
    current: EngineerStatus,
) -> None:
    assert on_arrival(current, working_here=False) is None


@pytest.mark.parametrize("current", [ON_SITE, OFF])
def test_arriving_leaves_on_site_and_off_as_they_are(current: EngineerStatus) -> None:
    assert on_arrival(current, working_here=True) is None


def test_leaving_makes_an_on_site_engineer_available() -> None:
    assert on_departure(ON_SITE, still_on_a_site=False, heading_elsewhere=False) is AVAILABLE


def test_leaving_with_a_ticket_en_route_elsewhere_makes_them_en_route() -> None:
    assert on_departure(ON_SITE, still_on_a_site=False, heading_elsewhere=True) is EN_ROUTE


@pytest.mark.parametrize("heading_elsewhere", [False, True])
def test_an_engineer_still_at_a_site_of_theirs_stays_on_site(heading_elsewhere: bool) -> None:
    assert on_departure(ON_SITE, still_on_a_site=True, heading_elsewhere=heading_elsewhere) is None


@pytest.mark.parametrize("current", [AVAILABLE, EN_ROUTE, OFF])
@pytest.mark.parametrize("heading_elsewhere", [False, True])
def test_leaving_changes_only_an_on_site_status(
    current: EngineerStatus, heading_elsewhere: bool
) -> None:
    """An engineer set off (or moved on by hand) is not turned on by a departure."""
    assert on_departure(current, still_on_a_site=False, heading_elsewhere=heading_elsewhere) is None
