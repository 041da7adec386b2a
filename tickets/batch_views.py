"""Batch assignment over HTTP (planners and admins): assign every waiting ticket at once."""

from __future__ import annotations

from fastapi import APIRouter

from kernel.clock import utcnow
from tickets import batch_assign
from tickets.api.deps import ConnDep, PlannerUser
from tickets.batch_assign import BatchSummary

router = APIRouter(prefix="/tickets", tags=["assignment"])


@router.post("/assign-waiting")
async def assign_waiting(conn: ConnDep, user: PlannerUser) -> BatchSummary:
    """Assign the tickets waiting in status new jointly, maximising the total score."""
    return await batch_assign.assign_waiting(conn=conn, now=utcnow())
