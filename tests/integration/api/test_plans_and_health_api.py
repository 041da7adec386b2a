"""Maintenance plans, the planners' calendar and equipment health over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tickets.users.models import Role

SEED = """
INSERT INTO assets.equipment (id, kind, model, installed_on, engineer_id, created_at) VALUES
    ('eq-1', 'pump', 'P1', current_date - 3 * 365, 'eng-own', '2020-01-01Z'),
    ('eq-2', 'pump', 'P1', NULL, NULL, '2020-01-01Z');
INSERT INTO assets.vehicles (id) VALUES ('v-1');
INSERT INTO telemetry.meters (subject_kind, subject_id, meter, value, source)
VALUES ('equipment', 'eq-1', 'hours_run', 1000, 'counter');
"""


def _seed(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SEED)


def _plan(**fields: object) -> dict[str, object]:
    return {
        "name": "Quarterly service",
        "target_kind": "equipment_model",
        "target_id": "P1",
        "every_months": 3,
        **fields,
    }


def test_a_planner_manages_plans_and_an_engineer_may_not(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _seed(database_url)
    planner = bearer(token_for(Role.PLANNER))
    engineer = bearer(token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-own"))

    created = client.post("/api/v1/plans", json=_plan(lead_days=7), headers=planner)
    plan_id = created.json()["id"]
    patched = client.patch(
        f"/api/v1/plans/{plan_id}",
        json={"every_hours_run": 250, "lead_hours_run": 10},
        headers=planner,
    )
    listed = client.get("/api/v1/plans", headers=planner)
    forbidden = client.get("/api/v1/plans", headers=engineer)
    deleted = client.delete(f"/api/v1/plans/{plan_id}", headers=planner)
    gone = client.get(f"/api/v1/plans/{plan_id}", headers=planner)

    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "planner-user"
    assert patched.json()["every_hours_run"] == 250 and patched.json()["every_months"] == 3
    assert [p["id"] for p in listed.json()] == [plan_id]
    assert forbidden.status_code == 403
    assert deleted.status_code == 204 and gone.status_code == 404


def test_a_plan_without_interval_or_with_km_for_equipment_is_refused(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _seed(database_url)
    planner = bearer(token_for(Role.PLANNER))
    plan = client.post("/api/v1/plans", json=_plan(), headers=planner).json()

    no_interval = client.post("/api/v1/plans", json=_plan(every_months=None), headers=planner)
    km = client.post("/api/v1/plans", json=_plan(every_odometer_km=10_000), headers=planner)
    unknown = client.post("/api/v1/plans", json=_plan(target_id="nope"), headers=planner)
    emptied = client.patch(
        f"/api/v1/plans/{plan['id']}", json={"every_months": None}, headers=planner
    )

    assert [r.status_code for r in (no_interval, km, unknown, emptied)] == [422] * 4
    assert "at least one interval" in emptied.json()["message"]


def test_the_calendar_lists_what_falls_due_with_its_forecast(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _seed(database_url)
    planner = bearer(token_for(Role.PLANNER))
    old_start = (datetime.now(UTC) - timedelta(days=85)).isoformat()
    client.post("/api/v1/plans", json=_plan(starts_at=old_start), headers=planner)
    vehicle = _plan(
        target_kind="vehicle", target_id="v-1", every_months=None, every_odometer_km=15_000
    )
    vehicle_plan = client.post("/api/v1/plans", json=vehicle, headers=planner).json()
    done = client.post(
        f"/api/v1/plans/{vehicle_plan['id']}/completions",
        json={"subject_id": "v-1", "done_at": old_start, "odometer_km": 42_000},
        headers=planner,
    )

    soon = client.get("/api/v1/maintenance/upcoming?days=10", headers=planner).json()
    later = client.get("/api/v1/maintenance/upcoming?days=1", headers=planner).json()

    assert done.status_code == 204
    assert [(e["subject_id"], e["basis"]) for e in soon] == [
        ("eq-1", "calendar"),
        ("eq-2", "calendar"),
    ]
    assert soon[0]["summary"].startswith("due on ")
    assert later == []


def test_health_is_for_planners_and_the_responsible_engineer(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    _seed(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO predictive.anomalies (equipment_id, kind, opened_at, severity, score, "
            "event_id) VALUES ('eq-1', 'spike', now() - interval '1 hour', 'high', 20, 'e1')"
        )
    planner = bearer(token_for(Role.PLANNER))
    own = bearer(token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-own"))
    other = bearer(token_for(Role.ENGINEER, user_id="olga", engineer_id="eng-other"))

    as_planner = client.get("/api/v1/equipment/eq-1/health", headers=planner)
    as_own = client.get("/api/v1/equipment/eq-1/health", headers=own)
    as_other = client.get("/api/v1/equipment/eq-1/health", headers=other)
    missing = client.get("/api/v1/equipment/nope/health", headers=planner)

    health = as_planner.json()
    assert as_planner.status_code == 200 and as_own.status_code == 200, as_planner.text
    assert (as_other.status_code, missing.status_code) == (403, 404)
    # An open high-severity anomaly costs 20 points, three years of a 15-year life 4.
    assert health["score"] == 76.0
    assert health["open_anomalies"] == 1 and health["anomalies"][0]["kind"] == "spike"
    assert health["failure_risk"] is None and health["failure_risk_model_version"] is None
