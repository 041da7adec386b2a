"""Field control in the stream against a real database: visits and trips stored once,
events published after the commit, checkpoints that survive restarts and rebalances."""

from __future__ import annotations

import asyncio

from kernel.events import SiteEntered, SiteLeft, SubjectKind, TripCompleted
from stream.field.events import FieldEvent
from stream.field.geofence_index import Geofence, GeofenceIndex
from stream.field.settings import FieldSettings
from stream.field.trips import TripTracker
from stream.field.visits import VisitTracker
from tests.integration.field.factories import (
    ENGINEER,
    PHONE,
    PHONE_ENGINEER,
    SITE_A,
    SITE_B,
    TRACKER,
    VEHICLE,
    Worker,
    add_ticket,
    rows,
    seed,
    visit_track,
    when,
)
from tests.unit.field.tracks import Track, at


def _expected_event_ids(track: Track) -> list[str]:
    """What the pure trackers make of the whole track in one go: the reference."""
    index = GeofenceIndex(
        [Geofence.circle(SITE_A, *at(0, 0), 100), Geofence.circle(SITE_B, *at(3000, 0), 100)]
    )
    visits, trips = VisitTracker(), TripTracker()
    events: list[FieldEvent] = []
    for fix in track.fixes:
        events += visits.observe(fix, index)
        events += trips.observe(fix, index)
    return sorted(e.event_id for e in events)


def test_a_visit_and_the_trips_around_it_are_stored_once_and_published(database_url: str) -> None:
    seed(database_url)
    work = add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    track = visit_track()

    async def scenario() -> Worker:
        worker = Worker(database_url)
        try:
            await worker.feed(track.fixes)
            await worker.feed(track.fixes)  # redelivered: nothing new
        finally:
            await worker.close()
        return worker

    worker = asyncio.run(scenario())
    events = worker.events()
    # The visit is confirmed after its dwell, a little before the trip's stop is.
    assert [type(e) for e in events] == [SiteEntered, TripCompleted, SiteLeft, TripCompleted]
    assert {(e.subject.kind, e.subject.id) for e in events} == {(SubjectKind.VEHICLE, VEHICLE)}
    assert sorted(e.event_id for e in events) == _expected_event_ids(track)
    [visit] = rows(
        database_url,
        "SELECT device_id, vehicle_id, engineer_id, site_id, left_at - arrived_at, leave_reason "
        "FROM telemetry.visits",
    )
    assert visit[:4] == (TRACKER, VEHICLE, ENGINEER, SITE_A)
    assert 900 <= visit[4].total_seconds() <= 960  # parked 900 s, plus the way in and out
    assert visit[5] == "exited"
    trips = rows(
        database_url,
        "SELECT start_site_id, end_site_id, work, ticket_id, round(distance_m) "
        "FROM telemetry.trips ORDER BY started_at",
    )
    assert [t[:4] for t in trips] == [(None, SITE_A, True, work), (SITE_A, None, False, None)]
    assert all(2800 <= t[4] <= 3100 for t in trips)
    assert rows(database_url, "SELECT count(*) FROM telemetry.field_outbox") == [(0,)]
    assert worker.dead_letters == []


def test_a_restart_continues_from_the_checkpoint_without_loss_or_duplicates(
    database_url: str,
) -> None:
    seed(database_url)
    track = visit_track()
    # Cut during the visit, after SiteEntered: the open visit must survive the restart.
    cut = next(i for i, p in enumerate(track.fixes) if p.ts_us > track.fixes[0].ts_us + 1500e6)

    async def scenario() -> list[str]:
        published = []
        for part in (track.fixes[:cut], track.fixes[cut:]):
            worker = Worker(database_url)  # a new process each time: nothing in memory
            try:
                await worker.feed(part)
            finally:
                await worker.close()
            published += [e.event_id for e in worker.events()]
        return published

    published = asyncio.run(scenario())
    assert sorted(published) == _expected_event_ids(track)
    assert rows(database_url, "SELECT count(*), count(left_at) FROM telemetry.visits") == [(1, 1)]


def test_a_worker_whose_device_moved_away_and_back_re_reads_its_state(database_url: str) -> None:
    seed(database_url)
    track = visit_track()
    thirds = len(track.fixes) // 3
    parts = [track.fixes[:thirds], track.fixes[thirds : 2 * thirds], track.fixes[2 * thirds :]]

    async def scenario() -> tuple[list[str], int]:
        first, second = Worker(database_url), Worker(database_url)
        try:
            await first.feed(parts[0])
            await second.feed(parts[1])  # a rebalance gave the partition to the second worker
            await first.feed(parts[2])  # and back: the first one's memory is stale
        finally:
            await first.close()
            await second.close()
        published = [e.event_id for e in first.events() + second.events()]
        return published, first.handler.counters.stale_retries

    published, retries = asyncio.run(scenario())
    assert sorted(published) == _expected_event_ids(track)
    assert retries == 1


def test_a_visit_ends_by_event_time_when_its_device_falls_silent(database_url: str) -> None:
    seed(database_url)
    parked = Track.starting_at(0, 0)
    parked.device_id = TRACKER
    parked.park(600)  # at site A for ten minutes, then nothing more
    phone = Track.starting_at(1500, 0)
    phone.device_id = PHONE
    phone.park(2400)  # elsewhere, reporting on: event time moves

    async def scenario() -> Worker:
        worker = Worker(database_url, FieldSettings(expire_step_s=60))
        try:
            await worker.feed(parked.fixes)
            await worker.feed(phone.fixes)
        finally:
            await worker.close()
        return worker

    events = asyncio.run(scenario()).events()
    assert [type(e) for e in events] == [SiteEntered, SiteLeft]
    assert events[1].evidence["reason"] == "gap"
    assert rows(database_url, "SELECT leave_reason FROM telemetry.visits") == [("gap",)]
    assert rows(database_url, "SELECT open FROM telemetry.field_state ORDER BY 1") == [
        (False,),
        (False,),
    ]


def test_engineers_positions_follow_their_vehicle_and_their_phone(database_url: str) -> None:
    seed(database_url)
    track = visit_track()
    phone = Track.starting_at(2000, 500)
    phone.device_id = PHONE
    phone.park(60)

    async def scenario() -> None:
        worker = Worker(database_url)
        try:
            await worker.feed(track.fixes + phone.fixes, batch=500)
        finally:
            await worker.close()

    asyncio.run(scenario())
    found = rows(
        database_url,
        "SELECT id, position_lat, position_lon, position_at FROM tickets.engineers ORDER BY id",
    )
    last, phone_last = track.fixes[-1], phone.fixes[-1]
    assert [(e, round(lat, 6), round(lon, 6)) for e, lat, lon, _ in found] == [
        (ENGINEER, round(last.lat, 6), round(last.lon, 6)),
        (PHONE_ENGINEER, round(phone_last.lat, 6), round(phone_last.lon, 6)),
    ]


def test_events_the_broker_refused_stay_in_the_outbox_until_the_sweep(database_url: str) -> None:
    seed(database_url)
    track = Track.starting_at(0, 0)
    track.device_id = TRACKER
    track.park(400)

    async def scenario() -> tuple[int, int]:
        worker = Worker(database_url, FieldSettings(outbox_sweep_s=0.01))
        try:
            worker.failing = True
            await worker.feed(track.fixes)
            worker.failing = False
            await asyncio.sleep(0.05)
            return len(worker.published), await worker.handler.sweep_outbox()
        finally:
            await worker.close()

    published_before, swept = asyncio.run(scenario())
    assert (published_before, swept) == (0, 1)
    assert rows(database_url, "SELECT count(*) FROM telemetry.field_outbox") == [(0,)]
