"""Offset pagination shared by the registry's list endpoints and commands."""

from __future__ import annotations

from typing import Final, Generic, TypeVar

from pydantic import BaseModel, Field

MAX_PAGE_SIZE: Final = 500
DEFAULT_PAGE_SIZE: Final = 100
# Identifiers of sites, equipment, vehicles, devices: the device-id alphabet for all.
ID_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,64}$"

ItemT = TypeVar("ItemT")


class PageIn(BaseModel):
    """Which slice of a list to return."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0)


class Page(BaseModel, Generic[ItemT]):
    """One slice of a list ordered by id; `next_offset` is None on the last one."""

    items: list[ItemT]
    limit: int
    offset: int
    next_offset: int | None


def page_of(rows: list[ItemT], page: PageIn) -> Page[ItemT]:
    """A page from up to limit + 1 rows fetched at page.offset (the extra one means "more")."""
    more = len(rows) > page.limit
    return Page[ItemT](
        items=rows[: page.limit],
        limit=page.limit,
        offset=page.offset,
        next_offset=page.offset + page.limit if more else None,
    )
