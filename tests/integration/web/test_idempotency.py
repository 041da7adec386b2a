"""`Idempotency-Key` on ticket actions: a repeated key gets the first response and acts once."""

from __future__ import annotations

import http.client
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.web.conftest import add_engineer, open_ticket
from tickets.idempotency import IdempotentRoute
from tickets.users.models import Role
from tickets.views import router as tickets_router


def _act(
    client: TestClient, token: str, ticket_id: int, action: str, key: str | None, **body: Any
) -> Any:
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/tickets/{ticket_id}/actions/{action}", headers=headers, json=body)


def _actions(database_url: str, ticket_id: int) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT action FROM tickets.history WHERE ticket_id = %s ORDER BY id", (ticket_id,)
        ).fetchall()
    return [action for (action,) in rows]


def _assigned(client: TestClient, token_for: TokenFactory, database_url: str) -> tuple[str, int]:
    """An engineer's token and a ticket assigned to that engineer."""
    add_engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    ticket = open_ticket(client, planner)
    assert _act(client, planner, ticket["id"], "assign", None, assignee_id="eng-1").is_success
    return token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1"), ticket["id"]


def test_the_ticket_routes_honour_idempotency_keys() -> None:
    assert tickets_router.route_class is IdempotentRoute, (
        "tickets/views.py: APIRouter(prefix='/tickets', ..., route_class=IdempotentRoute)"
    )


def test_the_same_key_twice_acts_once_and_answers_the_first_response(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    engineer, ticket_id = _assigned(client, token_for, database_url)
    key = str(uuid.uuid4())

    first = _act(client, engineer, ticket_id, "accept", key, at="2030-01-01T08:00:00Z")
    again = _act(client, engineer, ticket_id, "accept", key, at="2030-01-01T08:00:00Z")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["status"] == "accepted"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _actions(database_url, ticket_id) == ["open", "assign", "accept"]


def test_different_keys_are_different_actions(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    add_engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    ticket = open_ticket(client, planner)
    for key in ("assign-1", "assign-2"):
        response = _act(client, planner, ticket["id"], "assign", key, assignee_id="eng-1")
        assert response.status_code == 200, response.text
    assert _actions(database_url, ticket["id"]) == ["open", "assign", "assign"]


def test_a_key_reused_for_another_request_is_refused(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    engineer, ticket_id = _assigned(client, token_for, database_url)
    assert _act(client, engineer, ticket_id, "accept", "k1").status_code == 200
    reused = _act(client, engineer, ticket_id, "depart", "k1")
    assert reused.status_code == 422
    assert "header.Idempotency-Key" in reused.json()["fields"]
    assert _actions(database_url, ticket_id) == ["open", "assign", "accept"]


def test_a_refused_action_keeps_no_key_so_its_retry_is_judged_afresh(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    add_engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    ticket = open_ticket(client, planner)
    too_early = _act(client, planner, ticket["id"], "accept", "k1")
    assert too_early.status_code == 409
    _act(client, planner, ticket["id"], "assign", None, assignee_id="eng-1")
    assert _act(client, planner, ticket["id"], "accept", "k1").status_code == 200
    assert _actions(database_url, ticket["id"]) == ["open", "assign", "accept"]


def test_keys_belong_to_their_user(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    add_engineer(database_url, "eng-1")
    first, second = token_for(Role.PLANNER, user_id="anna"), token_for(Role.ADMIN, user_id="bo")
    ticket = open_ticket(client, first)
    for token in (first, second):
        response = _act(client, token, ticket["id"], "assign", "same", assignee_id="eng-1")
        assert response.status_code == 200
        assert "idempotent-replayed" not in response.headers
    assert _actions(database_url, ticket["id"]) == ["open", "assign", "assign"]


def test_concurrent_repeats_act_once_and_all_get_the_first_response(
    client: TestClient,
    token_for: TokenFactory,
    database_url: str,
    api_server: tuple[str, int],
) -> None:
    engineer, ticket_id = _assigned(client, token_for, database_url)
    headers = bearer(engineer) | {"Idempotency-Key": "k1", "Content-Type": "application/json"}

    def accept(_: int) -> tuple[int, Any]:
        connection = http.client.HTTPConnection(*api_server, timeout=10)
        connection.request(
            "POST", f"/api/v1/tickets/{ticket_id}/actions/accept", body="{}", headers=headers
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(accept, range(4)))

    assert {status for status, _ in answers} == {200}
    assert all(body == answers[0][1] for _, body in answers)
    assert _actions(database_url, ticket_id) == ["open", "assign", "accept"]
