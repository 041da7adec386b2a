"""Ordered, versioned schema migrations, and the start-up check every process makes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Serialises concurrent `toir db migrate` runs against one database.
MIGRATION_LOCK_KEY = 7_261_001

CREATE_LEDGER = """
CREATE SCHEMA IF NOT EXISTS toir_meta;
CREATE TABLE IF NOT EXISTS toir_meta.migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class SchemaVersionError(Exception):
    """The database schema does not match what this build of toir expects."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped with this build, in order."""
    folder = resources.files("kernel") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    return available()[-1].version


def current_version(conn: psycopg.Connection) -> int:
    """The highest applied version, 0 for a database never migrated."""
    exists = conn.execute("SELECT to_regclass('toir_meta.migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM toir_meta.migrations").fetchone()
    return int(row[0]) if row else 0


def applied_versions(conn: psycopg.Connection) -> set[int]:
    exists = conn.execute("SELECT to_regclass('toir_meta.migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return set()
    return {int(v) for (v,) in conn.execute("SELECT version FROM toir_meta.migrations")}


def migrate(conn: psycopg.Connection) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    conn.autocommit = True
    conn.execute(CREATE_LEDGER)
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        return [m for m in available() if _apply_if_pending(conn, m)]
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def _apply_if_pending(conn: psycopg.Connection, migration: Migration) -> bool:
    # By set, not by maximum: a version merged late (a lower number) is still applied.
    if migration.version in applied_versions(conn):
        return False
    with conn.transaction():
        conn.execute(migration.sql.encode())
        conn.execute(
            "INSERT INTO toir_meta.migrations (version, name) VALUES (%s, %s)",
            (migration.version, migration.name),
        )
    return True


def check_schema(conn: psycopg.Connection) -> None:
    """Refuse to run on an unmigrated, outdated or newer database."""
    have, want = current_version(conn), latest_version()
    if have == 0:
        raise SchemaVersionError("the database is not migrated: run `toir db migrate`")
    missing = {m.version for m in available()} - applied_versions(conn)
    if have < want or missing:
        raise SchemaVersionError(
            f"the database schema is at version {have} (missing {sorted(missing)}), "
            f"this toir needs {want}: run `toir db migrate`"
        )
    if have > want:
        raise SchemaVersionError(
            f"the database schema is at version {have}, newer than this toir ({want}): "
            "upgrade toir before running it against this database"
        )
