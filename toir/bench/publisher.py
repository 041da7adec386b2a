"""The benchmarks' load publisher, run as a process of its own like real devices:
native JSON readings (one per message or a batch per message) and positions, at a fixed
rate or as fast as the broker acknowledges (QoS 1, persistent session).

`python -m toir.bench.publisher --mqtt-url ... --equipment 1000 --rate 8000 --duration-s 60`
prints one JSON line: messages and readings the broker acknowledged, and the time taken.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import orjson

from kernel.urls import parse_mqtt_url
from toir.bench.mqtt_link import WINDOW, LeanPublisher

FLUSH_TIMEOUT_S = 120.0
PACE_SLICE_S = 0.002
# A full window is refilled once this much of it is free, not per PUBACK: bursts of one
# message would cost a system call each.
REFILL_MIN = WINDOW // 10
# How long one wait for PUBACKs lasts before the loop looks at its deadline again.
ACK_WAIT_S = 0.5


@dataclass(frozen=True, slots=True)
class Load:
    """What to publish: device ids, messages per second (0: as fast as acknowledged)."""

    equipment: Sequence[str]
    vehicles: Sequence[str]
    rate_msgs_s: float
    batch: int
    duration_s: float | None = None
    messages: int | None = None


def bench_equipment_ids(count: int, prefix: str = "bench-eq") -> list[str]:
    return [f"{prefix}-{n:05d}" for n in range(1, count + 1)]


def bench_vehicle_ids(count: int, prefix: str = "bench-veh") -> list[str]:
    return [f"{prefix}-{n:05d}" for n in range(1, count + 1)]


class Payloads:
    """Messages in device round-robin; each device's timestamps strictly increase (ms).

    Each reading of a device is the next of its own series, whether sent alone or in a batch,
    so a batched device's values vary from reading to reading as a real one's do: fifty equal
    readings in a row would be a stuck sensor, and the benchmark would measure the anomalies
    and tickets it opens rather than ingest.
    """

    def __init__(self, load: Load) -> None:
        self._load = load
        self._last_ms: dict[str, int] = {}
        units = [(d, True) for d in load.equipment] + [(d, False) for d in load.vehicles]
        if not units or load.batch < 1:
            # Without a device there is no message to make, and the round-robin would spin.
            raise ValueError("a load needs at least one device and one reading per message")
        self._units = units

    def __iter__(self) -> Iterator[tuple[str, bytes, int]]:
        sent = 0
        while True:
            for position, (device_id, is_equipment) in enumerate(self._units):
                # The series index of the message's first reading; consecutive readings of a
                # device are len(units) apart, as when every message holds one reading.
                first = sent * self._load.batch * len(self._units) + position
                yield self._message(device_id, is_equipment, first)
            sent += 1

    def _message(self, device_id: str, is_equipment: bool, first: int) -> tuple[str, bytes, int]:
        batch = self._load.batch
        stride = len(self._units)
        # The last item carries the publish time: latency is measured from it.
        first_ms = max(time.time_ns() // 1_000_000 - batch + 1, self._last_ms.get(device_id, 0) + 1)
        self._last_ms[device_id] = first_ms + batch - 1
        if is_equipment:
            items = [_reading(first_ms + i, first + i * stride) for i in range(batch)]
            topic = f"toir/v1/devices/{device_id}/telemetry"
        else:
            items = [_position(first_ms + i, first + i * stride) for i in range(batch)]
            topic = f"toir/v1/devices/{device_id}/position"
        body = items[0] if batch == 1 else items
        return topic, orjson.dumps(body), batch


def _reading(ts_ms: int, sequence: int) -> dict[str, object]:
    wobble = (sequence % 97) / 97.0
    return {
        "ts": ts_ms,
        "hours_run": 1000.0 + ts_ms / 3.6e6,
        "running": True,
        "metrics": {
            "temperature_c": 61.5 + wobble,
            "vibration_mm_s": 3.2 + wobble,
            "pressure_bar": 4.1 - wobble,
            "current_a": 120.0 + 10 * wobble,
        },
    }


def _position(ts_ms: int, sequence: int) -> dict[str, object]:
    step = sequence % 1000
    return {
        "ts": ts_ms,
        "lat": 55.75 + step * 1e-5,
        "lon": 37.62 + step * 1e-5,
        "speed_kmh": 42.0,
        "heading": 90.0,
        "ignition": True,
        "odometer_km": 12_000.0 + ts_ms / 1e8,
    }


@dataclass(frozen=True, slots=True)
class PublishReport:
    messages: int
    readings: int
    elapsed_s: float
    unacknowledged: int


def publish(mqtt_url: str, load: Load, stop: threading.Event | None = None) -> PublishReport:
    """Publish the load (until `stop` is set, if it comes first), wait for every PUBACK, and
    report what the broker acknowledged."""
    publisher = LeanPublisher(mqtt_url)
    publisher.connect()
    started = time.monotonic()
    try:
        _run(publisher, load, started, stop or threading.Event())
        publisher.flush(FLUSH_TIMEOUT_S)
    except BaseException:
        with contextlib.suppress(OSError):  # the broker may be gone: the error says more
            publisher.close()
        raise
    elapsed_s = time.monotonic() - started
    publisher.close()
    acked = publisher.acked
    return PublishReport(acked, acked * load.batch, elapsed_s, publisher.sent - acked)


def _run(publisher: LeanPublisher, load: Load, started: float, stop: threading.Event) -> None:
    """Send what is due in bursts: at a fixed rate, every few ms what fell due since the
    last burst; flat out, as much as the window takes."""
    payloads = iter(Payloads(load))
    deadline = started + load.duration_s if load.duration_s is not None else math.inf
    while (now := time.monotonic()) < deadline and not stop.is_set():
        due = _due(load, publisher.sent, started, now)
        if due is None:
            return
        publisher.keep_alive(now)
        if due <= 0:
            # Sleep in slices of a few ms: a sleep per message would cost the publisher
            # more CPU than publishing does.
            time.sleep(max(started + publisher.sent / load.rate_msgs_s - now, PACE_SLICE_S))
        elif publisher.room >= min(due, REFILL_MIN):
            burst = islice(payloads, min(due, publisher.room))
            publisher.publish_burst((topic, payload) for topic, payload, _ in burst)
        else:
            _make_room(publisher, min(due, REFILL_MIN))


def _due(load: Load, sent: int, started: float, now: float) -> int | None:
    """How many messages are due now; None when the load is all sent."""
    left = load.messages - sent if load.messages is not None else sys.maxsize
    if left <= 0:
        return None
    if load.rate_msgs_s <= 0:
        return left
    # Message n is due at started + n / rate, as if sent one by one.
    return min(left, int((now - started) * load.rate_msgs_s) + 1 - sent)


def _make_room(publisher: LeanPublisher, wanted: int) -> None:
    # PUBACKs are read only when the window needs them: they wait in the socket meanwhile.
    publisher.poll_acks()
    if publisher.room < wanted:
        publisher.wait_for_acks(ACK_WAIT_S)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mqtt-url", required=True)
    parser.add_argument("--equipment", type=int, default=1000)
    parser.add_argument("--vehicles", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s; 0 = flat out")
    parser.add_argument("--batch", type=int, default=1, help="readings per message")
    parser.add_argument("--duration-s", type=float, default=None)
    parser.add_argument("--messages", type=int, default=None)
    args = parser.parse_args(argv)
    _check(parser, args)
    load = Load(
        equipment=bench_equipment_ids(args.equipment),
        vehicles=bench_vehicle_ids(args.vehicles),
        rate_msgs_s=args.rate,
        batch=args.batch,
        duration_s=args.duration_s,
        messages=args.messages,
    )
    # Stopped by SIGTERM (as `toir bench loop` stops its load), the publisher ends like a
    # finished run: PUBACKs awaited, the persistent session ended, the report written.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        report = publish(args.mqtt_url, load, stop)
    except (OSError, ValueError) as exc:  # refused, unreachable, lost, or a bad packet
        sys.exit(f"publisher: {exc}")
    sys.stdout.write(orjson.dumps(_as_dict(report)).decode() + "\n")


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """One readable line and exit 2 for a load that cannot be published."""
    try:
        parse_mqtt_url(args.mqtt_url)
    except ValueError as exc:
        parser.error(f"--mqtt-url: {exc}")
    if args.equipment < 0 or args.vehicles < 0 or args.equipment + args.vehicles < 1:
        parser.error("--equipment and --vehicles: at least one device, none negative")
    if args.batch < 1:
        parser.error("--batch: at least one reading per message")
    if args.rate < 0:
        parser.error("--rate: 0 (flat out) or more")
    if (args.messages is not None and args.messages < 1) or (
        args.duration_s is not None and args.duration_s <= 0
    ):
        parser.error("--messages and --duration-s: more than zero")


def _as_dict(report: PublishReport) -> dict[str, object]:
    return {
        "messages": report.messages,
        "readings": report.readings,
        "elapsed_s": round(report.elapsed_s, 3),
        "unacknowledged": report.unacknowledged,
        "cpu_s": round(time.process_time(), 3),
    }


if __name__ == "__main__":
    main()
