"""Users, roles and tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    ENGINEER = "engineer"
    DEVICE_ADMIN = "device-admin"


class User(BaseModel):
    id: str
    name: str
    role: Role
    engineer_id: str | None = None
    created_at: datetime
    disabled_at: datetime | None = None

    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.PLANNER)


class UserCreate(BaseModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    engineer_id: str | None = None


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TokenRead(BaseModel):
    id: str
    user_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class IssuedToken(BaseModel):
    """A token as issued: the only time its secret is shown."""

    id: str
    user_id: str
    token: str
