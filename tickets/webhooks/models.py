"""Webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, HttpUrl


class WebhookCreate(BaseModel):
    url: HttpUrl
    events: list[str] = Field(default_factory=list, description="Empty: every event.")
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Generated when omitted; shown only in this reply.",
    )


class WebhookRead(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str


class Delivery(BaseModel):
    id: int
    channel: str
    destination: str
    webhook_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    last_error: str | None
