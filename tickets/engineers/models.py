"""Engineer schemas: what the API reads and writes about field engineers."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

EngineerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
SkillLevel = Annotated[int, Field(ge=1, le=5)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
MaxConcurrent = Annotated[int, Field(ge=1, le=50)]
# The fields an update may clear by sending null; the others need a value.
NULLABLE = frozenset({"phone", "home_lat", "home_lon", "vehicle_id"})


class EngineerStatus(StrEnum):
    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    OFF = "off"


# What engineers may set about themselves; the trip statuses follow their tickets.
SELF_SET_STATUSES = frozenset({EngineerStatus.AVAILABLE, EngineerStatus.OFF})


class Shift(BaseModel):
    """A weekly shift in the engineer's local time; ends <= starts runs past midnight."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    starts: time
    ends: time


class Absence(BaseModel):
    kind: Literal["leave", "sick", "other"] = "leave"
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("an absence must end after it starts")
        return self


class Position(BaseModel):
    """A position fix from the engineer's phone (or vehicle tracker), with when it was taken."""

    lat: Latitude
    lon: Longitude
    at: AwareDatetime


def _check_home(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("home_lat and home_lon go together")


def _check_zone(name: str | None) -> str | None:
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _check_shifts(shifts: list[Shift] | None) -> list[Shift] | None:
    starts = [(s.weekday, s.starts) for s in shifts or ()]
    if len(starts) != len(set(starts)):
        raise ValueError("two shifts start on the same weekday at the same time")
    return shifts


class EngineerBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    timezone: str = Field(default="UTC", description="IANA name; shifts are in this local time.")
    home_lat: Latitude | None = None
    home_lon: Longitude | None = None
    areas: list[Name] = Field(default_factory=list)
    skills: dict[Name, SkillLevel] = Field(default_factory=dict, description="skill: level 1..5")
    max_concurrent: MaxConcurrent = 3
    status: EngineerStatus = EngineerStatus.AVAILABLE
    shifts: list[Shift] = Field(default_factory=list)
    absences: list[Absence] = Field(default_factory=list)
    vehicle_id: str | None = Field(default=None, max_length=64)
    preferred_by_customers: list[Name] = Field(default_factory=list)
    responsible_sites: list[Name] = Field(
        default_factory=list,
        description="Sites this engineer answers for (equipment: the registry's engineer_id).",
    )

    _zone = field_validator("timezone")(_check_zone)
    _shifts = field_validator("shifts")(_check_shifts)

    @model_validator(mode="after")
    def _home(self) -> Self:
        _check_home(self.home_lat, self.home_lon)
        return self


class EngineerCreate(EngineerBase):
    id: EngineerId


class EngineerUpdate(BaseModel):
    """Fields to change; those not sent stay as they are, lists are replaced as a whole."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    timezone: str | None = None
    home_lat: Latitude | None = None
    home_lon: Longitude | None = None
    areas: list[Name] | None = None
    skills: dict[Name, SkillLevel] | None = None
    max_concurrent: MaxConcurrent | None = None
    status: EngineerStatus | None = None
    shifts: list[Shift] | None = None
    absences: list[Absence] | None = None
    vehicle_id: str | None = Field(default=None, max_length=64)
    preferred_by_customers: list[Name] | None = None
    responsible_sites: list[Name] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        nulled = sorted(f for f in self.model_fields_set - NULLABLE if getattr(self, f) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        if {"home_lat", "home_lon"} & self.model_fields_set:
            _check_home(self.home_lat, self.home_lon)
        return self

    _zone = field_validator("timezone")(_check_zone)
    _shifts = field_validator("shifts")(_check_shifts)


class EngineerRead(EngineerBase):
    id: str
    position: Position | None = Field(description="The latest fix, with the time it was taken.")


class StatusIn(BaseModel):
    status: EngineerStatus


class ImportResult(BaseModel):
    created: list[str]
    updated: list[str]
