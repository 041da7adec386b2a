"""One ticket's candidates in order, the excluded engineers with reasons, and the explanation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import numpy as np

from tickets.assignment.arrays import IntArray
from tickets.assignment.models import TicketDemand
from tickets.assignment.rules import FACTOR_NAMES, AssignmentRule
from tickets.assignment.scoring import Scoring

TIE_BREAK: Final = ("total desc", "travel_min asc", "engineer_id asc")
# Stored explanations round scores; the order was decided on unrounded (1e-6) totals.
EXPLANATION_DECIMALS: Final = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    """An engineer who passed every hard filter, with their scores."""

    engineer_id: str
    rank: int  # 1 = best
    total: float
    travel_min: float
    factors: dict[str, float]


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An engineer who failed at least one hard filter, with every reason."""

    engineer_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Ranking:
    """Row `row` of a scoring: one ticket ranked against every engineer."""

    scoring: Scoring = field(repr=False)
    row: int

    @property
    def ticket(self) -> TicketDemand:
        """The ticket ranked."""
        return self.scoring.situation.tickets[self.row]

    @property
    def rule(self) -> AssignmentRule:
        """The rule the ticket was ranked under."""
        return self.scoring.situation.rules[self.row]

    @cached_property
    def order(self) -> IntArray:
        """Table rows of the eligible engineers, best first, ties broken by TIE_BREAK."""
        rows = np.flatnonzero(self.scoring.eligible[self.row])
        table = self.scoring.situation.table
        keys = (
            table.id_rank[rows],
            self.scoring.situation.travel_min[self.row, rows],
            -self.scoring.total[self.row, rows],
        )
        return rows[np.lexsort(keys)]

    @property
    def best(self) -> Candidate | None:
        """The winning candidate, or None when nobody passed the hard filters."""
        top = self.candidates(limit=1)
        return top[0] if top else None

    def candidates(self, *, limit: int | None = None) -> list[Candidate]:
        """Eligible engineers best first, at most `limit` of them."""
        rows = self.order[:limit]
        ids = self.scoring.situation.table.ids
        totals = self.scoring.total[self.row, rows].tolist()
        travel_min = self.scoring.situation.travel_min[self.row, rows].tolist()
        factors = {
            name: self.scoring.factor_row(name, self.row)[rows].tolist() for name in FACTOR_NAMES
        }
        return [
            Candidate(
                engineer_id=ids[table_row],
                rank=position + 1,
                total=totals[position],
                travel_min=travel_min[position],
                factors={name: factors[name][position] for name in FACTOR_NAMES},
            )
            for position, table_row in enumerate(rows.tolist())
        ]

    def excluded(self) -> list[Exclusion]:
        """Every engineer who failed a hard filter, by engineer id, with all their reasons."""
        reasons: defaultdict[int, list[str]] = defaultdict(list)
        for verdict in self.scoring.verdicts:
            failed = np.flatnonzero(~verdict.passed_row(self.row))
            for table_row in failed.tolist():
                reasons[table_row].append(verdict.reason(self.row))
        ids = self.scoring.situation.table.ids
        return [Exclusion(ids[r], tuple(reasons[r])) for r in sorted(reasons, key=ids.__getitem__)]

    def excluded_by_reason(self) -> dict[str, list[str]]:
        """Excluded engineer ids, in id order, under each reason they failed (filter order)."""
        table = self.scoring.situation.table
        by_reason = {}
        for verdict in self.scoring.verdicts:
            failed_rows = table.rows_by_id[~verdict.passed_row(self.row)[table.rows_by_id]]
            if failed_rows.size:
                by_reason[verdict.reason(self.row)] = table.id_array[failed_rows].tolist()
        return by_reason

    def exclusion_counts(self) -> dict[str, int]:
        """How many engineers each failed filter excluded (one engineer may count twice)."""
        counts = {}
        for verdict in self.scoring.verdicts:
            failed = int(np.count_nonzero(~verdict.passed_row(self.row)))
            if failed:
                counts[verdict.reason(self.row)] = failed
        return counts

    def explanation(self, *, top_n: int | None = None) -> dict[str, Any]:
        """A JSON-able account: weights, the top candidates' scores, who was excluded and why.

        Exclusions are grouped by reason, each listing every engineer it excluded, which keeps
        the stored record compact when most of a large roster is filtered out.
        """
        return {
            "ticket_id": self.ticket.id,
            "rule_id": self.rule.id,
            "ranked_at": self.scoring.situation.now.isoformat(),
            "weights_pct": dict(self.rule.weights_pct),
            "tie_break": list(TIE_BREAK),
            "eligible": int(self.order.size),
            "candidates": [_candidate_json(c) for c in self.candidates(limit=top_n)],
            "excluded_by_reason": self.excluded_by_reason(),
        }


def _candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "rank": candidate.rank,
        "engineer_id": candidate.engineer_id,
        "total": round(candidate.total, EXPLANATION_DECIMALS),
        "travel_min": round(candidate.travel_min, EXPLANATION_DECIMALS),
        "factors": {k: round(v, EXPLANATION_DECIMALS) for k, v in candidate.factors.items()},
    }
