"""Ticket statuses and the transitions between them: which action moves where, and who may.

new → assigned → accepted → en_route → on_site → completed → closed, with `declined`
(back to assignment), `on_hold` (and back), and `cancelled` from any open status.
"""

from __future__ import annotations

from enum import StrEnum

from kernel.errors import Conflict, Forbidden


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CLOSED = "closed"
    DECLINED = "declined"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class Action(StrEnum):
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    ACCEPT = "accept"
    DECLINE = "decline"
    DEPART = "depart"
    ARRIVE = "arrive"
    COMPLETE = "complete"
    CLOSE = "close"
    CANCEL = "cancel"
    HOLD = "hold"
    RESUME = "resume"


class Actor(StrEnum):
    USER = "user"  # a planner or an admin
    ENGINEER = "engineer"  # the assignee, acting on their own ticket
    SYSTEM = "system"  # a rule: auto-assignment, SLA reactions, GPS arrival


DONE = frozenset({Status.COMPLETED, Status.CLOSED, Status.CANCELLED})
OPEN = frozenset(Status) - DONE
WORKING = frozenset({Status.ASSIGNED, Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE})

# Resume is absent: it returns to the status the ticket was held from.
TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.ASSIGN: {
        Status.NEW: Status.ASSIGNED,
        Status.DECLINED: Status.ASSIGNED,
        Status.ASSIGNED: Status.ASSIGNED,  # reassignment
        Status.ACCEPTED: Status.ASSIGNED,  # reassignment when arrival is at risk
        Status.EN_ROUTE: Status.ASSIGNED,
    },
    Action.UNASSIGN: {s: Status.NEW for s in (Status.ASSIGNED, Status.DECLINED, Status.ACCEPTED)},
    Action.ACCEPT: {Status.ASSIGNED: Status.ACCEPTED},
    Action.DECLINE: {Status.ASSIGNED: Status.DECLINED, Status.ACCEPTED: Status.DECLINED},
    Action.DEPART: {Status.ACCEPTED: Status.EN_ROUTE},
    Action.ARRIVE: {Status.ACCEPTED: Status.ON_SITE, Status.EN_ROUTE: Status.ON_SITE},
    Action.COMPLETE: {Status.ON_SITE: Status.COMPLETED},
    Action.CLOSE: {Status.COMPLETED: Status.CLOSED},
    Action.CANCEL: {s: Status.CANCELLED for s in OPEN},
    Action.HOLD: {s: Status.ON_HOLD for s in WORKING},
}

ALLOWED_BY: dict[Actor, frozenset[Action]] = {
    Actor.USER: frozenset(Action),
    Actor.SYSTEM: frozenset(Action),
    Actor.ENGINEER: frozenset(
        {
            Action.ACCEPT,
            Action.DECLINE,
            Action.DEPART,
            Action.ARRIVE,
            Action.COMPLETE,
            Action.HOLD,
            Action.RESUME,
        }
    ),
}


def allowed_actions(status: Status, actor: Actor) -> list[Action]:
    """The actions this actor may take on a ticket in this status."""
    return [a for a in Action if a in ALLOWED_BY[actor] and _target(a, status, None) is not None]


def next_status(
    status: Status, action: Action, actor: Actor, *, held_from: Status | None = None
) -> Status:
    """The status an action leads to; Forbidden or Conflict (with the allowed actions)."""
    if action not in ALLOWED_BY[actor]:
        raise Forbidden(f"a {actor.value} may not {action.value} a ticket")
    target = _target(action, status, held_from)
    if target is None:
        allowed = [a.value for a in allowed_actions(status, actor)]
        raise Conflict(f"cannot {action.value} a ticket that is {status.value}", allowed=allowed)
    return target


def _target(action: Action, status: Status, held_from: Status | None) -> Status | None:
    if action is Action.RESUME:
        return (held_from or Status.NEW) if status is Status.ON_HOLD else None
    return TRANSITIONS[action].get(status)
