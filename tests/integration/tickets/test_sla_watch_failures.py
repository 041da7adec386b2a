"""One ticket's failing SLA reaction is rolled back and counted; the others still get theirs."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import psycopg
import pytest

from kernel import metrics
from tests.integration.tickets.test_dispatch import open_and_assign, run, seed
from tickets import service as tickets
from tickets.escalation import SlaEvent, watch
from tickets.models import TicketRead

ENGINEERS = [("a", 0.001), ("b", 0.01)]
OTHER = {"a": "b", "b": "a"}
FAILURES = "toir_sla_watch_failures_total"


def failures() -> float:
    return metrics.sample(FAILURES) or 0.0


def open_three(database_url: str) -> list[TicketRead]:
    """Three high-priority tickets with 30 minutes to accept, shared between A and B."""
    seed(database_url, ENGINEERS)
    return [run(database_url, open_and_assign) for _ in range(3)]


def watch_at(database_url: str, moment: datetime) -> list[SlaEvent]:
    return run(database_url, lambda c: watch(conn=c, now=moment, risk_share=0.8))


def refuse_notifications_about(database_url: str, ticket_id: int) -> None:
    """From now on the outbox refuses any notification about this ticket."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE tickets.outbox ADD CONSTRAINT no_news_of_one_ticket "
            f"CHECK (payload->'ticket'->>'id' IS DISTINCT FROM '{ticket_id}') NOT VALID"
        )


def sla_history(database_url: str, ticket_id: int) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT action FROM tickets.history WHERE ticket_id = %s AND actor_id = 'sla' "
            "ORDER BY id",
            (ticket_id,),
        ).fetchall()
    return [str(action) for (action,) in rows]


def warned(database_url: str, ticket_id: int) -> list[str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT sla_warned FROM tickets.tickets WHERE id = %s", (ticket_id,)
        ).fetchone()
    assert row is not None
    return list(row[0])


def current(database_url: str, ticket_id: int) -> TicketRead:
    return run(database_url, lambda c: tickets.get(conn=c, ticket_id=ticket_id))


def test_a_failing_reaction_is_rolled_back_counted_and_the_later_tickets_still_react(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    first, second, third = open_three(database_url)
    refuse_notifications_about(database_url, first.id)
    timed_out = first.created_at + timedelta(hours=1)
    before = failures()

    with caplog.at_level(logging.ERROR, logger="tickets.escalation"):
        emitted = watch_at(database_url, timed_out)

    assert [(e.type, e.ticket_id, e.deadline) for e in emitted] == [
        ("SlaBreached", second.id, "accept"),
        ("SlaBreached", third.id, "accept"),
    ]
    for ticket in (second, third):  # each went to the engineer who had not let it time out
        assert ticket.assignee_id is not None
        assert current(database_url, ticket.id).assignee_id == OTHER[ticket.assignee_id]
        assert sla_history(database_url, ticket.id) == ["SlaBreached", "accept_timeout"]
    # The failed ticket is as it was: same engineer, nothing marked, nothing recorded.
    failed = current(database_url, first.id)
    assert (failed.assignee_id, warned(database_url, first.id)) == (first.assignee_id, [])
    assert sla_history(database_url, first.id) == []
    assert failures() == before + 1
    assert [r.getMessage() for r in caplog.records] == [
        f"SLA watch failed on ticket {first.id}; rolled back, tried again next run"
    ]
    assert caplog.records[0].exc_info is not None  # the cause is logged with it


def test_the_failed_ticket_is_tried_again_each_run_and_reacts_once_the_cause_is_gone(
    database_url: str,
) -> None:
    first, second, _ = open_three(database_url)
    refuse_notifications_about(database_url, first.id)
    timed_out = first.created_at + timedelta(hours=1)
    watch_at(database_url, timed_out)
    before = failures()

    assert watch_at(database_url, timed_out) == []  # the others were marked last run
    assert failures() == before + 1

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE tickets.outbox DROP CONSTRAINT no_news_of_one_ticket")
    emitted = watch_at(database_url, timed_out)
    assert [(e.type, e.ticket_id) for e in emitted] == [("SlaBreached", first.id)]
    assert first.assignee_id is not None
    assert current(database_url, first.id).assignee_id == OTHER[first.assignee_id]
    assert sla_history(database_url, first.id) == ["SlaBreached", "accept_timeout"]
    assert sla_history(database_url, second.id) == ["SlaBreached", "accept_timeout"]
    assert failures() == before + 1


def test_a_lost_connection_ends_the_run_instead_of_failing_every_ticket_after_it(
    database_url: str,
) -> None:
    first, second, _ = open_three(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # The first ticket's reaction takes the database session down with it.
        conn.execute(
            "CREATE FUNCTION tickets.end_session() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF NEW.ticket_id = {first.id} THEN "
            "PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER end_session BEFORE INSERT ON tickets.history "
            "FOR EACH ROW EXECUTE FUNCTION tickets.end_session()"
        )
    before = failures()

    async def watch_once() -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await watch(conn=conn, now=first.created_at + timedelta(hours=1), risk_share=0.8)

    with pytest.raises(psycopg.OperationalError):
        asyncio.run(watch_once())
    assert failures() == before
    assert sla_history(database_url, second.id) == []  # left for the next run
