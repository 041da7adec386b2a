"""The live stream: a user's notifications arrive as Server-Sent Events as they commit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.web.conftest import EventStream, add_engineer, open_ticket
from tickets.users.models import Role

Address = tuple[str, int]


@contextmanager
def stream(address: Address, token: str) -> Iterator[EventStream]:
    events = EventStream(address, token)
    try:
        assert events.response.status == 200
        assert events.response.getheader("Content-Type", "").startswith("text/event-stream")
        name, hello = events.next_event()  # once hello is out, the stream is subscribed
        assert (name, sorted(hello)) == ("hello", ["role", "topic", "user_id"])
        yield events
    finally:
        events.close()


def _assign(client: TestClient, planner: str, ticket_id: int, engineer_id: str) -> None:
    response = client.post(
        f"/api/v1/tickets/{ticket_id}/actions/assign",
        headers=bearer(planner),
        json={"assignee_id": engineer_id},
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def people(client: TestClient, token_for: TokenFactory, database_url: str) -> dict[str, str]:
    for engineer_id in ("eng-1", "eng-2"):
        add_engineer(database_url, engineer_id)
    return {
        "planner": token_for(Role.PLANNER),
        "ivan": token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1"),
        "olga": token_for(Role.ENGINEER, user_id="olga", engineer_id="eng-2"),
    }


def test_a_new_assignment_reaches_the_engineers_stream_and_no_one_elses(
    client: TestClient, people: dict[str, str], api_server: Address
) -> None:
    planner = people["planner"]
    for_olga, for_ivan = open_ticket(client, planner), open_ticket(client, planner, title="Leak")
    with stream(api_server, people["ivan"]) as ivan:
        started = time.monotonic()
        _assign(client, planner, for_olga["id"], "eng-2")
        _assign(client, planner, for_ivan["id"], "eng-1")

        event = ivan.next_ticket_event()

        assert time.monotonic() - started < 2.0
    assert (event["event"], event["ticket"]["id"]) == ("assigned", for_ivan["id"])
    assert event["ticket"]["title"] == "Leak"
    assert event["destination"] == "toir/v1/engineers/eng-1/tickets"


def test_a_reassignment_tells_the_new_engineer_and_the_previous_one(
    client: TestClient, people: dict[str, str], api_server: Address
) -> None:
    planner = people["planner"]
    ticket = open_ticket(client, planner)
    _assign(client, planner, ticket["id"], "eng-1")
    with stream(api_server, people["ivan"]) as ivan, stream(api_server, people["olga"]) as olga:
        _assign(client, planner, ticket["id"], "eng-2")
        assert olga.next_ticket_event()["event"] == "reassigned"
        assert ivan.next_ticket_event()["event"] == "unassigned"


def test_a_planners_stream_follows_every_notification(
    client: TestClient, people: dict[str, str], api_server: Address
) -> None:
    ticket = open_ticket(client, people["planner"])
    with stream(api_server, people["planner"]) as planner:
        _assign(client, people["planner"], ticket["id"], "eng-2")
        event = planner.next_ticket_event()
    assert (event["event"], event["ticket"]["assignee_id"]) == ("assigned", "eng-2")


def test_one_listening_connection_serves_every_stream_and_closes_after_the_last(
    people: dict[str, str], api_server: Address, database_url: str
) -> None:
    with (
        stream(api_server, people["ivan"]),
        stream(api_server, people["olga"]),
        stream(api_server, people["planner"]),
    ):
        assert _listeners(database_url) == 1
    deadline = time.monotonic() + 20  # a closed stream is noticed at its next heartbeat
    while _listeners(database_url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _listeners(database_url) == 0


def _listeners(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'toir-api-live' AND datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.PLANNER, 200), (Role.ENGINEER, 200), (Role.DEVICE_ADMIN, 403)],
)
def test_who_may_open_a_stream(
    token_for: TokenFactory, api_server: Address, role: Role, status: int
) -> None:
    events = EventStream(api_server, token_for(role, engineer_id="eng-x"))
    try:
        assert events.response.status == status
    finally:
        events.close()


def test_a_stream_needs_a_valid_token(api_server: Address) -> None:
    for token in ("", "toir_nope_nope"):
        events = EventStream(api_server, token)
        try:
            assert events.response.status == 401
        finally:
            events.close()
