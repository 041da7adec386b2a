from datetime import UTC, datetime

import pytest

from dashboards.variables import AREA, VEHICLE
from tests.unit.dashboards.macros import ALL, TimeRange, expand, interval_text, rfc3339

RANGE = TimeRange(
    datetime(2025, 3, 1, 6, tzinfo=UTC), datetime(2025, 3, 1, 12, 30, 0, 250_000, UTC)
)


def run(sql: str, **selections: object) -> str:
    return expand(
        sql,
        time_range=RANGE,
        interval_ms=60_000,
        definitions=[AREA, VEHICLE],
        selections=selections,  # type: ignore[arg-type]
    )


def test_time_filter_and_bounds_are_rfc3339_in_utc() -> None:
    sql = run("WHERE $__timeFilter(ts) AND x > $__timeFrom() AND y < $__timeTo()")
    assert sql == (
        "WHERE ts BETWEEN '2025-03-01T06:00:00Z' AND '2025-03-01T12:30:00.25Z' "
        "AND x > '2025-03-01T06:00:00Z' AND y < '2025-03-01T12:30:00.25Z'"
    )


def test_interval_variables() -> None:
    assert run("$__interval_ms / $__interval") == "60000 / 1m"
    assert [interval_text(ms) for ms in (500, 20_000, 3_600_000, 86_400_000)] == [
        "500ms",
        "20s",
        "1h",
        "1d",
    ]


def test_multi_value_variables_quote_each_value() -> None:
    assert run("area IN ($area)", area=["north", "o'hara"]) == "area IN ('north','o''hara')"


def test_all_inserts_the_custom_all_value_unquoted() -> None:
    assert run("'__all' IN ($area)", area=ALL) == "'__all' IN ('__all')"


def test_a_single_value_variable_is_inserted_bare() -> None:
    assert (
        run("id = '$vehicle' OR id = '${vehicle}'", vehicle="v'1") == "id = 'v''1' OR id = 'v''1'"
    )


def test_unknown_macros_are_refused() -> None:
    with pytest.raises(ValueError, match="__timeGroup"):
        run("SELECT $__timeGroup(ts, '5m')")


def test_rfc3339_trims_the_fraction() -> None:
    assert rfc3339(datetime(2025, 1, 2, 3, 4, 5, 120_000, UTC)) == "2025-01-02T03:04:05.12Z"
