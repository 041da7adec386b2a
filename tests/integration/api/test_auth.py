from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tickets.users.models import Role


def test_a_request_without_a_token_gets_401_with_a_message(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"message": "a bearer token is required"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_valid_token_identifies_its_user(client: TestClient, token_for: TokenFactory) -> None:
    token = token_for(Role.PLANNER, user_id="anna")
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == ("anna", "planner")


def test_a_tampered_token_is_refused(client: TestClient, token_for: TokenFactory) -> None:
    token = token_for(Role.ADMIN)
    response = client.get("/api/v1/me", headers=bearer(token[:-2] + "xx"))
    assert response.status_code == 401


def test_a_revoked_token_stops_working_at_once(client: TestClient, token_for: TokenFactory) -> None:
    admin = token_for(Role.ADMIN)
    victim = token_for(Role.ENGINEER, user_id="ivan")
    token_id = victim.split("_")[1]
    assert client.get("/api/v1/me", headers=bearer(victim)).status_code == 200
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(admin)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(victim)).status_code == 401


def test_only_admins_manage_users(client: TestClient, token_for: TokenFactory) -> None:
    planner = token_for(Role.PLANNER)
    body = {"id": "new-one", "name": "New One", "role": "engineer"}
    response = client.post("/api/v1/users", headers=bearer(planner), json=body)
    assert response.status_code == 403
    assert "admin" in response.json()["message"]


def test_validation_errors_name_the_field(client: TestClient, token_for: TokenFactory) -> None:
    admin = token_for(Role.ADMIN)
    response = client.post(
        "/api/v1/users", headers=bearer(admin), json={"id": "x y", "name": "X", "role": "boss"}
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"body.id", "body.role"}


def test_an_issued_token_is_shown_once_and_stored_hashed(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    import psycopg

    admin = token_for(Role.ADMIN)
    client.post(
        "/api/v1/users",
        headers=bearer(admin),
        json={"id": "bot", "name": "Bot", "role": "device-admin"},
    )
    issued = client.post("/api/v1/users/bot/tokens", headers=bearer(admin), json={"name": "ci"})
    token = issued.json()["token"]
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT secret_sha256 FROM tickets.tokens WHERE user_id = 'bot'")
        digests = [bytes(row[0]) for row in stored.fetchall()]
    assert token.split("_", 2)[2].encode() not in digests
    assert len(digests[0]) == 32
    listed = client.get("/api/v1/tokens", headers=bearer(admin)).json()
    assert all("token" not in entry for entry in listed)
