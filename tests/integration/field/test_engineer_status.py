"""GPS visits moving engineers' statuses, on a real database: on site on arrival at the site
of their ticket, available or en route on departure, never out of `off`, logged once."""

from __future__ import annotations

from typing import Any

import psycopg

from devices.registry import DeviceIn, upsert_devices
from kernel.clock import utcnow
from kernel.events import SiteEntered, SiteLeft
from tests.integration.field.factories import (
    ENGINEER,
    SITE_A,
    SITE_B,
    TRACKER,
    VisitLoop,
    add_ticket,
    drive_visits,
    legs,
    rows,
    run_visits,
    seed,
    when,
)
from tickets.engineers import service as engineers
from tickets.engineers.models import EngineerStatus
from tickets.users.models import Role, User

PHONE_OF_ENGINEER = "phone-1"
PLANNER = User(id="planner", name="Planner", role=Role.PLANNER, created_at=utcnow())


def _status(database_url: str, engineer_id: str = ENGINEER) -> str:
    [(status,)] = rows(
        database_url, "SELECT status FROM tickets.engineers WHERE id = %s", engineer_id
    )
    return str(status)


def _set_status(database_url: str, status: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE tickets.engineers SET status = %s WHERE id = %s", (status, ENGINEER))


def _log(database_url: str) -> list[tuple[Any, ...]]:
    return rows(
        database_url,
        "SELECT from_status, to_status, actor_id, at, site_id, ticket_id "
        "FROM tickets.engineer_status_log WHERE engineer_id = %s ORDER BY id",
        ENGINEER,
    )


def test_arriving_puts_the_engineer_on_site_and_leaving_makes_them_available(
    database_url: str,
) -> None:
    seed(database_url)
    ticket = add_ticket(database_url, SITE_A, "en_route", accepted_at=when(0))
    there, back = legs()
    seen: dict[str, str] = {}

    async def scenario(field: VisitLoop) -> None:
        await field.drive(there)
        seen["there"] = _status(database_url)
        await field.drive(back)
        await field.replay()  # a redelivery changes nothing

    field = run_visits(database_url, scenario)

    assert (seen["there"], _status(database_url)) == ("on_site", "available")
    arrived, left = field.event_time(SiteEntered, TRACKER), field.event_time(SiteLeft, TRACKER)
    assert _log(database_url) == [
        ("available", "on_site", "gps", arrived, SITE_A, ticket),
        ("on_site", "available", "gps", left, SITE_A, None),
    ]


def test_leaving_with_a_ticket_en_route_elsewhere_makes_the_engineer_en_route(
    database_url: str,
) -> None:
    seed(database_url)
    this_job = add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    next_job = add_ticket(database_url, SITE_B, "en_route", accepted_at=when(0))
    there, back = legs()

    drive_visits(database_url, there + back)

    assert _status(database_url) == "en_route"
    assert [(row[1], row[5]) for row in _log(database_url)] == [
        ("on_site", this_job),
        ("en_route", next_job),
    ]


def test_gps_never_turns_an_engineer_who_is_off_on(database_url: str) -> None:
    seed(database_url)
    _set_status(database_url, "off")
    ticket = add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    there, back = legs()

    drive_visits(database_url, there + back)

    [(ticket_status,)] = rows(
        database_url, "SELECT status FROM tickets.tickets WHERE id = %s", ticket
    )
    assert (ticket_status, _status(database_url), _log(database_url)) == ("on_site", "off", [])


def test_visiting_a_site_with_no_ticket_of_theirs_leaves_the_status_alone(
    database_url: str,
) -> None:
    seed(database_url)
    add_ticket(database_url, SITE_B, "accepted", accepted_at=when(0))
    there, back = legs()

    drive_visits(database_url, there + back)

    assert (_status(database_url), _log(database_url)) == ("available", [])


def test_a_status_set_by_hand_after_the_gps_fact_is_kept(database_url: str) -> None:
    seed(database_url)
    add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    there, back = legs()

    async def scenario(field: VisitLoop) -> None:
        await field.drive(there)
        async with field.worker.pool.connection() as conn:  # now: long after the track
            await engineers.set_status(
                conn=conn, engineer_id=ENGINEER, status=EngineerStatus.EN_ROUTE, user=PLANNER
            )
        await field.drive(back)

    run_visits(database_url, scenario)

    assert _status(database_url) == "en_route"
    assert [row[:3] for row in _log(database_url)] == [
        ("available", "on_site", "gps"),
        ("on_site", "en_route", "planner"),  # and the departure, earlier than that, changed nothing
    ]


def test_an_engineer_still_at_the_site_by_their_phone_stays_on_site(database_url: str) -> None:
    seed(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        upsert_devices(conn, devices=[DeviceIn(PHONE_OF_ENGINEER, "phone")])
        conn.execute(
            "UPDATE tickets.engineers SET phone_device_id = %s WHERE id = %s",
            (PHONE_OF_ENGINEER, ENGINEER),
        )
    add_ticket(database_url, SITE_A, "accepted", accepted_at=when(0))
    van_there, van_back = legs()
    phone_there, phone_back = legs(PHONE_OF_ENGINEER, park_s=2400)
    fixes = sorted(van_there + van_back + phone_there + phone_back, key=lambda p: p.ts_us)
    van_gone_us = van_back[-1].ts_us  # the phone is still parked at site A then
    seen: list[str] = []

    async def scenario(field: VisitLoop) -> None:
        await field.drive([p for p in fixes if p.ts_us <= van_gone_us])
        seen.append(_status(database_url))
        await field.drive([p for p in fixes if p.ts_us > van_gone_us])

    field = run_visits(database_url, scenario)

    assert (seen, _status(database_url)) == (["on_site"], "available")
    assert [row[1:4] for row in _log(database_url)] == [
        ("on_site", "gps", field.event_time(SiteEntered, TRACKER)),
        ("available", "gps", field.event_time(SiteLeft, PHONE_OF_ENGINEER)),
    ]
