"""A database seeded once per test module: the panel queries only read it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.integration.dashboards.factories import Seeded, seed


@pytest.fixture(scope="module")
def reporting_url(admin_database_url: str, template_database: str) -> Iterator[str]:
    name = f"toir_reporting_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    base, _, rest = admin_database_url.rpartition("/")
    query = rest.partition("?")[2]
    yield f"{base}/{name}" + (f"?{query}" if query else "")
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def seeded(reporting_url: str) -> Seeded:
    return seed(reporting_url)
