"""Many tickets at once: a joint assignment that maximises the total score, and greedy.

Each engineer can take `max_concurrent - open_tickets` new tickets (less any pinned to them).
The joint assignment expands every engineer into that many identical slots and solves the
assignment problem on the (tickets, slots) matrix with scipy's linear_sum_assignment.

A pair that fails a hard filter costs the same as leaving the ticket unassigned (0) and is
discarded after solving, so the solver maximises the plain total score. (A prohibitive cost
would make it maximise the number of assigned tickets first, and then a batch could score
less in total than greedy.) Every feasible pair is worth slightly more than nothing, so a
ticket with a free feasible engineer is never left unassigned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
from scipy.optimize import linear_sum_assignment

from tickets.assignment.arrays import BoolArray, IntArray
from tickets.assignment.engine import DEFAULT_TRAVEL, Assigned, Unassignable, unassignable_reasons
from tickets.assignment.models import PRIORITY_RANK, TicketDemand
from tickets.assignment.ranking import Ranking
from tickets.assignment.rules import AssignmentRule, select_rule
from tickets.assignment.scoring import Scoring, score_tickets
from tickets.assignment.table import EngineerTable
from tickets.assignment.travel import TravelEstimator

FEASIBLE_BONUS: Final = 1e-7
CAPACITY_TAKEN_REASON: Final = "every eligible engineer's capacity went to other tickets"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Which engineer takes each ticket, and the tickets nobody could take."""

    assigned: tuple[Assigned, ...]
    unassignable: tuple[Unassignable, ...]

    @property
    def total_score(self) -> float:
        """Sum of the assigned pairs' total scores."""
        return float(sum(a.total for a in self.assigned))


@dataclass(frozen=True, eq=False)
class _Batch:
    scoring: Scoring
    free_rows: IntArray  # tickets the engine decides (not pinned)
    capacity: IntArray  # new tickets each engineer may still take
    pinned: Mapping[int, Assigned]  # by ticket row


def assign_batch(
    tickets: Sequence[TicketDemand],
    engineers: EngineerTable,
    rules: Sequence[AssignmentRule],
    now: datetime,
    *,
    exclude: Mapping[str, Collection[str]] | None = None,
    pinned: Mapping[str, str] | None = None,
    travel: TravelEstimator = DEFAULT_TRAVEL,
) -> BatchResult:
    """Assign the tickets jointly, maximising the total score within engineer capacities."""
    batch = _prepare(tickets, engineers, rules, now, exclude or {}, pinned or {}, travel)
    rows = batch.free_rows
    feasible = batch.scoring.eligible[rows] & (batch.capacity > 0)[None, :]
    ticket_of, engineer_of = _solve(batch, feasible)
    chosen = {int(rows[t]): int(e) for t, e in zip(ticket_of, engineer_of, strict=True)}
    return _result(batch, chosen)


def assign_greedy(
    tickets: Sequence[TicketDemand],
    engineers: EngineerTable,
    rules: Sequence[AssignmentRule],
    now: datetime,
    *,
    exclude: Mapping[str, Collection[str]] | None = None,
    pinned: Mapping[str, str] | None = None,
    travel: TravelEstimator = DEFAULT_TRAVEL,
) -> BatchResult:
    """Tickets in priority order (then input order) each take their best remaining candidate."""
    batch = _prepare(tickets, engineers, rules, now, exclude or {}, pinned or {}, travel)
    capacity = batch.capacity.copy()
    chosen: dict[int, int] = {}
    for row in sorted(batch.free_rows.tolist(), key=lambda r: PRIORITY_RANK[tickets[r].priority]):
        order = Ranking(batch.scoring, row).order
        free = order[capacity[order] > 0]
        if free.size:
            chosen[row] = int(free[0])
            capacity[free[0]] -= 1
    return _result(batch, chosen)


def _prepare(
    tickets: Sequence[TicketDemand],
    engineers: EngineerTable,
    rules: Sequence[AssignmentRule],
    now: datetime,
    exclude: Mapping[str, Collection[str]],
    pinned: Mapping[str, str],
    travel: TravelEstimator,
) -> _Batch:
    if len({t.id for t in tickets}) != len(tickets):
        raise ValueError("ticket ids in a batch must be unique")
    scoring = score_tickets(
        tickets=tickets,
        rules=[select_rule(rules, t) for t in tickets],
        table=engineers,
        now=now,
        travel=travel,
        exclude=[exclude.get(t.id, ()) for t in tickets],
    )
    capacity = np.maximum(engineers.max_concurrent - engineers.open_tickets, 0)
    kept: dict[int, Assigned] = {}
    for row, ticket in enumerate(tickets):
        if ticket.id in pinned:
            engineer_row = _pinned_row(engineers, pinned[ticket.id])
            capacity[engineer_row] = max(capacity[engineer_row] - 1, 0)
            total = float(scoring.total[row, engineer_row])
            kept[row] = Assigned(ticket.id, pinned[ticket.id], total, Ranking(scoring, row), True)
    free_rows = np.array([r for r in range(len(tickets)) if r not in kept], dtype=np.int64)
    return _Batch(scoring, free_rows, capacity, kept)


def _pinned_row(engineers: EngineerTable, engineer_id: str) -> int:
    if engineer_id not in engineers.row_of:
        raise ValueError(f"pinned engineer {engineer_id} is not in the table")
    return engineers.row_of[engineer_id]


def _solve(batch: _Batch, feasible: BoolArray) -> tuple[IntArray, IntArray]:
    """Positions in free_rows and engineer rows of the optimal feasible pairs."""
    ticket_rows = np.flatnonzero(feasible.any(axis=1))
    engineer_rows = np.flatnonzero(feasible.any(axis=0))
    if not ticket_rows.size:
        return ticket_rows, engineer_rows
    sub = feasible[np.ix_(ticket_rows, engineer_rows)]
    slots = np.minimum(batch.capacity[engineer_rows], sub.sum(axis=0))
    totals = batch.scoring.total[np.ix_(batch.free_rows[ticket_rows], engineer_rows)]
    cost = np.where(sub, -(totals + FEASIBLE_BONUS), 0.0)
    slot_engineer = np.repeat(np.arange(engineer_rows.size), slots)
    picked_ticket, picked_slot = linear_sum_assignment(cost[:, slot_engineer])
    picked_engineer = slot_engineer[picked_slot]
    kept = sub[picked_ticket, picked_engineer]
    return ticket_rows[picked_ticket[kept]], engineer_rows[picked_engineer[kept]]


def _result(batch: _Batch, chosen: Mapping[int, int]) -> BatchResult:
    scoring = batch.scoring
    tickets, ids = scoring.situation.tickets, scoring.situation.table.ids
    assigned, unassignable = [], []
    for row in range(len(tickets)):
        ranking = Ranking(scoring, row)
        if row in batch.pinned:
            assigned.append(batch.pinned[row])
        elif row in chosen:
            total = float(scoring.total[row, chosen[row]])
            assigned.append(Assigned(tickets[row].id, ids[chosen[row]], total, ranking))
        else:
            unassignable.append(Unassignable(tickets[row].id, _reasons(ranking), ranking))
    return BatchResult(tuple(assigned), tuple(unassignable))


def _reasons(ranking: Ranking) -> tuple[str, ...]:
    if ranking.scoring.eligible[ranking.row].any():
        return (CAPACITY_TAKEN_REASON,)
    return unassignable_reasons(ranking)
