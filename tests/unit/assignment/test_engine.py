"""assign_one: the best candidate, or unassignable with the reasons."""

from __future__ import annotations

from tests.unit.assignment.factories import NOW, engineer, ticket
from tickets.assignment import (
    DEFAULT_RULE,
    Assigned,
    EngineerTable,
    Unassignable,
    assign_one,
)


def test_best_candidate_gets_the_ticket() -> None:
    table = EngineerTable.from_profiles([engineer("far", km=8.0), engineer("near", km=0.5)])
    outcome = assign_one(ticket(), table, DEFAULT_RULE, NOW)
    assert isinstance(outcome, Assigned)
    assert outcome.engineer_id == "near"
    assert outcome.total == outcome.ranking.candidates()[0].total


def test_declined_engineer_is_passed_over_for_the_next_best() -> None:
    table = EngineerTable.from_profiles([engineer("far", km=8.0), engineer("near", km=0.5)])
    outcome = assign_one(ticket(), table, DEFAULT_RULE, NOW, exclude_ids=["near"])
    assert isinstance(outcome, Assigned)
    assert outcome.engineer_id == "far"


def test_no_candidate_is_unassignable_with_reasons_and_counts() -> None:
    table = EngineerTable.from_profiles(
        [
            engineer("off", status="off"),
            engineer("novice", skills={"hvac": 1}),
            engineer("novice-off", status="off", skills={"hvac": 1}),
        ]
    )
    outcome = assign_one(ticket(), table, DEFAULT_RULE, NOW)
    assert isinstance(outcome, Unassignable)
    assert outcome.reasons == (
        "status is off (2 of 3 engineers)",
        "lacks required skills (hvac level 3+) (2 of 3 engineers)",
    )
    assert outcome.ranking.best is None


def test_empty_roster_is_unassignable() -> None:
    outcome = assign_one(ticket(), EngineerTable.from_profiles([]), DEFAULT_RULE, NOW)
    assert isinstance(outcome, Unassignable)
    assert outcome.reasons == ("no engineers on the roster",)
