"""Weighted factors: each orders engineers the way its name promises, within 0..100."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.assignment.factories import (
    NOW,
    SITE_LAT,
    TODAY,
    city,
    engineer,
    factor_scores,
    moscow,
    north_of_site,
    planned,
    ranking_of,
    ticket,
)
from tickets.assignment import (
    FACTOR_NAMES,
    AssignmentRule,
    EngineerTable,
    select_rule,
)
from tickets.assignment.factors import FACTORS
from tickets.assignment.rules import DEFAULT_RULES
from tickets.assignment.scoring import score_tickets
from tickets.assignment.travel import GreatCircleTravel


def test_every_weighable_factor_has_a_scoring_function() -> None:
    assert tuple(FACTORS) == FACTOR_NAMES
    assert len(FACTOR_NAMES) >= 10


def test_nearer_engineer_scores_higher_on_travel() -> None:
    scores = factor_scores(ranking_of(engineer("near", km=0.0), engineer("far", km=5.0)), "travel")
    assert scores["near"] == 100.0
    assert scores["near"] > scores["far"] > 0.0


def test_travel_score_falls_to_zero_at_the_rules_max_travel() -> None:
    rule = AssignmentRule(id="unlimited", max_travel_min=None)
    scores = factor_scores(ranking_of(engineer("far", km=80.0), rule=rule), "travel")
    assert scores["far"] == 0.0


def test_stale_position_falls_back_to_home_base() -> None:
    home_far = {"home_lat": north_of_site(20.0), "position_lat": SITE_LAT}
    fresh = engineer("fresh", **home_far)
    stale = engineer("stale", position_at=NOW - timedelta(hours=1), **home_far)
    ranking = ranking_of(fresh, stale, rule=AssignmentRule(id="any", max_travel_min=None))
    travel_min = {c.engineer_id: c.travel_min for c in ranking.candidates()}
    assert travel_min["fresh"] == pytest.approx(0.0)
    # 20 km straight x 1.4 detour at 25 km/h.
    assert travel_min["stale"] == pytest.approx(20 * 1.4 / 25 * 60, rel=1e-3)


def test_engineer_without_a_position_is_measured_from_home_base() -> None:
    nowhere = engineer("nowhere", position_lat=None, position_lon=None, position_at=None)
    candidate = ranking_of(nowhere, demand=ticket(lat=north_of_site(1.0))).candidates()[0]
    assert candidate.travel_min == pytest.approx(0.0)


def test_planned_work_later_is_measured_from_home_base() -> None:
    elsewhere = engineer("e1", home_lat=SITE_LAT, position_lat=north_of_site(10.0))
    demand = planned(moscow(TODAY + timedelta(days=1), 9), 4)
    candidate = ranking_of(elsewhere, demand=demand).candidates()[0]
    assert candidate.travel_min == pytest.approx(0.0)


def test_fewer_open_tickets_and_hours_score_higher_on_workload() -> None:
    ranking = ranking_of(
        engineer("idle"),
        engineer("some", open_tickets=1, open_hours=2.0),
        engineer("busy", open_tickets=2, open_hours=6.0),
    )
    scores = factor_scores(ranking, "workload")
    assert scores["idle"] == 100.0
    assert scores["idle"] > scores["some"] > scores["busy"]


def test_exact_skill_level_beats_over_qualified() -> None:
    ranking = ranking_of(engineer("exact"), engineer("expert", skills={"hvac": 5}))
    scores = factor_scores(ranking, "skill_match")
    assert scores == {"exact": 100.0, "expert": 50.0}


def test_responsible_for_the_equipment_or_site_scores_full() -> None:
    ranking = ranking_of(
        engineer("for-equipment", responsible_for=frozenset({"eq-1"})),
        engineer("for-site", responsible_for=frozenset({"site-1"})),
        engineer("elsewhere", responsible_for=frozenset({"site-9"})),
    )
    scores = factor_scores(ranking, "responsible")
    assert scores == {"for-equipment": 100.0, "for-site": 100.0, "elsewhere": 0.0}


def test_more_visits_to_the_site_score_higher_up_to_a_cap() -> None:
    ranking = ranking_of(
        engineer("regular", site_visits={"site-1": 12}),
        engineer("once", site_visits={"site-1": 1}),
        engineer("never", site_visits={"site-2": 9}),
    )
    scores = factor_scores(ranking, "site_history")
    assert scores["regular"] == 100.0
    assert scores["regular"] > scores["once"] > scores["never"] == 0.0


def test_customers_preferred_engineer_scores_full() -> None:
    ranking = ranking_of(
        engineer("preferred", preferred_by_customers=frozenset({"cust-1"})),
        engineer("other", preferred_by_customers=frozenset({"cust-2"})),
    )
    assert factor_scores(ranking, "customer_preferred") == {"preferred": 100.0, "other": 0.0}


def test_idle_engineer_beats_available_with_work_beats_on_site() -> None:
    ranking = ranking_of(
        engineer("idle"),
        engineer("holding", open_tickets=1),
        engineer("on-site", status="on_site"),
    )
    assert factor_scores(ranking, "idle") == {"idle": 100.0, "holding": 50.0, "on-site": 0.0}


def test_shift_ending_before_travel_and_work_are_done_scores_lower() -> None:
    # Shifts end at 20:00; now is 11:00. A 10-hour job fits nobody, a 2-hour one fits.
    long_job = factor_scores(
        ranking_of(engineer("e1"), demand=ticket(duration_h=10.0)), "shift_left"
    )
    short_job = factor_scores(ranking_of(engineer("e1")), "shift_left")
    assert short_job["e1"] == 100.0
    assert 80.0 < long_job["e1"] < 90.0


def test_engineer_en_route_to_an_urgent_ticket_is_penalised() -> None:
    ranking = ranking_of(engineer("free"), engineer("rushing", en_route_to_urgent=True))
    assert factor_scores(ranking, "urgent_en_route") == {"free": 100.0, "rushing": 0.0}


def test_fewer_assignments_today_score_higher_on_fairness() -> None:
    ranking = ranking_of(
        engineer("fresh"), engineer("two", assigned_today=2), engineer("many", assigned_today=9)
    )
    scores = factor_scores(ranking, "fairness")
    assert scores["fresh"] == 100.0
    assert scores["fresh"] > scores["two"] > scores["many"] == 0.0


def test_higher_first_time_fix_rate_on_the_work_type_scores_higher() -> None:
    ranking = ranking_of(
        engineer("good", first_time_fix_rate={"repair": 0.9}),
        engineer("poor", first_time_fix_rate={"repair": 0.4, "maintenance": 1.0}),
        engineer("unknown"),
    )
    scores = factor_scores(ranking, "first_time_fix")
    assert scores == pytest.approx({"good": 90.0, "poor": 40.0, "unknown": 50.0})


def test_every_factor_scores_within_0_and_100_on_a_city() -> None:
    profiles, tickets = city()
    scoring = score_tickets(
        tickets=tickets,
        rules=[select_rule(DEFAULT_RULES, t) for t in tickets],
        table=EngineerTable.from_profiles(profiles),
        now=NOW,
        travel=GreatCircleTravel(),
        exclude=[()] * len(tickets),
    )
    for name, scores in scoring.factor_scores.items():
        assert scores.min() >= 0.0, name
        assert scores.max() <= 100.0, name


def test_weights_decide_between_a_near_and_a_responsible_engineer() -> None:
    near = engineer("near", km=0.0)
    responsible = engineer("responsible", km=10.0, responsible_for=frozenset({"site-1"}))
    by_travel = AssignmentRule(id="travel", weights_pct={"travel": 100.0})
    by_responsibility = AssignmentRule(id="resp", weights_pct={"travel": 40, "responsible": 60})
    assert ranking_of(near, responsible, rule=by_travel).candidates()[0].engineer_id == "near"
    top = ranking_of(near, responsible, rule=by_responsibility).candidates()[0]
    assert top.engineer_id == "responsible"
