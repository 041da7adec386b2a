"""`/metrics`, `/healthz` and `/readyz` for a FastAPI process (the API), matching what
kernel.health_server serves for ingest and stream. Outside `/api/v1` and without auth,
as probes and scrapers expect; the reverse proxy decides who may reach them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from kernel.metrics import CONTENT_TYPE, exposition
from kernel.observability import database_reachable

PROBE_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})


def probes_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    @router.get("/readyz")
    async def readyz(request: Request) -> PlainTextResponse:
        reason = await database_reachable(request.app.state.pool)
        if reason is None:
            return PlainTextResponse("ready\n")
        return PlainTextResponse(f"not ready: {reason}\n", status_code=503)

    @router.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE)

    return router
