"""Escalation through real brokers: an anomaly event opens a ticket for the nearest
engineer; not accepted in time, it goes to the next one; declined over the API, to the
third at once, never back; not accepted again, to the planner on duty, with every step
in the ticket's history and every notification on the real MQTT broker.

The stream worker (events agent, outbox relay, SLA watch on a short interval) and the
API run as `toir` processes. SLA policies count whole minutes, so the test does not sit
out a minute per step: it checks the deadline the policy gave, then moves that deadline
to now in the database, as a clock moved on would see it, and the SLA watch does the rest.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from aiokafka import AIOKafkaProducer
from paho.mqtt.enums import CallbackAPIVersion

from devices.registry import EquipmentIn, SiteIn, upsert_equipment, upsert_sites
from kernel import topics
from kernel.clock import utcnow
from kernel.urls import kafka_bootstrap, parse_mqtt_url
from tests.browser.support import ApiProcess, start_api
from tests.e2e.harness import Pipeline
from tickets.notify.outbox import ENGINEER_TOPIC, PLANNER_TOPIC
from tickets.users.models import Role

WAIT_S = 30.0
WATCH_INTERVAL_S = 0.5
ACCEPT_WITHIN_MIN = 1  # the shortest a policy can say
ACCEPT_WITHIN = timedelta(minutes=ACCEPT_WITHIN_MIN)
# A history entry's time is its transaction's start; a deadline is counted from the moment
# the process read its clock inside that transaction.
CLOCK_SLACK = timedelta(seconds=1)
SITE = ("site-1", 55.75, 37.62)
# Nearest first: the ranking (travel) must offer them in this order.
ENGINEERS = {"eng-a": 55.755, "eng-b": 55.78, "eng-c": 55.82}
DECLINE_REASON = "no spare bearings for this pump"
ALWAYS = [{"weekday": day, "starts": "00:00", "ends": "23:59:59"} for day in range(7)]


class Inboxes:
    """One real MQTT client following engineers' inboxes and the planners' topic."""

    def __init__(self, mqtt_url: str, topic_names: list[str]) -> None:
        self._messages: list[tuple[str, dict[str, Any]]] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        address = parse_mqtt_url(mqtt_url)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"escalation-{uuid.uuid4().hex[:8]}"
        )
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.connect(address.host, address.port)
        self._client.subscribe([(name, 1) for name in topic_names])
        self._client.loop_start()
        assert self._subscribed.wait(WAIT_S), "the broker did not acknowledge the subscription"

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._changed:
            self._messages.append((msg.topic, orjson.loads(msg.payload)))
            self._changed.notify_all()

    def wait(self, topic: str, event: str) -> dict[str, Any]:
        """The first message of this event on this topic, waiting for it if need be."""
        with self._changed:
            found = self._changed.wait_for(lambda: self._first(topic, event), WAIT_S)
        assert found, f"no {event!r} on {topic} within {WAIT_S} s; received {self.events()}"
        return found

    def _first(self, topic: str, event: str) -> dict[str, Any] | None:
        return next((m for t, m in self._messages if t == topic and m["event"] == event), None)

    def events(self) -> list[tuple[str, str, str | None]]:
        """(topic, event, assignee) of everything received, in order."""
        with self._changed:
            return [(t, m["event"], m["ticket"]["assignee_id"]) for t, m in self._messages]

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def api(pipeline: Pipeline, tmp_path: Path) -> Iterator[ApiProcess]:
    running = start_api(pipeline.urls.database_url, tmp_path / "api")
    try:
        yield running
    finally:
        running.stop()


def inbox(engineer_id: str) -> str:
    return ENGINEER_TOPIC.format(engineer_id=engineer_id)


def _seed_assets(database_url: str) -> None:
    site_id, lat, lon = SITE
    with psycopg.connect(database_url, autocommit=True) as conn:
        upsert_sites(conn, sites=[SiteIn(site_id, "Pump station", lat, lon, area="north")])
        upsert_equipment(conn, units=[EquipmentIn("pump-1", "pump", site_id, criticality="high")])


def _set_up_dispatch(api: ApiProcess, planner: str) -> dict[str, str]:
    """Engineers on shift with fresh positions from their phones, and a one-minute policy;
    returns each engineer's token."""
    tokens = {}
    for engineer_id, lat in ENGINEERS.items():
        engineer = {
            "id": engineer_id,
            "name": engineer_id.title(),
            "areas": ["north"],
            "skills": {"diagnostics": 3},
            "home_lat": lat,
            "home_lon": SITE[2],
            "shifts": ALWAYS,
        }
        api.ok("POST", "/engineers", planner, engineer)
        tokens[engineer_id] = api.token(Role.ENGINEER, f"user-{engineer_id}", engineer_id)
        fix = {"lat": lat, "lon": SITE[2], "at": utcnow().isoformat()}
        api.ok("PUT", f"/engineers/{engineer_id}/position", tokens[engineer_id], fix)
    policy = {
        "kind": "anomaly",
        "priority": "high",
        "accept_within_min": ACCEPT_WITHIN_MIN,
        "arrive_within_min": 60,
        "resolve_within_min": 240,
    }
    api.ok("POST", "/sla-policies", planner, policy)
    return tokens


async def _produce_anomaly(kafka_url: str) -> None:
    event = {
        "event_id": f"anomaly-{uuid.uuid4().hex[:8]}",
        "type": "AnomalyDetected",
        "occurred_at": utcnow().isoformat(),
        "subject": {"kind": "equipment", "id": "pump-1"},
        "evidence": {"kind": "drift", "severity": "medium", "metrics": {"vibration_mm_s": 7.2}},
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(kafka_url))
    await producer.start()
    try:
        await producer.send_and_wait(topics.EVENTS, orjson.dumps(event), key=b"pump-1")
    finally:
        await producer.stop()


def _let_accept_deadline_pass(database_url: str, ticket_id: int, engineer_id: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.execute(
            "UPDATE tickets.tickets SET accept_by = now() "
            "WHERE id = %s AND assignee_id = %s AND accepted_at IS NULL",
            (ticket_id, engineer_id),
        )
        assert cur.rowcount == 1, f"ticket {ticket_id} is no longer waiting for {engineer_id}"


def _accept_clock(ticket: dict[str, Any], started: datetime) -> timedelta:
    return datetime.fromisoformat(ticket["sla"]["accept_by"]) - started


def _last_assigned_at(api: ApiProcess, planner: str, ticket_id: int) -> datetime:
    history = api.ok("GET", f"/tickets/{ticket_id}/history", planner)
    return max(datetime.fromisoformat(h["at"]) for h in history if h["action"] == "assign")


def _steps(history: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    """(action, engineer concerned, reason) of every step of the dispatch."""
    steps: list[tuple[str, str | None, str | None]] = []
    for entry in history:
        details = entry["details"] or {}
        if entry["action"] in ("SlaAtRisk", "SlaBreached"):
            steps.append((entry["action"], details.get("deadline"), None))
            continue
        engineer = details.get("assignee_id") or details.get("engineer_id")
        if entry["action"] == "decline":
            engineer = entry["actor_id"]
        steps.append((entry["action"], engineer, entry["reason"]))
    return steps


def test_an_unaccepted_ticket_goes_down_the_ranking_then_to_the_planner_on_duty(
    pipeline: Pipeline, api: ApiProcess
) -> None:
    database_url = pipeline.urls.database_url
    _seed_assets(database_url)
    planner = api.token(Role.PLANNER, "planner-on-duty")
    tokens = _set_up_dispatch(api, planner)
    pipeline.stream.env["TOIR_SLA_WATCH_INTERVAL_S"] = str(WATCH_INTERVAL_S)
    pipeline.start()
    inboxes = Inboxes(pipeline.urls.mqtt_url, [*map(inbox, ENGINEERS), PLANNER_TOPIC])
    try:
        asyncio.run(_produce_anomaly(pipeline.urls.kafka_url))
        # The nearest engineer gets it, with the policy's minute to accept.
        ticket_id = inboxes.wait(inbox("eng-a"), "assigned")["ticket"]["id"]
        ticket = api.ok("GET", f"/tickets/{ticket_id}", planner)
        assert (ticket["assignee_id"], ticket["priority"]) == ("eng-a", "high")
        created = datetime.fromisoformat(ticket["created_at"])
        assert abs(_accept_clock(ticket, created) - ACCEPT_WITHIN) < CLOCK_SLACK

        # A stays silent: B gets it with a fresh minute, and A's phone is told.
        _let_accept_deadline_pass(database_url, ticket_id, "eng-a")
        assert inboxes.wait(inbox("eng-b"), "reassigned")["ticket"]["assignee_id"] == "eng-b"
        inboxes.wait(inbox("eng-a"), "unassigned")
        ticket = api.ok("GET", f"/tickets/{ticket_id}", planner)
        assert ticket["assignee_id"] == "eng-b"
        started = _last_assigned_at(api, planner, ticket_id)
        assert abs(_accept_clock(ticket, started) - ACCEPT_WITHIN) < CLOCK_SLACK
        b_accept_by = datetime.fromisoformat(ticket["sla"]["accept_by"])

        # B declines from the phone: C gets it at once, with a fresh minute too.
        status, declined = api.call(
            "POST",
            f"/tickets/{ticket_id}/actions/decline",
            tokens["eng-b"],
            {"reason": DECLINE_REASON},
        )
        assert (status, declined["status"]) == (200, "declined"), declined
        assert inboxes.wait(inbox("eng-c"), "reassigned")["ticket"]["assignee_id"] == "eng-c"
        ticket = api.ok("GET", f"/tickets/{ticket_id}", planner)
        assert ticket["assignee_id"] == "eng-c"
        started = _last_assigned_at(api, planner, ticket_id)
        assert abs(_accept_clock(ticket, started) - ACCEPT_WITHIN) < CLOCK_SLACK
        c_accept_by = datetime.fromisoformat(ticket["sla"]["accept_by"])
        assert c_accept_by > b_accept_by, "C got only what was left of B's time"

        # C stays silent too: three engineers tried, the planner on duty takes over.
        _let_accept_deadline_pass(database_url, ticket_id, "eng-c")
        inboxes.wait(inbox("eng-c"), "unassigned")
        escalated = inboxes.wait(PLANNER_TOPIC, "escalated")
    finally:
        inboxes.close()

    # The planner gets it unassigned, as it now is, with the reason and the whole story.
    assert escalated["ticket"]["id"] == ticket_id
    assert (escalated["ticket"]["status"], escalated["ticket"]["assignee_id"]) == ("new", None)
    assert escalated["reason"] == "not accepted by 3 engineers"
    history = api.ok("GET", f"/tickets/{ticket_id}/history", planner)
    expected = [
        ("open", None, None),
        ("assign", "eng-a", "new ticket"),
        ("SlaBreached", "accept", None),
        ("accept_timeout", "eng-a", "not accepted in time"),
        ("assign", "eng-b", "not accepted in time"),
        ("decline", "eng-b", DECLINE_REASON),
        ("assign", "eng-c", "declined"),
        ("SlaBreached", "accept", None),
        ("accept_timeout", "eng-c", "not accepted in time"),
        ("escalate", None, "not accepted by 3 engineers"),
        ("unassign", None, "escalated to the planner"),
    ]
    assert _steps(history) == expected
    assert _steps(escalated["history"]) == expected
    # Each engineer was offered the ticket once and told when it was taken away; nobody
    # who timed out or declined ever got it back.
    assert inboxes.events() == [
        (inbox("eng-a"), "assigned", "eng-a"),
        (inbox("eng-b"), "reassigned", "eng-b"),
        (inbox("eng-a"), "unassigned", "eng-b"),
        (inbox("eng-c"), "reassigned", "eng-c"),
        (inbox("eng-b"), "unassigned", "eng-c"),
        (inbox("eng-c"), "unassigned", None),
        (PLANNER_TOPIC, "escalated", None),
    ]
