"""The telemetry read API: who may read, ranges and their limits, pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devices.records import Position, Reading
from kernel.clock import now_us, to_epoch_us
from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.telemetry.conftest import Store
from tickets.users.models import Role

DAY = datetime(2025, 11, 25, tzinfo=UTC)
DAY_US = to_epoch_us(DAY)
MINUTE_US = 60_000_000
ENDPOINTS = [
    "/api/v1/vehicles/positions",
    "/api/v1/vehicles/daily",
    "/api/v1/vehicles/veh-1/track",
    "/api/v1/equipment/eq-1/readings",
]

pytestmark = pytest.mark.usefixtures("fleet")


@pytest.fixture
def planner(token_for: TokenFactory) -> dict[str, str]:
    return bearer(token_for(Role.PLANNER))


def _fix(
    device: str, ts_us: int, *, lat: float = 55.75, lon: float = 37.6, **fields: Any
) -> Position:
    return Position(device, ts_us, lat, lon, **fields)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_needs_a_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("path", ENDPOINTS)
def test_engineers_may_not_read_fleet_telemetry(
    client: TestClient, token_for: TokenFactory, path: str
) -> None:
    response = client.get(path, headers=bearer(token_for(Role.ENGINEER, engineer_id="e1")))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
def test_planners_and_admins_may(client: TestClient, token_for: TokenFactory, path: str) -> None:
    for role in (Role.PLANNER, Role.ADMIN):
        assert client.get(path, headers=bearer(token_for(role))).status_code == 200


def test_latest_positions_give_each_vehicle_its_newest_fix_and_status(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    now = now_us()
    store(
        [],
        [
            _fix("trk-1", now - 120 * MINUTE_US, speed_kmh=50.0),
            _fix("trk-1", now - MINUTE_US, speed_kmh=42.0, ignition=True),
            _fix("trk-2", now - MINUTE_US, speed_kmh=0.0, lat=60.0, lon=30.0),
            _fix("trk-3", now - 60 * MINUTE_US, speed_kmh=80.0),
            _fix("trk-4", now - 30 * MINUTE_US, speed_kmh=10.0),
            _fix("phone-4", now - 2 * MINUTE_US, speed_kmh=3.0),
        ],
    )
    body = client.get("/api/v1/vehicles/positions", headers=planner).json()
    got = {p["vehicle_id"]: (p["device_id"], p["status"]) for p in body["items"]}
    assert got == {
        "veh-1": ("trk-1", "moving"),
        "veh-2": ("trk-2", "stopped"),
        "veh-3": ("trk-3", "offline"),
        "veh-4": ("phone-4", "stopped"),
    }
    assert body["items"][0]["plate"] == "A100AA"
    assert body["next_cursor"] is None


def test_latest_positions_filter_by_status_and_area(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    now = now_us()
    store(
        [],
        [
            _fix("trk-1", now - MINUTE_US, speed_kmh=42.0),
            _fix("trk-2", now - MINUTE_US, speed_kmh=0.0, lat=60.0, lon=30.0),
            _fix("trk-3", now - 60 * MINUTE_US, speed_kmh=0.0),
        ],
    )
    moving = client.get("/api/v1/vehicles/positions?status=moving", headers=planner).json()
    assert [p["vehicle_id"] for p in moving["items"]] == ["veh-1"]
    both = "/api/v1/vehicles/positions?status=moving&status=offline"
    assert [p["vehicle_id"] for p in client.get(both, headers=planner).json()["items"]] == [
        "veh-1",
        "veh-3",
    ]
    north = client.get("/api/v1/vehicles/positions?bbox=29,59,31,61", headers=planner).json()
    assert [p["vehicle_id"] for p in north["items"]] == ["veh-2"]
    bad = client.get("/api/v1/vehicles/positions?bbox=1,2,3", headers=planner)
    assert bad.status_code == 422


def test_latest_positions_page_by_vehicle(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    now = now_us()
    store([], [_fix(f"trk-{n}", now - MINUTE_US) for n in range(1, 5)])
    seen: list[str] = []
    url = "/api/v1/vehicles/positions?limit=3"
    page = client.get(url, headers=planner).json()
    seen += [p["vehicle_id"] for p in page["items"]]
    page = client.get(f"{url}&cursor={page['next_cursor']}", headers=planner).json()
    seen += [p["vehicle_id"] for p in page["items"]]
    assert seen == ["veh-1", "veh-2", "veh-3", "veh-4"]
    assert page["next_cursor"] is None


def test_a_track_range_over_the_limit_is_a_400_naming_the_limit(
    client: TestClient, planner: dict[str, str]
) -> None:
    url = "/api/v1/vehicles/veh-1/track?from=2025-11-01T00:00:00Z&to=2025-11-09T00:00:00Z"
    response = client.get(url, headers=planner)
    assert response.status_code == 400
    assert response.json()["message"] == "the range is 8 days; a track may span at most 7 days"


def test_an_unknown_vehicle_is_a_404(client: TestClient, planner: dict[str, str]) -> None:
    assert client.get("/api/v1/vehicles/nope/track", headers=planner).status_code == 404


def test_a_track_is_paged_in_time_order(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    store([], [_fix("trk-1", DAY_US + i * 10_000_000, lon=37.6 + i * 1e-3) for i in range(25)])
    url = "/api/v1/vehicles/veh-1/track?from=2025-11-25T00:00:00Z&to=2025-11-26T00:00:00Z&limit=10"
    times: list[str] = []
    cursor = ""
    for _ in range(3):
        page = client.get(url + cursor, headers=planner).json()
        times += [p["ts"] for p in page["items"]]
        cursor = f"&cursor={page['next_cursor']}"
    assert len(times) == 25
    assert times == sorted(times)
    assert page["next_cursor"] is None


def test_a_simplified_track_keeps_only_the_corners(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    # East along a parallel for 20 fixes, then north for 20: an L.
    east = [_fix("trk-1", DAY_US + i * 10_000_000, lon=37.6 + i * 1e-3) for i in range(20)]
    north = [
        _fix("trk-1", DAY_US + (20 + i) * 10_000_000, lat=55.75 + (i + 1) * 1e-3, lon=37.619)
        for i in range(20)
    ]
    store([], east + north)
    url = "/api/v1/vehicles/veh-1/track?from=2025-11-25T00:00:00Z&to=2025-11-26T00:00:00Z"
    body = client.get(url + "&tolerance_m=5", headers=planner).json()
    assert body["raw_points"] == 40
    assert [(p["lat"], p["lon"]) for p in body["items"]] == [
        (55.75, 37.6),
        (55.75, 37.619),
        (55.77, 37.619),
    ]


def _readings() -> list[Reading]:
    return [
        Reading("ctl-1", DAY_US + i * 20 * MINUTE_US, 100.0 + i / 3, i % 2 == 0, {"t": float(i)})
        for i in range(9)  # 00:00 to 02:40, three per hour
    ]


def test_raw_readings_of_one_metric(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    store(_readings(), [])
    url = "/api/v1/equipment/eq-1/readings?from=2025-11-25T00:00:00Z&to=2025-11-25T01:00:00Z"
    body = client.get(url + "&metric=t", headers=planner).json()
    assert [r["metrics"] for r in body["raw"]] == [{"t": 0.0}, {"t": 1.0}, {"t": 2.0}]
    assert body["buckets"] is None


def test_hourly_statistics_come_from_the_rollup(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    store(_readings(), [])
    url = "/api/v1/equipment/eq-1/readings?from=2025-11-25T00:30:00Z&to=2025-11-25T03:00:00Z"
    body = client.get(url + "&bucket=1h", headers=planner).json()
    first = body["buckets"][0]
    assert first["bucket"] == "2025-11-25T00:00:00Z"  # the hour `from` falls in is whole
    assert first["metrics"] == {"t": {"count": 3, "min": 0.0, "avg": 1.0, "max": 2.0}}
    assert (first["reading_count"], first["running_count"]) == (3, 2)
    assert first["hours_run_delta"] == pytest.approx(2 / 3)
    assert len(body["buckets"]) == 3


def test_daily_statistics_add_up_the_hours(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    store(_readings(), [])
    url = "/api/v1/equipment/eq-1/readings?from=2025-11-20T00:00:00Z&to=2025-11-27T00:00:00Z"
    body = client.get(url + "&bucket=1d", headers=planner).json()
    [day] = body["buckets"]
    assert day["metrics"]["t"] == {"count": 9, "min": 0.0, "avg": 4.0, "max": 8.0}
    assert day["hours_run_delta"] == pytest.approx(2 / 3 * 3)  # the sum of the hours' deltas


def test_bucketed_readings_are_paged_by_bucket(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    store(_readings(), [])
    url = (
        "/api/v1/equipment/eq-1/readings?from=2025-11-25T00:00:00Z&to=2025-11-26T00:00:00Z"
        "&bucket=1h&limit=2"
    )
    first = client.get(url, headers=planner).json()
    second = client.get(f"{url}&cursor={first['next_cursor']}", headers=planner).json()
    buckets = [b["bucket"] for b in first["buckets"] + second["buckets"]]
    assert buckets == ["2025-11-25T00:00:00Z", "2025-11-25T01:00:00Z", "2025-11-25T02:00:00Z"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("bucket", "days", "limit"), [("raw", 8, "7 days"), ("1h", 93, "92 days"), ("1d", 1101, "1100")]
)
def test_each_bucket_has_its_own_range_limit(
    client: TestClient, planner: dict[str, str], bucket: str, days: int, limit: str
) -> None:
    to = DAY + timedelta(days=days)
    url = (
        f"/api/v1/equipment/eq-1/readings?bucket={bucket}&from=2025-11-25T00:00:00Z"
        f"&to={to:%Y-%m-%dT%H:%M:%SZ}"
    )
    response = client.get(url, headers=planner)
    assert response.status_code == 400
    assert limit in response.json()["message"]


def test_an_unknown_unit_is_a_404(client: TestClient, planner: dict[str, str]) -> None:
    assert client.get("/api/v1/equipment/nope/readings", headers=planner).status_code == 404


def test_fleet_days_sum_distance_and_driving_time(
    client: TestClient, planner: dict[str, str], store: Store
) -> None:
    fixes = [
        _fix("trk-1", DAY_US, speed_kmh=30.0, odometer_km=100.0),
        _fix("trk-1", DAY_US + 5 * MINUTE_US, speed_kmh=30.0, odometer_km=103.0),
        _fix("trk-2", DAY_US + MINUTE_US, speed_kmh=0.0, odometer_km=50.0, ignition=True),
        _fix("trk-2", DAY_US + 86_400_000_000, speed_kmh=60.0, odometer_km=51.5),
    ]
    store([], fixes)
    url = "/api/v1/vehicles/daily?from=2025-11-25T00:00:00Z&to=2025-11-27T00:00:00Z&limit=1"
    first = client.get(url, headers=planner).json()
    [day] = first["items"]
    assert (day["vehicles"], day["distance_km"], day["driving_s"]) == (2, 3.0, 120)
    assert day["ignition_on_s"] == 60
    second = client.get(f"{url}&cursor={first['next_cursor']}", headers=planner).json()
    assert second["items"][0]["day"] == "2025-11-26T00:00:00Z"
