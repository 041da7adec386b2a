from tests.integration.api.conftest import client, token_for  # noqa: F401  # fixtures
