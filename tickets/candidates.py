"""Previewing who the engine would pick for a ticket, with the explanation it would store."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import psycopg
from pydantic import BaseModel, Field

from kernel.errors import Conflict
from tickets import service as tickets
from tickets.assign import UNLOCATED, compact, ticket_demand
from tickets.assignment import EngineerTable, rank, select_rule
from tickets.escalation import refused_by
from tickets.roster import load_profiles
from tickets.rules_repository import load_rules

MAX_CANDIDATES: Final = 100


class CandidateScore(BaseModel):
    rank: int
    engineer_id: str
    total: float
    travel_min: float
    factors: dict[str, float] = Field(description="Every factor's score, 0..100.")


class CandidatesPreview(BaseModel):
    """The explanation the engine stores with an assignment, for the top candidates."""

    ticket_id: str
    rule_id: str
    ranked_at: datetime
    weights_pct: dict[str, float]
    tie_break: list[str]
    eligible: int = Field(description="How many engineers passed every hard filter.")
    candidates: list[CandidateScore]
    excluded_by_reason: dict[str, list[str]] = Field(
        description="Engineer ids under each hard filter they failed (the first few)."
    )
    excluded_counts: dict[str, int]


async def preview(
    *, conn: psycopg.AsyncConnection, ticket_id: int, now: datetime, limit: int
) -> CandidatesPreview:
    """The top `limit` candidates for the ticket now, as the engine would rank them."""
    ticket = await tickets.get(conn=conn, ticket_id=ticket_id)
    demand = await ticket_demand(conn, ticket)
    if demand is None:
        raise Conflict(f"ticket {ticket_id}: {UNLOCATED}")
    profiles = await load_profiles(conn, now, site_ids=[demand.site_id])
    table = EngineerTable.from_profiles(profiles)
    rule = select_rule(await load_rules(conn), demand)
    # Those who declined or let it time out are out, as they are for a real reassignment.
    ranking = rank(demand, table, rule, now, exclude_ids=await refused_by(conn, ticket.id))
    explanation = compact(ranking.explanation(top_n=min(limit, MAX_CANDIDATES)))
    return CandidatesPreview.model_validate(explanation)
