"""SQL factories for what the tickets service and the stream's field agent store: tickets
in every state with their history and completions, site visits and trips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from devices.simulator.fleet import Fleet

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
Step = tuple[datetime, str, str | None, str]  # at, action, from status, to status


def ticket(conn: psycopg.Connection, **fields: Any) -> int:
    """Insert a ticket; its site defaults to its equipment's."""
    fields.setdefault("title", f"{fields['kind']} on {fields.get('equipment_id')}")
    if "evidence" in fields:
        fields["evidence"] = Jsonb(fields["evidence"])
    columns = ", ".join(fields)
    values = ", ".join(f"%({name})s" for name in fields)
    row = conn.execute(
        f"INSERT INTO tickets.tickets ({columns}) VALUES ({values}) RETURNING id", fields
    ).fetchone()
    assert row is not None
    conn.execute(
        "UPDATE tickets.tickets t SET site_id = e.site_id FROM assets.equipment e "
        "WHERE t.id = %s AND e.id = t.equipment_id AND t.site_id IS NULL",
        (row[0],),
    )
    return int(row[0])


def history(
    conn: psycopg.Connection, ticket_id: int, steps: list[Step], *, assignee: str | None = None
) -> None:
    """Record the steps; an assign step names the assignee, as the service's details do."""
    for at, action, from_status, to_status in steps:
        details = {"assignee_id": assignee} if action == "assign" else {}
        conn.execute(
            "INSERT INTO tickets.history (ticket_id, at, actor_kind, actor_id, action, "
            "from_status, to_status, details) VALUES (%s, %s, 'system', 'test', %s, %s, %s, %s)",
            (ticket_id, at, action, from_status, to_status, Jsonb(details)),
        )


def anomaly(at: datetime, score: float, severity: str, transition: str = "opened") -> Any:
    """The evidence an AnomalyDetected event adds to its ticket."""
    return {
        "event_id": f"anomaly-{at.timestamp()}",
        "type": "AnomalyDetected",
        "occurred_at": at.isoformat(),
        "kind": "vibration",
        "severity": severity,
        "score": score,
        "transition": transition,
    }


def maintenance(at: datetime, plan: str, due: datetime, meter: str | None = None) -> Any:
    """The evidence a MaintenanceDue event adds to its ticket."""
    evidence = {"type": "MaintenanceDue", "occurred_at": at.isoformat(), "plan_id": plan}
    return {**evidence, "due_at": due.isoformat(), **({"meter": meter} if meter else {})}


def tickets(conn: psycopg.Connection, now: datetime, equipment: list[str]) -> None:
    """Open tickets breached, at risk and fine, and done ones: fixed first time, fixed on a
    second go, closed without a visit, cancelled."""
    _open_tickets(conn, now, equipment)
    _completed(conn, Work(equipment[4], "eng-002", now - 3 * DAY, rating=5))
    held = _completed(conn, Work(equipment[5], "eng-003", now - 5 * DAY, rating=3, hold=True))
    conn.execute("UPDATE tickets.tickets SET status = 'closed' WHERE id = %s", (held,))
    unvisited = _completed(conn, Work(equipment[0], "eng-003", now - 5 * HOUR))
    conn.execute(
        "UPDATE tickets.tickets SET flags = '{closed_without_visit}' WHERE id = %s", (unvisited,)
    )
    cancelled = ticket(
        conn, kind="anomaly", priority="normal", equipment_id=equipment[1], status="cancelled",
        created_at=now - 4 * DAY,
        evidence=[anomaly(now - 4 * DAY, 1.2, "low", transition="cleared")],
    )  # fmt: skip
    history(conn, cancelled, [(now - 4 * DAY + HOUR, "cancel", "new", "cancelled")])


def _open_tickets(conn: psycopg.Connection, now: datetime, equipment: list[str]) -> None:
    # Not accepted an hour after accept_by: breached.
    breached = ticket(
        conn, kind="anomaly", priority="critical", equipment_id=equipment[0], status="assigned",
        assignee_id="eng-001", created_at=now - 3 * HOUR, accept_by=now - 2 * HOUR,
        arrive_by=now + HOUR, resolve_by=now + 5 * HOUR, cause="anomaly:vibration",
        evidence=[anomaly(now - 3 * HOUR, 4.2, "high"), anomaly(now - HOUR, 5.1, "high")],
    )  # fmt: skip
    opened = [(now - 3 * HOUR, "open", None, "new"), (now - 3 * HOUR, "assign", "new", "assigned")]
    history(conn, breached, opened, assignee="eng-001")
    # 60 of the 70 minutes to arrive_by gone: past 80 %, at risk.
    at_risk = ticket(
        conn, kind="breakdown", priority="high", equipment_id=equipment[1], status="en_route",
        assignee_id="eng-001", created_at=now - HOUR, accepted_at=now - 50 * MINUTE,
        accept_by=now - 30 * MINUTE, arrive_by=now + 10 * MINUTE, resolve_by=now + 23 * HOUR,
    )  # fmt: skip
    steps: list[Step] = [
        (now - HOUR, "open", None, "new"),
        (now - HOUR, "assign", "new", "assigned"),
        (now - 50 * MINUTE, "accept", "assigned", "accepted"),
        (now - 40 * MINUTE, "depart", "accepted", "en_route"),
    ]
    history(conn, at_risk, steps, assignee="eng-001")
    for unit, created, due, plan, meter in (
        (equipment[2], now - 2 * DAY, now - DAY, "p-1", "hours_run"),  # overdue
        (equipment[3], now - HOUR, now + 5 * DAY, "p-2", None),  # due within 14 days
    ):
        ticket(
            conn, kind="maintenance_due", priority="normal", equipment_id=unit,
            created_at=created, resolve_by=due, cause=f"plan:{plan}", work_type="service",
            evidence=[maintenance(created, plan, due, meter)],
        )  # fmt: skip


@dataclass(frozen=True)
class Work:
    """A ticket done start to finish: accepted after 10 minutes, on site after an hour,
    completed after three; with a hold while on site when `hold`."""

    equipment_id: str
    engineer: str
    start: datetime
    rating: int | None = None
    hold: bool = False

    def at(self, minutes: int) -> datetime:
        return self.start + minutes * MINUTE


def _completed(conn: psycopg.Connection, work: Work) -> int:
    ticket_id = ticket(
        conn, kind="breakdown", priority="high", equipment_id=work.equipment_id,
        status="completed", assignee_id=work.engineer, created_at=work.start,
        accepted_at=work.at(10), arrived_at=work.at(60), completed_at=work.at(180),
        accept_by=work.at(30), arrive_by=work.at(240), resolve_by=work.at(1440),
    )  # fmt: skip
    steps: list[Step] = [
        (work.start, "open", None, "new"),
        (work.start, "assign", "new", "assigned"),
        (work.at(10), "accept", "assigned", "accepted"),
        (work.at(20), "depart", "accepted", "en_route"),
        (work.at(60), "arrive", "en_route", "on_site"),
    ]
    if work.hold:
        steps += [(work.at(90), "hold", "on_site", "on_hold"),
                  (work.at(150), "resume", "on_hold", "on_site")]  # fmt: skip
    steps.append((work.at(180), "complete", "on_site", "completed"))
    history(conn, ticket_id, steps, assignee=work.engineer)
    conn.execute(
        "INSERT INTO tickets.completions (ticket_id, work_done, rating, completed_by, "
        "completed_at) VALUES (%s, 'fixed', %s, %s, %s)",
        (ticket_id, work.rating, work.engineer, work.at(180)),
    )
    return ticket_id


def field_work(conn: psycopg.Connection, now: datetime, fleet: Fleet) -> None:
    """Visits and trips as the stream's field agent stores them: a work visit and a trip
    there for every ticket worked on site, a trip home after it, and one idle visit."""
    rows = conn.execute(
        "SELECT t.assignee_id, e.vehicle_id, t.site_id, t.accepted_at, t.arrived_at, "
        "t.completed_at FROM tickets.tickets t JOIN tickets.engineers e ON e.id = t.assignee_id "
        "WHERE t.arrived_at IS NOT NULL AND NOT 'closed_without_visit' = ANY (t.flags)"
    ).fetchall()
    for n, (engineer, vehicle, site, accepted, arrived, left) in enumerate(rows):
        _visit(conn, f"visit-{n}", engineer, vehicle, site, arrived, left)
        _trip(conn, f"trip-{n}", engineer, vehicle, (accepted, arrived), km=12.5, work=True)
        _trip(conn, f"home-{n}", engineer, vehicle, (left, left + 30 * MINUTE), km=8, work=False)
    vehicle = fleet.vehicles[0].id
    _visit(conn, "visit-idle", "eng-001", vehicle, fleet.sites[-1].id, now - 90 * MINUTE, None)


def _visit(
    conn: psycopg.Connection, visit_id: str, engineer: str, vehicle: str, site: str,
    arrived: datetime, left: datetime | None,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO telemetry.visits (event_id, device_id, vehicle_id, engineer_id, site_id, "
        "arrived_at, left_at, leave_reason, evidence) VALUES (%s, %s, %s, %s, %s, %s, %s, "
        "CASE WHEN %s::timestamptz IS NOT NULL THEN 'exited' END, '{}')",
        (visit_id, vehicle, vehicle, engineer, site, arrived, left, left),
    )


def _trip(
    conn: psycopg.Connection, trip_id: str, engineer: str, vehicle: str,
    span: tuple[datetime, datetime], *, km: float, work: bool,
) -> None:  # fmt: skip
    start, end = span
    hours = (end - start).total_seconds() / 3600
    conn.execute(
        "INSERT INTO telemetry.trips (event_id, device_id, vehicle_id, engineer_id, started_at, "
        "ended_at, distance_m, distance_source, duration_s, max_speed_kmh, avg_speed_kmh, work, "
        "evidence) VALUES (%s, %s, %s, %s, %s, %s, %s, 'odometer', %s, 60, %s, %s, '{}')",
        (trip_id, vehicle, vehicle, engineer, start, end, km * 1000, hours * 3600, km / hours,
         work),
    )  # fmt: skip
