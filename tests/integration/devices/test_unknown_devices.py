"""Unknown ids are recorded in batches by ingest's device cache, listed, and adopted."""

from __future__ import annotations

import asyncio

import psycopg
from fastapi.testclient import TestClient

from ingest.device_cache import DeviceCache, DeviceStatus
from kernel.db import create_pool
from tests.integration.api.conftest import TokenFactory, bearer
from tickets.users.models import Role

API = "/api/v1"
TOPIC = "toir/v1/devices/{}/telemetry"


async def publish_as_unknown(database_url: str) -> list[DeviceStatus]:
    pool = create_pool(database_url, max_size=1, name="test")
    await pool.open()
    cache = DeviceCache(pool)
    try:
        statuses = [await cache.status("ghost-1", TOPIC.format("ghost-1")) for _ in range(3)]
        statuses.append(await cache.status("ghost-2", "owntracks/ghost/2"))
        await cache.flush_unknown()
        statuses.append(await cache.status("ghost-1", "http:osmand"))
        await cache.close()  # flushes what is still pending
        return statuses
    finally:
        await pool.close()


def test_unknown_ids_are_recorded_listed_and_adopted(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    assert set(asyncio.run(publish_as_unknown(database_url))) == {DeviceStatus.UNKNOWN}
    admin = bearer(token_for(Role.DEVICE_ADMIN))

    listed = client.get(f"{API}/devices/unknown", headers=admin).json()["items"]
    ghost = next(u for u in listed if u["id"] == "ghost-1")
    assert (ghost["message_count"], ghost["last_topic"]) == (4, "http:osmand")
    assert ghost["first_seen"] <= ghost["last_seen"]
    assert {u["id"] for u in listed} == {"ghost-1", "ghost-2"}

    adopted = client.post(
        f"{API}/devices/unknown/ghost-1/adopt", headers=admin, json={"kind": "tracker"}
    )
    assert adopted.status_code == 201
    assert (adopted.json()["id"], adopted.json()["kind"]) == ("ghost-1", "tracker")
    remaining = client.get(f"{API}/devices/unknown", headers=admin).json()["items"]
    assert [u["id"] for u in remaining] == ["ghost-2"]
    client.post(f"{API}/devices", headers=admin, json={"id": "ghost-2", "kind": "phone"})
    assert client.get(f"{API}/devices/unknown", headers=admin).json()["items"] == []
    again = client.post(
        f"{API}/devices/unknown/ghost-1/adopt", headers=admin, json={"kind": "tracker"}
    )
    assert again.status_code == 404


def test_sightings_of_an_id_registered_meanwhile_are_not_recorded(database_url: str) -> None:
    async def run() -> None:
        pool = create_pool(database_url, max_size=1, name="test")
        await pool.open()
        cache = DeviceCache(pool)
        await cache.status("late-1", "t")
        async with pool.connection() as conn:
            await conn.execute("INSERT INTO assets.devices (id, kind) VALUES ('late-1', 'tracker')")
        await cache.close()
        await pool.close()

    asyncio.run(run())
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM assets.unknown_devices").fetchone() == (0,)
