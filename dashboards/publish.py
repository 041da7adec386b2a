"""Publishing the dashboards to a running Grafana through its HTTP API (grafana-client).

Idempotent: a dashboard whose stored JSON already equals the built one is left alone, so
publishing twice changes nothing the second time, not even the version Grafana keeps.
Endpoints used: GET/POST /api/folders, GET /api/dashboards/uid/{uid}, POST /api/dashboards/db.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import niquests
from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaUnauthorizedError,
)

from dashboards.grafana import FOLDER_TITLE, FOLDER_UID, JSON

DEFAULT_TIMEOUT_S = 10.0
# Set by Grafana on save, not by the builders: ignored when comparing.
ASSIGNED_BY_GRAFANA = ("id", "version")


class PublishError(Exception):
    """Publishing failed; the message is one line for the operator."""


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class PublishResult:
    folder_created: bool = False
    outcomes: dict[str, Outcome] = field(default_factory=dict)


class Grafana:
    """The calls publishing makes, typed: grafana-client's own methods are not."""

    def __init__(self, api: Any) -> None:
        self._api = api

    def folder(self, uid: str) -> JSON | None:
        return _none_if_missing(lambda: self._api.folder.get_folder(uid))

    def create_folder(self, uid: str, title: str) -> None:
        self._api.folder.create_folder(title, uid=uid)

    def dashboard(self, uid: str) -> JSON | None:
        return _none_if_missing(lambda: self._api.dashboard.get_dashboard(uid))

    def save_dashboard(self, payload: JSON) -> None:
        self._api.dashboard.update_dashboard(payload)


def connect(url: str, token: str | None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Grafana:
    """A client for the Grafana at url (a token, or user:password in the URL)."""
    if not url.startswith(("http://", "https://")):
        raise PublishError(f"the Grafana URL must start with http:// or https://, not {url!r}")
    return Grafana(GrafanaApi.from_url(url, credential=token or None, timeout=timeout_s))


def publish(
    grafana: Grafana, dashboards: Sequence[JSON], *, url: str, message: str
) -> PublishResult:
    """Ensure the folder, then create or update every dashboard in it by uid."""
    result = PublishResult()
    with _readable_errors(url):
        result.folder_created = _ensure_folder(grafana)
        for board in dashboards:
            result.outcomes[board["uid"]] = _upsert(grafana, board, message)
    return result


def _ensure_folder(grafana: Grafana) -> bool:
    if grafana.folder(FOLDER_UID) is not None:
        return False
    grafana.create_folder(FOLDER_UID, FOLDER_TITLE)
    return True


def _upsert(grafana: Grafana, board: JSON, message: str) -> Outcome:
    stored = grafana.dashboard(board["uid"])
    if stored is not None and _same(stored, board):
        return Outcome.UNCHANGED
    grafana.save_dashboard(
        {"dashboard": board, "folderUid": FOLDER_UID, "overwrite": True, "message": message}
    )
    return Outcome.CREATED if stored is None else Outcome.UPDATED


def _same(stored: JSON, board: JSON) -> bool:
    content = {k: v for k, v in stored.get("dashboard", {}).items() if k not in ASSIGNED_BY_GRAFANA}
    folder = stored.get("meta", {}).get("folderUid")
    return bool(content == board and folder == FOLDER_UID)


def _none_if_missing(get: Callable[[], JSON]) -> JSON | None:
    try:
        return get()
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


@contextlib.contextmanager
def _readable_errors(url: str) -> Iterator[None]:
    """Turn the client's failures into one line that says what to do."""
    try:
        yield
    except GrafanaUnauthorizedError as exc:
        raise PublishError(
            f"Grafana at {url} refused the credentials (401): check GRAFANA_TOKEN"
        ) from exc
    except GrafanaClientError as exc:
        if exc.status_code == 403:
            raise PublishError(
                f"Grafana at {url} denied access (403): the token needs the Editor role"
            ) from exc
        raise PublishError(f"Grafana at {url} refused the request: {exc.message}") from exc
    except GrafanaException as exc:
        # Status 0: the client's wrapping of a timeout or a transport failure.
        if exc.status_code == 0:
            raise PublishError(f"cannot reach Grafana at {url}: {_reason(exc)}") from exc
        raise PublishError(f"Grafana at {url} failed: {_reason(exc)}") from exc
    except niquests.exceptions.RequestException as exc:
        raise PublishError(f"cannot reach Grafana at {url}: {_reason(exc)}") from exc


# The transport's messages nest three exceptions deep; these say what happened.
REASONS = (
    ("Connection refused", "connection refused"),
    ("resolve", "host name not found"),
    ("timed out", "timed out"),
    ("Timeout", "timed out"),
    ("CERTIFICATE", "TLS certificate rejected"),
)
MAX_REASON_CHARS = 200


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker, reason in REASONS:
        if marker in text:
            return reason
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:MAX_REASON_CHARS]
