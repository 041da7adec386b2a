"""The Grafana role reads the reporting views and nothing else (one migrated database for
the module: these tests change nothing they keep)."""

from __future__ import annotations

import psycopg
import pytest

ROLE = "toir_grafana"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def test_the_role_cannot_log_in_until_the_operator_lets_it(reporting_url: str) -> None:
    with psycopg.connect(reporting_url) as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit "
            "FROM pg_roles WHERE rolname = %s",
            (ROLE,),
        ).fetchone()
    assert row is not None
    assert row[:4] == (False, False, False, False)


def test_the_reporting_schema_holds_only_views(reporting_url: str) -> None:
    with psycopg.connect(reporting_url) as conn:
        kinds = conn.execute(
            "SELECT DISTINCT c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'reporting'"
        ).fetchall()
    assert kinds == [("v",)]


def test_the_role_may_select_exactly_the_reporting_views(reporting_url: str) -> None:
    with psycopg.connect(reporting_url) as conn:
        readable = conn.execute(
            "SELECT n.nspname, c.relkind, count(*) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname <> ALL (%s) AND n.nspname NOT LIKE 'pg_temp%%' "
            "  AND has_table_privilege(%s, c.oid, 'SELECT') "
            "GROUP BY 1, 2",
            (list(SYSTEM_SCHEMAS), ROLE),
        ).fetchall()
        views = conn.execute(
            "SELECT count(*) FROM pg_views WHERE schemaname = 'reporting'"
        ).fetchone()
    assert views is not None
    assert readable == [("reporting", "v", views[0])]


def test_every_view_reads_as_the_role(reporting_url: str) -> None:
    with psycopg.connect(reporting_url) as conn:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT viewname FROM pg_views WHERE schemaname = 'reporting' ORDER BY 1"
            )
        ]
        conn.execute(f"SET ROLE {ROLE}")
        for name in names:
            conn.execute(f"SELECT * FROM reporting.{name} LIMIT 1").fetchall()
    assert len(names) >= 20


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM tickets.tickets",
        "SELECT * FROM tickets.tokens",
        "SELECT * FROM telemetry.readings",
        "SELECT * FROM assets.devices",
        "INSERT INTO reporting.dead_letters VALUES (now(), 't', 'r', 1)",
        "UPDATE reporting.sites SET name = 'x'",
        "CREATE VIEW reporting.mine AS SELECT 1",
    ],
)
def test_the_role_can_do_nothing_else(reporting_url: str, statement: str) -> None:
    with (
        psycopg.connect(reporting_url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(f"SET ROLE {ROLE}")
        conn.execute(statement.encode())


def test_views_a_later_migration_adds_are_readable_without_a_new_grant(
    reporting_url: str,
) -> None:
    with psycopg.connect(reporting_url) as conn, conn.transaction(force_rollback=True):
        conn.execute("CREATE VIEW reporting.later AS SELECT 1 AS one")
        conn.execute(f"SET ROLE {ROLE}")
        assert conn.execute("SELECT one FROM reporting.later").fetchone() == (1,)
