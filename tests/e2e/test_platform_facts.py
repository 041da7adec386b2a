"""The Platform dashboard's facts, filled by the running stream worker: dead letters counted
by reason and consumer lag sampled, as Grafana's panels read them."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg

from dashboards import platform
from dashboards.grafana import JSON
from kernel.clock import utcnow
from tests.e2e.harness import Pipeline
from tests.e2e.test_pipeline import bad_messages, reading
from tests.unit.dashboards.macros import TimeRange, expand

WAIT_S = 60.0
INTERVAL_MS = 60_000


def test_dead_letters_and_lag_reach_the_platform_dashboard(pipeline: Pipeline) -> None:
    pipeline.stream.env["TOIR_CONSUMER_LAG_INTERVAL_S"] = "1"
    pipeline.register("eq", "veh")
    pipeline.register("off", enabled=False)
    pipeline.start()
    invalid, expected_reasons = bad_messages(pipeline)
    valid = [reading(pipeline, "eq", i) for i in range(200)]
    assert pipeline.publish_all(valid + invalid) == len(valid) + len(invalid)
    assert pipeline.wait_stored(len(valid)) == len(valid)

    counted = _wait_for(lambda: _counted_by_reason(pipeline), expected_reasons)
    assert counted == expected_reasons, pipeline.stream.log_tail()
    assert _wait_for(lambda: _latest_lag(pipeline), 0) == 0, "the stream never caught up"

    board = platform.build()
    assert _panel_rows(pipeline, board, "Dead letters by reason"), "no dead-letter bars"
    assert _panel_rows(pipeline, board, "Consumer lag"), "no lag series"
    groups = {group for group, _ in _latest_lag_rows(pipeline)}
    assert {"toir-stream", "toir-stream-dead-letters"} <= groups


def _counted_by_reason(pipeline: Pipeline) -> Counter[str]:
    with psycopg.connect(pipeline.urls.database_url) as conn:
        rows = conn.execute(
            "SELECT reason, sum(messages) FROM telemetry.dead_letter_counts GROUP BY 1"
        ).fetchall()
    return Counter({reason: int(total) for reason, total in rows})


def _latest_lag_rows(pipeline: Pipeline) -> list[tuple[str, int]]:
    """(group, lag) of every partition's newest sample."""
    with psycopg.connect(pipeline.urls.database_url) as conn:
        return conn.execute(
            "SELECT DISTINCT ON (group_id, topic, partition) group_id, lag "
            "FROM telemetry.consumer_lag ORDER BY group_id, topic, partition, observed_at DESC"
        ).fetchall()


def _latest_lag(pipeline: Pipeline) -> int | None:
    rows = _latest_lag_rows(pipeline)
    return sum(lag for _, lag in rows) if rows else None


def _wait_for(read: Callable[[], Any], wanted: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    while (found := read()) != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def _panel_rows(pipeline: Pipeline, board: JSON, title: str) -> list[tuple[Any, ...]]:
    [panel] = [p for p in board["panels"] if p["title"] == title]
    now = utcnow()
    sql = expand(
        panel["targets"][0]["rawSql"],
        time_range=TimeRange(now - timedelta(hours=1), now + timedelta(minutes=1)),
        interval_ms=INTERVAL_MS,
        definitions=board["templating"]["list"],
        selections={},
    )
    with psycopg.connect(pipeline.urls.database_url) as conn:
        conn.execute("SET ROLE toir_grafana")  # as Grafana reads it: the views only
        return conn.execute(sql.encode()).fetchall()
