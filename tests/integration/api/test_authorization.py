"""Every endpoint of the API, for every role and without a token: who gets 2xx, who 4xx.

The table below is the intended permission of each endpoint; a route registered in
`api_router()` that is missing from it fails the test, so a new endpoint must be added here.
Each request runs in a transaction that is rolled back, so all of them see the same seed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kernel.settings import Settings
from tests.integration.api.conftest import TokenFactory, bearer
from tickets.api.app import API_PREFIX, create_app
from tickets.api.deps import _connection
from tickets.api.limits import ApiLimitSettings
from tickets.users.models import Role

ADMIN, PLANNER, ENGINEER, DEVICE_ADMIN = Role.ADMIN, Role.PLANNER, Role.ENGINEER, Role.DEVICE_ADMIN
EVERYONE: Final = frozenset(Role)
ADMINS: Final = frozenset({ADMIN})
PLANNERS: Final = frozenset({ADMIN, PLANNER})
# Engineers see the tickets assigned to them (the seeded ticket is) and their own record.
PLANNERS_AND_ASSIGNEE: Final = frozenset({ADMIN, PLANNER, ENGINEER})
ENGINEER_THEMSELF: Final = frozenset({ENGINEER})
REGISTRY_READERS: Final = frozenset({ADMIN, PLANNER, DEVICE_ADMIN})
REGISTRY_WRITERS: Final = frozenset({ADMIN, DEVICE_ADMIN})
ROLES: Final[tuple[Role | None, ...]] = (ADMIN, PLANNER, ENGINEER, DEVICE_ADMIN, None)


@dataclass(frozen=True)
class Allowed:
    """The roles that get 2xx (the others and no token get 4xx), and a valid request."""

    roles: frozenset[Role]
    params: dict[str, str] = field(default_factory=dict)  # overrides of SEEDED path values
    json: Any = None
    csv: bytes | None = None


ROSTER_CSV = b"id,name,skills\neng-csv,From a file,hvac:2\n"
STREAMING: Final = {("GET", "/live")}
SLA_POLICY = {"accept_within_min": 10, "arrive_within_min": 60, "resolve_within_min": 600}

# (method, path under /api/v1) -> who may call it.
EXPECTED: Final[dict[tuple[str, str], Allowed]] = {
    # Users and tokens
    ("GET", "/me"): Allowed(EVERYONE),
    ("GET", "/users"): Allowed(ADMINS),
    ("POST", "/users"): Allowed(ADMINS, json={"id": "new", "name": "New", "role": "planner"}),
    ("POST", "/users/{user_id}/tokens"): Allowed(ADMINS, json={"name": "laptop"}),
    ("GET", "/tokens"): Allowed(EVERYONE),  # each sees their own; admins all
    ("DELETE", "/tokens/{token_id}"): Allowed(ADMINS),
    # Tickets
    ("GET", "/tickets"): Allowed(PLANNERS_AND_ASSIGNEE),  # engineers: filtered to their own
    ("POST", "/tickets"): Allowed(PLANNERS, json={"title": "Leak", "site_id": "s1"}),
    ("GET", "/tickets/{ticket_id}"): Allowed(PLANNERS_AND_ASSIGNEE),
    ("GET", "/tickets/{ticket_id}/history"): Allowed(PLANNERS_AND_ASSIGNEE),
    ("POST", "/tickets/{ticket_id}/actions/{action}"): Allowed(PLANNERS_AND_ASSIGNEE),
    ("GET", "/tickets/{ticket_id}/candidates"): Allowed(PLANNERS),
    ("POST", "/tickets/assign-waiting"): Allowed(PLANNERS),
    # Webhooks and SLA policies
    ("POST", "/webhooks"): Allowed(ADMINS, json={"url": "https://example.test/hook"}),
    ("GET", "/webhooks"): Allowed(ADMINS),
    ("DELETE", "/webhooks/{webhook_id}"): Allowed(ADMINS),
    ("GET", "/webhooks/deliveries"): Allowed(ADMINS),
    ("POST", "/webhooks/deliveries/{delivery_id}/retry"): Allowed(ADMINS),
    ("GET", "/sla-policies"): Allowed(PLANNERS),
    ("POST", "/sla-policies"): Allowed(PLANNERS, json={"customer": "acme", **SLA_POLICY}),
    ("PUT", "/sla-policies/{policy_id}"): Allowed(
        PLANNERS,
        json={"priority": "critical", **SLA_POLICY},  # the scope of the first policy
    ),
    ("DELETE", "/sla-policies/{policy_id}"): Allowed(PLANNERS),
    # Telemetry
    ("GET", "/vehicles/positions"): Allowed(PLANNERS),
    ("GET", "/vehicles/daily"): Allowed(PLANNERS),
    ("GET", "/vehicles/{vehicle_id}/track"): Allowed(PLANNERS),
    ("GET", "/equipment/{equipment_id}/readings"): Allowed(PLANNERS),
    # Asset registry
    ("GET", "/sites"): Allowed(REGISTRY_READERS),
    ("POST", "/sites"): Allowed(
        REGISTRY_WRITERS, json={"id": "s-new", "name": "New site", "lat": 55.7, "lon": 37.6}
    ),
    ("GET", "/sites/{site_id}"): Allowed(REGISTRY_READERS),
    ("PATCH", "/sites/{site_id}"): Allowed(REGISTRY_WRITERS, json={"name": "Renamed"}),
    ("DELETE", "/sites/{site_id}"): Allowed(REGISTRY_WRITERS, params={"site_id": "s-spare"}),
    ("GET", "/equipment"): Allowed(REGISTRY_READERS),
    ("POST", "/equipment"): Allowed(REGISTRY_WRITERS, json={"id": "eq-new", "kind": "pump"}),
    ("GET", "/equipment/{unit_id}"): Allowed(REGISTRY_READERS),
    ("PATCH", "/equipment/{unit_id}"): Allowed(REGISTRY_WRITERS, json={"model": "X-100"}),
    ("DELETE", "/equipment/{unit_id}"): Allowed(REGISTRY_WRITERS, params={"unit_id": "eq-spare"}),
    ("GET", "/vehicles"): Allowed(REGISTRY_READERS),
    ("POST", "/vehicles"): Allowed(REGISTRY_WRITERS, json={"id": "v-new"}),
    ("GET", "/vehicles/{vehicle_id}"): Allowed(REGISTRY_READERS),
    ("PATCH", "/vehicles/{vehicle_id}"): Allowed(REGISTRY_WRITERS, json={"plate": "A001AA"}),
    ("DELETE", "/vehicles/{vehicle_id}"): Allowed(
        REGISTRY_WRITERS, params={"vehicle_id": "v-spare"}
    ),
    ("GET", "/devices"): Allowed(REGISTRY_READERS),
    ("POST", "/devices"): Allowed(REGISTRY_WRITERS, json={"id": "dev-new", "kind": "tracker"}),
    ("GET", "/devices/unknown"): Allowed(REGISTRY_READERS),
    ("POST", "/devices/unknown/{device_id}/adopt"): Allowed(
        REGISTRY_WRITERS, params={"device_id": "dev-heard"}, json={"kind": "tracker"}
    ),
    ("GET", "/devices/{device_id}"): Allowed(REGISTRY_READERS),
    ("PATCH", "/devices/{device_id}"): Allowed(REGISTRY_WRITERS, json={"enabled": False}),
    ("DELETE", "/devices/{device_id}"): Allowed(
        REGISTRY_WRITERS, params={"device_id": "dev-spare"}
    ),
    ("GET", "/device-kinds"): Allowed(REGISTRY_READERS),
    ("PUT", "/device-kinds/{kind}"): Allowed(REGISTRY_WRITERS, json={"expected_interval_s": 300}),
    ("GET", "/devices/{device_id}/state"): Allowed(REGISTRY_READERS),
    ("GET", "/equipment/{unit_id}/meters"): Allowed(REGISTRY_READERS),
    ("POST", "/equipment/{unit_id}/meters/baseline"): Allowed(
        REGISTRY_WRITERS, json={"meter": "hours_run", "value": 10, "reason": "new counter"}
    ),
    ("GET", "/vehicles/{vehicle_id}/meters"): Allowed(REGISTRY_READERS),
    ("POST", "/vehicles/{vehicle_id}/meters/baseline"): Allowed(
        REGISTRY_WRITERS, json={"meter": "odometer_km", "value": 10, "reason": "new counter"}
    ),
    # Engineers
    ("GET", "/engineers"): Allowed(PLANNERS),
    ("GET", "/engineers/positions"): Allowed(PLANNERS),
    ("GET", "/plans"): Allowed(PLANNERS),
    ("POST", "/plans"): Allowed(
        PLANNERS,
        json={"name": "Service", "target_kind": "equipment", "target_id": "eq-1", "every_days": 90},
    ),
    ("GET", "/plans/{plan_id}"): Allowed(PLANNERS),
    ("PATCH", "/plans/{plan_id}"): Allowed(PLANNERS, json={"lead_days": 7}),
    ("DELETE", "/plans/{plan_id}"): Allowed(PLANNERS),
    ("POST", "/plans/{plan_id}/completions"): Allowed(
        PLANNERS, json={"subject_id": "eq-1", "done_at": "2024-06-03T08:00:00Z"}
    ),
    ("GET", "/maintenance/upcoming"): Allowed(PLANNERS),
    ("GET", "/equipment/{equipment_id}/health"): Allowed(PLANNERS_AND_ASSIGNEE),
    ("GET", "/tickets/{ticket_id}/context"): Allowed(PLANNERS_AND_ASSIGNEE),
    ("GET", "/vehicles/{vehicle_id}/days/{day}"): Allowed(PLANNERS, params={"day": "2024-06-03"}),
    ("GET", "/vehicles/{vehicle_id}/waybill.csv"): Allowed(PLANNERS),
    ("POST", "/engineers"): Allowed(PLANNERS, json={"id": "eng-new", "name": "New"}),
    ("POST", "/engineers/import"): Allowed(PLANNERS, csv=ROSTER_CSV),
    ("GET", "/engineers/{engineer_id}"): Allowed(PLANNERS_AND_ASSIGNEE),
    ("PATCH", "/engineers/{engineer_id}"): Allowed(PLANNERS, json={"phone": "+7 900"}),
    ("DELETE", "/engineers/{engineer_id}"): Allowed(PLANNERS, params={"engineer_id": "eng-spare"}),
    ("PUT", "/engineers/{engineer_id}/status"): Allowed(
        PLANNERS_AND_ASSIGNEE, json={"status": "off"}
    ),
    ("PUT", "/engineers/{engineer_id}/position"): Allowed(
        ENGINEER_THEMSELF, json={"lat": 55.7, "lon": 37.6, "at": "2024-06-03T08:00:00Z"}
    ),
    # Assignment rules
    ("GET", "/assignment-rules"): Allowed(PLANNERS),
    ("POST", "/assignment-rules"): Allowed(PLANNERS, json={"id": "rule-new", "kind": "planned"}),
    ("GET", "/assignment-rules/{rule_id}"): Allowed(PLANNERS),
    ("PATCH", "/assignment-rules/{rule_id}"): Allowed(PLANNERS, json={"require_area": False}),
    ("DELETE", "/assignment-rules/{rule_id}"): Allowed(PLANNERS),
}

SEED_SQL: Final = """
INSERT INTO assets.sites (id, name, lat, lon, area)
VALUES ('s1', 'Boiler house', 55.75, 37.62, 'north'), ('s-spare', 'Spare', 55.7, 37.6, NULL);
INSERT INTO assets.equipment (id, site_id, kind) VALUES ('eq-1', 's1', 'boiler'),
    ('eq-spare', 's1', 'pump');
INSERT INTO assets.vehicles (id) VALUES ('v-1'), ('v-spare');
INSERT INTO assets.devices (id, kind, equipment_id) VALUES ('dev-1', 'controller', 'eq-1'),
    ('dev-spare', 'tracker', NULL);
INSERT INTO assets.unknown_devices (id, first_seen, last_seen, message_count)
VALUES ('dev-heard', now(), now(), 1);
INSERT INTO tickets.engineers (id, name) VALUES ('eng-own', 'Ivan'), ('eng-spare', 'Spare');
INSERT INTO tickets.assignment_rules (id, weights_pct) VALUES ('rule-1', '{"travel": 100}');
UPDATE assets.equipment SET engineer_id = 'eng-own' WHERE id = 'eq-1';
"""


@dataclass(frozen=True)
class World:
    """The client, a token per role, and the path values of the seeded records."""

    client: TestClient
    tokens: dict[Role, str]
    params: dict[str, str]


def _seed(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SEED_SQL)

        def one(sql: str, *args: object) -> str:
            row = conn.execute(sql, args).fetchone()
            assert row is not None
            return str(row[0])

        ticket_id = one(
            "INSERT INTO tickets.tickets (kind, priority, title, site_id, status, assignee_id) "
            "VALUES ('breakdown', 'high', 'Leak', 's1', 'assigned', 'eng-own') RETURNING id"
        )
        webhook_id = one(
            "INSERT INTO tickets.webhooks (url, secret) "
            "VALUES ('https://example.test/h', 'a-secret-of-some-length') RETURNING id"
        )
        delivery_id = one(
            "INSERT INTO tickets.outbox (channel, destination, webhook_id, payload, dead_at) "
            "VALUES ('webhook', 'https://example.test/h', %s, '{}', now()) RETURNING id",
            int(webhook_id),
        )
        policy_id = one("SELECT min(id) FROM tickets.sla_policies")
        plan_id = one(
            "INSERT INTO predictive.plans (name, target_kind, target_id, duration_h, every_days) "
            "VALUES ('Service', 'equipment', 'eq-1', 1, 90) RETURNING id"
        )
    return {
        "ticket_id": ticket_id,
        "webhook_id": webhook_id,
        "delivery_id": delivery_id,
        "policy_id": policy_id,
        "plan_id": plan_id,
        "action": "accept",
        "site_id": "s1",
        "unit_id": "eq-1",
        "equipment_id": "eq-1",
        "vehicle_id": "v-1",
        "device_id": "dev-1",
        "kind": "tracker",
        "engineer_id": "eng-own",
        "rule_id": "rule-1",
        "user_id": "spare",
    }


def _roll_back_every_request(app: FastAPI) -> None:
    pool = app.state.pool

    async def connection() -> AsyncIterator[psycopg.AsyncConnection]:
        async with pool.connection() as conn:
            try:
                yield conn
            finally:
                await conn.rollback()

    app.dependency_overrides[_connection] = connection


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The API with its rate limits off: this test sends hundreds of requests from one
    address in a few seconds (tests/integration/security covers the limits)."""
    no_limits = ApiLimitSettings(api_rate_per_s=0, api_ip_rate_per_s=0)
    app = create_app(Settings(database_url=database_url, api_pool_size=2), no_limits)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, token_for: TokenFactory, database_url: str) -> Iterator[World]:
    tokens = {role: token_for(role) for role in Role if role is not ENGINEER}
    tokens[ENGINEER] = token_for(ENGINEER, user_id="ivan", engineer_id="eng-own")
    spare_token = token_for(PLANNER, user_id="spare")
    params = _seed(database_url) | {"token_id": spare_token.split("_")[1]}
    app = client.app
    assert isinstance(app, FastAPI)
    _roll_back_every_request(app)
    # The same app, its pool opened by `client` (so no `with`: that would run the lifespan
    # again), but here a 500 is a mismatch to list rather than an exception.
    quiet = TestClient(app, raise_server_exceptions=False)
    yield World(quiet, tokens, params)
    quiet.close()
    app.dependency_overrides.clear()


def registered_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path under /api/v1) of every API route, looking inside included routers."""
    found = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for entry in contexts() if callable(contexts) else [route]:
            path = str(getattr(entry, "path", ""))
            if path.startswith(f"{API_PREFIX}/"):
                methods = set(getattr(entry, "methods", ())) - {"HEAD"}
                found |= {(method, path.removeprefix(API_PREFIX)) for method in methods}
    return found


def _status(world: World, method: str, path: str, allowed: Allowed, role: Role | None) -> int:
    url = API_PREFIX + path.format(**(world.params | allowed.params))
    headers = bearer(world.tokens[role]) if role else {}
    body: dict[str, Any] = {}
    if allowed.csv is not None:
        body = {"content": allowed.csv}
        headers["Content-Type"] = "text/csv"
    elif allowed.json is not None:
        body = {"json": allowed.json}
    return world.client.request(method, url, headers=headers, **body).status_code


def test_every_registered_endpoint_is_in_the_table(client: TestClient) -> None:
    assert isinstance(client.app, FastAPI)
    registered = registered_endpoints(client.app)
    registered -= STREAMING  # an allowed request never ends; tests/integration/web covers it
    assert sorted(registered - EXPECTED.keys()) == [], "add these endpoints to EXPECTED"
    assert sorted(EXPECTED.keys() - registered) == [], "these endpoints no longer exist"


def test_every_role_gets_2xx_where_the_table_allows_and_4xx_elsewhere(world: World) -> None:
    assert isinstance(world.client.app, FastAPI)
    registered = registered_endpoints(world.client.app)
    mismatches = []
    for (method, path), allowed in sorted(EXPECTED.items()):
        if (method, path) not in registered:
            continue  # reported by the test above
        for role in ROLES:
            status = _status(world, method, path, allowed, role)
            expected = "2xx" if role in allowed.roles else "4xx"
            if f"{status // 100}xx" != expected:
                who = role.value if role else "no token"
                mismatches.append(f"{method} {path} as {who}: expected {expected}, got {status}")
    assert not mismatches, "\n".join(mismatches)
