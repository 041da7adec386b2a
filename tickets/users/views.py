"""Users and tokens over HTTP (admins manage; everyone can see themselves)."""

from __future__ import annotations

from fastapi import APIRouter, status

from tickets.api.deps import AdminUser, ConnDep, CurrentUser
from tickets.users import repository
from tickets.users import service as users
from tickets.users.models import IssuedToken, TokenCreate, TokenRead, User, UserCreate

router = APIRouter(tags=["users"])


@router.get("/me")
async def me(user: CurrentUser) -> User:
    return user


@router.get("/users")
async def list_users(conn: ConnDep, admin: AdminUser) -> list[User]:
    return await repository.list_users(conn)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(conn: ConnDep, admin: AdminUser, user_in: UserCreate) -> User:
    return await users.create_user(conn=conn, user_in=user_in)


@router.post("/users/{user_id}/tokens", status_code=status.HTTP_201_CREATED)
async def issue_token(
    conn: ConnDep, admin: AdminUser, user_id: str, token_in: TokenCreate
) -> IssuedToken:
    return await users.issue_token(conn=conn, user_id=user_id, name=token_in.name)


@router.get("/tokens")
async def list_tokens(conn: ConnDep, user: CurrentUser) -> list[TokenRead]:
    return await repository.list_tokens(conn, None if user.role == "admin" else user.id)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(conn: ConnDep, admin: AdminUser, token_id: str) -> None:
    await users.revoke_token(conn=conn, token_id=token_id)
