import pytest

from kernel.errors import Conflict, Forbidden
from tickets.domain.lifecycle import (
    DONE,
    TRANSITIONS,
    Action,
    Actor,
    Status,
    allowed_actions,
    next_status,
)

HAPPY_PATH = [
    (Status.NEW, Action.ASSIGN, Status.ASSIGNED),
    (Status.ASSIGNED, Action.ACCEPT, Status.ACCEPTED),
    (Status.ACCEPTED, Action.DEPART, Status.EN_ROUTE),
    (Status.EN_ROUTE, Action.ARRIVE, Status.ON_SITE),
    (Status.ON_SITE, Action.COMPLETE, Status.COMPLETED),
    (Status.COMPLETED, Action.CLOSE, Status.CLOSED),
]

# Sorted: the table is built from sets, and parallel test workers must collect one order.
ALL_ALLOWED = sorted(
    (
        (status, action, target)
        for action, moves in TRANSITIONS.items()
        for status, target in moves.items()
    ),
    key=lambda move: (move[0].value, move[1].value),
)


@pytest.mark.parametrize(("status", "action", "target"), HAPPY_PATH)
def test_the_happy_path_moves_step_by_step(status: Status, action: Action, target: Status) -> None:
    assert next_status(status, action, Actor.USER) is target


@pytest.mark.parametrize(("status", "action", "target"), ALL_ALLOWED)
def test_every_allowed_transition_leads_where_the_table_says(
    status: Status, action: Action, target: Status
) -> None:
    assert next_status(status, action, Actor.SYSTEM) is target


REFUSED = [
    (status, action)
    for action in Action
    if action is not Action.RESUME
    for status in Status
    if status not in TRANSITIONS[action]
]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_every_other_transition_is_refused_with_the_allowed_ones(
    status: Status, action: Action
) -> None:
    with pytest.raises(Conflict) as refused:
        next_status(status, action, Actor.USER)
    assert refused.value.allowed == [a.value for a in allowed_actions(status, Actor.USER)]
    assert action.value not in refused.value.allowed


def test_a_declined_ticket_goes_back_to_assignment() -> None:
    declined = next_status(Status.ASSIGNED, Action.DECLINE, Actor.ENGINEER)
    assert declined is Status.DECLINED
    assert next_status(declined, Action.ASSIGN, Actor.SYSTEM) is Status.ASSIGNED


def test_resume_returns_to_the_status_held_from() -> None:
    held = next_status(Status.EN_ROUTE, Action.HOLD, Actor.ENGINEER)
    resumed = next_status(held, Action.RESUME, Actor.ENGINEER, held_from=Status.EN_ROUTE)
    assert (held, resumed) == (Status.ON_HOLD, Status.EN_ROUTE)


def test_resume_is_refused_unless_on_hold() -> None:
    with pytest.raises(Conflict):
        next_status(Status.ASSIGNED, Action.RESUME, Actor.USER)


@pytest.mark.parametrize("action", [Action.CLOSE, Action.CANCEL, Action.ASSIGN, Action.UNASSIGN])
def test_an_engineer_may_not_take_planner_actions(action: Action) -> None:
    with pytest.raises(Forbidden):
        next_status(Status.COMPLETED, action, Actor.ENGINEER)


@pytest.mark.parametrize("status", sorted(DONE))
def test_nothing_cancels_a_finished_ticket(status: Status) -> None:
    with pytest.raises(Conflict):
        next_status(status, Action.CANCEL, Actor.USER)


def test_allowed_actions_for_an_engineer_on_an_assigned_ticket() -> None:
    assert allowed_actions(Status.ASSIGNED, Actor.ENGINEER) == [
        Action.ACCEPT,
        Action.DECLINE,
        Action.HOLD,
    ]
