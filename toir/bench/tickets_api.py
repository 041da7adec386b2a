"""`toir bench tickets-api`: GET /api/v1/tickets at a fixed rate against a database
holding many tickets, with GET /api/v1/me (authentication only) as the same-run baseline.
The paths take turns for a few rounds; each figure is reported per round and as the median."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import time
from dataclasses import asdict
from typing import Any

import psycopg

from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from tickets.users import service as users
from tickets.users.models import Role, UserCreate
from toir.bench.http_load import run_load
from toir.devstack import EmbeddedStack
from toir.processes import ServiceUrls, ToirProcess, free_tcp_port, process_env

API_READY_TIMEOUT_S = 60.0
ROUNDS = 3
# The baseline first: authentication only, the floor under every other path.
PATHS = {
    "baseline_me": "/api/v1/me",
    "list_first_page": "/api/v1/tickets?limit=50",
    "list_filtered": "/api/v1/tickets?status=assigned&priority=high&limit=50",
}

FILL_SQL = """
INSERT INTO tickets.tickets (kind, status, priority, title, equipment_id, site_id,
    accept_by, arrive_by, resolve_by, created_at)
SELECT (ARRAY['anomaly','maintenance_due','planned','breakdown','inspection'])[1 + i %% 5],
       (ARRAY['new','assigned','accepted','completed','closed'])[1 + i %% 5],
       (ARRAY['low','normal','high','critical'])[1 + i %% 4],
       'Ticket ' || i, 'eq-' || (i %% 1000), 'site-' || (i %% 300),
       now() + interval '1 hour', now() + interval '4 hours', now() + interval '1 day',
       now() - (i || ' seconds')::interval
FROM generate_series(1, %s) AS i
"""


def run_tickets_api_bench(
    settings: Settings, *, tickets: int, rate_rps: float, duration_s: float
) -> dict[str, Any]:
    """Fill the database, start `toir api`, and load it; return the figures."""
    with EmbeddedStack(settings) as stack:
        database_url = stack.database_url
        with connect(database_url) as conn:
            migrate(conn)
            conn.execute("TRUNCATE tickets.tickets CASCADE")
            conn.execute(FILL_SQL, (tickets,))
            conn.execute("ANALYZE tickets.tickets")
        token = asyncio.run(_token(database_url))
        port = free_tcp_port()
        urls = ServiceUrls(database_url, stack.mqtt_url, stack.kafka_url)
        # The per-token rate limit is for real clients; the benchmark is one token at 200/s.
        env = process_env(
            urls,
            settings.data_dir,
            api_port=str(port),
            log_level="WARNING",
            api_rate_per_s="0",
            api_ip_rate_per_s="0",
        )
        api = ToirProcess("api", env, settings.data_dir / "logs" / "bench-api.log")
        api.start()
        try:
            _wait_for_port(port)
            return _measure(port, token, tickets, rate_rps, duration_s)
        finally:
            api.stop()


def _measure(
    port: int, token: str, tickets: int, rate_rps: float, duration_s: float
) -> dict[str, Any]:
    def load(path: str) -> dict[str, Any]:
        result = asyncio.run(
            run_load(
                host="127.0.0.1",
                port=port,
                path=path,
                token=token,
                rate_rps=rate_rps,
                duration_s=duration_s,
            )
        )
        return asdict(result)

    load("/api/v1/me")  # warm-up: connections, plans, caches
    load_before = os.getloadavg()[0]
    # Rounds take turns, so a neighbour's burst on the shared machine hits every path alike.
    rounds = [{name: load(path) for name, path in PATHS.items()} for _ in range(ROUNDS)]
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "tickets": tickets,
        "rate_rps": rate_rps,
        "duration_s": duration_s,
        "rounds": rounds,
        **{name: _median_of(rounds, name) for name in PATHS},
    }


def _median_of(rounds: list[dict[str, dict[str, Any]]], name: str) -> dict[str, float]:
    """Each figure as the median over the rounds."""
    figures = [r[name] for r in rounds]
    keys = ("achieved_rps", "p50_ms", "p99_ms", "errors")
    return {key: statistics.median(f[key] for f in figures) for key in keys}


async def _token(database_url: str) -> str:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT 1 FROM tickets.users WHERE id = 'bench'")
        if await cur.fetchone() is None:
            user_in = UserCreate(id="bench", name="Benchmark", role=Role.PLANNER)
            await users.create_user(conn=conn, user_in=user_in)
        issued = await users.issue_token(conn=conn, user_id="bench", name="bench")
        await conn.commit()
        return issued.token


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + API_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the API did not listen on port {port} within {API_READY_TIMEOUT_S} s")
