"""Filters and factors for many tickets against the whole engineer table at once."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np

from tickets.assignment.arrays import BoolArray, FloatArray
from tickets.assignment.factors import FACTORS
from tickets.assignment.filters import Verdict, apply_filters
from tickets.assignment.models import TicketDemand
from tickets.assignment.rules import FACTOR_NAMES, AssignmentRule
from tickets.assignment.situation import Situation, build_situation
from tickets.assignment.table import EngineerTable
from tickets.assignment.travel import TravelEstimator

# Totals are rounded so that float noise never decides a tie.
TOTAL_DECIMALS: Final = 6


@dataclass(frozen=True, eq=False)
class Scoring:
    """Per-filter verdicts, per-factor scores and weighted totals for tickets by engineers."""

    situation: Situation
    verdicts: tuple[Verdict, ...]
    factor_scores: Mapping[str, FloatArray]  # (T, E) or (1, E), in FACTOR_NAMES order
    eligible: BoolArray  # (T, E): passes every hard filter
    total: FloatArray  # (T, E): sum of weight * score / 100, rounded to TOTAL_DECIMALS

    def factor_row(self, name: str, row: int) -> FloatArray:
        """One factor's scores for the ticket in this row, one per engineer."""
        scores = self.factor_scores[name]
        return np.asarray(scores[row if scores.shape[0] > 1 else 0], dtype=np.float64)


def score_tickets(
    *,
    tickets: Sequence[TicketDemand],
    rules: Sequence[AssignmentRule],
    table: EngineerTable,
    now: datetime,
    travel: TravelEstimator,
    exclude: Sequence[Collection[str]],
) -> Scoring:
    """Score tickets[i] under rules[i] against every engineer in the table."""
    situation = build_situation(
        tickets=tickets, rules=rules, table=table, now=now, travel=travel, exclude=exclude
    )
    verdicts = apply_filters(situation)
    factor_scores = {name: FACTORS[name](situation) for name in FACTOR_NAMES}
    return Scoring(
        situation=situation,
        verdicts=verdicts,
        factor_scores=factor_scores,
        eligible=_eligible(verdicts, (len(tickets), len(table))),
        total=_total(factor_scores, situation.weights_pct, (len(tickets), len(table))),
    )


def _eligible(verdicts: Sequence[Verdict], shape: tuple[int, int]) -> BoolArray:
    eligible = np.ones(shape, dtype=np.bool_)
    for verdict in verdicts:
        eligible &= verdict.passed
    return eligible


def _total(
    factor_scores: Mapping[str, FloatArray], weights_pct: FloatArray, shape: tuple[int, int]
) -> FloatArray:
    total = np.zeros(shape)
    for column, name in enumerate(FACTOR_NAMES):
        weight = weights_pct[:, column : column + 1] / 100
        if weight.any():
            total += factor_scores[name] * weight
    return np.round(total, TOTAL_DECIMALS, out=total)
