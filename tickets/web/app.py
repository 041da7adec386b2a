"""Wiring the engineer app into the API process: one call from `create_app`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tickets.live import LiveHub
from tickets.web import pages, views


def install_web(app: FastAPI, *, api_prefix: str) -> None:
    """The PWA at /app (engineers) and /app/board (planners); the live stream and ticket
    context under `api_prefix`. Needs `app.state.pool` and `app.state.settings`."""
    app.state.live_hub = LiveHub(app.state.settings.database_url, app.state.pool)
    app.include_router(views.router, prefix=api_prefix)
    app.include_router(pages.router)
    app.mount(f"{pages.SCOPE}/static", StaticFiles(directory=pages.STATIC_DIR), name="app-static")
