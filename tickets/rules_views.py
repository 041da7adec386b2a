"""Assignment rules over HTTP (planners and admins): thin handlers over rules_service."""

from __future__ import annotations

from fastapi import APIRouter, status

from tickets import rules_service as rules
from tickets.api.deps import ConnDep, PlannerUser
from tickets.rules_models import RuleCreate, RuleRead, RuleUpdate

router = APIRouter(prefix="/assignment-rules", tags=["assignment"])


@router.get("")
async def list_rules(conn: ConnDep, user: PlannerUser) -> list[RuleRead]:
    """Every stored rule (none stored: the engine uses its built-in defaults)."""
    return await rules.list_all(conn=conn)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_rule(conn: ConnDep, user: PlannerUser, rule_in: RuleCreate) -> RuleRead:
    """Store a rule for a scope; weights must name known factors and sum to 100."""
    return await rules.create(conn=conn, rule_in=rule_in)


@router.get("/{rule_id}")
async def get_rule(conn: ConnDep, user: PlannerUser, rule_id: str) -> RuleRead:
    """One rule."""
    return await rules.get(conn=conn, rule_id=rule_id)


@router.patch("/{rule_id}")
async def update_rule(
    conn: ConnDep, user: PlannerUser, rule_id: str, rule_in: RuleUpdate
) -> RuleRead:
    """Change the fields sent; the rule is validated as a whole."""
    return await rules.update(conn=conn, rule_id=rule_id, rule_in=rule_in)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(conn: ConnDep, user: PlannerUser, rule_id: str) -> None:
    """Delete a rule."""
    await rules.delete(conn=conn, rule_id=rule_id)
