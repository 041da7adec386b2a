"""Assignment rules kept in the database: CRUD over the API and loading them for the engine."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tickets.assignment import DEFAULT_RULES, FACTOR_NAMES, AssignmentRule
from tickets.rules_repository import load_rules
from tickets.users.models import Role

URL = "/api/v1/assignment-rules"
NEAREST_FIRST = {"travel": 70.0, "workload": 30.0}


def _load(database_url: str) -> list[AssignmentRule]:
    async def go() -> list[AssignmentRule]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return await load_rules(conn)

    return asyncio.run(go())


def _rule(rule_id: str = "storm", **changes: Any) -> dict[str, Any]:
    body = {
        "id": rule_id,
        "priority": "critical",
        "max_travel_min": 45,
        "weights_pct": NEAREST_FIRST,
    }
    return body | changes


def test_the_engine_uses_the_defaults_until_a_rule_is_stored(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    assert _load(database_url) == list(DEFAULT_RULES)
    planner = bearer(token_for(Role.PLANNER))
    assert client.post(URL, headers=planner, json=_rule()).status_code == 201
    (rule,) = _load(database_url)
    assert (rule.id, rule.priority, rule.max_travel_min) == ("storm", "critical", 45.0)
    assert set(rule.weights_pct) == set(FACTOR_NAMES)
    assert (rule.weights_pct["travel"], rule.weights_pct["idle"]) == (70.0, 0.0)


def test_a_planner_creates_changes_and_deletes_a_rule(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    created = client.post(URL, headers=planner, json=_rule(customer="acme"))
    assert created.status_code == 201, created.text
    assert created.json()["weights_pct"]["travel"] == 70.0
    changed = client.patch(f"{URL}/storm", headers=planner, json={"max_travel_min": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["max_travel_min"], changed.json()["customer"]) == (None, "acme")
    assert [r["id"] for r in client.get(URL, headers=planner).json()] == ["storm"]
    assert client.delete(f"{URL}/storm", headers=planner).status_code == 204
    assert client.get(f"{URL}/storm", headers=planner).status_code == 404


def test_weights_must_name_known_factors_and_sum_to_100(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    for weights in ({"travel": 60.0}, {"travel": 90.0, "luck": 10.0}, {"travel": -10.0}):
        response = client.post(URL, headers=planner, json=_rule(weights_pct=weights))
        assert response.status_code == 422, weights
        assert "weights_pct" in response.json()["fields"]
    client.post(URL, headers=planner, json=_rule())
    halved = client.patch(f"{URL}/storm", headers=planner, json={"weights_pct": {"travel": 50}})
    assert halved.status_code == 422


def test_two_rules_with_the_same_scope_conflict(
    client: TestClient, token_for: TokenFactory
) -> None:
    admin = bearer(token_for(Role.ADMIN))
    assert client.post(URL, headers=admin, json=_rule("a")).status_code == 201
    assert client.post(URL, headers=admin, json=_rule("a", priority="high")).status_code == 409
    same_scope = client.post(URL, headers=admin, json=_rule("b"))
    assert same_scope.status_code == 409
    assert "'a'" in same_scope.json()["message"]
