"""An API client against a real database: the app runs in-process with its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from kernel.settings import Settings
from tickets.api.app import create_app
from tickets.users import service as users
from tickets.users.models import Role, UserCreate

TokenFactory = Callable[..., str]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, api_pool_size=2))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def token_for(database_url: str) -> TokenFactory:
    """Creates a user with a role (and optional engineer id) and returns a bearer token."""

    def make(role: Role, *, user_id: str | None = None, engineer_id: str | None = None) -> str:
        user_in = UserCreate(
            id=user_id or f"{role.value}-user",
            name=f"{role.value} user",
            role=role,
            engineer_id=engineer_id,
        )
        return asyncio.run(_issue(database_url, user_in))

    return make


async def _issue(database_url: str, user_in: UserCreate) -> str:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await users.create_user(conn=conn, user_in=user_in)
        return (await users.issue_token(conn=conn, user_id=user_in.id, name="test")).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
