"""The asset registry over HTTP: CRUD, roles, pagination, references, meters and state."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tickets.users.models import Role

API = "/api/v1"
SITE = {"id": "site-1", "name": "Boiler house", "lat": 55.75, "lon": 37.62, "customer": "ACME"}
SQUARE = [[55.0, 37.0], [55.0, 37.01], [55.01, 37.01], [55.01, 37.0]]


@pytest.fixture
def admin(token_for: TokenFactory) -> dict[str, str]:
    return bearer(token_for(Role.ADMIN))


def test_a_site_is_created_read_changed_and_deleted(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post(f"{API}/sites", headers=admin, json=SITE)
    assert created.status_code == 201
    assert (created.json()["radius_m"], created.json()["polygon"]) == (150.0, None)

    changed = client.patch(f"{API}/sites/site-1", headers=admin, json={"polygon": SQUARE})
    assert changed.status_code == 200
    assert changed.json()["radius_m"] is None
    assert changed.json()["lat"] == pytest.approx(55.005)
    assert client.get(f"{API}/sites/site-1", headers=admin).json()["polygon"] == SQUARE

    assert client.delete(f"{API}/sites/site-1", headers=admin).status_code == 204
    assert client.get(f"{API}/sites/site-1", headers=admin).status_code == 404


def test_equipment_vehicles_and_devices_refer_to_existing_assets(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post(f"{API}/sites", headers=admin, json=SITE)
    unit = {
        "id": "pump-1",
        "kind": "pump",
        "site_id": "site-1",
        "serial": "SN-7",
        "installed_on": "2024-03-01",
        "meter_kinds": ["hours_run"],
        "engineer_id": "eng-1",
    }
    assert client.post(f"{API}/equipment", headers=admin, json=unit).status_code == 201
    vehicle = {"id": "van-1", "plate": "A123BC", "engineer_id": "eng-1"}
    assert client.post(f"{API}/vehicles", headers=admin, json=vehicle).status_code == 201
    device = {"id": "ctl-1", "kind": "controller", "equipment_id": "pump-1"}
    created = client.post(f"{API}/devices", headers=admin, json=device)
    assert created.status_code == 201
    assert created.json()["last_seen_at"] is None and not created.json()["has_credentials"]

    missing = client.post(
        f"{API}/equipment", headers=admin, json={**unit, "id": "x", "site_id": "nope"}
    )
    assert (missing.status_code, missing.json()["fields"]) == (422, {"site_id": "no site 'nope'"})
    both = client.post(
        f"{API}/devices", headers=admin, json={**device, "id": "d2", "vehicle_id": "van-1"}
    )
    assert both.status_code == 422
    again = client.post(f"{API}/devices", headers=admin, json=device)
    assert again.status_code == 409
    referenced = client.delete(f"{API}/sites/site-1", headers=admin)
    assert referenced.status_code == 409


def test_devices_are_disabled_listed_by_page_and_kinds_set_their_interval(
    client: TestClient, admin: dict[str, str]
) -> None:
    for n in range(5):
        client.post(f"{API}/devices", headers=admin, json={"id": f"trk-{n}", "kind": "tracker"})
    changed = client.patch(
        f"{API}/devices/trk-3", headers=admin, json={"enabled": False, "expected_interval_s": 60}
    )
    assert (changed.json()["enabled"], changed.json()["expected_interval_s"]) == (False, 60.0)
    disabled = client.get(f"{API}/devices?enabled=false", headers=admin).json()
    assert [d["id"] for d in disabled["items"]] == ["trk-3"]

    first = client.get(f"{API}/devices?limit=2", headers=admin).json()
    assert ([d["id"] for d in first["items"]], first["next_offset"]) == (["trk-0", "trk-1"], 2)
    last = client.get(f"{API}/devices?limit=2&offset=4", headers=admin).json()
    assert ([d["id"] for d in last["items"]], last["next_offset"]) == (["trk-4"], None)
    assert client.get(f"{API}/devices?limit=501", headers=admin).status_code == 422

    body = {"expected_interval_s": 120}
    response = client.put(f"{API}/device-kinds/tracker", headers=admin, json=body)
    assert response.json() == {"kind": "tracker", "expected_interval_s": 120.0}
    state = client.get(f"{API}/devices/trk-0/state", headers=admin).json()
    assert (state["online"], state["expected_interval_s"], state["position"]) == (
        False,
        120.0,
        None,
    )
    assert client.get(f"{API}/devices/ghost/state", headers=admin).status_code == 404


def test_admins_and_device_admins_write_planners_read_engineers_neither(
    client: TestClient, token_for: TokenFactory
) -> None:
    expected = {
        Role.ADMIN: (200, 201),
        Role.DEVICE_ADMIN: (200, 201),
        Role.PLANNER: (200, 403),
        Role.ENGINEER: (403, 403),
    }
    for n, (role, (read, write)) in enumerate(expected.items()):
        headers = bearer(token_for(role))
        body = {**SITE, "id": f"site-{n}"}
        assert client.get(f"{API}/devices", headers=headers).status_code == read, role
        assert client.get(f"{API}/devices/unknown", headers=headers).status_code == read, role
        assert client.post(f"{API}/sites", headers=headers, json=body).status_code == write, role
        baseline = {"meter": "hours_run", "value": 1, "reason": "x"}
        response = client.post(f"{API}/equipment/e/meters/baseline", headers=headers, json=baseline)
        assert response.status_code == (404 if write == 201 else 403), role


def test_meters_and_baselines_with_history(client: TestClient, admin: dict[str, str]) -> None:
    client.post(f"{API}/vehicles", headers=admin, json={"id": "van-1"})
    for value, reason in ((120_000.0, "odometer corrected"), (0.0, "odometer replaced")):
        body = {"meter": "odometer_km", "value": value, "reason": reason}
        response = client.post(f"{API}/vehicles/van-1/meters/baseline", headers=admin, json=body)
        assert response.status_code == 200
    meters = client.get(f"{API}/vehicles/van-1/meters", headers=admin).json()
    assert [(m["meter"], m["value"], m["source"]) for m in meters["meters"]] == [
        ("odometer_km", 0.0, "baseline")
    ]
    assert [(h["value"], h["previous_value"]) for h in meters["history"]] == [
        (0.0, 120_000.0),
        (120_000.0, None),
    ]
    assert client.get(f"{API}/equipment/nope/meters", headers=admin).status_code == 404
