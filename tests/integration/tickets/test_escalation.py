"""Reassignment clocks and the hand-over to the planner, against a real database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import psycopg
from psycopg.types.json import Jsonb

from kernel.clock import utcnow
from tests.integration.tickets.test_dispatch import open_and_assign, outbox, run, seed
from tickets import service as tickets
from tickets.domain.lifecycle import Action, Actor
from tickets.escalation import follow_up, watch
from tickets.models import ActionIn, TicketRead
from tickets.notify.outbox import PLANNER_TOPIC
from tickets.service import ActorRef

HIGH_ACCEPT = timedelta(minutes=30)  # the seeded policy for high priority
ENGINEERS = [("a", 0.001), ("b", 0.01), ("c", 0.02)]


def current(database_url: str, ticket_id: int) -> TicketRead:
    return run(database_url, lambda c: tickets.get(conn=c, ticket_id=ticket_id))


def watch_at(database_url: str, moment: datetime) -> None:
    run(database_url, lambda c: watch(conn=c, now=moment, risk_share=0.8))


def decline_at(database_url: str, ticket: TicketRead, moment: datetime) -> TicketRead:
    async def decline(conn: psycopg.AsyncConnection) -> TicketRead:
        assert ticket.assignee_id is not None
        declined = await tickets.act(
            conn=conn,
            ticket_id=ticket.id,
            action=Action.DECLINE,
            actor=ActorRef(Actor.ENGINEER, ticket.assignee_id),
            action_in=ActionIn(reason="no parts"),
        )
        return await follow_up(conn=conn, ticket=declined, now=moment)

    return run(database_url, decline)


def test_after_a_decline_the_next_engineer_gets_the_full_time_to_accept(
    database_url: str,
) -> None:
    seed(database_url, ENGINEERS)
    ticket = run(database_url, open_and_assign)
    timed_out = ticket.created_at + timedelta(hours=1)
    watch_at(database_url, timed_out)
    on_b = current(database_url, ticket.id)
    assert (on_b.assignee_id, on_b.sla.accept_by) == ("b", timed_out + HIGH_ACCEPT)

    declined = timed_out + timedelta(minutes=25)  # five minutes before B's deadline
    on_c = decline_at(database_url, on_b, declined)
    assert (on_c.assignee_id, on_c.sla.accept_by) == ("c", declined + HIGH_ACCEPT)
    # C's fresh deadline holds: a watch after B's old one changes nothing.
    watch_at(database_url, timed_out + HIGH_ACCEPT + timedelta(minutes=1))
    assert current(database_url, ticket.id).assignee_id == "c"


def test_after_the_last_try_the_silent_engineer_is_released_and_the_planner_told_all(
    database_url: str,
) -> None:
    seed(database_url, ENGINEERS)
    ticket = run(database_url, open_and_assign)
    for hours in (1, 2, 3):  # a, then b, then c let the accept deadline pass
        watch_at(database_url, ticket.created_at + timedelta(hours=hours))

    escalated = current(database_url, ticket.id)
    assert (escalated.status.value, escalated.assignee_id) == ("new", None)
    assert "escalated" in escalated.flags
    sent = outbox(database_url)
    assert sent[-2:] == [
        ("toir/v1/engineers/c/tickets", "unassigned"),
        (PLANNER_TOPIC, "escalated"),
    ]
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT payload FROM tickets.outbox WHERE destination = %s ORDER BY id DESC LIMIT 1",
            (PLANNER_TOPIC,),
        ).fetchone()
    assert row is not None
    message = row[0]
    assert message["reason"] == "not accepted by 3 engineers"
    timeouts = [
        h["details"]["engineer_id"] for h in message["history"] if h["action"] == "accept_timeout"
    ]
    assert timeouts == ["a", "b", "c"]
    assert [h["action"] for h in message["history"]][-2:] == ["escalate", "unassign"]


def test_a_reassigned_engineer_s_time_to_accept_counts_working_hours_only(
    database_url: str,
) -> None:
    seed(database_url, ENGINEERS)
    hours = {"timezone": "UTC", "days": {str(d): ["09:00", "18:00"] for d in range(7)}}
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE tickets.sla_policies SET working_hours = %s WHERE priority = 'high'",
            (Jsonb(hours),),
        )
    ticket = run(database_url, open_and_assign)
    assert ticket.sla.accept_by is not None
    # Ten minutes before closing time on a day after A's deadline.
    day = ticket.sla.accept_by.date() + timedelta(days=1)
    timed_out = datetime.combine(day, time(17, 50), UTC)
    watch_at(database_url, timed_out)
    on_b = current(database_url, ticket.id)
    # Ten minutes today, twenty when work starts again tomorrow.
    tomorrow = datetime.combine(day + timedelta(days=1), time(9, 20), UTC)
    assert (on_b.assignee_id, on_b.sla.accept_by) == ("b", tomorrow)


def test_a_ticket_accepted_in_time_is_never_reassigned(database_url: str) -> None:
    seed(database_url, ENGINEERS)
    ticket = run(database_url, open_and_assign)
    run(
        database_url,
        lambda c: tickets.act(
            conn=c,
            ticket_id=ticket.id,
            action=Action.ACCEPT,
            actor=ActorRef(Actor.ENGINEER, "a"),
            action_in=ActionIn(at=utcnow()),
        ),
    )
    watch_at(database_url, ticket.created_at + timedelta(hours=1))
    assert current(database_url, ticket.id).assignee_id == "a"


def test_a_held_ticket_is_escalated_but_left_where_the_planner_holds_it(
    database_url: str,
) -> None:
    seed(database_url, ENGINEERS)
    ticket = run(database_url, open_and_assign)
    timed_out = ticket.created_at + timedelta(hours=1)
    watch_at(database_url, timed_out)
    decline_at(database_url, current(database_url, ticket.id), timed_out + timedelta(minutes=1))
    run(
        database_url,
        lambda c: tickets.act(
            conn=c,
            ticket_id=ticket.id,
            action=Action.HOLD,
            actor=ActorRef(Actor.USER, "planner"),
            action_in=ActionIn(reason="waiting for the customer"),
        ),
    )
    watch_at(database_url, timed_out + timedelta(hours=1))  # C's time runs out while held
    held = current(database_url, ticket.id)
    assert (held.status.value, held.assignee_id) == ("on_hold", "c")
    assert "escalated" in held.flags
