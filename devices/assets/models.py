"""Sites, equipment and vehicles: what the API and the CSV import accept and return."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.paging import ID_PATTERN
from kernel.geo import ProjectedPolygon

DEFAULT_RADIUS_M: Final = 150.0
MAX_RADIUS_M: Final = 50_000.0
MAX_POLYGON_VERTICES: Final = 1000

AssetId = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Label = Annotated[str | None, Field(default=None, max_length=200)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]


class MeterKind(StrEnum):
    HOURS_RUN = "hours_run"
    ODOMETER_KM = "odometer_km"


class Criticality(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class SiteFields(BaseModel):
    """A customer's site; its geofence is the circle radius_m around (lat, lon), or polygon."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    address: str | None = Field(default=None, max_length=500)
    customer: Label = None
    area: Label = None
    lat: Lat | None = None
    lon: Lon | None = None
    radius_m: float | None = Field(default=None, gt=0, le=MAX_RADIUS_M)
    polygon: list[tuple[Lat, Lon]] | None = Field(
        default=None, min_length=3, max_length=MAX_POLYGON_VERTICES
    )

    @model_validator(mode="after")
    def _one_geofence(self) -> Self:
        if self.polygon is not None:
            if self.radius_m is not None:
                raise ValueError("give radius_m or polygon, not both")
            if self.lat is None or self.lon is None:
                self.lat, self.lon = ProjectedPolygon(self.polygon).centre
        elif self.lat is None or self.lon is None:
            raise ValueError("lat and lon are required unless a polygon is given")
        elif self.radius_m is None:
            self.radius_m = DEFAULT_RADIUS_M
        return self


class SiteCreate(SiteFields):
    id: AssetId


class SiteUpdate(BaseModel):
    """Fields to change; a polygon replaces the circle and radius_m the polygon."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    address: str | None = Field(default=None, max_length=500)
    customer: Label = None
    area: Label = None
    lat: Lat | None = None
    lon: Lon | None = None
    radius_m: float | None = Field(default=None, gt=0, le=MAX_RADIUS_M)
    polygon: list[tuple[Lat, Lon]] | None = Field(
        default=None, min_length=3, max_length=MAX_POLYGON_VERTICES
    )


class SiteRead(BaseModel):
    id: str
    name: str
    address: str | None
    customer: str | None
    area: str | None
    lat: float | None
    lon: float | None
    radius_m: float | None
    polygon: list[tuple[float, float]] | None
    created_at: datetime
    updated_at: datetime


class EquipmentFields(BaseModel):
    """A unit on a site: what it is, where, and who answers for it."""

    model_config = ConfigDict(extra="forbid")

    kind: Name
    site_id: AssetId | None = None
    model: Label = None
    serial: Label = None
    installed_on: date | None = None
    criticality: Criticality = Criticality.NORMAL
    meter_kinds: list[MeterKind] = Field(default_factory=list)
    engineer_id: AssetId | None = None


class EquipmentCreate(EquipmentFields):
    id: AssetId


class EquipmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Name | None = None
    site_id: AssetId | None = None
    model: Label = None
    serial: Label = None
    installed_on: date | None = None
    criticality: Criticality | None = None
    meter_kinds: list[MeterKind] | None = None
    engineer_id: AssetId | None = None


class EquipmentRead(EquipmentFields):
    id: str
    created_at: datetime
    updated_at: datetime


class VehicleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate: Label = None
    home_site_id: AssetId | None = None
    engineer_id: AssetId | None = None


class VehicleCreate(VehicleFields):
    id: AssetId


class VehicleUpdate(VehicleFields):
    """Fields to change (all optional already)."""


class VehicleRead(VehicleFields):
    id: str
    created_at: datetime
    updated_at: datetime
