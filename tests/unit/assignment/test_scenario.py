"""A city of 50 engineers and 200 tickets: hard constraints hold, and batch beats greedy.

The checks below re-derive each constraint from the profiles with plain datetime and math
instead of trusting the engine's own arrays.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.unit.assignment.factories import CITY_RULES, NOW, city
from tickets.assignment import (
    BatchResult,
    EngineerProfile,
    EngineerTable,
    TicketDemand,
    assign_batch,
    assign_greedy,
    select_rule,
)

EARTH_RADIUS_KM = 6371.0088


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _shift_occurrences(
    profile: EngineerProfile, around: datetime
) -> list[tuple[datetime, datetime]]:
    zone = ZoneInfo(profile.timezone)
    local = around.astimezone(zone)
    found = []
    for days in range(-7, 8):
        day = (local + timedelta(days=days)).date()
        for shift in profile.shifts:
            if shift.weekday == day.weekday():
                start = datetime.combine(day, shift.start, tzinfo=zone)
                end = datetime.combine(day, shift.end, tzinfo=zone)
                found.append((start, end if end > start else end + timedelta(days=1)))
    return found


def _works_then(profile: EngineerProfile, demand: TicketDemand) -> bool:
    shifts = _shift_occurrences(profile, demand.window_start or NOW)
    if demand.window_start is None or demand.window_end is None:
        return any(start <= NOW < end for start, end in shifts)
    needed = min(timedelta(hours=demand.duration_h), demand.window_end - demand.window_start)
    overlaps = (
        min(end, demand.window_end) - max(start, demand.window_start) for start, end in shifts
    )
    return max(overlaps, default=timedelta(0)) >= needed


def _absent(profile: EngineerProfile, demand: TicketDemand) -> bool:
    zone = ZoneInfo(profile.timezone)
    first = (demand.window_start or NOW).astimezone(zone).date()
    last = demand.window_end - timedelta(microseconds=1) if demand.window_end else NOW
    days = (first, last.astimezone(zone).date())
    return any(a.first_day <= days[1] and a.last_day >= days[0] for a in profile.absences)


def _origin(profile: EngineerProfile, demand: TicketDemand) -> tuple[float, float]:
    rule = select_rule(CITY_RULES, demand)
    later = demand.window_start and demand.window_start > NOW + timedelta(minutes=15)
    fresh = profile.position_at and NOW - profile.position_at <= timedelta(
        minutes=rule.position_stale_after_min
    )
    if fresh and not later and profile.position_lat and profile.position_lon:
        return profile.position_lat, profile.position_lon
    return profile.home_lat, profile.home_lon


def _violations(profile: EngineerProfile, demand: TicketDemand) -> list[str]:
    rule = select_rule(CITY_RULES, demand)
    travel_min = _km(*_origin(profile, demand), demand.lat, demand.lon) * 1.4 / 25 * 60
    checks = {
        "skills": all(profile.skills.get(s, 0) >= lvl for s, lvl in demand.required_skills.items()),
        "area": demand.area is None or demand.area in profile.areas,
        "status": profile.status != "off",
        "shift": _works_then(profile, demand),
        "leave": not _absent(profile, demand),
        "travel": rule.max_travel_min is None or travel_min <= rule.max_travel_min + 1e-6,
    }
    return [name for name, ok in checks.items() if not ok]


def _check_hard_constraints(
    result: BatchResult, profiles: list[EngineerProfile], tickets: list[TicketDemand]
) -> None:
    by_id = {p.id: p for p in profiles}
    demands = {t.id: t for t in tickets}
    for assigned in result.assigned:
        broken = _violations(by_id[assigned.engineer_id], demands[assigned.ticket_id])
        assert broken == [], (assigned.ticket_id, assigned.engineer_id)
    taken = Counter(a.engineer_id for a in result.assigned)
    for engineer_id, count in taken.items():
        profile = by_id[engineer_id]
        assert count <= profile.max_concurrent - profile.open_tickets, engineer_id
    handled = [a.ticket_id for a in result.assigned] + [u.ticket_id for u in result.unassignable]
    assert sorted(handled) == sorted(demands)


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_batch_never_violates_a_hard_constraint(seed: int) -> None:
    profiles, tickets = city(seed)
    result = assign_batch(tickets, EngineerTable.from_profiles(profiles), CITY_RULES, NOW)
    assert result.assigned
    _check_hard_constraints(result, profiles, tickets)


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_greedy_never_violates_a_hard_constraint(seed: int) -> None:
    profiles, tickets = city(seed)
    result = assign_greedy(tickets, EngineerTable.from_profiles(profiles), CITY_RULES, NOW)
    assert result.assigned
    _check_hard_constraints(result, profiles, tickets)


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_batch_total_score_is_at_least_greedys(seed: int) -> None:
    profiles, tickets = city(seed)
    table = EngineerTable.from_profiles(profiles)
    joint = assign_batch(tickets, table, CITY_RULES, NOW)
    greedy = assign_greedy(tickets, table, CITY_RULES, NOW)
    assert joint.total_score >= greedy.total_score - 1e-6


def test_every_unassignable_ticket_in_the_city_has_reasons() -> None:
    profiles, tickets = city()
    result = assign_batch(tickets, EngineerTable.from_profiles(profiles), CITY_RULES, NOW)
    assert result.unassignable
    assert all(u.reasons for u in result.unassignable)
