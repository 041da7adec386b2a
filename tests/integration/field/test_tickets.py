"""GPS visits acting on tickets, proof of presence and overlapping work, on a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import psycopg
import pytest

from kernel.errors import Conflict
from kernel.events import SiteEntered
from tests.integration.field.factories import (
    ENGINEER,
    SITE_A,
    SITE_B,
    TRACKER,
    Worker,
    add_ticket,
    rows,
    seed,
    visit_track,
    when,
)
from tests.unit.field.tracks import Track
from tickets.field.agent import VisitEventHandler
from tickets.field.models import PresenceCheck
from tickets.field.presence import check_presence, refuse_overlapping_work
from tickets.notify.outbox import PLANNER_TOPIC

T = TypeVar("T")


def _in_transaction(
    database_url: str, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]
) -> T:
    async def go() -> T:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            result = await work(conn)
            await conn.commit()
            return result

    return asyncio.run(go())


def _drive_and_apply(database_url: str, track: Track, *, twice: bool = False) -> Worker:
    """The stream's field handler on the track, then the visit events on the tickets."""

    async def scenario() -> Worker:
        worker = Worker(database_url)
        try:
            await worker.feed(track.fixes)
            tickets = VisitEventHandler(worker.pool, worker._dead_letters)
            for _ in range(2 if twice else 1):
                await tickets.handle([value for _, value in worker.published])
        finally:
            await worker.close()
        return worker

    return asyncio.run(scenario())


def _ticket(database_url: str, ticket_id: int) -> tuple[str, datetime | None, list[str]]:
    [row] = rows(
        database_url,
        "SELECT status, arrived_at, flags FROM tickets.tickets WHERE id = %s",
        ticket_id,
    )
    return row[0], row[1], row[2]


def test_arriving_at_the_site_of_an_accepted_ticket_puts_it_on_site_at_the_gps_time(
    database_url: str,
) -> None:
    seed(database_url)
    here = add_ticket(database_url, SITE_A, "en_route", accepted_at=when(0))
    elsewhere = add_ticket(database_url, SITE_B, "accepted", accepted_at=when(0))
    worker = _drive_and_apply(database_url, visit_track(), twice=True)

    [entered] = [e for e in worker.events() if isinstance(e, SiteEntered)]
    assert _ticket(database_url, here)[:2] == (
        "on_site",
        datetime.fromisoformat(entered.evidence["arrived_at"]),
    )
    assert _ticket(database_url, elsewhere)[:2] == ("accepted", None)
    history = rows(
        database_url,
        "SELECT action, actor_id, from_status, to_status FROM tickets.history "
        "WHERE ticket_id = %s ORDER BY id",
        here,
    )
    # Applied twice: one arrival, one departure.
    assert history == [
        ("arrive", "gps", "en_route", "on_site"),
        ("departed", "gps", "on_site", "on_site"),
    ]
    assert worker.dead_letters == []


def test_driving_past_the_site_changes_nothing(database_url: str) -> None:
    seed(database_url)
    ticket = add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    track = Track.starting_at(-3000, 0)
    track.device_id = TRACKER
    track.park(400).drive_to(2000, 0, speed_kmh=40).park(400)  # straight through site A
    worker = _drive_and_apply(database_url, track)

    assert not [e for e in worker.events() if isinstance(e, SiteEntered)]
    assert _ticket(database_url, ticket)[:2] == ("accepted", None)


def _completed(database_url: str, site_id: str, start_s: float, end_s: float) -> int:
    return add_ticket(
        database_url,
        site_id,
        "completed",
        accepted_at=when(start_s - 600),
        arrived_at=when(start_s),
        completed_at=when(end_s),
    )


def _planner_messages(database_url: str) -> list[tuple[str, int]]:
    found = rows(
        database_url,
        "SELECT payload->>'event', (payload->'ticket'->>'id')::int FROM tickets.outbox "
        "WHERE destination = %s ORDER BY id",
        PLANNER_TOPIC,
    )
    return [(str(event), int(ticket_id)) for event, ticket_id in found]


def _check(database_url: str, ticket_id: int) -> PresenceCheck:
    return _in_transaction(
        database_url, lambda conn: check_presence(conn=conn, ticket_id=ticket_id)
    )


def test_completing_without_a_visit_flags_the_ticket_and_tells_the_planners(
    database_url: str,
) -> None:
    seed(database_url)
    _drive_and_apply(database_url, visit_track())  # a visit to site A, none to site B
    ticket = _completed(database_url, SITE_B, 900, 1500)

    first, again = _check(database_url, ticket), _check(database_url, ticket)

    assert (first.verdict, again.verdict) == ("closed_without_visit", "closed_without_visit")
    assert _ticket(database_url, ticket)[2] == ["closed_without_visit"]
    assert _planner_messages(database_url) == [("closed_without_visit", ticket)]  # told once


def test_completing_during_a_visit_at_the_site_is_proven(database_url: str) -> None:
    seed(database_url)
    _drive_and_apply(database_url, visit_track())  # at site A from about 650 s to 1570 s
    ticket = _completed(database_url, SITE_A, 900, 1500)

    assert _check(database_url, ticket).verdict == "visited"
    assert _ticket(database_url, ticket)[2] == []
    assert _planner_messages(database_url) == []


def test_a_gps_gap_shorter_than_the_tolerance_still_proves_presence(database_url: str) -> None:
    seed(database_url)
    _drive_and_apply(database_url, visit_track())  # left site A at about 1570 s
    ticket = _completed(database_url, SITE_A, 1800, 2300)  # claimed 230 s to 730 s after

    assert _check(database_url, ticket).verdict == "visited"


def test_work_claimed_elsewhere_at_the_same_time_is_refused(database_url: str) -> None:
    seed(database_url)
    _completed(database_url, SITE_A, 0, 3600)
    same_site = add_ticket(database_url, SITE_A, "on_site", arrived_at=when(1800))
    other_site = add_ticket(database_url, SITE_B, "on_site", arrived_at=when(1800))
    later = add_ticket(database_url, SITE_B, "on_site", arrived_at=when(4000))

    def refuse(ticket_id: int, end_s: float) -> None:
        _in_transaction(
            database_url,
            lambda conn: refuse_overlapping_work(
                conn=conn, ticket_id=ticket_id, completed_at=when(end_s)
            ),
        )

    with pytest.raises(Conflict, match="overlaps the work on ticket"):
        refuse(other_site, 5400)
    refuse(same_site, 5400)  # one visit serves several tickets at a site
    refuse(later, 5400)


def test_an_engineer_with_no_device_is_not_judged(database_url: str) -> None:
    seed(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE tickets.engineers SET vehicle_id = NULL WHERE id = %s", (ENGINEER,))
    ticket = _completed(database_url, SITE_B, 900, 1500)

    assert _check(database_url, ticket).verdict == "not_checked"
    assert _ticket(database_url, ticket)[2] == []
