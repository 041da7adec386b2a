"""What the browser tests drive besides the browser: a real `toir api` process, its
database, and the planner's side of the API, called over HTTP like any client."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tickets.users import service as users
from tickets.users.models import Role, UserCreate
from toir.processes import ServiceUrls, ToirProcess, free_tcp_port, process_env

READY_TIMEOUT_S = 30.0
# `toir api` reads only the database; the other URLs are required settings it never opens.
UNUSED_MQTT_URL = "mqtt://127.0.0.1:1883"
UNUSED_KAFKA_URL = "kafka://127.0.0.1:9092"


@dataclass
class ApiProcess:
    process: ToirProcess
    port: int
    database_url: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        """One JSON request to /api/v1: (status, decoded body)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        payload = None if body is None else json.dumps(body)
        connection.request(method, f"/api/v1{path}", body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, json.loads(data) if data else None

    def ok(self, method: str, path: str, token: str, body: Any = None) -> Any:
        status, data = self.call(method, path, token, body)
        assert 200 <= status < 300, f"{method} {path}: {status} {data}"
        return data

    def token(self, role: Role, user_id: str, engineer_id: str | None = None) -> str:
        user_in = UserCreate(id=user_id, name=user_id.title(), role=role, engineer_id=engineer_id)
        # In a thread of its own: Playwright's sync API keeps an event loop in this one.
        with ThreadPoolExecutor(1) as worker:
            return worker.submit(asyncio.run, _issue(self.database_url, user_in)).result()

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def stop(self) -> None:
        self.process.stop()


def start_api(database_url: str, data_dir: Path) -> ApiProcess:
    port = free_tcp_port()
    urls = ServiceUrls(database_url, UNUSED_MQTT_URL, UNUSED_KAFKA_URL)
    env = process_env(urls, data_dir, api_port=str(port), api_host="127.0.0.1")
    process = ToirProcess("api", env, data_dir / "api.log")
    process.start()
    api = ApiProcess(process, port, database_url)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _serves(port):
        if not process.alive() or time.monotonic() > deadline:
            api.stop()
            raise AssertionError(f"toir api did not start:\n{process.log_tail()}")
        time.sleep(0.1)
    return api


def _serves(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/app/manifest.webmanifest")
        return connection.getresponse().status == 200
    except OSError:
        return False


async def _issue(database_url: str, user_in: UserCreate) -> str:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await users.create_user(conn=conn, user_in=user_in)
        return (await users.issue_token(conn=conn, user_id=user_in.id, name="browser")).token
