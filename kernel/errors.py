"""Domain errors shared by every service layer; the API maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service function raises on purpose."""


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know it exists)."""


class Conflict(DomainError):
    """The request contradicts the current state (e.g. an invalid transition)."""

    def __init__(self, message: str, *, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """No valid credentials."""


class Invalid(DomainError):
    """Well-formed input the domain refuses; `fields` names what is wrong."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}
