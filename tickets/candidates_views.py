"""Assignment candidates over HTTP (planners and admins): who the engine would pick, and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kernel.clock import utcnow
from tickets import candidates
from tickets.api.deps import ConnDep, PlannerUser
from tickets.candidates import MAX_CANDIDATES, CandidatesPreview

router = APIRouter(prefix="/tickets", tags=["assignment"])


@router.get("/{ticket_id}/candidates")
async def ticket_candidates(
    conn: ConnDep,
    user: PlannerUser,
    ticket_id: int,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDIDATES)] = 10,
) -> CandidatesPreview:
    """The top candidates with every factor's score, and every excluded engineer by reason."""
    return await candidates.preview(conn=conn, ticket_id=ticket_id, now=utcnow(), limit=limit)
