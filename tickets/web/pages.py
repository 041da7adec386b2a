"""The app's pages, manifest and service worker. Static files need no build step; the service
worker carries a hash of them, so changing any file installs a new worker and a fresh cache."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

STATIC_DIR: Final = Path(__file__).with_name("static")
SCOPE: Final = "/app"  # covers /app itself, which the default scope /app/ would not
NO_CACHE: Final = {"Cache-Control": "no-cache"}

router = APIRouter(prefix=SCOPE, include_in_schema=False)


@cache
def asset_version() -> str:
    """A short hash of every static file: the service worker's cache version."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@router.get("")
async def engineer_app() -> FileResponse:
    return FileResponse(STATIC_DIR / "engineer.html", headers=NO_CACHE)


@router.get("/board")
async def dispatch_board() -> FileResponse:
    return FileResponse(STATIC_DIR / "board.html", headers=NO_CACHE)


@router.get("/manifest.webmanifest")
async def manifest() -> FileResponse:
    return FileResponse(STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json")


@router.get("/sw.js")
async def service_worker() -> Response:
    source = (STATIC_DIR / "sw.js").read_text("utf-8").replace("__VERSION__", asset_version())
    headers = {**NO_CACHE, "Service-Worker-Allowed": SCOPE}
    return Response(source, media_type="text/javascript", headers=headers)
