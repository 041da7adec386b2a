"""Weighted factors: each scores every engineer for every ticket from 0 (worst) to 100 (best).

Scores are shaped (T, E), or (1, E) when they do not depend on the ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import numpy as np

from tickets.assignment.arrays import FloatArray
from tickets.assignment.situation import Situation

BEST: Final = 100.0
# Travel scores fall linearly to 0 at the rule's max travel, or here when it sets none.
TRAVEL_ZERO_SCORE_MIN: Final = 120.0
# Open work that leaves no room at all: a full day's hours.
WORKLOAD_FULL_H: Final = 8.0
OVERQUALIFIED_PENALTY_PER_LEVEL: Final = 25.0
VISITS_FOR_FULL_SCORE: Final = 5.0
FAIR_SHARE_PER_DAY: Final = 6.0
# An engineer who is available but already holds open tickets is only half idle.
BUSY_BUT_AVAILABLE_SCORE: Final = 50.0
# No first-time-fix history on this work type is scored as middling, neither good nor bad.
UNKNOWN_FIRST_TIME_FIX_SCORE: Final = 50.0


def travel(s: Situation) -> FloatArray:
    """Shorter travel scores higher."""
    zero_at_min = np.where(np.isfinite(s.max_travel_min), s.max_travel_min, TRAVEL_ZERO_SCORE_MIN)
    return BEST * np.clip(1 - s.travel_min / zero_at_min, 0.0, 1.0)


def workload(s: Situation) -> FloatArray:
    """Fewer open tickets (against their maximum) and fewer open hours score higher."""
    t = s.table
    ticket_load = np.minimum(t.open_tickets / np.maximum(t.max_concurrent, 1), 1.0)
    hours_load = np.minimum(t.open_hours / WORKLOAD_FULL_H, 1.0)
    return (BEST * (1 - (ticket_load + hours_load) / 2))[None, :]


def skill_match(s: Situation) -> FloatArray:
    """Exactly the required level scores 100; each level above it costs a quarter."""
    required = s.required_level > 0
    surplus = np.where(required, s.engineer_level - s.required_level, 0).clip(min=0)
    counted = np.maximum(required.sum(axis=1), 1)
    mean_surplus = np.asarray(surplus.sum(axis=1, dtype=np.float64) / counted)
    return np.clip(BEST - OVERQUALIFIED_PENALTY_PER_LEVEL * mean_surplus, 0.0, BEST)


def responsible(s: Situation) -> FloatArray:
    """Responsible for the ticket's equipment or site scores 100, anyone else 0."""
    t = s.table
    scores = np.zeros((len(s.tickets), len(t)))
    for row, ticket in enumerate(s.tickets):
        scores[row, t.rows_in(t.responsible_rows, ticket.equipment_id)] = BEST
        scores[row, t.rows_in(t.responsible_rows, ticket.site_id)] = BEST
    return scores


def site_history(s: Situation) -> FloatArray:
    """More earlier visits to the ticket's site score higher, up to a cap."""
    scores = np.zeros((len(s.tickets), len(s.table)))
    for row, ticket in enumerate(s.tickets):
        if ticket.site_id in s.table.visit_rows:
            rows, visits = s.table.visit_rows[ticket.site_id]
            scores[row, rows] = BEST * np.minimum(visits / VISITS_FOR_FULL_SCORE, 1.0)
    return scores


def customer_preferred(s: Situation) -> FloatArray:
    """The customer's preferred engineers score 100, anyone else 0."""
    t = s.table
    scores = np.zeros((len(s.tickets), len(t)))
    for row, ticket in enumerate(s.tickets):
        scores[row, t.rows_in(t.preferred_rows, ticket.customer_id)] = BEST
    return scores


def idle(s: Situation) -> FloatArray:
    """Available with nothing open scores 100; available with open work 50; busy 0."""
    t = s.table
    free = t.is_available & (t.open_tickets == 0)
    return np.where(free, BEST, np.where(t.is_available, BUSY_BUT_AVAILABLE_SCORE, 0.0))[None, :]


def shift_left(s: Situation) -> FloatArray:
    """Shift time left covering travel and the work (or window overlap covering the work)."""
    needed_min = s.duration_min + np.where(s.has_window, 0.0, s.travel_min)
    return BEST * np.clip(s.shift_room_min / needed_min, 0.0, 1.0)


def urgent_en_route(s: Situation) -> FloatArray:
    """Already on the way to an urgent ticket scores 0 (a penalty), anyone else 100."""
    return np.where(s.table.en_route_to_urgent, 0.0, BEST)[None, :]


def fairness(s: Situation) -> FloatArray:
    """Fewer assignments today score higher, reaching 0 at a fair day's share."""
    return (BEST * (1 - np.minimum(s.table.assigned_today / FAIR_SHARE_PER_DAY, 1.0)))[None, :]


def first_time_fix(s: Situation) -> FloatArray:
    """A higher first-time-fix rate on the ticket's work type scores higher."""
    rates = s.table.first_time_fix[s.work_type_index]
    return np.where(np.isnan(rates), UNKNOWN_FIRST_TIME_FIX_SCORE, BEST * rates)


FACTORS: Final[Mapping[str, Callable[[Situation], FloatArray]]] = {
    "travel": travel,
    "workload": workload,
    "skill_match": skill_match,
    "responsible": responsible,
    "site_history": site_history,
    "customer_preferred": customer_preferred,
    "idle": idle,
    "shift_left": shift_left,
    "urgent_en_route": urgent_en_route,
    "fairness": fairness,
    "first_time_fix": first_time_fix,
}
