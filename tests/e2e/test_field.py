"""Field control through real brokers: an engineer's vehicle drives to the site of their
ticket and the ticket goes on site at the GPS arrival time, the engineer with it, and the
engineer is available again once the vehicle leaves; a ticket completed where the GPS never
was (and where the engineer named with the assignee never was) is flagged, and the planners
hear of it over MQTT."""

from __future__ import annotations

import asyncio
import queue
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
import psycopg
from msgspec.structs import replace
from paho.mqtt.enums import CallbackAPIVersion

from devices.records import Position
from devices.registry import (
    DeviceIn,
    SiteIn,
    VehicleIn,
    upsert_devices,
    upsert_sites,
    upsert_vehicles,
)
from kernel.clock import from_epoch_us, now_us, utcnow
from kernel.urls import parse_mqtt_url
from stream.field.geofence_index import Geofence, GeofenceIndex
from stream.field.visits import VisitTracker
from tests.e2e.harness import Pipeline
from tests.unit.field.tracks import Track, at
from tickets import service as tickets
from tickets.domain.lifecycle import Action, Actor
from tickets.field.presence import check_presence
from tickets.models import ActionIn, Completion
from tickets.notify.outbox import PLANNER_TOPIC
from tickets.service import ActorRef

WAIT_S = 40.0


def _seed(database_url: str, tracker: str, phone: str) -> tuple[int, int]:
    """Sites A (the drive's end) and B, eng-1 in veh-1, eng-2 with a phone that stays silent;
    eng-1's tickets: one accepted at A, one on site at B."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        upsert_sites(
            conn,
            sites=[
                SiteIn("site-a", "Boiler house", *at(0, 0), radius_m=100),
                SiteIn("site-b", "Pump station", *at(3000, 0), radius_m=100),
            ],
        )
        upsert_vehicles(conn, vehicles=[VehicleIn("veh-1")])
        upsert_devices(
            conn,
            devices=[DeviceIn(tracker, "tracker", vehicle_id="veh-1"), DeviceIn(phone, "phone")],
        )
        conn.execute(
            "INSERT INTO tickets.engineers (id, name, vehicle_id, phone_device_id) "
            "VALUES ('eng-1', 'Ivan', 'veh-1', NULL), ('eng-2', 'Olga', NULL, %s)",
            (phone,),
        )
        hour_ago, half_hour_ago = utcnow() - timedelta(hours=1), utcnow() - timedelta(minutes=30)
        to_visit = _ticket(conn, "site-a", "accepted", hour_ago, None)
        visitless = _ticket(conn, "site-b", "on_site", hour_ago, half_hour_ago)
    return to_visit, visitless


def _ticket(
    conn: psycopg.Connection,
    site_id: str,
    status: str,
    accepted: datetime,
    arrived: datetime | None,
) -> int:
    row = conn.execute(
        "INSERT INTO tickets.tickets (kind, priority, title, site_id, status, assignee_id, "
        "accepted_at, arrived_at) VALUES ('breakdown', 'high', 'Leak', %s, %s, 'eng-1', %s, %s) "
        "RETURNING id",
        (site_id, status, accepted, arrived),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _track(tracker: str) -> tuple[list[Position], list[Position]]:
    """From three kilometres south to site A and six minutes there; then a kilometre back
    south, ending a minute ago. The two legs: to the site and there, and away."""
    track = Track.starting_at(-3000, 0).park(60).drive_to(0, 0, speed_kmh=40).park(360)
    there = len(track.fixes)
    track.drive_to(-1000, 0, speed_kmh=40).park(60)
    shift_us = now_us() - 60_000_000 - track.fixes[-1].ts_us
    # Whole milliseconds: what the native payload carries.
    fixes = [
        replace(p, device_id=tracker, ts_us=(p.ts_us + shift_us) // 1000 * 1000)
        for p in track.fixes
    ]
    return fixes[:there], fixes[there:]


def _arrival(fixes: list[Position]) -> datetime:
    """The GPS arrival the stream must find: what the visit tracker makes of the track."""
    tracker, index = VisitTracker(), GeofenceIndex([Geofence.circle("site-a", *at(0, 0), 100)])
    entered = [
        e for p in fixes for e in tracker.observe(p, index) if type(e).__name__ == "SiteEntered"
    ]
    return from_epoch_us(entered[0].arrived_us)


def _messages(fixes: list[Position]) -> list[tuple[str, bytes]]:
    return [
        (
            f"toir/v1/devices/{p.device_id}/position",
            orjson.dumps(
                {"ts": p.ts_us // 1000, "lat": p.lat, "lon": p.lon, "speed_kmh": p.speed_kmh}
            ),
        )
        for p in fixes
    ]


def _status(database_url: str, ticket_id: int) -> tuple[str, datetime | None]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT status, arrived_at FROM tickets.tickets WHERE id = %s", (ticket_id,)
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _engineer_status(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT status FROM tickets.engineers WHERE id = 'eng-1'").fetchone()
    assert row is not None
    return str(row[0])


def _status_log(database_url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT from_status, to_status, actor_id FROM tickets.engineer_status_log "
            "WHERE engineer_id = 'eng-1' ORDER BY id"
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in found]


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.25)


def _planners_inbox(mqtt_url: str) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    received: queue.Queue[bytes] = queue.Queue()
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"board-{uuid.uuid4().hex[:6]}")
    client.on_message = lambda c, u, msg: received.put(bytes(msg.payload))
    client.connect(address.host, address.port)
    client.subscribe(PLANNER_TOPIC, qos=1)
    client.loop_start()
    time.sleep(0.5)
    return client, received


async def _complete_as_the_view_does(database_url: str, ticket_id: int) -> str:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        completion = Completion(work_done="Replaced the seal", assisted_by=["eng-2"])
        action_in = ActionIn(completion=completion)
        await tickets.act(
            conn=conn,
            ticket_id=ticket_id,
            action=Action.COMPLETE,
            actor=ActorRef(Actor.ENGINEER, "eng-1"),
            action_in=action_in,
        )
        check = await check_presence(conn=conn, ticket_id=ticket_id)
        await conn.commit()
        return check.verdict


def test_gps_moves_ticket_and_engineer_on_site_and_back_and_flags_a_visitless_completion(
    pipeline: Pipeline,
) -> None:
    tracker = pipeline.device("trk")
    database_url = pipeline.urls.database_url
    to_visit, visitless = _seed(database_url, tracker, pipeline.device("phone"))
    there, away = _track(tracker)
    pipeline.start()
    board, inbox = _planners_inbox(pipeline.urls.mqtt_url)
    try:
        assert pipeline.publish_all(_messages(there)) == len(there)
        _wait_until(lambda: _engineer_status(database_url) == "on_site")
        assert _status(database_url, to_visit) == ("on_site", _arrival(there + away)), (
            pipeline.stream.log_tail()
        )
        assert _engineer_status(database_url) == "on_site"

        assert pipeline.publish_all(_messages(away)) == len(away)
        _wait_until(lambda: _engineer_status(database_url) == "available")
        assert _status_log(database_url) == [
            ("available", "on_site", "gps"),
            ("on_site", "available", "gps"),
        ], pipeline.stream.log_tail()

        assert asyncio.run(_complete_as_the_view_does(database_url, visitless)) == (
            "closed_without_visit"
        )
        messages = [orjson.loads(inbox.get(timeout=WAIT_S)) for _ in range(2)]
        assert sorted(
            (m["event"], m["ticket"]["id"], m["presence"]["engineer_id"]) for m in messages
        ) == [
            ("assisting_engineer_not_on_site", visitless, "eng-2"),
            ("closed_without_visit", visitless, "eng-1"),
        ]
    finally:
        board.loop_stop()
        board.disconnect()
