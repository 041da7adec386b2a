"""SQL for the assignment rules planners keep, and loading them for the engine."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tickets.assignment import DEFAULT_RULES, AssignmentRule
from tickets.rules_models import RuleCreate, RuleRead

log = logging.getLogger(__name__)

# Columns a write sets (names from our own code, never from input).
COLUMNS: Final = (
    "kind",
    "priority",
    "customer",
    "site_id",
    "max_travel_min",
    "require_area",
    "require_shift",
    "position_stale_after_min",
    "weights_pct",
)
SELECT_RULES = (
    "SELECT id, created_at, updated_at, " + ", ".join(COLUMNS) + " FROM tickets.assignment_rules"
)


async def load_rules(conn: psycopg.AsyncConnection) -> list[AssignmentRule]:
    """The stored rules as the engine uses them, or DEFAULT_RULES when none is stored."""
    stored = [rule for rule in map(_engine_rule, await list_rules(conn)) if rule is not None]
    return stored or list(DEFAULT_RULES)


def engine_rule(rule: RuleRead | RuleCreate) -> AssignmentRule:
    """The engine's view of a stored rule; InvalidRuleError when it cannot be used."""
    return AssignmentRule(
        id=rule.id,
        kind=None if rule.kind is None else rule.kind.value,
        priority=None if rule.priority is None else rule.priority.value,
        customer_id=rule.customer,
        site_id=rule.site_id,
        max_travel_min=rule.max_travel_min,
        require_area=rule.require_area,
        require_shift=rule.require_shift,
        position_stale_after_min=rule.position_stale_after_min,
        weights_pct=rule.weights_pct,
    )


def _engine_rule(rule: RuleRead) -> AssignmentRule | None:
    try:
        return engine_rule(rule)
    except ValueError:
        # Written rules are validated; one edited by hand into nonsense must not stop every
        # assignment, so it is skipped loudly and the others still apply.
        log.exception("assignment rule %s is invalid and skipped", rule.id)
        return None


async def list_rules(conn: psycopg.AsyncConnection) -> list[RuleRead]:
    """Every stored rule, by id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"{SELECT_RULES} ORDER BY id")
        return [RuleRead.model_validate(row) for row in await cur.fetchall()]


async def get_rule(conn: psycopg.AsyncConnection, rule_id: str) -> RuleRead | None:
    """One stored rule, or None."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"{SELECT_RULES} WHERE id = %s", (rule_id,))
        row = await cur.fetchone()
    return None if row is None else RuleRead.model_validate(row)


async def find_by_scope(conn: psycopg.AsyncConnection, rule: RuleCreate) -> str | None:
    """The id of the stored rule with exactly this scope, if any."""
    cur = await conn.execute(
        "SELECT id FROM tickets.assignment_rules WHERE kind IS NOT DISTINCT FROM %s "
        "AND priority IS NOT DISTINCT FROM %s AND customer IS NOT DISTINCT FROM %s "
        "AND site_id IS NOT DISTINCT FROM %s",
        _values(rule, ("kind", "priority", "customer", "site_id")),
    )
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def insert_rule(conn: psycopg.AsyncConnection, rule: RuleCreate) -> None:
    """Store a new rule."""
    await conn.execute(
        f"INSERT INTO tickets.assignment_rules (id, {', '.join(COLUMNS)}) "
        f"VALUES (%s{', %s' * len(COLUMNS)})",
        [rule.id, *_values(rule, COLUMNS)],
    )


async def update_rule(conn: psycopg.AsyncConnection, rule: RuleCreate) -> None:
    """Overwrite a stored rule's scope, filters and weights."""
    await conn.execute(
        f"UPDATE tickets.assignment_rules SET {', '.join(f'{c} = %s' for c in COLUMNS)}, "
        "updated_at = now() WHERE id = %s",
        [*_values(rule, COLUMNS), rule.id],
    )


async def delete_rule(conn: psycopg.AsyncConnection, rule_id: str) -> bool:
    """Delete a rule; False if there was none."""
    cur = await conn.execute("DELETE FROM tickets.assignment_rules WHERE id = %s", (rule_id,))
    return cur.rowcount == 1


def _values(rule: RuleCreate, columns: tuple[str, ...]) -> list[Any]:
    dumped: Mapping[str, Any] = rule.model_dump(mode="json")
    return [Jsonb(dumped[c]) if c == "weights_pct" else dumped[c] for c in columns]
