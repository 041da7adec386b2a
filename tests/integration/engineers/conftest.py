"""The API client and token fixtures, shared with the API tests."""

from tests.integration.api.conftest import client, token_for

__all__ = ["client", "token_for"]
