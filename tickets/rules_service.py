"""The assignment rule service: planners keep the rules the engine picks from by scope."""

from __future__ import annotations

import psycopg
from pydantic import ValidationError

from kernel.errors import Conflict, Invalid, NotFound
from tickets import rules_repository as repository
from tickets.assignment import InvalidRuleError
from tickets.rules_models import RuleCreate, RuleRead, RuleUpdate


async def create(*, conn: psycopg.AsyncConnection, rule_in: RuleCreate) -> RuleRead:
    """Store a rule; Conflict when its id or its exact scope is taken."""
    _check(rule_in)
    if await repository.get_rule(conn, rule_in.id) is not None:
        raise Conflict(f"assignment rule {rule_in.id!r} already exists")
    await _ensure_scope_free(conn, rule_in)
    await repository.insert_rule(conn, rule_in)
    return await get(conn=conn, rule_id=rule_in.id)


async def get(*, conn: psycopg.AsyncConnection, rule_id: str) -> RuleRead:
    """One rule; NotFound when there is none with that id."""
    rule = await repository.get_rule(conn, rule_id)
    if rule is None:
        raise NotFound(f"assignment rule {rule_id!r} not found")
    return rule


async def list_all(*, conn: psycopg.AsyncConnection) -> list[RuleRead]:
    """Every stored rule, by id."""
    return await repository.list_rules(conn)


async def update(*, conn: psycopg.AsyncConnection, rule_id: str, rule_in: RuleUpdate) -> RuleRead:
    """Change the fields sent; the result is validated as a whole."""
    current = await get(conn=conn, rule_id=rule_id)
    merged = {**current.model_dump(), **rule_in.model_dump(exclude_unset=True)}
    try:
        rule = RuleCreate.model_validate(merged)
    except ValidationError as exc:
        fields = {".".join(map(str, e["loc"])): e["msg"] for e in exc.errors()}
        raise Invalid(
            f"the rule would be invalid: {exc.errors()[0]['msg']}", fields=fields
        ) from exc
    _check(rule)
    await _ensure_scope_free(conn, rule)
    await repository.update_rule(conn, rule)
    return await get(conn=conn, rule_id=rule_id)


async def delete(*, conn: psycopg.AsyncConnection, rule_id: str) -> None:
    """Delete a rule; tickets in its scope fall back to the next most specific one."""
    if not await repository.delete_rule(conn, rule_id):
        raise NotFound(f"assignment rule {rule_id!r} not found")


def _check(rule: RuleCreate) -> None:
    try:
        repository.engine_rule(rule)
    except InvalidRuleError as exc:
        raise Invalid(str(exc), fields={"weights_pct": str(exc)}) from exc


async def _ensure_scope_free(conn: psycopg.AsyncConnection, rule: RuleCreate) -> None:
    holder = await repository.find_by_scope(conn, rule)
    if holder is not None and holder != rule.id:
        raise Conflict(f"assignment rule {holder!r} already has this scope")
