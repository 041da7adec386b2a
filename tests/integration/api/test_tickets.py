"""Tickets over the API with a real database: lifecycle, completion, visibility, filters."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tickets.models import TicketRead
from tickets.users.models import Role

CHECKLIST = [
    {"id": "oil", "kind": "measure", "label": "Oil pressure", "min": 2, "max": 6},
    {"id": "photo", "kind": "photo", "label": "Photo of the panel", "required": False},
]


def _engineer(database_url: str, engineer_id: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tickets.engineers (id, name) VALUES (%s, %s)", (engineer_id, engineer_id)
        )


def _open(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Generator does not start", "priority": "high", **fields}
    response = client.post("/api/v1/tickets", headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _act(client: TestClient, token: str, ticket_id: int, action: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/tickets/{ticket_id}/actions/{action}", headers=bearer(token), json=body
    )


def test_a_planner_opens_a_ticket_with_sla_deadlines(
    client: TestClient, token_for: TokenFactory
) -> None:
    ticket = _open(client, token_for(Role.PLANNER), kind="breakdown")
    assert (ticket["status"], ticket["kind"], ticket["priority"]) == ("new", "breakdown", "high")
    assert ticket["sla"]["accept_by"] < ticket["sla"]["arrive_by"] < ticket["sla"]["resolve_by"]
    assert ticket["sla_state"] == "ok"


def test_the_whole_lifecycle_through_the_api(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    engineer = token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1")
    ticket = _open(client, planner, checklist=CHECKLIST)
    assert _act(client, planner, ticket["id"], "assign", assignee_id="eng-1").status_code == 200
    for action in ("accept", "depart", "arrive"):
        assert _act(client, engineer, ticket["id"], action).status_code == 200
    completion = {
        "work_done": "Replaced the starter",
        "checklist_answers": {"oil": 4.2},
        "rating": 5,
    }
    done = _act(client, engineer, ticket["id"], "complete", completion=completion)
    assert done.status_code == 200, done.text
    closed = _act(client, planner, ticket["id"], "close").json()
    assert closed["status"] == "closed"
    history = client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=bearer(planner))
    steps = [(h["action"], h["to_status"], h["actor_kind"]) for h in history.json()]
    assert steps == [
        ("open", "new", "user"),
        ("assign", "assigned", "user"),
        ("accept", "accepted", "engineer"),
        ("depart", "en_route", "engineer"),
        ("arrive", "on_site", "engineer"),
        ("complete", "completed", "engineer"),
        ("close", "closed", "user"),
    ]


def test_an_invalid_transition_is_409_with_the_allowed_actions(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = token_for(Role.PLANNER)
    ticket = _open(client, planner)
    response = _act(client, planner, ticket["id"], "complete")
    assert response.status_code == 409
    assert response.json()["allowed"] == ["assign", "cancel"]


def test_a_required_checklist_step_unanswered_blocks_completion(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    engineer = token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1")
    ticket = _open(client, planner, checklist=CHECKLIST)
    _act(client, planner, ticket["id"], "assign", assignee_id="eng-1")
    for action in ("accept", "arrive"):
        _act(client, engineer, ticket["id"], action)
    response = _act(client, engineer, ticket["id"], "complete", completion={"work_done": "x"})
    assert response.status_code == 422
    assert "oil" in response.json()["message"]
    assert "photo" not in response.json()["message"]
    assert (
        client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(engineer)).json()["status"]
        == "on_site"
    )


def test_an_engineer_sees_and_acts_only_on_own_tickets(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _engineer(database_url, "eng-1")
    _engineer(database_url, "eng-2")
    planner = token_for(Role.PLANNER)
    mine = token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1")
    theirs = _open(client, planner)
    own = _open(client, planner)
    _act(client, planner, theirs["id"], "assign", assignee_id="eng-2")
    _act(client, planner, own["id"], "assign", assignee_id="eng-1")
    listed = client.get("/api/v1/tickets", headers=bearer(mine)).json()["items"]
    assert [t["id"] for t in listed] == [own["id"]]
    assert client.get(f"/api/v1/tickets/{theirs['id']}", headers=bearer(mine)).status_code == 403
    assert _act(client, mine, theirs["id"], "accept").status_code == 403


def test_an_engineer_may_not_close_or_cancel(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    engineer = token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1")
    ticket = _open(client, planner)
    _act(client, planner, ticket["id"], "assign", assignee_id="eng-1")
    assert _act(client, engineer, ticket["id"], "cancel").status_code == 403


def test_filters_and_cursor_pagination(client: TestClient, token_for: TokenFactory) -> None:
    planner = token_for(Role.PLANNER)
    ids = [_open(client, planner, priority=p)["id"] for p in ("low", "high", "high", "critical")]
    page = client.get("/api/v1/tickets?priority=high&limit=1", headers=bearer(planner)).json()
    assert [t["id"] for t in page["items"]] == [ids[2]]
    rest = client.get(
        f"/api/v1/tickets?priority=high&limit=1&cursor={page['next_cursor']}",
        headers=bearer(planner),
    ).json()
    assert [t["id"] for t in rest["items"]] == [ids[1]]
    statuses = client.get("/api/v1/tickets?status=new&status=assigned", headers=bearer(planner))
    assert len(statuses.json()["items"]) == 4


def test_a_bad_filter_value_is_a_422_naming_it(client: TestClient, token_for: TokenFactory) -> None:
    response = client.get("/api/v1/tickets?priority=urgent", headers=bearer(token_for(Role.ADMIN)))
    assert response.status_code == 422
    assert "query.priority" in response.json()["fields"]


def test_hold_and_resume_return_to_the_previous_status(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    ticket = _open(client, planner)
    _act(client, planner, ticket["id"], "assign", assignee_id="eng-1")
    _act(client, planner, ticket["id"], "accept")
    assert (
        _act(client, planner, ticket["id"], "hold", reason="waiting for parts").json()["status"]
        == "on_hold"
    )
    assert _act(client, planner, ticket["id"], "resume").json()["status"] == "accepted"


def test_the_list_page_is_shaped_exactly_like_a_single_ticket(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = token_for(Role.PLANNER)
    ticket = _open(client, planner, checklist=CHECKLIST, required_skills={"hvac": 2})
    single = client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(planner)).json()
    listed = client.get("/api/v1/tickets", headers=bearer(planner)).json()["items"][0]
    assert TicketRead.model_validate(listed) == TicketRead.model_validate(single)
    assert set(listed) == set(single)


def test_a_decline_through_the_api_reassigns_at_once(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO assets.sites (id, name, lat, lon) VALUES ('s1', 'S', 55.7, 37.6)")
        for engineer_id, lat in (("eng-a", 55.701), ("eng-b", 55.71)):
            conn.execute(
                "INSERT INTO tickets.engineers (id, name, home_lat, home_lon, position_lat, "
                "position_lon, position_at) VALUES (%s, %s, %s, 37.6, %s, 37.6, now())",
                (engineer_id, engineer_id, lat, lat),
            )
            for day in range(7):
                conn.execute(
                    "INSERT INTO tickets.shifts VALUES (%s, %s, '00:00', '23:59:59')",
                    (engineer_id, day),
                )
    planner = token_for(Role.PLANNER)
    nearest = token_for(Role.ENGINEER, user_id="a", engineer_id="eng-a")
    ticket = _open(client, planner, site_id="s1")
    assigned = client.post("/api/v1/tickets/assign-waiting", headers=bearer(planner))
    assert assigned.status_code == 200, assigned.text
    mine = client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(planner)).json()
    assert mine["assignee_id"] == "eng-a"
    assert _act(client, nearest, ticket["id"], "decline", reason="sick").status_code == 200
    after = client.get(f"/api/v1/tickets/{ticket['id']}", headers=bearer(planner)).json()
    assert (after["status"], after["assignee_id"]) == ("assigned", "eng-b")
