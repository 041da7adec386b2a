"""Engineers a completion names in assisted_by, over the API on a real database: each is
checked against the GPS visits at the site during the work; one who was elsewhere flags the
ticket and the planners are told; names not on the roster are refused."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.field.factories import (
    ENGINEER,
    PHONE,
    PHONE_ENGINEER,
    SITE_A,
    add_ticket,
    drive_visits,
    legs,
    rows,
    seed,
    when,
)
from tickets.field.models import AssistingCheck, PresenceCheck
from tickets.field.presence import check_presence
from tickets.notify.outbox import PLANNER_TOPIC
from tickets.users.models import Role

FLAG = "assisting_engineer_not_on_site"
UNTRACKED = "eng-3"  # no phone, no vehicle: GPS cannot place them


def _scene(database_url: str, *, phone_at_site: bool) -> int:
    """eng-1's van at site A from about 650 s to 1570 s (and eng-2's phone too, if asked);
    eng-1's ticket there, on site since 900 s."""
    seed(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO tickets.engineers (id, name) VALUES (%s, 'Pyotr')", (UNTRACKED,))
    there, back = legs()
    phone = [fix for leg in legs(PHONE) for fix in leg] if phone_at_site else []
    drive_visits(database_url, sorted(there + back + phone, key=lambda p: p.ts_us))
    return add_ticket(database_url, SITE_A, "on_site", accepted_at=when(300), arrived_at=when(900))


def _complete(client: TestClient, token: str, ticket_id: int, *named: str) -> Any:
    body = {
        "at": when(1500).isoformat(),
        "completion": {"work_done": "Replaced the pump seal", "assisted_by": list(named)},
    }
    return client.post(
        f"/api/v1/tickets/{ticket_id}/actions/complete", headers=bearer(token), json=body
    )


def _check(database_url: str, ticket_id: int) -> PresenceCheck:
    async def go() -> PresenceCheck:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            check = await check_presence(conn=conn, ticket_id=ticket_id)
            await conn.commit()
            return check

    return asyncio.run(go())


def _planner_messages(database_url: str) -> list[tuple[str, str]]:
    found = rows(
        database_url,
        "SELECT payload->>'event', payload->'presence'->>'engineer_id' FROM tickets.outbox "
        "WHERE destination = %s ORDER BY id",
        PLANNER_TOPIC,
    )
    return [(str(event), str(engineer_id)) for event, engineer_id in found]


def test_an_engineer_named_on_the_completion_who_was_elsewhere_flags_the_ticket(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    ticket_id = _scene(database_url, phone_at_site=False)
    ivan = token_for(Role.ENGINEER, user_id="ivan", engineer_id=ENGINEER)
    planner = token_for(Role.PLANNER)

    done = _complete(client, ivan, ticket_id, PHONE_ENGINEER, UNTRACKED)

    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["flags"]) == ("completed", [FLAG])
    history = client.get(f"/api/v1/tickets/{ticket_id}/history", headers=bearer(planner)).json()
    [completed] = [h for h in history if h["action"] == "complete"]
    assert completed["details"]["assisted_by"] == [PHONE_ENGINEER, UNTRACKED]
    [flagged] = [h for h in history if h["action"] == "flag"]
    assert (flagged["details"]["flag"], flagged["details"]["engineer_id"]) == (
        FLAG,
        PHONE_ENGINEER,
    )
    assert flagged["details"]["gps_fixes"] == 0  # the phone sent nothing during the work
    # The assignee was there; the engineer GPS cannot place is not judged.
    assert _planner_messages(database_url) == [(FLAG, PHONE_ENGINEER)]
    assert rows(
        database_url,
        "SELECT assisted_by FROM tickets.completions WHERE ticket_id = %s",
        ticket_id,
    ) == [([PHONE_ENGINEER, UNTRACKED],)]

    again = _check(database_url, ticket_id)

    assert again.assisting == (
        AssistingCheck(PHONE_ENGINEER, "not_on_site"),
        AssistingCheck(UNTRACKED, "not_checked"),
    )
    assert _planner_messages(database_url) == [(FLAG, PHONE_ENGINEER)]  # told once


def test_engineers_named_on_the_completion_who_were_there_raise_no_flag(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    ticket_id = _scene(database_url, phone_at_site=True)
    ivan = token_for(Role.ENGINEER, user_id="ivan", engineer_id=ENGINEER)

    done = _complete(client, ivan, ticket_id, PHONE_ENGINEER)

    assert (done.status_code, done.json()["flags"]) == (200, [])
    assert _planner_messages(database_url) == []


def test_names_not_on_the_roster_or_the_assignee_are_refused_naming_the_field(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    ticket_id = _scene(database_url, phone_at_site=False)
    ivan = token_for(Role.ENGINEER, user_id="ivan", engineer_id=ENGINEER)

    unknown = _complete(client, ivan, ticket_id, PHONE_ENGINEER, "eng-404", "eng-405")
    assignee = _complete(client, ivan, ticket_id, ENGINEER)
    twice = _complete(client, ivan, ticket_id, PHONE_ENGINEER, PHONE_ENGINEER)

    assert (unknown.status_code, unknown.json()["fields"]) == (
        422,
        {"completion.assisted_by": "unknown engineers: eng-404, eng-405"},
    )
    assert (assignee.status_code, list(assignee.json()["fields"])) == (
        422,
        ["completion.assisted_by"],
    )
    assert (twice.status_code, list(twice.json()["fields"])) == (
        422,
        ["body.completion.assisted_by"],
    )
    [(status, flags)] = rows(
        database_url, "SELECT status, flags FROM tickets.tickets WHERE id = %s", ticket_id
    )
    assert (status, flags) == ("on_site", [])
    assert rows(database_url, "SELECT 1 FROM tickets.completions") == []
