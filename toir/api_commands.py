"""Commands of the API side: serve it, and manage tokens from the shell."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

import psycopg
import typer

from kernel.errors import DomainError
from tickets.users import service as users
from tickets.users.models import IssuedToken, Role, UserCreate
from toir.cli import _database_errors, _readable_errors, _require, _settings, app, fail

token_app = typer.Typer(no_args_is_help=True, help="API bearer tokens.")
app.add_typer(token_app, name="token")


@app.command()
def api() -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from kernel.db import verify_schema
    from tickets.api.app import create_app

    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    with _readable_errors(), _database_errors():
        verify_schema(settings.database_url)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's loggers propagate to ours: one format, secrets filtered
        timeout_graceful_shutdown=5,
    )


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="The user's role.")],
    name: Annotated[str, typer.Option(help="The person's or program's name.")],
    user: Annotated[str | None, typer.Option(help="User id (default: from the name).")] = None,
    engineer: Annotated[str | None, typer.Option(help="Engineer id, for role engineer.")] = None,
) -> None:
    """Create the user if needed and print a new token for it, once."""
    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    user_in = UserCreate(id=user or _slug(name), name=name, role=role, engineer_id=engineer)
    with _database_errors():
        issued = asyncio.run(_issue(settings.database_url, user_in))
    typer.echo(f"user {issued.user_id}, token id {issued.id} (shown once, keep it secret):")
    typer.echo(issued.token)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token: it stops working at once."""
    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    with _database_errors():
        asyncio.run(_revoke(settings.database_url, token_id))
    typer.echo(f"token {token_id} revoked")


async def _issue(database_url: str, user_in: UserCreate) -> IssuedToken:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        try:
            existing = await users.get_user(conn=conn, user_id=user_in.id)
            if existing.role != user_in.role:
                fail(f"user {user_in.id} exists with role {existing.role}, not {user_in.role}")
        except DomainError:
            await users.create_user(conn=conn, user_in=user_in)
        return await users.issue_token(conn=conn, user_id=user_in.id, name=user_in.name)


async def _revoke(database_url: str, token_id: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        try:
            await users.revoke_token(conn=conn, token_id=token_id)
        except DomainError as exc:
            fail(str(exc))


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.@-]+", "-", name.strip().lower()).strip("-")
    return slug[:64] or "user"
