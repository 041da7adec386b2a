"""The app is served by the API: pages, manifest, service worker, and a ticket's context."""

from __future__ import annotations

import re

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.web.conftest import add_engineer, open_ticket
from tickets.users.models import Role
from tickets.web.pages import asset_version


def test_the_engineer_app_and_the_board_are_pages_that_link_their_manifest(
    client: TestClient,
) -> None:
    for path, script in (("/app", "engineer.js"), ("/app/board", "board.js")):
        page = client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert '<link rel="manifest" href="/app/manifest.webmanifest">' in page.text
        assert f'src="/app/static/{script}"' in page.text
        assert 'name="viewport"' in page.text


def test_the_manifest_makes_an_installable_standalone_app(client: TestClient) -> None:
    response = client.get("/app/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/app",
        "/app",
        "standalone",
    )
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_the_service_worker_may_control_the_app_and_precaches_files_that_exist(
    client: TestClient,
) -> None:
    response = client.get("/app/sw.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/app"
    assert response.headers["cache-control"] == "no-cache"
    assert f'const VERSION = "{asset_version()}";' in response.text
    shell = re.search(r"const SHELL = \[(.*?)\];", response.text, re.DOTALL)
    assert shell is not None
    paths = re.findall(r'"(/app[^"]*)"', shell.group(1))
    assert "/app" in paths and "/app/static/engineer.js" in paths
    for path in paths:  # one missing file would make the worker's install fail
        assert client.get(path).status_code == 200, path


def test_the_scripts_are_served_as_javascript_modules(client: TestClient) -> None:
    for name in ("common.js", "queue.js", "detail.js", "conflicts.js", "engineer.js", "board.js"):
        response = client.get(f"/app/static/{name}")
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]


def test_an_engineer_reads_the_equipment_and_site_of_own_tickets_only(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO assets.sites (id, name, address, lat, lon) "
            "VALUES ('s1', 'Boiler house', '1 Mill Lane', 55.75, 37.62)"
        )
        conn.execute(
            "INSERT INTO assets.equipment (id, site_id, kind, model, criticality) "
            "VALUES ('pump-7', 's1', 'pump', 'Grundfos CR 10', 'high')"
        )
    add_engineer(database_url, "eng-1")
    planner = token_for(Role.PLANNER)
    mine = open_ticket(client, planner, equipment_id="pump-7")
    other = open_ticket(client, planner, equipment_id="pump-7")
    client.post(
        f"/api/v1/tickets/{mine['id']}/actions/assign",
        headers=bearer(planner),
        json={"assignee_id": "eng-1"},
    )
    engineer_token = token_for(Role.ENGINEER, user_id="ivan", engineer_id="eng-1")

    response = client.get(f"/api/v1/tickets/{mine['id']}/context", headers=bearer(engineer_token))

    assert response.status_code == 200, response.text
    context = response.json()
    assert context["equipment"]["model"] == "Grundfos CR 10"
    assert (context["site"]["name"], context["site"]["address"]) == ("Boiler house", "1 Mill Lane")
    assert context["site"]["map_url"] == (
        "https://www.openstreetmap.org/?mlat=55.750000&mlon=37.620000#map=17/55.750000/37.620000"
    )
    theirs = client.get(f"/api/v1/tickets/{other['id']}/context", headers=bearer(engineer_token))
    assert theirs.status_code == 403
