"""The ingest benchmark's baseline: the cheapest single hop from MQTT to PostgreSQL.

A bare paho subscriber (QoS 1, persistent session, automatic PUBACK) parses each native
telemetry message and a writer thread COPYs the rows in binary, 1,000 at a time, into an
indexed table shaped like telemetry.readings. No validation, no Kafka, no idempotency: what
toir costs on top of this is the price of its guarantees.

`python -m toir.bench.baseline --mqtt-url ... --database-url ...` runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.types.json import set_json_dumps

from kernel.urls import parse_mqtt_url

log = logging.getLogger(__name__)

COPY_ROWS = 1_000
# A partial batch is written after this long, so the tail of a run is stored too.
IDLE_FLUSH_S = 0.2
TOPIC = "toir/v1/devices/+/telemetry"
CLIENT_ID = "toir-bench-baseline"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CREATE_TABLE = """
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.baseline_readings (
    device_id  text NOT NULL,
    ts         timestamptz NOT NULL,
    hours_run  double precision,
    running    boolean,
    metrics    jsonb NOT NULL DEFAULT '{}',
    stored_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, ts)
)
"""
COPY = (
    "COPY bench.baseline_readings (device_id, ts, hours_run, running, metrics) "
    "FROM STDIN (FORMAT BINARY)"
)
COPY_TYPES = ["text", "timestamptz", "float8", "bool", "jsonb"]

Row = tuple[str, datetime, Any, Any, Any]


def create_table(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(CREATE_TABLE)


class Baseline:
    """Subscriber thread parses into a buffer; the writer thread COPYs it out."""

    def __init__(self, mqtt_url: str, database_url: str) -> None:
        self._mqtt_url = mqtt_url
        self._database_url = database_url
        self._rows: list[Row] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.stored = 0

    def run(self) -> None:
        client = self._client()
        writer = threading.Thread(target=self._write_loop, name="baseline-writer")
        writer.start()
        client.loop_start()
        try:
            self._stop.wait()
        finally:
            client.disconnect()
            client.loop_stop()
            with self._cond:
                self._cond.notify_all()
            writer.join()

    def stop(self) -> None:
        self._stop.set()

    def _client(self) -> mqtt.Client:
        address = parse_mqtt_url(self._mqtt_url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=CLIENT_ID, clean_session=False)
        client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
        client.on_message = self._on_message
        client.connect(address.host, address.port)
        return client

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            device_id = msg.topic.split("/")[3]
            body = orjson.loads(msg.payload)
            items = body if isinstance(body, list) else [body]
            rows = [_row(device_id, item) for item in items]
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            # Not the bench's shape (a pipeline probe left in the session, say): skipped,
            # where raising would end paho's thread and with it the whole baseline.
            log.warning("baseline: skipped a message on %s: %s", msg.topic, exc)
            return
        with self._cond:
            self._rows.extend(rows)
            if len(self._rows) >= COPY_ROWS:
                self._cond.notify()

    def _write_loop(self) -> None:
        with psycopg.connect(self._database_url, autocommit=True) as conn:
            set_json_dumps(orjson.dumps, context=conn)  # as fast a codec as toir's
            while not (self._stop.is_set() and not self._rows):
                batch = self._take()
                if batch:
                    _copy(conn, batch)
                    self.stored += len(batch)

    def _take(self) -> list[Row]:
        with self._cond:
            if len(self._rows) < COPY_ROWS and not self._stop.is_set():
                self._cond.wait(IDLE_FLUSH_S)
            batch, self._rows = self._rows[:COPY_ROWS], self._rows[COPY_ROWS:]
            return batch


def _row(device_id: str, item: dict[str, Any]) -> Row:
    ts = EPOCH + timedelta(milliseconds=item["ts"])
    return (device_id, ts, item.get("hours_run"), item.get("running"), item["metrics"])


def _copy(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur, cur.copy(COPY) as copy:
        copy.set_types(COPY_TYPES)
        for row in rows:
            copy.write_row(row)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mqtt-url", required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    try:
        parse_mqtt_url(args.mqtt_url)
    except ValueError as exc:
        parser.error(f"--mqtt-url: {exc}")
    create_table(args.database_url)
    baseline = Baseline(args.mqtt_url, args.database_url)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        baseline.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    baseline.run()
    log.info("baseline stored %d rows", baseline.stored)


if __name__ == "__main__":
    main()
