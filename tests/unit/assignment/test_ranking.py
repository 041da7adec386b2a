"""Ranking: deterministic order, documented tie-breaks, and complete explanations."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from tests.unit.assignment.factories import (
    NOW,
    candidate_ids,
    city,
    engineer,
    exclusions,
    only,
    ranking_of,
    ticket,
)
from tickets.assignment import (
    DEFAULT_RULE,
    DEFAULT_RULES,
    FACTOR_NAMES,
    EngineerTable,
    rank,
    select_rule,
)


def test_same_input_gives_the_same_explanation() -> None:
    profiles, tickets = city()
    table = EngineerTable.from_profiles(profiles)
    for demand in tickets[:20]:
        rule = select_rule(DEFAULT_RULES, demand)
        first = rank(demand, table, rule, NOW).explanation()
        again = rank(demand, table, rule, NOW).explanation()
        assert first == again


def test_order_of_the_roster_does_not_change_the_ranking() -> None:
    profiles, tickets = city()
    forward = EngineerTable.from_profiles(profiles)
    backward = EngineerTable.from_profiles(profiles[::-1])
    for demand in tickets[:20]:
        rule = select_rule(DEFAULT_RULES, demand)
        assert candidate_ids(rank(demand, forward, rule, NOW)) == candidate_ids(
            rank(demand, backward, rule, NOW)
        )


def test_equal_totals_are_broken_by_shorter_travel() -> None:
    # Only workload counts, so both total 100; the nearer one ranks first.
    rule = only({"workload": 100.0})
    ranking = ranking_of(engineer("a-far", km=6.0), engineer("b-near", km=2.0), rule=rule)
    assert [c.total for c in ranking.candidates()] == [100.0, 100.0]
    assert candidate_ids(ranking) == ["b-near", "a-far"]


def test_equal_totals_and_travel_are_broken_by_engineer_id() -> None:
    ranking = ranking_of(engineer("carol"), engineer("alice"), engineer("bob"))
    assert candidate_ids(ranking) == ["alice", "bob", "carol"]


def test_higher_total_ranks_first() -> None:
    ranking = ranking_of(engineer("busy", open_tickets=2), engineer("idle"))
    totals = [c.total for c in ranking.candidates()]
    assert candidate_ids(ranking) == ["idle", "busy"]
    assert totals[0] > totals[1]


def test_total_is_the_weighted_sum_of_factor_scores() -> None:
    profiles, tickets = city()
    ranking = rank(tickets[0], EngineerTable.from_profiles(profiles), DEFAULT_RULE, NOW)
    for candidate in ranking.candidates():
        weighted = sum(DEFAULT_RULE.weights_pct[f] * candidate.factors[f] for f in FACTOR_NAMES)
        assert candidate.total == pytest.approx(weighted / 100, abs=1e-6)


def test_explanation_scores_every_candidate_on_every_factor() -> None:
    profiles, tickets = city()
    table = EngineerTable.from_profiles(profiles)
    for demand in tickets:
        explanation = rank(demand, table, select_rule(DEFAULT_RULES, demand), NOW).explanation()
        for candidate in explanation["candidates"]:
            assert set(candidate["factors"]) == set(FACTOR_NAMES)
            assert all(math.isfinite(score) for score in candidate["factors"].values())


def test_explanation_gives_every_excluded_engineer_a_reason() -> None:
    profiles, tickets = city()
    table = EngineerTable.from_profiles(profiles)
    for demand in tickets:
        ranking = rank(demand, table, select_rule(DEFAULT_RULES, demand), NOW)
        explanation = ranking.explanation()
        excluded = {i for ids in explanation["excluded_by_reason"].values() for i in ids}
        candidates = {c["engineer_id"] for c in explanation["candidates"]}
        assert excluded == {e.engineer_id for e in ranking.excluded()}
        assert excluded.isdisjoint(candidates)
        assert excluded | candidates == {p.id for p in profiles}


def test_excluded_by_reason_and_per_engineer_reasons_agree() -> None:
    ranking = ranking_of(
        engineer("off-north", status="off", areas=frozenset({"north"})),
        engineer("off", status="off"),
        engineer("ok"),
    )
    assert ranking.excluded_by_reason() == {
        "status is off": ["off", "off-north"],
        "does not serve area centre": ["off-north"],
    }
    assert exclusions(ranking) == {
        "off": ("status is off",),
        "off-north": ("status is off", "does not serve area centre"),
    }


def test_explanation_is_json_with_rule_weights_and_tie_break() -> None:
    explanation = ranking_of(engineer("e1"), engineer("e2", status="off")).explanation()
    decoded = json.loads(json.dumps(explanation))
    assert decoded["ticket_id"] == "t1"
    assert decoded["rule_id"] == "default"
    assert decoded["ranked_at"] == NOW.isoformat()
    assert decoded["weights_pct"] == dict(DEFAULT_RULE.weights_pct)
    assert decoded["tie_break"] == ["total desc", "travel_min asc", "engineer_id asc"]
    assert decoded["eligible"] == 1
    assert decoded["candidates"][0]["rank"] == 1
    assert decoded["excluded_by_reason"] == {"status is off": ["e2"]}


def test_top_n_limits_the_candidates_but_not_the_count() -> None:
    ranking = ranking_of(*(engineer(f"e{n}") for n in range(5)))
    explanation = ranking.explanation(top_n=2)
    assert [c["engineer_id"] for c in explanation["candidates"]] == ["e0", "e1"]
    assert explanation["eligible"] == 5


def test_exclusion_counts_count_engineers_per_reason() -> None:
    ranking = ranking_of(
        engineer("off-1", status="off"),
        engineer("off-2", status="off", skills={}),
        engineer("ok"),
    )
    assert ranking.exclusion_counts() == {
        "status is off": 2,
        "lacks required skills (hvac level 3+)": 1,
    }


def test_ranking_reports_its_ticket_and_rule() -> None:
    demand = replace(ticket(), id="t-42")
    ranking = ranking_of(engineer("e1"), demand=demand)
    assert (ranking.ticket.id, ranking.rule.id) == ("t-42", "default")
