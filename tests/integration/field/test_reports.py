"""The field reports over HTTP: a vehicle's day, the waybill CSV, where the engineers are."""

from __future__ import annotations

import asyncio
import csv
import io

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.field.factories import (
    ENGINEER,
    PHONE_ENGINEER,
    SITE_A,
    TRACKER,
    VEHICLE,
    Worker,
    add_ticket,
    seed,
    visit_track,
    when,
)
from tickets.users.models import Role

API = "/api/v1"
DAY = "2023-11-14"  # the tracks run from 22:13 UTC, 01:13 on the 15th in Moscow


def _drive(database_url: str) -> None:
    """The visit track through the stream's field handler, with the hours-run counter."""
    track = visit_track()

    async def scenario() -> None:
        worker = Worker(database_url)
        try:
            await worker.feed(track.fixes)
        finally:
            await worker.close()

    asyncio.run(scenario())
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.ensure_partitions(%s, %s)", (DAY, DAY))
        conn.execute(
            "INSERT INTO telemetry.positions (device_id, ts, lat, lon, hours_run) "
            "VALUES (%s, %s, 55.75, 37.62, 1200.0), (%s, %s, 55.75, 37.62, 1200.6)",
            (TRACKER, when(0), TRACKER, when(2000)),
        )


def test_a_vehicles_day_splits_work_and_non_work_driving(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    seed(database_url)
    ticket = add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    _drive(database_url)
    planner = bearer(token_for(Role.PLANNER))

    day = client.get(f"{API}/vehicles/{VEHICLE}/days/{DAY}", headers=planner).json()

    totals = day["totals"]
    assert (totals["trip_count"], totals["visit_count"], totals["sites"]) == (2, 1, [SITE_A])
    assert 2.8 <= totals["work_km"] <= 3.1 and 2.8 <= totals["non_work_km"] <= 3.1
    assert totals["total_km"] == round(totals["work_km"] + totals["non_work_km"], 3)
    assert 250 <= totals["work_driving_s"] <= 300
    assert totals["engine_hours"] == 0.6
    assert [(t["work"], t["ticket_id"], t["end_site_id"]) for t in day["trips"]] == [
        (True, ticket, SITE_A),
        (False, None, None),
    ]
    assert [(v["site_id"], v["engineer_id"]) for v in day["visits"]] == [(SITE_A, ENGINEER)]
    moscow = f"{API}/vehicles/{VEHICLE}/days/2023-11-15?tz=Europe/Moscow"
    assert client.get(moscow, headers=planner).json()["totals"] == totals | {"date": "2023-11-15"}


def test_the_waybill_has_a_row_per_day_and_a_limited_range(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    seed(database_url)
    _drive(database_url)
    planner = bearer(token_for(Role.PLANNER))
    url = f"{API}/vehicles/{VEHICLE}/waybill.csv"

    response = client.get(url, params={"from": "2023-11-13", "to": "2023-11-15"}, headers=planner)
    too_long = client.get(url, params={"from": "2023-01-01", "to": "2023-03-01"}, headers=planner)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["date"] for r in table] == ["2023-11-13", "2023-11-14", "2023-11-15"]
    assert [r["trip_count"] for r in table] == ["0", "2", "0"]
    assert (table[1]["visit_count"], table[1]["sites"], table[1]["engine_hours"]) == (
        "1",
        SITE_A,
        "0.6",
    )
    assert too_long.status_code == 400
    assert "at most 31 days" in too_long.json()["message"]


def test_reports_are_for_planners_and_known_vehicles(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    seed(database_url)
    planner = bearer(token_for(Role.PLANNER))
    engineer = bearer(token_for(Role.ENGINEER, user_id="ivan", engineer_id=ENGINEER))

    assert client.get(f"{API}/vehicles/nope/days/{DAY}", headers=planner).status_code == 404
    assert client.get(f"{API}/vehicles/{VEHICLE}/days/{DAY}", headers=engineer).status_code == 403
    assert client.get(f"{API}/engineers/positions", headers=engineer).status_code == 403


def test_engineers_positions_show_age_status_and_current_ticket(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    seed(database_url)
    add_ticket(database_url, SITE_A, "assigned")
    on_site = add_ticket(database_url, SITE_A, "on_site", arrived_at=when(700))
    _drive(database_url)

    found = client.get(f"{API}/engineers/positions", headers=bearer(token_for(Role.PLANNER)))

    ivan, olga = found.json()
    assert (ivan["engineer_id"], ivan["current_ticket"]["id"]) == (ENGINEER, on_site)
    assert ivan["lat"] is not None and ivan["age_s"] > 0
    assert (olga["engineer_id"], olga["at"], olga["current_ticket"]) == (PHONE_ENGINEER, None, None)
