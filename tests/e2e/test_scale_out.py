"""Horizontal scale: two `toir ingest` sharing one MQTT subscription, two `toir stream`
workers sharing the partitions; one of each killed mid-stream (SIGKILL).

Each instance serves /metrics (kernel.health_server), so the split between instances is
read from what each one says it processed, and the database says what was stored.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devices.registry import DeviceIn, upsert_devices
from devices.simulator.publisher import Publisher
from kernel import topics
from kernel.clock import utcnow
from kernel.urls import parse_mqtt_url
from toir.accounting import consumer_lag, dead_letters, scan
from toir.probe import wait_until_ready
from toir.processes import ServiceUrls, ToirProcess, free_tcp_port, process_env

pytestmark = pytest.mark.timeout(240)

NOW_MS = int(utcnow().timestamp() * 1000)
SHARE_GROUP = "ingest"
GROUP_ID = "toir-stream"
READY_TIMEOUT_S = 90.0


@dataclass
class Cluster:
    """Processes of one test, each with its own log and health port."""

    urls: ServiceUrls
    root: Path
    prefix: str
    processes: dict[str, ToirProcess] = field(default_factory=dict)
    health_ports: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, command: str, **extra: str) -> ToirProcess:
        port = free_tcp_port()
        health = {f"{command}_health_port": str(port)}
        env = process_env(self.urls, self.root / name, log_level="INFO", **health, **extra)
        process = ToirProcess(command, env, self.root / f"{name}.log")
        self.processes[name], self.health_ports[name] = process, port
        process.start()
        return process

    def add_ingest(self, name: str) -> ToirProcess:
        return self.add(
            name,
            "ingest",
            mqtt_client_id=f"{self.prefix}-{name}",
            mqtt_share_group=SHARE_GROUP,
            ingest_http_port="0",
        )

    def metric(self, name: str, metric: str) -> float:
        """One sample from a process's /metrics (0 when absent)."""
        url = f"http://127.0.0.1:{self.health_ports[name]}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == metric:
                    return float(sample.value)
        return 0.0

    def ready(self, name: str) -> bool:
        url = f"http://127.0.0.1:{self.health_ports[name]}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            return False

    def logs(self) -> str:
        return "\n".join(f"--- {n} ---\n{p.log_tail(15)}" for n, p in self.processes.items())

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()


@pytest.fixture
def cluster(
    database_url: str, private_mqtt_url: str, kafka_url: str, tmp_path: Path, unique: str
) -> Iterator[Cluster]:
    running = Cluster(ServiceUrls(database_url, private_mqtt_url, kafka_url), tmp_path, unique)
    try:
        yield running
    finally:
        running.stop()


def devices(cluster: Cluster, count: int) -> list[str]:
    ids = [f"{cluster.prefix}-eq{i}" for i in range(count)]
    with psycopg.connect(cluster.urls.database_url, autocommit=True) as conn:
        upsert_devices(conn, devices=[DeviceIn(d, "controller") for d in ids])
    return ids


def readings(ids: list[str], total: int, *, offset: int = 0) -> list[tuple[str, bytes]]:
    """`total` distinct readings spread over the devices (so over every partition)."""
    messages = []
    for seq in range(offset, offset + total):
        body = {"ts": NOW_MS - 900_000 + seq, "metrics": {"seq": seq}}
        messages.append((f"toir/v1/devices/{ids[seq % len(ids)]}/telemetry", orjson.dumps(body)))
    return messages


def stored_by_device(cluster: Cluster) -> dict[str, int]:
    sql = "SELECT device_id, count(*) FROM telemetry.readings WHERE device_id LIKE %s GROUP BY 1"
    with psycopg.connect(cluster.urls.database_url) as conn:
        return {d: int(n) for d, n in conn.execute(sql, (f"{cluster.prefix}-%",)).fetchall()}


def stored(cluster: Cluster) -> int:
    return sum(stored_by_device(cluster).values())


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def publish_paced(url: str, messages: list[tuple[str, bytes]], rate: float) -> int:
    """Publish at `rate` msg/s with QoS 1; the number the broker acknowledged."""
    publisher = Publisher(parse_mqtt_url(url))
    publisher.connect()
    started = time.monotonic()
    try:
        for index, (topic, payload) in enumerate(messages):
            publisher.publish(topic, payload)
            ahead_s = index / rate - (time.monotonic() - started)
            if ahead_s > 0:
                time.sleep(ahead_s)
        assert publisher.flush(60.0), "the broker did not acknowledge everything"
        return publisher.stats.published
    finally:
        publisher.close()


class Publishing(threading.Thread):
    def __init__(self, url: str, messages: list[tuple[str, bytes]], rate: float) -> None:
        super().__init__(daemon=True)
        self.args = (url, messages, rate)
        self.acknowledged = -1

    def run(self) -> None:
        self.acknowledged = publish_paced(*self.args)


def start_and_wait(cluster: Cluster, *names: str) -> None:
    urls = cluster.urls
    try:
        wait_until_ready(urls.database_url, urls.mqtt_url, timeout_s=READY_TIMEOUT_S)
        assert wait_for(lambda: all(cluster.ready(n) for n in names), 30), "not ready"
    except Exception as exc:
        raise AssertionError(f"cluster not ready: {exc}\n{cluster.logs()}") from exc


def test_two_ingest_instances_split_the_load_and_one_carries_on_when_the_other_dies(
    cluster: Cluster,
) -> None:
    ids = devices(cluster, 8)
    cluster.add("stream", "stream")
    cluster.add_ingest("ingest-a")
    victim = cluster.add_ingest("ingest-b")
    start_and_wait(cluster, "ingest-a", "ingest-b")
    before = {n: cluster.metric(n, "toir_messages_in_total") for n in ("ingest-a", "ingest-b")}

    # Both up: every message goes to exactly one instance, and both get a fair share.
    first = 2000
    assert publish_paced(cluster.urls.mqtt_url, readings(ids, first), rate=1000) == first
    assert wait_for(lambda: stored(cluster) >= first, 60), cluster.logs()
    took = {n: cluster.metric(n, "toir_messages_in_total") - before[n] for n in before}
    assert sum(took.values()) == first, took  # no message went to both instances
    assert min(took.values()) >= first * 0.3, took  # and the load was split

    # One killed mid-stream: the other keeps storing; after its restart (its restart
    # policy), the dead one's session delivers what the broker kept for it.
    second = 3000
    publishing = Publishing(cluster.urls.mqtt_url, readings(ids, second, offset=first), 600)
    publishing.start()
    assert wait_for(lambda: stored(cluster) >= first + 500, 30), cluster.logs()
    victim.kill()
    at_kill = stored(cluster)
    carried_on = wait_for(lambda: stored(cluster) >= at_kill + 600, 20)
    publishing.join(60)
    victim.start()
    total = first + second
    assert publishing.acknowledged == second
    assert carried_on, f"ingest-a stopped when ingest-b died\n{cluster.logs()}"
    assert wait_for(lambda: stored(cluster) >= total, 90), cluster.logs()
    time.sleep(2.0)  # nothing arrives late, nothing twice
    assert stored_by_device(cluster) == {d: total // len(ids) for d in ids}
    assert asyncio.run(dead_letters(cluster.urls.kafka_url)).total() == 0


def test_two_stream_workers_share_partitions_and_a_killed_one_hands_them_over(
    cluster: Cluster,
) -> None:
    ids = devices(cluster, 12)  # keys over every partition of the topic
    cluster.add("stream-a", "stream")
    victim = cluster.add("stream-b", "stream")
    cluster.add("ingest", "ingest", mqtt_client_id=f"{cluster.prefix}-ingest", ingest_http_port="0")
    start_and_wait(cluster, "stream-a", "stream-b", "ingest")

    total = 4800
    publishing = Publishing(cluster.urls.mqtt_url, readings(ids, total), 800)
    publishing.start()
    assert wait_for(lambda: stored(cluster) >= 1200, 30), cluster.logs()
    # Both workers were consuming: each had partitions of the readings topic.
    consumed = {n: cluster.metric(n, "toir_messages_in_total") for n in ("stream-a", "stream-b")}
    assert min(consumed.values()) > 0, consumed
    victim.kill()  # not restarted: its partitions must move to stream-a
    publishing.join(60)
    assert publishing.acknowledged == total
    assert wait_for(lambda: stored(cluster) >= total, 90), cluster.logs()
    time.sleep(2.0)
    # Every device's readings, whichever partition it hashes to, stored exactly once.
    assert stored_by_device(cluster) == {d: total // len(ids) for d in ids}
    assert asyncio.run(dead_letters(cluster.urls.kafka_url)).total() == 0
    assert wait_for(lambda: _lag(cluster) == 0, 30), "the survivor did not commit everything"


def _lag(cluster: Cluster) -> int:
    async def lag() -> int:
        ends = (await scan(cluster.urls.kafka_url, topics.READINGS)).ends
        return await consumer_lag(cluster.urls.kafka_url, GROUP_ID, ends)

    return asyncio.run(lag())
