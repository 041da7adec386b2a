"""Small factories for the assignment tests: engineers, tickets, a city, and ranking views."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from tickets.assignment import (
    DEFAULT_RULE,
    DEFAULT_RULES,
    Absence,
    AssignmentRule,
    EngineerProfile,
    EngineerStatus,
    EngineerTable,
    Priority,
    Ranking,
    TicketDemand,
    TicketKind,
    WeeklyShift,
    rank,
)

ZONE: Final = "Europe/Moscow"
# Monday 3 June 2024, 11:00 in Moscow (UTC+3).
NOW: Final = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
TODAY: Final = date(2024, 6, 3)
SITE_LAT, SITE_LON = 55.75, 37.62
KM_PER_DEGREE_LAT: Final = 111.195
OFFICE_HOURS: Final = tuple(WeeklyShift(day, time(8), time(20)) for day in range(5))


def north_of_site(km: float) -> float:
    """Latitude km north of the site, on its meridian."""
    return SITE_LAT + km / KM_PER_DEGREE_LAT


def engineer(engineer_id: str = "e1", *, km: float = 1.0, **changes: Any) -> EngineerProfile:
    """An available office-hours engineer km north of the site, with a fresh position there."""
    lat = north_of_site(km)
    base = EngineerProfile(
        id=engineer_id,
        timezone=ZONE,
        home_lat=lat,
        home_lon=SITE_LON,
        skills={"hvac": 3},
        areas=frozenset({"centre"}),
        position_lat=lat,
        position_lon=SITE_LON,
        position_at=NOW - timedelta(minutes=1),
        shifts=OFFICE_HOURS,
    )
    return replace(base, **changes)


def ticket(**changes: Any) -> TicketDemand:
    """A normal-priority repair at the site needing hvac level 3, in area `centre`."""
    base = TicketDemand(
        id="t1",
        kind="anomaly",
        priority="normal",
        work_type="repair",
        site_id="site-1",
        lat=SITE_LAT,
        lon=SITE_LON,
        duration_h=2.0,
        required_skills={"hvac": 3},
        customer_id="cust-1",
        area="centre",
        equipment_id="eq-1",
    )
    return replace(base, **changes)


def planned(start: datetime, hours: float, **changes: Any) -> TicketDemand:
    """A planned ticket whose window starts at `start` and lasts `hours`."""
    window_end = start + timedelta(hours=hours)
    return ticket(kind="planned", window_start=start, window_end=window_end, **changes)


def moscow(day: date, hour: int, minute: int = 0) -> datetime:
    """A Moscow wall-clock time as an aware UTC datetime (Moscow is UTC+3 all year)."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - timedelta(hours=3)


def ranking_of(
    *profiles: EngineerProfile,
    demand: TicketDemand | None = None,
    rule: AssignmentRule = DEFAULT_RULE,
    now: datetime = NOW,
    exclude_ids: tuple[str, ...] = (),
) -> Ranking:
    """Rank the profiles for the ticket (the default ticket when none is given)."""
    table = EngineerTable.from_profiles(profiles)
    return rank(demand or ticket(), table, rule, now, exclude_ids=exclude_ids)


def candidate_ids(ranking: Ranking) -> list[str]:
    """Eligible engineer ids, best first."""
    return [c.engineer_id for c in ranking.candidates()]


def exclusions(ranking: Ranking) -> dict[str, tuple[str, ...]]:
    """Excluded engineer id -> reasons."""
    return {e.engineer_id: e.reasons for e in ranking.excluded()}


def factor_scores(ranking: Ranking, factor: str) -> dict[str, float]:
    """One factor's score per eligible engineer."""
    return {c.engineer_id: c.factors[factor] for c in ranking.candidates()}


def only(weights_pct: dict[str, float], **changes: Any) -> AssignmentRule:
    """A rule with these weights and otherwise default settings."""
    return AssignmentRule(id="test", weights_pct=weights_pct, **changes)


AREAS: Final = ("north", "south", "east", "west", "centre")
SKILLS: Final = ("hvac", "electrical", "plumbing", "boilers", "lifts")
PRIORITIES: Final[tuple[Priority, ...]] = ("low", "normal", "normal", "high", "critical")
STATUSES: Final[tuple[EngineerStatus, ...]] = (
    "available",
    "available",
    "en_route",
    "on_site",
    "off",
)
UNPLANNED: Final[tuple[TicketKind, ...]] = ("anomaly", "breakdown", "inspection")


# The city's rules: the defaults, plus a customer whose contract demands a short trip.
CITY_RULES: Final = (
    *DEFAULT_RULES,
    AssignmentRule(id="cust-3-fast", customer_id="cust-3", max_travel_min=25.0),
)


def city(seed: int = 7) -> tuple[list[EngineerProfile], list[TicketDemand]]:
    """A Moscow-sized city: 50 engineers with shifts and positions, 200 tickets."""
    rng = random.Random(seed)
    return [_city_engineer(rng, n) for n in range(50)], [_city_ticket(rng, n) for n in range(200)]


def _city_point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(55.57, 55.91), rng.uniform(37.37, 37.85)


def _city_engineer(rng: random.Random, n: int) -> EngineerProfile:
    lat, lon = _city_point(rng)
    night = rng.random() < 0.2
    shifts = tuple(
        WeeklyShift(day, time(20), time(8)) if night else WeeklyShift(day, time(8), time(20))
        for day in rng.sample(range(7), 5)
    )
    stale = rng.random() < 0.2
    return EngineerProfile(
        id=f"eng-{n:02d}",
        timezone=ZONE,
        home_lat=lat,
        home_lon=lon,
        skills={skill: rng.randint(1, 5) for skill in rng.sample(SKILLS, 3)},
        areas=frozenset(rng.sample(AREAS, 2)),
        max_concurrent=rng.randint(2, 5),
        status=rng.choice(STATUSES),
        position_lat=lat + rng.gauss(0, 0.02),
        position_lon=lon + rng.gauss(0, 0.03),
        position_at=NOW - timedelta(minutes=90 if stale else rng.uniform(0, 10)),
        shifts=shifts,
        absences=_city_absences(rng),
        open_tickets=rng.randint(0, 2),
        open_hours=rng.uniform(0, 6),
        assigned_today=rng.randint(0, 5),
        first_time_fix_rate={"repair": rng.uniform(0.4, 1.0)},
        en_route_to_urgent=rng.random() < 0.1,
        responsible_for=frozenset({f"site-{rng.randint(0, 40)}"}),
        site_visits={f"site-{rng.randint(0, 40)}": rng.randint(1, 8)},
        preferred_by_customers=frozenset({f"cust-{rng.randint(0, 10)}"}),
    )


def _city_absences(rng: random.Random) -> tuple[Absence, ...]:
    if rng.random() < 0.1:
        return (Absence(TODAY - timedelta(days=2), TODAY + timedelta(days=5), "sick"),)
    return ()


def _city_ticket(rng: random.Random, n: int) -> TicketDemand:
    lat, lon = _city_point(rng)
    window_start = moscow(TODAY + timedelta(days=1), rng.randint(6, 18)) if n % 4 == 0 else None
    return TicketDemand(
        id=f"tkt-{n:03d}",
        kind="planned" if window_start else rng.choice(UNPLANNED),
        priority=rng.choice(PRIORITIES),
        work_type=rng.choice(["repair", "maintenance"]),
        site_id=f"site-{rng.randint(0, 40)}",
        lat=lat,
        lon=lon,
        duration_h=rng.uniform(0.5, 4),
        required_skills={rng.choice(SKILLS): rng.randint(1, 4)},
        customer_id=f"cust-{rng.randint(0, 10)}",
        area=rng.choice(AREAS),
        window_start=window_start,
        window_end=window_start + timedelta(hours=4) if window_start else None,
        equipment_id=f"eq-{rng.randint(0, 200)}",
    )
