"""Real-time simulation: advance the fleet with the wall clock and publish what falls due."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.simulator.codec import TsFormat, encode_sample
from devices.simulator.fleet import Fleet
from devices.simulator.invalid import bad_messages
from devices.simulator.publisher import DEFAULT_MAX_OUTSTANDING, Publisher
from kernel import clock
from kernel.urls import MqttAddress

VALID_LABEL = "valid"
PROGRESS_EVERY_S = 1.0
IDLE_MAX_S = 0.05
FLUSH_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
US_PER_S = 1_000_000


@dataclass(frozen=True, slots=True)
class SimulationReport:
    """What a run delivered: acknowledged valid messages, bad ones by reason, time taken."""

    published: int
    invalid_published: dict[str, int]
    elapsed_s: float
    sent: int
    failed: int
    unacknowledged: int

    @property
    def invalid_total(self) -> int:
        """Acknowledged known-bad messages of every reason."""
        return sum(self.invalid_published.values())


def run_simulation(
    address: MqttAddress,
    fleet: Fleet,
    *,
    duration_s: float,
    rate_msgs_s: float | None = None,
    invalid_every: int | None = None,
    stop: threading.Event | None = None,
    on_progress: Callable[[SimulationReport], None] | None = None,
    max_outstanding: int = DEFAULT_MAX_OUTSTANDING,
    ts_format: TsFormat = "iso",
    client_id: str | None = None,
) -> SimulationReport:
    """Publish the fleet's telemetry in real time until duration_s or stop, then flush."""
    if rate_msgs_s is not None:
        pace(fleet, rate_msgs_s=rate_msgs_s, invalid_every=invalid_every)
    publisher = Publisher(address, client_id=client_id, max_outstanding=max_outstanding)
    publisher.connect(CONNECT_TIMEOUT_S)
    session = _Session(
        fleet,
        publisher,
        ts_format=ts_format,
        invalid_every=invalid_every,
        stop=stop or threading.Event(),
    )
    try:
        session.run(duration_s, on_progress)
    finally:
        publisher.flush(FLUSH_TIMEOUT_S)
        publisher.close()
    return session.report()


def pace(fleet: Fleet, *, rate_msgs_s: float, invalid_every: int | None = None) -> None:
    """Set every unit's interval so the fleet, bad messages included, sends rate_msgs_s."""
    if rate_msgs_s <= 0:
        raise ValueError("rate_msgs_s must be positive")
    if fleet.size == 0:
        raise ValueError("an empty fleet cannot be paced")
    valid_rate = rate_msgs_s * invalid_every / (invalid_every + 1) if invalid_every else rate_msgs_s
    interval_s = fleet.size / valid_rate
    fleet.set_intervals(equipment_interval_s=interval_s, vehicle_interval_s=interval_s)


class _Session:
    def __init__(
        self,
        fleet: Fleet,
        publisher: Publisher,
        *,
        ts_format: TsFormat,
        invalid_every: int | None,
        stop: threading.Event,
    ) -> None:
        if invalid_every is not None and invalid_every < 1:
            raise ValueError("invalid_every must be at least 1")
        self._fleet = fleet
        self._publisher = publisher
        self._ts_format: TsFormat = ts_format
        self._invalid_every = invalid_every
        self._stop = stop
        self._started = time.monotonic()
        self._valid_sent = 0
        self._bad_sent = 0
        # Bad messages name real units, so that only their planted defect is wrong.
        unit_ids = [unit.id for unit in fleet.equipment] + [unit.id for unit in fleet.vehicles]
        fallback_id = unit_ids[0] if unit_ids else "eq-0001"
        self._bad_equipment_id = fleet.equipment[0].id if fleet.equipment else fallback_id
        self._bad_vehicle_id = fleet.vehicles[0].id if fleet.vehicles else fallback_id

    def run(
        self, duration_s: float, on_progress: Callable[[SimulationReport], None] | None
    ) -> None:
        deadline = self._started + duration_s
        next_progress = self._started + PROGRESS_EVERY_S
        while not self._stop.is_set() and time.monotonic() < deadline:
            now_us = clock.now_us()
            self._publish_due(now_us, deadline)
            if on_progress is not None and time.monotonic() >= next_progress:
                on_progress(self.report())
                next_progress += PROGRESS_EVERY_S
            self._idle(now_us, deadline)

    def report(self) -> SimulationReport:
        stats = self._publisher.stats
        by_label = stats.published_by_label
        return SimulationReport(
            published=by_label.get(VALID_LABEL, 0),
            invalid_published={k: n for k, n in sorted(by_label.items()) if k != VALID_LABEL},
            elapsed_s=time.monotonic() - self._started,
            sent=stats.sent,
            failed=stats.failed,
            unacknowledged=stats.outstanding,
        )

    def _publish_due(self, now_us: int, deadline: float) -> None:
        publish, stop = self._publisher.publish, self._stop
        for sample in self._fleet.advance(now_us):
            if time.monotonic() >= deadline:
                return
            topic, payload = encode_sample(sample, self._ts_format)
            if not publish(topic, payload, label=VALID_LABEL, stop=stop):
                return
            self._valid_sent += 1
            if self._invalid_every and self._valid_sent % self._invalid_every == 0:
                self._publish_bad(now_us)

    def _publish_bad(self, now_us: int) -> None:
        messages = bad_messages(
            equipment_id=self._bad_equipment_id, vehicle_id=self._bad_vehicle_id, ts_us=now_us
        )
        message = messages[self._bad_sent % len(messages)]
        self._bad_sent += 1
        self._publisher.publish(
            message.topic, message.payload, label=message.expected_reason, stop=self._stop
        )

    def _idle(self, now_us: int, deadline: float) -> None:
        next_due_us = self._fleet.next_due_us()
        wait_s = IDLE_MAX_S if next_due_us is None else (next_due_us - now_us) / US_PER_S
        wait_s = min(wait_s, IDLE_MAX_S, deadline - time.monotonic())
        if wait_s > 0:
            self._stop.wait(wait_s)
