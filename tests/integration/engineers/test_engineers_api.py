"""Engineers over the API with a real database: the roster, who may see it, and positions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from kernel.clock import utcnow
from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.engineers.factories import engineer_body
from tickets.users.models import Role

URL = "/api/v1/engineers"


def test_a_planner_keeps_the_roster_through_create_read_update_delete(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    created = client.post(URL, headers=planner, json=engineer_body("eng-1"))
    assert created.status_code == 201, created.text
    assert created.json()["skills"] == {"electrical": 2, "hvac": 3}
    assert [s["weekday"] for s in created.json()["shifts"]] == [0, 1, 2, 3, 4]
    assert created.json()["position"] is None
    changes = {"skills": {"boilers": 5}, "status": "off", "phone": "+7 900 000-00-00"}
    updated = client.patch(f"{URL}/eng-1", headers=planner, json=changes)
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["skills"], body["status"], body["phone"]) == (
        {"boilers": 5},
        "off",
        changes["phone"],
    )
    assert body["areas"] == ["north", "centre"]  # fields not sent stay as they were
    assert len(body["absences"]) == 1
    assert [e["id"] for e in client.get(URL, headers=planner).json()] == ["eng-1"]
    assert client.delete(f"{URL}/eng-1", headers=planner).status_code == 204
    assert client.get(f"{URL}/eng-1", headers=planner).status_code == 404


def test_a_second_engineer_with_the_same_id_is_a_conflict(
    client: TestClient, token_for: TokenFactory
) -> None:
    admin = bearer(token_for(Role.ADMIN))
    assert client.post(URL, headers=admin, json=engineer_body("eng-1")).status_code == 201
    again = client.post(URL, headers=admin, json=engineer_body("eng-1"))
    assert again.status_code == 409


def test_bad_fields_are_refused_naming_them(client: TestClient, token_for: TokenFactory) -> None:
    planner = bearer(token_for(Role.PLANNER))
    cases: dict[str, dict[str, Any]] = {
        "skills.hvac": {"skills": {"hvac": 6}},
        "timezone": {"timezone": "Mars/Olympus"},
        "home": {"home_lon": None},
        "max_concurrent": {"max_concurrent": 0},
    }
    for field, change in cases.items():
        response = client.post(URL, headers=planner, json=engineer_body(**change))
        assert response.status_code == 422, field
        assert field.split(".")[0] in response.text, response.text
    nulled = client.patch(f"{URL}/eng-1", headers=planner, json={"name": None})
    assert nulled.status_code == 422


def test_an_engineer_sees_only_themself_and_sets_only_available_or_off(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    for engineer_id in ("eng-1", "eng-2"):
        client.post(URL, headers=planner, json=engineer_body(engineer_id))
    ivan = bearer(token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1"))
    assert client.get(f"{URL}/eng-1", headers=ivan).status_code == 200
    assert client.get(f"{URL}/eng-2", headers=ivan).status_code == 403
    assert client.get(URL, headers=ivan).status_code == 403
    assert client.patch(f"{URL}/eng-1", headers=ivan, json={"name": "Ivan"}).status_code == 403
    off = client.put(f"{URL}/eng-1/status", headers=ivan, json={"status": "off"})
    assert (off.status_code, off.json()["status"]) == (200, "off")
    on_site = client.put(f"{URL}/eng-1/status", headers=ivan, json={"status": "on_site"})
    assert on_site.status_code == 403
    assert (
        client.put(f"{URL}/eng-2/status", headers=ivan, json={"status": "off"}).status_code == 403
    )
    by_planner = client.put(f"{URL}/eng-2/status", headers=planner, json={"status": "en_route"})
    assert by_planner.json()["status"] == "en_route"


def test_only_the_engineer_themself_reports_their_position(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    for engineer_id in ("eng-1", "eng-2"):
        client.post(URL, headers=planner, json=engineer_body(engineer_id))
    ivan = bearer(token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1"))
    now = utcnow()
    fix = {"lat": 55.76, "lon": 37.64, "at": now.isoformat()}
    stored = client.put(f"{URL}/eng-1/position", headers=ivan, json=fix)
    assert stored.status_code == 200, stored.text
    assert client.put(f"{URL}/eng-2/position", headers=ivan, json=fix).status_code == 403
    assert client.put(f"{URL}/eng-1/position", headers=planner, json=fix).status_code == 403
    older = {"lat": 10.0, "lon": 10.0, "at": (now - timedelta(minutes=5)).isoformat()}
    kept = client.put(f"{URL}/eng-1/position", headers=ivan, json=older)
    assert (kept.json()["lat"], kept.json()["lon"]) == (55.76, 37.64)  # older fixes arrive late
    future = {**fix, "at": (now + timedelta(hours=1)).isoformat()}
    assert client.put(f"{URL}/eng-1/position", headers=ivan, json=future).status_code == 422
    position = client.get(f"{URL}/eng-1", headers=ivan).json()["position"]
    assert (position["lat"], position["lon"]) == (55.76, 37.64)


def test_an_engineer_with_tickets_on_record_is_kept(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    client.post(URL, headers=planner, json=engineer_body("eng-1"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tickets.tickets (kind, priority, title, assignee_id, status) "
            "VALUES ('breakdown', 'normal', 'Leak', 'eng-1', 'closed')"
        )
    response = client.delete(f"{URL}/eng-1", headers=planner)
    assert response.status_code == 409
    assert "status off" in response.json()["message"]
