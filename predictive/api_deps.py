"""FastAPI dependencies of the predictive routers, declared once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from predictive.settings import HealthSettings, load_health_settings


def _health_settings(request: Request) -> HealthSettings:
    # Read on first use and kept with the app: settings never change while it runs.
    found = getattr(request.app.state, "health_settings", None)
    if not isinstance(found, HealthSettings):
        found = request.app.state.health_settings = load_health_settings()
    return found


HealthDep = Annotated[HealthSettings, Depends(_health_settings)]
