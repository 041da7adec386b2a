"""Previewing a ticket's candidates: every factor for every candidate, exclusions by reason."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tickets.assignment import FACTOR_NAMES
from tickets.users.models import Role

WEEK = [{"weekday": d, "starts": "00:00", "ends": "00:00"} for d in range(7)]  # around the clock


def _engineer(engineer_id: str, north_deg: float, **changes: Any) -> dict[str, Any]:
    """An hvac engineer in area north whose home is north_deg of latitude north of the site."""
    body = {
        "id": engineer_id,
        "name": engineer_id,
        "home_lat": 55.75 + north_deg,
        "home_lon": 37.62,
        "areas": ["north"],
        "skills": {"hvac": 3},
        "shifts": WEEK,
    }
    return body | changes


def _seed(client: TestClient, planner: dict[str, str], database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO assets.sites (id, name, lat, lon, area, customer) "
            "VALUES ('s1', 'Boiler house', 55.75, 37.62, 'north', 'acme')"
        )
    engineers = [
        _engineer("near", 0.005),
        _engineer("far", 0.05),
        _engineer("resting", 0.001, status="off"),
        _engineer("plumber", 0.001, skills={"plumbing": 5}),
        _engineer("southerner", 0.001, areas=["south"]),
        _engineer("distant", 0.5),
    ]
    for body in engineers:
        response = client.post("/api/v1/engineers", headers=planner, json=body)
        assert response.status_code == 201, response.text
    rule = {"id": "city", "max_travel_min": 30, "weights_pct": {"travel": 60, "workload": 40}}
    assert client.post("/api/v1/assignment-rules", headers=planner, json=rule).status_code == 201
    ticket = {"title": "No heating", "site_id": "s1", "required_skills": {"hvac": 2}}
    created = client.post("/api/v1/tickets", headers=planner, json=ticket)
    return int(created.json()["id"])


def test_candidates_show_every_factor_and_every_exclusion_by_reason(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    ticket_id = _seed(client, planner, database_url)
    response = client.get(f"/api/v1/tickets/{ticket_id}/candidates?limit=5", headers=planner)
    assert response.status_code == 200, response.text
    preview = response.json()
    assert (preview["rule_id"], preview["eligible"]) == ("city", 2)
    assert [c["engineer_id"] for c in preview["candidates"]] == ["near", "far"]
    for candidate in preview["candidates"]:
        assert set(candidate["factors"]) == set(FACTOR_NAMES)
        assert all(0 <= score <= 100 for score in candidate["factors"].values())
    assert preview["excluded_by_reason"] == {
        "status is off": ["resting"],
        "lacks required skills (hvac level 2+)": ["plumber"],
        "does not serve area north": ["southerner"],
        "travel over 30 min": ["distant"],
    }
    assert set(preview["excluded_counts"].values()) == {1}
    top = client.get(f"/api/v1/tickets/{ticket_id}/candidates?limit=1", headers=planner).json()
    assert ([c["engineer_id"] for c in top["candidates"]], top["eligible"]) == (["near"], 2)


def test_who_declined_the_ticket_is_not_a_candidate_again(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    ticket_id = _seed(client, planner, database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tickets.history (ticket_id, actor_kind, actor_id, action) "
            "VALUES (%s, 'engineer', 'near', 'decline')",
            (ticket_id,),
        )
    preview = client.get(f"/api/v1/tickets/{ticket_id}/candidates", headers=planner).json()
    assert [c["engineer_id"] for c in preview["candidates"]] == ["far"]
    assert preview["excluded_by_reason"]["declined or timed out earlier"] == ["near"]
    unlocated = client.post("/api/v1/tickets", headers=planner, json={"title": "Somewhere"})
    response = client.get(f"/api/v1/tickets/{unlocated.json()['id']}/candidates", headers=planner)
    assert response.status_code == 409
