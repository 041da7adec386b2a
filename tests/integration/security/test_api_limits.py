"""The API's edge over a real app and database: rate limits (429 + Retry-After) per
token and per address, body size limits (413), and probes that are never limited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kernel.settings import Settings
from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.api.conftest import token_for as token_for  # fixture
from tickets.api.app import create_app
from tickets.users.models import Role


@pytest.fixture
def limited(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TOIR_API_RATE_PER_S", "1")
    monkeypatch.setenv("TOIR_API_RATE_BURST", "3")
    monkeypatch.setenv("TOIR_API_IP_RATE_PER_S", "1")
    monkeypatch.setenv("TOIR_API_IP_RATE_BURST", "8")
    monkeypatch.setenv("TOIR_API_MAX_BODY_BYTES", "4096")
    with TestClient(create_app(Settings(database_url=database_url, api_pool_size=2))) as client:
        yield client


def test_a_token_past_its_burst_gets_429_with_retry_after(
    limited: TestClient, token_for: TokenFactory
) -> None:
    headers = bearer(token_for(Role.PLANNER))
    statuses = [limited.get("/api/v1/tickets", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = limited.get("/api/v1/tickets", headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json() == {"message": "rate limit exceeded, retry later"}


def test_each_token_has_its_own_bucket(limited: TestClient, token_for: TokenFactory) -> None:
    first = bearer(token_for(Role.PLANNER, user_id="p1"))
    second = bearer(token_for(Role.PLANNER, user_id="p2"))
    for _ in range(3):
        limited.get("/api/v1/tickets", headers=first)
    assert limited.get("/api/v1/tickets", headers=first).status_code == 429
    assert limited.get("/api/v1/tickets", headers=second).status_code == 200


def test_random_tokens_do_not_escape_the_per_address_limit(limited: TestClient) -> None:
    statuses = [
        limited.get("/api/v1/tickets", headers=bearer(f"toir_x_{n}")).status_code for n in range(10)
    ]
    assert statuses[:8] == [401] * 8  # each reached authentication, and was refused there
    assert statuses[8:] == [429, 429]


def test_probes_are_never_rate_limited(limited: TestClient) -> None:
    for _ in range(20):
        limited.get("/api/v1/tickets")
    assert limited.get("/healthz").status_code == 200
    assert limited.get("/readyz").text == "ready\n"
    metrics = limited.get("/metrics")
    assert metrics.status_code == 200
    assert 'toir_http_refused_total{reason="rate_limited"}' in metrics.text


def test_a_body_declared_too_large_gets_413_before_it_is_read(
    limited: TestClient, token_for: TokenFactory
) -> None:
    response = limited.post(
        "/api/v1/tickets",
        headers={**bearer(token_for(Role.PLANNER)), "content-type": "application/json"},
        content=b'{"title": "' + b"x" * 5000 + b'"}',
    )
    assert response.status_code == 413
    assert "4096" in response.json()["message"]


def test_a_chunked_body_is_cut_off_at_the_limit(
    limited: TestClient, token_for: TokenFactory
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = limited.post(
        "/api/v1/tickets",
        headers={**bearer(token_for(Role.PLANNER)), "content-type": "application/json"},
        content=chunks(),
    )
    assert response.status_code == 413
