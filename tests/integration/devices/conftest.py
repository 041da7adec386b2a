"""The API client fixtures of tests/integration/api, for the registry's API tests."""

from tests.integration.api.conftest import client, token_for

__all__ = ["client", "token_for"]
