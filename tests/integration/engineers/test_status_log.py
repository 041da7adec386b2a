"""Every change of an engineer's status set by a person is logged with who made it."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.engineers.factories import engineer_body, roster
from tickets.users.models import Role

URL = "/api/v1/engineers"


def _log(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT engineer_id, from_status, to_status, actor_kind, actor_id "
            "FROM tickets.engineer_status_log ORDER BY id"
        ).fetchall()


def test_status_changes_by_hand_are_logged_with_who_made_them(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    planner = bearer(token_for(Role.PLANNER, user_id="olga"))
    ivan = bearer(token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1"))
    assert client.post(URL, headers=planner, json=engineer_body("eng-1")).status_code == 201

    for headers, status in [(ivan, "off"), (ivan, "off"), (planner, "en_route")]:
        response = client.put(f"{URL}/eng-1/status", headers=headers, json={"status": status})
        assert response.status_code == 200, response.text
    patched = client.patch(f"{URL}/eng-1", headers=planner, json={"status": "available"})
    assert patched.status_code == 200, patched.text
    imported = client.post(
        f"{URL}/import",
        headers=planner,
        content=roster("eng-1,Ivan,off", header="id,name,status"),
    )
    assert imported.status_code == 200, imported.text

    assert _log(database_url) == [
        ("eng-1", "available", "off", "engineer", "eng-1"),  # set twice, changed once
        ("eng-1", "off", "en_route", "user", "olga"),
        ("eng-1", "en_route", "available", "user", "olga"),
        ("eng-1", "available", "off", "user", "olga"),
    ]
