"""The HTTP API process: `create_app(settings)` is its composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from devices.assets.views import router as assets_router
from devices.telemetry.views import router as telemetry_router
from devices.views import router as devices_router
from kernel.db import create_pool
from kernel.settings import Settings
from predictive.equipment_health.views import router as equipment_health_router
from predictive.plans.views import router as plans_router
from stream.state.views import router as state_router
from tickets.api.errors import install_error_handlers
from tickets.api.limits import ApiLimitSettings, install_limits_and_probes
from tickets.batch_views import router as batch_router
from tickets.candidates_views import router as candidates_router
from tickets.engineers.views import router as engineers_router
from tickets.field.views import router as field_router
from tickets.rules_views import router as rules_router
from tickets.sla_policies import router as sla_router
from tickets.users.views import router as users_router
from tickets.views import router as tickets_router
from tickets.web.app import install_web
from tickets.webhooks.views import router as webhooks_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings, limits: ApiLimitSettings | None = None) -> FastAPI:
    """The FastAPI application with every router, its pool opened in the lifespan
    (`limits` defaults to the TOIR_API_* environment)."""
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
    install_limits_and_probes(app, limits)
    app.include_router(api_router())
    install_web(app, api_prefix=API_PREFIX)
    return app


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(users_router)
    router.include_router(tickets_router)
    router.include_router(webhooks_router)
    router.include_router(sla_router)
    router.include_router(telemetry_router)
    router.include_router(assets_router)
    router.include_router(devices_router)
    router.include_router(state_router)
    router.include_router(field_router)  # before engineers: /engineers/positions is no id
    router.include_router(engineers_router)
    router.include_router(rules_router)
    router.include_router(candidates_router)
    router.include_router(batch_router)
    router.include_router(plans_router)
    router.include_router(equipment_health_router)
    return router
