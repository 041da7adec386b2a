"""Hard filters: who is kept, who is excluded, and the reason given."""

from __future__ import annotations

from datetime import time, timedelta

from tests.unit.assignment.factories import (
    NOW,
    TODAY,
    ZONE,
    candidate_ids,
    engineer,
    exclusions,
    moscow,
    planned,
    ranking_of,
    ticket,
)
from tickets.assignment import Absence, AssignmentRule, WeeklyShift


def test_engineer_with_status_off_is_excluded_and_en_route_is_kept() -> None:
    ranking = ranking_of(engineer("off", status="off"), engineer("moving", status="en_route"))
    assert candidate_ids(ranking) == ["moving"]
    assert exclusions(ranking) == {"off": ("status is off",)}


def test_engineer_who_declined_earlier_is_excluded() -> None:
    ranking = ranking_of(engineer("e1"), engineer("e2"), exclude_ids=("e1",))
    assert candidate_ids(ranking) == ["e2"]
    assert exclusions(ranking) == {"e1": ("declined or timed out earlier",)}


def test_engineer_on_leave_today_is_excluded_and_leave_next_week_does_not_matter() -> None:
    today = Absence(TODAY, TODAY + timedelta(days=2), "leave")
    later = Absence(TODAY + timedelta(days=7), TODAY + timedelta(days=9), "leave")
    ranking = ranking_of(engineer("away", absences=(today,)), engineer("back", absences=(later,)))
    assert candidate_ids(ranking) == ["back"]
    assert exclusions(ranking) == {"away": ("on leave or sick today",)}


def test_engineer_sick_on_a_day_of_the_planned_window_is_excluded() -> None:
    tomorrow = TODAY + timedelta(days=1)
    sick = Absence(tomorrow, tomorrow, "sick")
    demand = planned(moscow(tomorrow, 9), 4)
    ranking = ranking_of(engineer("sick", absences=(sick,)), engineer("well"), demand=demand)
    assert candidate_ids(ranking) == ["well"]
    assert exclusions(ranking) == {"sick": ("on leave or sick during the planned window",)}


def test_engineer_off_shift_now_is_excluded() -> None:
    evenings = tuple(WeeklyShift(day, time(18), time(23)) for day in range(7))
    ranking = ranking_of(engineer("evening", shifts=evenings), engineer("day"))
    assert candidate_ids(ranking) == ["day"]
    assert exclusions(ranking) == {"evening": ("not on shift now",)}


def test_rule_without_shift_requirement_keeps_engineers_off_shift() -> None:
    rule = AssignmentRule(id="any-time", require_shift=False)
    ranking = ranking_of(engineer("no-shifts", shifts=()), rule=rule)
    assert candidate_ids(ranking) == ["no-shifts"]


def test_overnight_shift_covers_the_small_hours_of_the_next_day() -> None:
    sunday_night = (WeeklyShift(6, time(22), time(6)),)
    ranking = ranking_of(engineer("night", shifts=sunday_night), now=moscow(TODAY, 2))
    assert candidate_ids(ranking) == ["night"]


def test_planned_work_needs_a_shift_covering_the_window_for_the_duration() -> None:
    tomorrow = TODAY + timedelta(days=1)
    short = (WeeklyShift(1, time(8), time(9)),)  # Tuesday, one hour
    demand = planned(moscow(tomorrow, 8), 4, duration_h=2.0)
    ranking = ranking_of(engineer("short", shifts=short), engineer("full"), demand=demand)
    assert candidate_ids(ranking) == ["full"]
    assert exclusions(ranking) == {
        "short": ("no shift covers the planned window for the estimated duration",)
    }


def test_planned_work_ignores_whether_the_engineer_is_on_shift_now() -> None:
    tuesday_only = (WeeklyShift(1, time(8), time(20)),)
    demand = planned(moscow(TODAY + timedelta(days=1), 9), 4)
    ranking = ranking_of(engineer("tuesday", shifts=tuesday_only), demand=demand)
    assert candidate_ids(ranking) == ["tuesday"]


def test_engineer_below_the_minimum_skill_level_is_excluded() -> None:
    demand = ticket(required_skills={"hvac": 3, "electrical": 2})
    ranking = ranking_of(
        engineer("both", skills={"hvac": 3, "electrical": 2}),
        engineer("weak", skills={"hvac": 2, "electrical": 5}),
        engineer("missing", skills={"hvac": 5}),
        demand=demand,
    )
    reason = ("lacks required skills (electrical level 2+, hvac level 3+)",)
    assert candidate_ids(ranking) == ["both"]
    assert exclusions(ranking) == {"missing": reason, "weak": reason}


def test_skill_nobody_has_excludes_everyone() -> None:
    ranking = ranking_of(engineer("e1"), demand=ticket(required_skills={"welding": 1}))
    assert exclusions(ranking) == {"e1": ("lacks required skills (welding level 1+)",)}


def test_engineer_outside_the_ticket_area_is_excluded() -> None:
    ranking = ranking_of(engineer("centre"), engineer("north", areas=frozenset({"north"})))
    assert candidate_ids(ranking) == ["centre"]
    assert exclusions(ranking) == {"north": ("does not serve area centre",)}


def test_area_is_not_checked_when_the_rule_or_the_ticket_does_not_ask() -> None:
    north = engineer("north", areas=frozenset({"north"}))
    relaxed = AssignmentRule(id="anywhere", require_area=False)
    assert candidate_ids(ranking_of(north, rule=relaxed)) == ["north"]
    assert candidate_ids(ranking_of(north, demand=ticket(area=None))) == ["north"]


def test_engineer_at_max_concurrent_tickets_is_excluded() -> None:
    ranking = ranking_of(
        engineer("full", max_concurrent=2, open_tickets=2),
        engineer("room", max_concurrent=2, open_tickets=1),
    )
    assert candidate_ids(ranking) == ["room"]
    assert exclusions(ranking) == {"full": ("already at max concurrent tickets",)}


def test_engineer_beyond_the_max_travel_time_is_excluded() -> None:
    rule = AssignmentRule(id="near", max_travel_min=30.0)
    # 1.4 detour at 25 km/h: 8 km straight is about 27 min, 10 km about 34 min.
    ranking = ranking_of(engineer("near", km=8.0), engineer("far", km=10.0), rule=rule)
    assert candidate_ids(ranking) == ["near"]
    assert exclusions(ranking) == {"far": ("travel over 30 min",)}


def test_rule_without_travel_limit_keeps_distant_engineers() -> None:
    rule = AssignmentRule(id="unlimited", max_travel_min=None)
    assert candidate_ids(ranking_of(engineer("far", km=300.0), rule=rule)) == ["far"]


def test_engineer_failing_several_filters_gets_every_reason_in_filter_order() -> None:
    out = engineer("out", status="off", areas=frozenset({"north"}), skills={})
    reasons = exclusions(ranking_of(out))["out"]
    assert reasons == (
        "status is off",
        "lacks required skills (hvac level 3+)",
        "does not serve area centre",
    )


def test_shifts_are_read_in_the_engineers_own_time_zone() -> None:
    # 11:00 in Moscow is 18:00 in Vladivostok (UTC+10): past a 08:00-16:00 shift there.
    day_shift = tuple(WeeklyShift(day, time(8), time(16)) for day in range(5))
    far_east = engineer("far-east", timezone="Asia/Vladivostok", shifts=day_shift)
    moscow_engineer = engineer("moscow", timezone=ZONE, shifts=day_shift)
    ranking = ranking_of(far_east, moscow_engineer, now=NOW)
    assert candidate_ids(ranking) == ["moscow"]
