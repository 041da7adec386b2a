"""Devices in the registry, ids not registered yet, and device kinds: the API's shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.paging import ID_PATTERN

MAX_INTERVAL_S: Final = 30 * 86_400.0

DeviceId = Annotated[str, Field(pattern=ID_PATTERN)]
IntervalS = Annotated[float, Field(gt=0, le=MAX_INTERVAL_S)]


class DeviceKind(StrEnum):
    CONTROLLER = "controller"
    TRACKER = "tracker"
    PHONE = "phone"


class DeviceFields(BaseModel):
    """A device and the one asset (equipment or vehicle) it reports for, if any."""

    model_config = ConfigDict(extra="forbid")

    kind: DeviceKind
    equipment_id: DeviceId | None = None
    vehicle_id: DeviceId | None = None
    enabled: bool = True
    # Silent for longer than this, the device is offline (default: its kind's interval).
    expected_interval_s: IntervalS | None = None

    @model_validator(mode="after")
    def _one_asset(self) -> Self:
        if self.equipment_id is not None and self.vehicle_id is not None:
            raise ValueError("a device reports for equipment or a vehicle, not both")
        return self


class DeviceCreate(DeviceFields):
    id: DeviceId


class DeviceAdopt(DeviceFields):
    """What an admin says about an unknown id when registering it."""


class DeviceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DeviceKind | None = None
    equipment_id: DeviceId | None = None
    vehicle_id: DeviceId | None = None
    enabled: bool | None = None
    expected_interval_s: IntervalS | None = None


class DeviceRead(DeviceFields):
    id: str
    created_at: datetime
    updated_at: datetime
    last_seen_at: datetime | None
    has_credentials: bool


class UnknownDeviceRead(BaseModel):
    """An id that published without being registered (its messages were dead-lettered)."""

    id: str
    first_seen: datetime
    last_seen: datetime
    message_count: int
    last_topic: str | None


class DeviceKindRead(BaseModel):
    kind: DeviceKind
    expected_interval_s: float


class DeviceKindUpdate(BaseModel):
    expected_interval_s: IntervalS
