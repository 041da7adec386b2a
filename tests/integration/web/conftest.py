"""Fixtures for the engineer app's tests: the API clients of tests/integration/api, a real
HTTP server for streams, and small factories for engineers and tickets."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from kernel.settings import Settings
from tests.integration.api.conftest import bearer, client, token_for
from tickets.api.app import create_app
from toir.processes import free_tcp_port

__all__ = ["client", "token_for"]  # fixtures shared with the API tests

SERVER_START_TIMEOUT_S = 15.0


@pytest.fixture
def api_server(database_url: str) -> Iterator[tuple[str, int]]:
    """The API served by uvicorn on a free port, in a thread: (host, port)."""
    app = create_app(Settings(database_url=database_url, api_pool_size=4))
    port = free_tcp_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "the API server did not start"
        assert thread.is_alive(), "the API server stopped at start"
        time.sleep(0.02)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(10)


class EventStream:
    """A client of GET /api/v1/live that reads one Server-Sent Event at a time."""

    def __init__(self, address: tuple[str, int], token: str, timeout_s: float = 10.0) -> None:
        self.connection = http.client.HTTPConnection(*address, timeout=timeout_s)
        self.connection.request("GET", "/api/v1/live", headers=bearer(token))
        self.response = self.connection.getresponse()

    def next_event(self) -> tuple[str, dict[str, Any]]:
        """The next event as (name, data); heartbeats and `retry:` lines are skipped."""
        name, data = "message", ""
        while True:
            line = self.response.readline().decode().rstrip("\r\n")
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data += line.partition(":")[2].strip()
            elif not line and data:
                return name, json.loads(data)

    def next_ticket_event(self) -> dict[str, Any]:
        while True:
            name, data = self.next_event()
            if name == "ticket":
                return data

    def close(self) -> None:
        self.connection.close()


def add_engineer(database_url: str, engineer_id: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tickets.engineers (id, name) VALUES (%s, %s)", (engineer_id, engineer_id)
        )


def open_ticket(client: TestClient, planner: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Pump vibrates", "priority": "high", **fields}
    response = client.post("/api/v1/tickets", headers=bearer(planner), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())
