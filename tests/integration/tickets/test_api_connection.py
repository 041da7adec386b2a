"""The API's connection per request: reads without a transaction block (no BEGIN and COMMIT
round trips), changes in one transaction, on the same pooled connection one after another."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kernel.settings import Settings
from tickets.api.app import create_app
from tickets.api.deps import ConnDep


async def _state(conn: psycopg.AsyncConnection) -> dict[str, object]:
    await conn.execute("SELECT 1")
    return {"autocommit": conn.autocommit, "status": conn.info.transaction_status.name}


def probed_app(database_url: str) -> FastAPI:
    """The real app, one pooled connection, and routes that report its state mid-request."""
    app = create_app(Settings(database_url=database_url, api_pool_size=1))

    @app.get("/probe")
    async def read(conn: ConnDep) -> dict[str, object]:
        return await _state(conn)

    @app.post("/probe")
    async def change(conn: ConnDep) -> dict[str, object]:
        await conn.execute("CREATE TABLE public.probe_written (id int)")
        return await _state(conn)

    @app.get("/probe/fail")
    async def fail(conn: ConnDep) -> dict[str, object]:
        await conn.execute("SELECT 1 / 0")
        return {}

    return app


@pytest.fixture
def probe(database_url: str) -> Iterator[TestClient]:
    with TestClient(probed_app(database_url), raise_server_exceptions=False) as client:
        yield client


def test_a_read_runs_without_a_transaction_block(probe: TestClient) -> None:
    assert probe.get("/probe").json() == {"autocommit": True, "status": "IDLE"}


def test_a_change_after_a_read_runs_in_a_committed_transaction(
    probe: TestClient, database_url: str
) -> None:
    probe.get("/probe")
    assert probe.post("/probe").json() == {"autocommit": False, "status": "INTRANS"}
    with psycopg.connect(database_url) as conn:
        found = conn.execute("SELECT to_regclass('public.probe_written') IS NOT NULL").fetchone()
    assert found == (True,)


def test_a_failed_read_leaves_the_connection_fit_for_a_change(probe: TestClient) -> None:
    assert probe.get("/probe/fail").status_code == 500
    assert probe.post("/probe").json() == {"autocommit": False, "status": "INTRANS"}
