"""Engineers over HTTP: thin handlers over tickets.engineers.service."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request, status

from kernel.clock import utcnow
from tickets.api.deps import ConnDep, CurrentUser, PlannerUser
from tickets.engineers import service as engineers
from tickets.engineers.models import (
    EngineerCreate,
    EngineerRead,
    EngineerUpdate,
    ImportResult,
    Position,
    StatusIn,
)

router = APIRouter(prefix="/engineers", tags=["engineers"])

CSV_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "The roster file itself as the body (`curl --data-binary @roster.csv`); "
        "columns as in tickets/engineers/roster_csv.py.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("")
async def list_engineers(conn: ConnDep, user: PlannerUser) -> list[EngineerRead]:
    """The whole roster."""
    return await engineers.list_all(conn=conn)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_engineer(
    conn: ConnDep, user: PlannerUser, engineer_in: EngineerCreate
) -> EngineerRead:
    """Add an engineer with skills, areas, shifts and absences."""
    return await engineers.create(conn=conn, engineer_in=engineer_in)


@router.post("/import", openapi_extra=CSV_BODY)
async def import_engineers(conn: ConnDep, user: PlannerUser, request: Request) -> ImportResult:
    """Create or update engineers from a roster CSV: all rows or none, errors by row number."""
    return await engineers.import_roster(conn=conn, data=await request.body(), by=user)


@router.get("/{engineer_id}")
async def get_engineer(conn: ConnDep, user: CurrentUser, engineer_id: str) -> EngineerRead:
    """One engineer: planners and admins any, an engineer their own record."""
    return await engineers.get_visible(conn=conn, engineer_id=engineer_id, user=user)


@router.patch("/{engineer_id}")
async def update_engineer(
    conn: ConnDep, user: PlannerUser, engineer_id: str, engineer_in: EngineerUpdate
) -> EngineerRead:
    """Change the fields sent; lists sent replace the stored ones."""
    return await engineers.update(
        conn=conn, engineer_id=engineer_id, engineer_in=engineer_in, by=user
    )


@router.delete("/{engineer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_engineer(conn: ConnDep, user: PlannerUser, engineer_id: str) -> None:
    """Remove an engineer who never had a ticket (others: set status off)."""
    await engineers.delete(conn=conn, engineer_id=engineer_id)


@router.put("/{engineer_id}/status")
async def set_engineer_status(
    conn: ConnDep, user: CurrentUser, engineer_id: str, status_in: StatusIn
) -> EngineerRead:
    """Planners set any status; an engineer sets their own to available or off."""
    return await engineers.set_status(
        conn=conn, engineer_id=engineer_id, status=status_in.status, user=user
    )


@router.put("/{engineer_id}/position")
async def report_position(
    conn: ConnDep, user: CurrentUser, engineer_id: str, fix: Position
) -> Position:
    """The engineer's own phone reports a fix; the newest stored fix is returned."""
    return await engineers.report_position(
        conn=conn, engineer_id=engineer_id, fix=fix, user=user, now=utcnow()
    )
