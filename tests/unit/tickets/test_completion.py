"""The completion record's engineers named besides the assignee, and the work window their
presence (and the assignee's) is judged over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tickets.field.presence import work_window
from tickets.models import MAX_ASSISTED_BY, Completion, TicketRead

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
GAP_S = 900.0


def test_a_completion_names_no_one_else_by_default() -> None:
    assert Completion(work_done="Replaced the seal").assisted_by == []


def test_an_engineer_named_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="named twice"):
        Completion(work_done="x", assisted_by=["eng-2", "eng-2"])


@pytest.mark.parametrize("engineer_id", ["", "eng 2", "x" * 65])
def test_a_name_that_is_no_engineer_id_is_refused(engineer_id: str) -> None:
    with pytest.raises(ValidationError):
        Completion(work_done="x", assisted_by=[engineer_id])


def test_at_most_so_many_engineers_are_named() -> None:
    names = [f"eng-{n}" for n in range(MAX_ASSISTED_BY + 1)]
    Completion(work_done="x", assisted_by=names[:-1])
    with pytest.raises(ValidationError):
        Completion(work_done="x", assisted_by=names)


def _ticket(**times: datetime | None) -> TicketRead:
    fields: dict[str, Any] = {
        "id": 1,
        "title": "Leak",
        "status": "completed",
        "assignee_id": "eng-1",
        "cause": None,
        "evidence": [],
        "event_count": 0,
        "flags": [],
        "unassignable_reasons": None,
        "sla": {"accept_by": None, "arrive_by": None, "resolve_by": None},
        "sla_state": "ok",
        "accepted_at": None,
        "arrived_at": None,
        "completed_at": None,
        "created_at": T0,
        "updated_at": T0,
    }
    return TicketRead.model_validate(fields | times)


def test_the_work_runs_from_arrival_to_completion_widened_by_the_gps_gap() -> None:
    ticket = _ticket(
        accepted_at=T0, arrived_at=T0 + timedelta(hours=1), completed_at=T0 + timedelta(hours=2)
    )
    gap = timedelta(seconds=GAP_S)
    assert work_window(ticket, GAP_S) == (
        T0 + timedelta(hours=1) - gap,
        T0 + timedelta(hours=2) + gap,
    )


def test_without_an_arrival_the_work_runs_from_acceptance_else_from_completion() -> None:
    done = T0 + timedelta(hours=2)
    assert work_window(_ticket(accepted_at=T0, completed_at=done), 0) == (T0, done)
    assert work_window(_ticket(completed_at=done), 0) == (done, done)


def test_a_ticket_not_completed_has_no_work_window() -> None:
    assert work_window(_ticket(accepted_at=T0, arrived_at=T0), GAP_S) is None
