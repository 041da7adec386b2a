"""A running pipeline for end-to-end tests: real `toir ingest` and `toir stream`
processes between a real MQTT broker, a real Kafka-compatible broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg

from devices.registry import DeviceIn, upsert_devices
from devices.simulator.publisher import Publisher
from kernel.urls import parse_mqtt_url
from toir.accounting import dead_letters
from toir.probe import wait_until_ready
from toir.processes import ServiceUrls, ToirProcess, free_tcp_port, process_env

READY_TIMEOUT_S = 90.0
FLUSH_TIMEOUT_S = 30.0


@dataclass
class Pipeline:
    urls: ServiceUrls
    data_dir: Path
    prefix: str
    ingest: ToirProcess
    stream: ToirProcess

    @classmethod
    def create(cls, urls: ServiceUrls, data_dir: Path, prefix: str) -> Pipeline:
        # A client id of this test's own: persistent sessions must not leak between tests.
        env = process_env(
            urls,
            data_dir,
            mqtt_client_id=f"ingest-{prefix}",
            log_level="INFO",
            ingest_http_port=str(free_tcp_port()),
        )
        return cls(
            urls,
            data_dir,
            prefix,
            ToirProcess("ingest", env, data_dir / "ingest.log"),
            ToirProcess("stream", env, data_dir / "stream.log"),
        )

    def device(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def register(self, *names: str, kind: str = "controller", enabled: bool = True) -> None:
        with psycopg.connect(self.urls.database_url, autocommit=True) as conn:
            upsert_devices(
                conn,
                devices=[DeviceIn(self.device(n), kind, enabled=enabled) for n in names],
            )

    def start(self) -> None:
        self.stream.start()
        self.ingest.start()
        try:
            wait_until_ready(self.urls.database_url, self.urls.mqtt_url, timeout_s=READY_TIMEOUT_S)
        except Exception as exc:
            raise AssertionError(
                f"pipeline not ready: {exc}\n--- ingest ---\n{self.ingest.log_tail()}"
                f"\n--- stream ---\n{self.stream.log_tail()}"
            ) from exc

    def stop(self) -> None:
        self.ingest.stop()
        self.stream.stop()

    def publisher(self) -> Publisher:
        publisher = Publisher(parse_mqtt_url(self.urls.mqtt_url))
        publisher.connect()
        return publisher

    def publish_all(self, messages: list[tuple[str, bytes]]) -> int:
        """Publish at QoS 1 and wait for every PUBACK; return how many the broker took."""
        publisher = self.publisher()
        try:
            for topic, payload in messages:
                publisher.publish(topic, payload)
            assert publisher.flush(FLUSH_TIMEOUT_S), "the broker did not acknowledge everything"
            return publisher.stats.published
        finally:
            publisher.close()

    def stored(self) -> int:
        sql = """
            SELECT (SELECT count(*) FROM telemetry.readings WHERE device_id LIKE %(p)s)
                 + (SELECT count(*) FROM telemetry.positions WHERE device_id LIKE %(p)s)
        """
        with psycopg.connect(self.urls.database_url) as conn:
            row = conn.execute(sql, {"p": f"{self.prefix}-%"}).fetchone()
        return int(row[0]) if row else 0

    def wait_stored(self, expected: int, *, timeout_s: float = 60.0) -> int:
        deadline = time.monotonic() + timeout_s
        while (count := self.stored()) < expected and time.monotonic() < deadline:
            time.sleep(0.25)
        return count

    def dead_letters(self) -> Counter[str]:
        return asyncio.run(dead_letters(self.urls.kafka_url))

    def wait_dead_letters(self, expected: int, *, timeout_s: float = 30.0) -> Counter[str]:
        deadline = time.monotonic() + timeout_s
        while (found := self.dead_letters()).total() < expected and time.monotonic() < deadline:
            time.sleep(0.5)
        return found
