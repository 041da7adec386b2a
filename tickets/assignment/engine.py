"""One ticket at a time: rank every engineer, pick the best, or say why nobody fits."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from tickets.assignment.models import TicketDemand
from tickets.assignment.ranking import Ranking
from tickets.assignment.rules import AssignmentRule
from tickets.assignment.scoring import score_tickets
from tickets.assignment.table import EngineerTable
from tickets.assignment.travel import GreatCircleTravel, TravelEstimator

DEFAULT_TRAVEL: Final = GreatCircleTravel()
NO_ENGINEERS_REASON: Final = "no engineers on the roster"


@dataclass(frozen=True, slots=True)
class Assigned:
    """The ticket goes to this engineer; the ranking explains why."""

    ticket_id: str
    engineer_id: str
    total: float
    ranking: Ranking = field(repr=False)
    pinned: bool = False  # a planner's choice, kept as given


@dataclass(frozen=True, slots=True)
class Unassignable:
    """Nobody can take the ticket; reasons summarise why, the ranking has the detail."""

    ticket_id: str
    reasons: tuple[str, ...]
    ranking: Ranking = field(repr=False)


def rank(
    ticket: TicketDemand,
    engineers: EngineerTable,
    rule: AssignmentRule,
    now: datetime,
    *,
    exclude_ids: Collection[str] = (),
    travel: TravelEstimator = DEFAULT_TRAVEL,
) -> Ranking:
    """Score every engineer for the ticket under the rule; exclude_ids are filtered out."""
    scoring = score_tickets(
        tickets=[ticket],
        rules=[rule],
        table=engineers,
        now=now,
        travel=travel,
        exclude=[exclude_ids],
    )
    return Ranking(scoring, 0)


def assign_one(
    ticket: TicketDemand,
    engineers: EngineerTable,
    rule: AssignmentRule,
    now: datetime,
    *,
    exclude_ids: Collection[str] = (),
    travel: TravelEstimator = DEFAULT_TRAVEL,
) -> Assigned | Unassignable:
    """The best candidate for the ticket, or Unassignable with the reasons."""
    ranking = rank(ticket, engineers, rule, now, exclude_ids=exclude_ids, travel=travel)
    best = ranking.best
    if best is None:
        return Unassignable(ticket.id, unassignable_reasons(ranking), ranking)
    return Assigned(ticket.id, best.engineer_id, best.total, ranking)


def unassignable_reasons(ranking: Ranking) -> tuple[str, ...]:
    """Why nobody passed the hard filters: each reason with how many engineers it excluded."""
    engineers = len(ranking.scoring.situation.table)
    if engineers == 0:
        return (NO_ENGINEERS_REASON,)
    counts = ranking.exclusion_counts()
    # Most common first; the filter order breaks ties (dicts keep insertion order).
    ordered = sorted(counts.items(), key=lambda item: -item[1])
    return tuple(f"{reason} ({count} of {engineers} engineers)" for reason, count in ordered)
