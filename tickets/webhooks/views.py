"""Webhook subscriptions and deliveries over HTTP (admins)."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from kernel.errors import NotFound
from tickets.api.deps import AdminUser, ConnDep
from tickets.webhooks import repository
from tickets.webhooks.models import Delivery, WebhookCreate, WebhookCreated, WebhookRead

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
SECRET_BYTES = 32


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(conn: ConnDep, admin: AdminUser, hook_in: WebhookCreate) -> WebhookCreated:
    secret = hook_in.secret or secrets.token_urlsafe(SECRET_BYTES)
    hook = await repository.insert(conn, url=str(hook_in.url), events=hook_in.events, secret=secret)
    return WebhookCreated(**hook.model_dump(), secret=secret)


@router.get("")
async def list_webhooks(conn: ConnDep, admin: AdminUser) -> list[WebhookRead]:
    return await repository.list_all(conn)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(conn: ConnDep, admin: AdminUser, webhook_id: int) -> None:
    if not await repository.deactivate(conn, webhook_id):
        raise NotFound(f"webhook {webhook_id} not found")


@router.get("/deliveries")
async def list_deliveries(
    conn: ConnDep,
    admin: AdminUser,
    state: Literal["pending", "delivered", "dead"] = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Delivery]:
    return await repository.deliveries(conn, state=state, limit=limit)


@router.post("/deliveries/{delivery_id}/retry", status_code=status.HTTP_202_ACCEPTED)
async def retry_delivery(conn: ConnDep, admin: AdminUser, delivery_id: int) -> None:
    if not await repository.retry(conn, delivery_id):
        raise NotFound(f"no dead delivery {delivery_id}")
