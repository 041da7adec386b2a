"""Every filter and path parameter of every GET endpoint, fed SQL injection strings:
the API answers 2xx/4xx (never a database error), and nothing in the database changes.
Endpoints come from the OpenAPI schema, so new ones are covered without editing this."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient

from kernel.settings import Settings
from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.api.conftest import token_for as token_for  # fixture
from tickets.api.app import create_app
from tickets.users.models import Role

INJECTIONS = (
    "' OR '1'='1",
    "1; DROP TABLE tickets.tickets; --",
    "x'); DELETE FROM assets.devices; --",
    "%' UNION SELECT id, name, name, name FROM tickets.users --",
    '"; DROP SCHEMA telemetry CASCADE; --',
    "1 OR 1=1",
    "$$; SELECT pg_sleep(5); $$",
)
ALLOWED = {200, 400, 401, 403, 404, 409, 422}
SCHEMAS = ("assets", "telemetry", "tickets", "predictive")


@pytest.fixture
def client(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TOIR_API_RATE_PER_S", "0")  # hundreds of requests, on purpose
    monkeypatch.setenv("TOIR_API_IP_RATE_PER_S", "0")
    app = create_app(Settings(database_url=database_url, api_pool_size=2))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def get_operations(client: TestClient) -> list[tuple[str, list[dict[str, Any]]]]:
    paths: dict[str, dict[str, Any]] = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (path, ops["get"].get("parameters", []))
        for path, ops in sorted(paths.items())
        if path.startswith("/api/v1") and "get" in ops and not _streams(ops["get"])
    ]


def _streams(operation: dict[str, Any]) -> bool:
    """Server-sent events never end: not a filter, and a request would hang the test."""
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    return "text/event-stream" in content


def requests_for(
    path: str, parameters: list[dict[str, Any]]
) -> Iterator[tuple[str, dict[str, str]]]:
    """For each injection: the path with it in every path parameter, then once per
    query parameter with it as that parameter's value."""
    in_path = [p["name"] for p in parameters if p["in"] == "path"]
    in_query = [p["name"] for p in parameters if p["in"] == "query"]
    for text in INJECTIONS:
        url = path
        for name in in_path:
            url = url.replace(f"{{{name}}}", quote(text, safe=""))
        yield url, {}
        for name in in_query:
            yield (url if in_path else path), {name: text}


def snapshot(database_url: str) -> dict[str, int]:
    """Tables per schema and rows per table: what an injection would change."""
    tables_sql = "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s)"
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(tables_sql, (list(SCHEMAS),)).fetchall()
        counts = {}
        for schema, table in tables:
            query = psycopg.sql.SQL("SELECT count(*) FROM {}.{}").format(
                psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table)
            )
            row = conn.execute(query).fetchone()
            counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def test_injection_strings_in_every_filter_are_only_ever_data(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    admin = bearer(token_for(Role.ADMIN))
    opened = client.post("/api/v1/tickets", headers=admin, json={"title": "sentinel"})
    assert opened.status_code == 201, opened.text
    before = snapshot(database_url)
    operations = get_operations(client)
    assert len(operations) >= 10, "the API's GET operations were not found"

    tried, failures = 0, []
    for path, parameters in operations:
        for url, params in requests_for(path, parameters):
            response = client.get(url, params=params, headers=admin)
            tried += 1
            body = response.text.lower()
            if response.status_code not in ALLOWED or "syntax error" in body or "psycopg" in body:
                failures.append(f"{url} {params}: {response.status_code} {response.text[:200]}")

    assert failures == []
    assert tried > len(operations) * len(INJECTIONS)
    assert snapshot(database_url) == before
    sentinel = client.get(f"/api/v1/tickets/{opened.json()['id']}", headers=admin)
    assert sentinel.json()["title"] == "sentinel"
