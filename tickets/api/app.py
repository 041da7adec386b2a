"""The HTTP API process: `create_app(settings)` is its composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from devices.telemetry.views import router as telemetry_router
from kernel.db import create_pool
from kernel.settings import Settings
from tickets.api.errors import install_error_handlers
from tickets.sla_policies import router as sla_router
from tickets.users.views import router as users_router
from tickets.views import router as tickets_router
from tickets.webhooks.views import router as webhooks_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI application with every router, its pool opened in the lifespan."""
    assert settings.database_url
    pool = create_pool(settings.database_url, max_size=settings.api_pool_size, name="api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="toir", version="0.1.0", lifespan=lifespan, docs_url="/docs")
    app.state.pool = pool
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(api_router())
    return app


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(users_router)
    router.include_router(tickets_router)
    router.include_router(webhooks_router)
    router.include_router(sla_router)
    router.include_router(telemetry_router)
    return router
