"""Batch assignment: capacities, pinned tickets, and joint optimisation beating greedy."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.unit.assignment.factories import NOW, engineer, north_of_site, only, ticket
from tickets.assignment import EngineerTable, TicketDemand, assign_batch, assign_greedy
from tickets.assignment.batch import CAPACITY_TAKEN_REASON

# Only travel counts, up to 60 minutes: scores are easy to reason about.
TRAVEL_ONLY = only({"travel": 100.0}, max_travel_min=60.0, require_area=False)


def _provably_greedy_suboptimal() -> tuple[EngineerTable, list[TicketDemand]]:
    """Critical A sits on X; normal B needs welding, which only X has, 5 km away.

    Greedy serves A first and gives it X (100), leaving B without anyone. Jointly, A takes Y
    (5 km away) and B takes X: two pairs of about 72 each, 144 > 100.
    """
    x = engineer("x", km=0.0, skills={"hvac": 3, "welding": 2}, max_concurrent=1)
    y = engineer("y", km=5.0, max_concurrent=1)
    a = ticket(id="a", priority="critical")
    b = ticket(id="b", lat=north_of_site(-5.0), required_skills={"welding": 2})
    return EngineerTable.from_profiles([x, y]), [a, b]


def test_greedy_serves_priority_first_and_strands_the_second_ticket() -> None:
    table, tickets = _provably_greedy_suboptimal()
    greedy = assign_greedy(tickets, table, [TRAVEL_ONLY], NOW)
    assert [(a.ticket_id, a.engineer_id) for a in greedy.assigned] == [("a", "x")]
    assert [(u.ticket_id, u.reasons) for u in greedy.unassignable] == [
        ("b", (CAPACITY_TAKEN_REASON,))
    ]


def test_joint_assignment_beats_greedy_where_greedy_is_suboptimal() -> None:
    table, tickets = _provably_greedy_suboptimal()
    joint = assign_batch(tickets, table, [TRAVEL_ONLY], NOW)
    greedy = assign_greedy(tickets, table, [TRAVEL_ONLY], NOW)
    assert [(a.ticket_id, a.engineer_id) for a in joint.assigned] == [("a", "y"), ("b", "x")]
    five_km_min = 5 * 1.4 / 25 * 60  # detour 1.4 at 25 km/h
    assert joint.total_score == pytest.approx(2 * 100 * (1 - five_km_min / 60), rel=1e-3)
    assert joint.total_score > greedy.total_score


def test_batch_never_gives_an_engineer_more_than_their_free_capacity() -> None:
    table = EngineerTable.from_profiles(
        [
            engineer("two-free", max_concurrent=3, open_tickets=1),
            engineer("one-free", km=3.0, max_concurrent=1),
        ]
    )
    tickets = [ticket(id=f"t{n}") for n in range(5)]
    for solve in (assign_batch, assign_greedy):
        result = solve(tickets, table, [TRAVEL_ONLY], NOW)
        taken = Counter(a.engineer_id for a in result.assigned)
        assert taken == {"two-free": 2, "one-free": 1}
        assert [u.reasons for u in result.unassignable] == [(CAPACITY_TAKEN_REASON,)] * 2


def test_ticket_nobody_qualifies_for_is_unassignable_with_filter_reasons() -> None:
    table = EngineerTable.from_profiles([engineer("e1")])
    result = assign_batch([ticket(required_skills={"lifts": 1})], table, [TRAVEL_ONLY], NOW)
    assert result.assigned == ()
    assert result.unassignable[0].reasons == (
        "lacks required skills (lifts level 1+) (1 of 1 engineers)",
    )


def test_pinned_ticket_keeps_its_engineer_and_uses_their_capacity() -> None:
    table = EngineerTable.from_profiles(
        [engineer("near", km=0.0, max_concurrent=1), engineer("far", km=8.0, max_concurrent=1)]
    )
    tickets = [ticket(id="pinned"), ticket(id="free")]
    result = assign_batch(tickets, table, [TRAVEL_ONLY], NOW, pinned={"pinned": "far"})
    pairs = [(a.ticket_id, a.engineer_id, a.pinned) for a in result.assigned]
    assert pairs == [("pinned", "far", True), ("free", "near", False)]


def test_pinning_to_an_unknown_engineer_is_refused() -> None:
    table = EngineerTable.from_profiles([engineer("e1")])
    with pytest.raises(ValueError, match="ghost"):
        assign_batch([ticket()], table, [TRAVEL_ONLY], NOW, pinned={"t1": "ghost"})


def test_batch_excludes_engineers_who_declined_that_ticket_only() -> None:
    table = EngineerTable.from_profiles([engineer("near", km=0.0), engineer("far", km=8.0)])
    tickets = [ticket(id="declined"), ticket(id="other")]
    result = assign_batch(tickets, table, [TRAVEL_ONLY], NOW, exclude={"declined": ["near"]})
    assert {a.ticket_id: a.engineer_id for a in result.assigned} == {
        "declined": "far",
        "other": "near",
    }


def test_each_batch_assignment_carries_its_ranking() -> None:
    table, tickets = _provably_greedy_suboptimal()
    result = assign_batch(tickets, table, [TRAVEL_ONLY], NOW)
    for assigned in result.assigned:
        assert assigned.ranking.ticket.id == assigned.ticket_id
        ranked = {c.engineer_id: c.total for c in assigned.ranking.candidates()}
        assert ranked[assigned.engineer_id] == assigned.total
