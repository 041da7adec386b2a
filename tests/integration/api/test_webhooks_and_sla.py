from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tickets.users.models import Role


def test_a_webhook_secret_is_shown_only_at_creation(
    client: TestClient, token_for: TokenFactory
) -> None:
    admin = bearer(token_for(Role.ADMIN))
    created = client.post(
        "/api/v1/webhooks",
        headers=admin,
        json={"url": "https://example.org/hook", "events": ["assigned"]},
    )
    assert created.status_code == 201
    assert len(created.json()["secret"]) >= 32
    listed = client.get("/api/v1/webhooks", headers=admin).json()
    assert listed[0]["url"] == "https://example.org/hook"
    assert "secret" not in listed[0]


def test_a_webhook_url_must_be_http(client: TestClient, token_for: TokenFactory) -> None:
    response = client.post(
        "/api/v1/webhooks", headers=bearer(token_for(Role.ADMIN)), json={"url": "ftp://example.org"}
    )
    assert response.status_code == 422
    assert "body.url" in response.json()["fields"]


def test_dead_deliveries_are_listed_and_can_be_retried(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tickets.outbox (channel, destination, payload, dead_at, "
            "attempts) VALUES ('webhook', 'http://x', '{}', now(), 8)"
        )
    admin = bearer(token_for(Role.ADMIN))
    dead = client.get("/api/v1/webhooks/deliveries?state=dead", headers=admin).json()
    assert [d["attempts"] for d in dead] == [8]
    retried = client.post(f"/api/v1/webhooks/deliveries/{dead[0]['id']}/retry", headers=admin)
    assert retried.status_code == 202
    assert client.get("/api/v1/webhooks/deliveries?state=dead", headers=admin).json() == []
    pending = client.get("/api/v1/webhooks/deliveries?state=pending", headers=admin).json()
    assert [d["attempts"] for d in pending] == [0]


def test_a_customer_sla_policy_applies_to_that_customers_tickets(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    policy = {
        "priority": "high",
        "customer": "acme",
        "accept_within_min": 5,
        "arrive_within_min": 60,
        "resolve_within_min": 240,
    }
    assert client.post("/api/v1/sla-policies", headers=planner, json=policy).status_code == 201
    again = client.post("/api/v1/sla-policies", headers=planner, json=policy)
    assert again.status_code == 409
    ticket = client.post(
        "/api/v1/tickets",
        headers=planner,
        json={"title": "Chiller alarm", "priority": "high", "customer": "acme"},
    )
    body = ticket.json()
    from datetime import datetime

    created = datetime.fromisoformat(body["created_at"])
    accept_by = datetime.fromisoformat(body["sla"]["accept_by"])
    assert round((accept_by - created).total_seconds() / 60) == 5


def test_a_malformed_working_hours_calendar_is_refused(
    client: TestClient, token_for: TokenFactory
) -> None:
    policy = {
        "accept_within_min": 5,
        "arrive_within_min": 60,
        "resolve_within_min": 240,
        "working_hours": {"timezone": "UTC", "days": {"0": ["nine", "18:00"]}},
    }
    response = client.post(
        "/api/v1/sla-policies", headers=bearer(token_for(Role.PLANNER)), json=policy
    )
    assert response.status_code == 422
