"""Input checks: what the engine refuses before scoring anything."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.unit.assignment.factories import NOW, engineer, ticket
from tickets.assignment import DEFAULT_RULE, DEFAULT_RULES, EngineerTable, assign_batch, rank


def test_window_needs_both_start_and_end() -> None:
    with pytest.raises(ValueError, match="both start and end"):
        ticket(window_start=NOW)


def test_window_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        ticket(window_start=NOW, window_end=NOW)


def test_unknown_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="priority must be one of"):
        ticket(priority="urgent")


def test_skill_level_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        engineer(skills={"hvac": 101})


def test_duplicate_engineer_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        EngineerTable.from_profiles([engineer("e1"), engineer("e1")])


def test_duplicate_ticket_ids_in_a_batch_are_refused() -> None:
    table = EngineerTable.from_profiles([engineer("e1")])
    with pytest.raises(ValueError, match="unique"):
        assign_batch([ticket(), ticket()], table, DEFAULT_RULES, NOW)


def test_naive_now_is_refused() -> None:
    table = EngineerTable.from_profiles([engineer("e1")])
    with pytest.raises(ValueError, match="timezone-aware"):
        rank(ticket(), table, DEFAULT_RULE, datetime(2024, 6, 3, 11))
