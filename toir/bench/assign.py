"""Assignment engine benchmark on a synthetic Moscow-sized city (for `toir bench assign`).

Figures: one ticket against `engineers` engineers (assign_one, and assign_one plus the stored
explanation); as a baseline measured in the same run, one plain numpy haversine (kernel.geo)
from the same engineers to the ticket; and a batch of `batch_tickets` tickets against
`batch_engineers` engineers (assign_batch, score matrix included) compared with greedy.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Final

import numpy as np

from kernel.geo import haversine_m_array
from tickets.assignment import (
    DEFAULT_RULES,
    Absence,
    Assigned,
    EngineerProfile,
    EngineerStatus,
    EngineerTable,
    Priority,
    TicketDemand,
    Unassignable,
    WeeklyShift,
    assign_batch,
    assign_greedy,
    assign_one,
    select_rule,
)

ZONE: Final = "Europe/Moscow"
LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 55.57, 55.91, 37.37, 37.85  # inside the MKAD ring road
AREA_ROWS, AREA_COLUMNS = 3, 4
SKILLS: Final = ("hvac", "electrical", "plumbing", "refrigeration", "boilers", "pumps", "lifts")
WORK_TYPES: Final = ("repair", "maintenance", "inspection", "installation")
PRIORITIES: Final[tuple[Priority, ...]] = ("low", "normal", "high", "critical")
PRIORITY_SHARES: Final = (0.2, 0.5, 0.2, 0.1)
STATUSES: Final[tuple[EngineerStatus, ...]] = ("available", "en_route", "on_site", "off")
STATUS_SHARES: Final = (0.7, 0.1, 0.15, 0.05)
SITES, CUSTOMERS = 3000, 200
# Monday 3 June 2024, 11:00 in Moscow.
NOW: Final = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
NOW_LOCAL_HOUR: Final = 11
EXPLAINED_TOP_N: Final = 10


def run_assign_bench(
    *,
    engineers: int = 10_000,
    batch_tickets: int = 1000,
    batch_engineers: int = 1000,
    repeats: int = 20,
    seed: int = 1,
) -> dict[str, float]:
    """Measure the engine and return its figures in milliseconds (and scores)."""
    rng = np.random.default_rng(seed)
    profiles = synthetic_engineers(rng, engineers)
    started = time.perf_counter()
    table = EngineerTable.from_profiles(profiles)
    figures = {"table_build_ms": (time.perf_counter() - started) * 1000}
    singles = synthetic_tickets(rng, repeats, planned_share=0.0)
    figures |= _one_ticket_figures(table, singles, repeats)
    batch_table = EngineerTable.from_profiles(profiles[:batch_engineers])
    batch = synthetic_tickets(rng, batch_tickets)
    figures |= _batch_figures(batch_table, batch, repeats)
    return figures


def synthetic_engineers(rng: np.random.Generator, count: int) -> list[EngineerProfile]:
    """Engineers spread over the city, with shifts, skills, positions and history."""
    return [_engineer(rng, f"eng-{n:05d}") for n in range(count)]


def synthetic_tickets(
    rng: np.random.Generator, count: int, *, planned_share: float = 0.3
) -> list[TicketDemand]:
    """Tickets at random places in the city; some are planned work for tomorrow."""
    return [_ticket(rng, f"tkt-{n:05d}", rng.random() < planned_share) for n in range(count)]


def area_of(lat: float, lon: float) -> str:
    """The district (a cell of a grid over the city) a point is in."""
    row = min(int((lat - LAT_MIN) / (LAT_MAX - LAT_MIN) * AREA_ROWS), AREA_ROWS - 1)
    column = min(int((lon - LON_MIN) / (LON_MAX - LON_MIN) * AREA_COLUMNS), AREA_COLUMNS - 1)
    return f"area-{row}{column}"


def _point(rng: np.random.Generator) -> tuple[float, float]:
    return float(rng.uniform(LAT_MIN, LAT_MAX)), float(rng.uniform(LON_MIN, LON_MAX))


def _engineer(rng: np.random.Generator, engineer_id: str) -> EngineerProfile:
    home_lat, home_lon = _point(rng)
    extra_areas = {area_of(*_point(rng)) for _ in range(int(rng.integers(0, 3)))}
    open_tickets = int(rng.integers(0, 3))
    fresh = rng.random() < 0.8
    return EngineerProfile(
        id=engineer_id,
        timezone=ZONE,
        home_lat=home_lat,
        home_lon=home_lon,
        skills={str(s): int(rng.integers(1, 6)) for s in rng.choice(SKILLS, 3, replace=False)},
        areas=frozenset({area_of(home_lat, home_lon), *extra_areas}),
        max_concurrent=int(rng.integers(3, 5)),
        status=str(
            rng.choice(["available", "en_route", "on_site", "off"], p=[0.7, 0.1, 0.15, 0.05])
        ),  # type: ignore[arg-type]
        position_lat=home_lat + float(rng.normal(0, 0.03)),
        position_lon=home_lon + float(rng.normal(0, 0.05)),
        position_at=NOW - timedelta(minutes=float(rng.uniform(0, 10) if fresh else 120)),
        shifts=_shifts(rng),
        absences=_absences(rng),
        preferred_by_customers=frozenset({f"cust-{int(rng.integers(CUSTOMERS))}"}),
        open_tickets=open_tickets,
        open_hours=open_tickets * float(rng.uniform(0.5, 3)),
        assigned_today=int(rng.integers(0, 6)),
        first_time_fix_rate={str(w): float(rng.uniform(0.5, 1)) for w in WORK_TYPES[:2]},
        en_route_to_urgent=bool(rng.random() < 0.05),
        responsible_for=frozenset(f"site-{int(s)}" for s in rng.integers(SITES, size=3)),
        site_visits={
            f"site-{int(s)}": int(rng.integers(1, 9)) for s in rng.integers(SITES, size=5)
        },
    )


def _shifts(rng: np.random.Generator) -> tuple[WeeklyShift, ...]:
    if rng.random() < 0.7:
        return tuple(WeeklyShift(day, clock_time(8), clock_time(20)) for day in range(5))
    days = (0, 1, 4, 5) if rng.random() < 0.5 else (2, 3, 6)
    return tuple(WeeklyShift(day, clock_time(20), clock_time(8)) for day in days)


def _absences(rng: np.random.Generator) -> tuple[Absence, ...]:
    if rng.random() >= 0.05:
        return ()
    return (Absence(date(2024, 6, 1), date(2024, 6, 14), "leave"),)


def _ticket(rng: np.random.Generator, ticket_id: str, planned: bool) -> TicketDemand:
    lat, lon = _point(rng)
    # Planned work goes into standard slots: tomorrow, on the hour, 2 to 4 hours long.
    window_start = _tomorrow_at(int(rng.integers(8, 17))) if planned else None
    window_h = int(rng.integers(2, 5))
    return TicketDemand(
        id=ticket_id,
        kind="planned" if planned else "anomaly",
        priority=PRIORITIES[int(rng.choice(len(PRIORITIES), p=PRIORITY_SHARES))],
        work_type=str(rng.choice(WORK_TYPES)),
        site_id=f"site-{int(rng.integers(SITES))}",
        lat=lat,
        lon=lon,
        duration_h=float(rng.uniform(0.5, 3)),
        required_skills={str(s): int(rng.integers(1, 4)) for s in rng.choice(SKILLS, 1)},
        customer_id=f"cust-{int(rng.integers(CUSTOMERS))}",
        area=area_of(lat, lon),
        window_start=window_start,
        window_end=window_start + timedelta(hours=window_h) if window_start else None,
        equipment_id=f"eq-{int(rng.integers(10 * SITES))}",
    )


def _tomorrow_at(local_hour: int) -> datetime:
    return NOW + timedelta(days=1, hours=local_hour - NOW_LOCAL_HOUR)


def _one_ticket_figures(
    table: EngineerTable, tickets: list[TicketDemand], repeats: int
) -> dict[str, float]:
    picks = itertools.cycle(tickets)
    one = _timed(lambda: _assign(table, next(picks)), repeats)
    explained = _timed(lambda: _assign_explained(table, next(picks)), repeats)
    target = tickets[0]
    baseline = _timed(
        lambda: haversine_m_array(table.home_lat, table.home_lon, target.lat, target.lon), repeats
    )
    return {
        "one_ticket_median_ms": one[0],
        "one_ticket_p95_ms": one[1],
        "one_ticket_explained_median_ms": explained[0],
        "one_ticket_explained_p95_ms": explained[1],
        "haversine_baseline_median_ms": baseline[0],
        "haversine_baseline_p95_ms": baseline[1],
        "one_ticket_to_baseline_ratio": one[0] / baseline[0],
    }


def _assign(table: EngineerTable, ticket: TicketDemand) -> Assigned | Unassignable:
    return assign_one(ticket, table, select_rule(DEFAULT_RULES, ticket), NOW)


def _assign_explained(table: EngineerTable, ticket: TicketDemand) -> dict[str, object]:
    # What the service stores with an assignment: top candidates and every exclusion.
    return _assign(table, ticket).ranking.explanation(top_n=EXPLAINED_TOP_N)


def _batch_figures(
    table: EngineerTable, tickets: list[TicketDemand], repeats: int
) -> dict[str, float]:
    batch = _timed(lambda: assign_batch(tickets, table, DEFAULT_RULES, NOW), repeats)
    greedy = _timed(lambda: assign_greedy(tickets, table, DEFAULT_RULES, NOW), repeats)
    joint = assign_batch(tickets, table, DEFAULT_RULES, NOW)
    step = assign_greedy(tickets, table, DEFAULT_RULES, NOW)
    return {
        "batch_median_ms": batch[0],
        "batch_p95_ms": batch[1],
        "greedy_median_ms": greedy[0],
        "greedy_p95_ms": greedy[1],
        "batch_total_score": joint.total_score,
        "greedy_total_score": step.total_score,
        "batch_assigned": float(len(joint.assigned)),
        "greedy_assigned": float(len(step.assigned)),
    }


def _timed(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    work()  # warm caches (time zones, imports) outside the measurement
    samples_ms = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        samples_ms.append((time.perf_counter() - started) * 1000)
    return float(np.median(samples_ms)), float(np.percentile(samples_ms, 95))
