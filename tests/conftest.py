"""Shared fixtures: real services for integration and end-to-end tests.

PostgreSQL: `TOIR_TEST_ADMIN_DATABASE_URL` (a role that may create databases) when set,
else an embedded server for the session; every test gets its own freshly migrated
database, cloned from a template. MQTT: `TOIR_MQTT_URL` when set, else an embedded
broker for the session; tests isolate themselves by unique client and device ids.
Tests whose consumers subscribe to wildcards (the pipeline) take a private broker.
Kafka: every test that needs it gets its own Tansu broker (it starts in milliseconds),
so no test sees another's topics or consumer groups.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kernel.migrate import migrate
from toir.devstack import start_kafka, start_mqtt, start_postgres

TEMPLATE_DB = f"toir_template_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def admin_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("TOIR_TEST_ADMIN_DATABASE_URL")
    if configured:
        yield configured
        return
    service = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture(scope="session")
def template_database(admin_database_url: str) -> Iterator[str]:
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    with psycopg.connect(_with_database(admin_database_url, TEMPLATE_DB)) as conn:
        migrate(conn)
    yield TEMPLATE_DB
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')


@pytest.fixture
def database_url(admin_database_url: str, template_database: str) -> Iterator[str]:
    """A freshly migrated database of this test's own, dropped afterwards."""
    name = f"toir_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield _with_database(admin_database_url, name)
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url(admin_database_url: str) -> Iterator[str]:
    """A database with no schema at all."""
    name = f"toir_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(admin_database_url, name)
    with psycopg.connect(admin_database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("TOIR_MQTT_URL")
    if configured:
        yield configured
        return
    service = start_mqtt(tmp_path_factory.mktemp("mqtt"))
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture
def private_mqtt_url(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own, for tests that subscribe to wildcards."""
    service = start_mqtt(tmp_path / "mqtt")
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture
def kafka_url(tmp_path: Path) -> Iterator[str]:
    service = start_kafka(tmp_path / "kafka")
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture
def unique() -> str:
    """A short unique token for ids that must not collide with other tests."""
    return uuid.uuid4().hex[:8]


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    query = url.partition("?")[2]
    return f"{base}/{name}" + (f"?{query}" if query else "")
