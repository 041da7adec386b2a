"""A small field scene for the integration tests, and a stream worker's field handler to
drive with it: the sites, a vehicle with its engineer, a phone engineer, tickets, tracks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg

from devices.records import Position, encode
from devices.registry import (
    DeviceIn,
    SiteIn,
    VehicleIn,
    upsert_devices,
    upsert_sites,
    upsert_vehicles,
)
from kernel.clock import from_epoch_us
from kernel.db import create_pool
from kernel.dlq import DeadLetter
from kernel.events import DomainEvent, SiteEntered, SiteLeft, from_json
from stream.field.handler import FieldHandler
from stream.field.settings import FieldSettings
from stream.repository import prepare_connection
from tests.unit.field.tracks import Track, at, ts
from tickets.field.agent import VisitEventHandler

# Site A at the centre of the scene, site B three kilometres north; the vehicle's trips start
# three kilometres south, where there is no site.
SITE_A, SITE_B = "site-a", "site-b"
VEHICLE, TRACKER, ENGINEER = "veh-1", "trk-1", "eng-1"
PHONE, PHONE_ENGINEER = "phone-2", "eng-2"


def seed(database_url: str) -> None:
    """Two sites, veh-1 with tracker trk-1 driven by eng-1, and eng-2 with phone phone-2."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        upsert_sites(
            conn,
            sites=[
                SiteIn(SITE_A, "Boiler house", *at(0, 0), radius_m=100),
                SiteIn(SITE_B, "Pump station", *at(3000, 0), radius_m=100),
            ],
        )
        upsert_vehicles(conn, vehicles=[VehicleIn(VEHICLE, "A100AA")])
        upsert_devices(
            conn,
            devices=[DeviceIn(TRACKER, "tracker", vehicle_id=VEHICLE), DeviceIn(PHONE, "phone")],
        )
        conn.execute(
            "INSERT INTO tickets.engineers (id, name, vehicle_id, phone_device_id) "
            "VALUES (%s, 'Ivan', %s, NULL), (%s, 'Olga', NULL, %s)",
            (ENGINEER, VEHICLE, PHONE_ENGINEER, PHONE),
        )


def add_ticket(database_url: str, site_id: str, status: str, **times: datetime | None) -> int:
    """A ticket of eng-1 at the site, in the status, with the given *_at times."""
    columns = ["title", "kind", "priority", "site_id", "status", "assignee_id", *times]
    values: list[Any] = [
        "Fix it",
        "breakdown",
        "normal",
        site_id,
        status,
        ENGINEER,
        *times.values(),
    ]
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            f"INSERT INTO tickets.tickets ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING id",
            values,
        ).fetchone()
    assert row is not None
    return int(row[0])


def visit_track(*, park_s: float = 900.0) -> Track:
    """trk-1 from the south to site A (park_s there), then back south and parked."""
    track = Track.starting_at(-3000, 0)
    track.device_id = TRACKER
    return (
        track.park(400)
        .drive_to(0, 0, speed_kmh=40)
        .park(park_s)
        .drive_to(-3000, 0, speed_kmh=40)
        .park(400)
    )


def when(seconds: float) -> datetime:
    """The time so many seconds after the tracks' start."""
    return from_epoch_us(ts(seconds))


class Worker:
    """One stream worker's field handler on a pool of its own, and what it published."""

    def __init__(self, database_url: str, settings: FieldSettings | None = None) -> None:
        self.pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
        self.published: list[tuple[str, bytes]] = []
        self.dead_letters: list[DeadLetter] = []
        self.failing = False
        self.handler = FieldHandler(
            self.pool, settings or FieldSettings(), self._publish, self._dead_letters
        )

    async def feed(self, positions: Sequence[Position], *, batch: int = 50) -> None:
        for start in range(0, len(positions), batch):
            await self.handler.handle([encode(p) for p in positions[start : start + batch]])

    def events(self) -> list[DomainEvent]:
        return [from_json(value) for _, value in self.published]

    async def close(self) -> None:
        await self.pool.close()

    async def _publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        if self.failing:
            raise ConnectionError("the broker is away")
        self.published += messages

    async def _dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        self.dead_letters += letters


def rows(database_url: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


class VisitLoop:
    """The stream's field handler and the tickets' visit handler on one pool: fixes in, the
    visit events they cause applied to tickets and engineers."""

    def __init__(self, database_url: str) -> None:
        self.worker = Worker(database_url)
        self.tickets = VisitEventHandler(self.worker.pool, self._dead_letters)
        self.applied = 0

    async def drive(self, fixes: Sequence[Position]) -> None:
        """Feed the fixes, then apply the visit events they caused."""
        await self.worker.feed(fixes)
        new = self.worker.published[self.applied :]
        self.applied = len(self.worker.published)
        await self.tickets.handle([value for _, value in new])

    async def replay(self) -> None:
        """Apply every visit event once more, as a redelivery would."""
        await self.tickets.handle([value for _, value in self.worker.published])

    def event_time(self, kind: type[SiteEntered] | type[SiteLeft], device_id: str) -> datetime:
        """When the device's (only) SiteEntered arrived, or its SiteLeft departed."""
        [event] = [
            e
            for e in self.worker.events()
            if isinstance(e, kind) and e.evidence["device_id"] == device_id
        ]
        key = "arrived_at" if kind is SiteEntered else "departed_at"
        return datetime.fromisoformat(event.evidence[key])

    async def _dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        raise AssertionError(f"visit events dead-lettered: {letters}")


def run_visits(database_url: str, scenario: Callable[[VisitLoop], Awaitable[None]]) -> VisitLoop:
    """Run a scenario on a visit loop of its own, closed afterwards."""

    async def go() -> VisitLoop:
        loop = VisitLoop(database_url)
        try:
            await scenario(loop)
        finally:
            await loop.worker.close()
        return loop

    return asyncio.run(go())


def drive_visits(database_url: str, fixes: Sequence[Position]) -> VisitLoop:
    """Feed the fixes and apply the visit events they cause."""
    return run_visits(database_url, lambda loop: loop.drive(fixes))


def legs(device_id: str = TRACKER, *, park_s: float = 900.0) -> tuple[list[Position], ...]:
    """From three kilometres south to site A and parked there park_s; then back and parked."""
    track = Track.starting_at(-3000, 0)
    track.device_id = device_id
    there = list(track.park(400).drive_to(0, 0, speed_kmh=40).park(park_s).fixes)
    track.drive_to(-3000, 0, speed_kmh=40).park(400)
    return there, track.fixes[len(there) :]
