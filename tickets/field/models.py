"""Field-control schemas: what the reports API reads, and what the checks return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["visited", "closed_without_visit", "not_checked"]
AssistingVerdict = Literal["visited", "not_on_site", "not_checked"]


@dataclass(frozen=True, slots=True)
class AssistingCheck:
    """Whether an engineer a completion names in assisted_by was at the site, by GPS."""

    engineer_id: str
    verdict: AssistingVerdict


@dataclass(frozen=True, slots=True)
class PresenceCheck:
    """Whether a completed ticket's engineer was at its site, by GPS, during the work, and
    the same for each engineer its completion names."""

    ticket_id: int
    verdict: Verdict
    reason: str
    assisting: tuple[AssistingCheck, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkOverlap:
    """Work claimed on a ticket that overlaps work the same engineer claimed elsewhere."""

    ticket_id: int
    work_from: datetime
    work_to: datetime
    other_ticket_id: int
    other_site_id: str | None
    other_from: datetime
    other_to: datetime


class TripRead(BaseModel):
    id: str = Field(description="The TripCompleted event id.")
    device_id: str
    started_at: datetime
    ended_at: datetime
    distance_km: float
    distance_source: Literal["odometer", "gps"]
    duration_s: float
    max_speed_kmh: float
    avg_speed_kmh: float
    start_site_id: str | None
    end_site_id: str | None
    work: bool = Field(description="Ended at the site of a ticket its engineer was working on.")
    ticket_id: int | None


class VisitRead(BaseModel):
    id: str = Field(description="The SiteEntered event id.")
    device_id: str
    engineer_id: str | None
    site_id: str
    arrived_at: datetime
    left_at: datetime | None = Field(description="None while still there.")
    duration_s: float | None


class DayTotals(BaseModel):
    """A vehicle's day in the figures a waybill is checked against."""

    date: date
    trip_count: int
    work_km: float
    non_work_km: float
    total_km: float
    work_driving_s: float
    non_work_driving_s: float
    engine_hours: float | None = Field(description="Hours-run counter advance, if reported.")
    visit_count: int
    sites: list[str] = Field(description="Sites visited, each once.")


class VehicleDay(BaseModel):
    """A vehicle's day (in the given time zone): totals, its trips and its visits."""

    vehicle_id: str
    timezone: str
    totals: DayTotals
    trips: list[TripRead]
    visits: list[VisitRead]


class CurrentTicket(BaseModel):
    id: int
    status: str
    site_id: str | None
    title: str


class EngineerPosition(BaseModel):
    engineer_id: str
    name: str
    status: str
    lat: float | None
    lon: float | None
    at: datetime | None = Field(description="When the latest fix was taken.")
    age_s: float | None = Field(description="Seconds since that fix.")
    current_ticket: CurrentTicket | None
