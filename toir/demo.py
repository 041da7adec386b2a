"""`toir demo`: the whole platform on the embedded stack for a fixed time, then a summary."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from devices.simulator.fleet import DEFAULT_EQUIPMENT_INTERVAL_S, Fleet, FleetConfig
from devices.simulator.run import SimulationReport, run_simulation
from kernel.clock import now_us, utcnow
from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from kernel.urls import parse_mqtt_url
from predictive.settings import DEMO_DETECTOR
from stream.health.demo_hooks import (
    add_demo_plans,
    count_anomalies,
    count_maintenance_due,
    demo_environment,
    demo_fault,
)
from tickets.field.demo import field_counts
from toir.accounting import consumer_lag, dead_letters, ingested, stored_rows
from toir.demo_tickets import ticket_counts
from toir.devstack import EmbeddedStack
from toir.fleet_registry import register_engineers, register_fleet
from toir.processes import Progress, ServiceUrls, running_platform

DRAIN_TIMEOUT_S = 60.0
# A demo lasts a minute: visits and stops count after 20 s instead of the production 5 min.
DEMO_ENV = {"field_min_dwell_s": "20", "field_min_stop_s": "20"}
PROGRESS_INTERVAL_S = 1.0
# The injected overheating starts a third into the simulation, later if the units need longer
# to give the detector its warm-up readings (with a margin), but by half-time at the latest.
FAULT_AT_FRACTION = 1 / 3
FAULT_LATEST_FRACTION = 1 / 2
WARMUP_MARGIN = 1.5


@dataclass(frozen=True)
class DemoOptions:
    duration_s: float = 60.0
    equipment: int = 20
    vehicles: int = 10
    seed: int = 1
    rate_msgs_s: float | None = 100.0
    invalid_every: int = 200


@dataclass
class DemoSummary:
    duration_s: float
    published: int
    ingested: int
    stored: int
    rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    lag: int = 0
    accounted: bool = False
    tickets_opened: int = 0
    tickets_assigned: int = 0
    notifications_delivered: int = 0
    anomalies_detected: int = 0
    maintenance_due: int = 0
    visits: int = 0
    tickets_on_site: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_demo(settings: Settings, options: DemoOptions, progress: Progress) -> DemoSummary:
    """Start everything, simulate for the duration, drain, and account for every message."""
    with EmbeddedStack(settings, log=progress) as stack:
        urls = ServiceUrls(stack.database_url, stack.mqtt_url, stack.kafka_url)
        fleet = Fleet(FleetConfig(options.equipment, options.vehicles, options.seed))
        _prepare_database(urls.database_url, fleet)
        add_demo_plans(urls.database_url, fleet)
        health_env = {k.removeprefix("TOIR_").lower(): v for k, v in demo_environment().items()}
        with running_platform(settings, urls, progress, extra_env={**DEMO_ENV, **health_env}):
            # Only now: starting the platform takes longer than a short demo's first third.
            fleet = _with_fault(fleet, options)
            return _simulate_and_account(urls, fleet, options, progress, settings)


def _with_fault(fleet: Fleet, options: DemoOptions) -> Fleet:
    """The same fleet with one unit overheating from fault_onset_s() on."""
    if not fleet.equipment:
        return fleet
    starts_at_us = now_us() + int(fault_onset_s(fleet.size, options) * 1_000_000)
    fault = demo_fault(fleet.equipment[0].id, starts_at_us=starts_at_us)
    return Fleet(replace(fleet.config, faults=(fault,)))


def fault_onset_s(units: int, options: DemoOptions) -> float:
    """Seconds into the simulation at which the demo's fault starts."""
    rate = options.rate_msgs_s
    interval_s = units / rate if rate and units else DEFAULT_EQUIPMENT_INTERVAL_S
    warm_s = int(DEMO_DETECTOR["warmup_samples"]) * interval_s * WARMUP_MARGIN
    earliest_s = max(options.duration_s * FAULT_AT_FRACTION, warm_s)
    return min(earliest_s, options.duration_s * FAULT_LATEST_FRACTION)


def _prepare_database(database_url: str, fleet: Fleet) -> None:
    with connect(database_url) as conn:
        migrate(conn)
    register_fleet(database_url, fleet)
    register_engineers(database_url, fleet)


def _simulate_and_account(
    urls: ServiceUrls, fleet: Fleet, options: DemoOptions, progress: Progress, settings: Settings
) -> DemoSummary:
    started = utcnow()
    started_ms = int(started.timestamp() * 1000)
    report = _simulate(
        urls, fleet, options, progress, lambda: stored_rows(urls.database_url, since=started)
    )
    published = report.published + report.invalid_total
    progress(f"simulation done: {published} messages published; draining the pipeline...")
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        stored = stored_rows(urls.database_url, since=started)
        rejected = asyncio.run(dead_letters(urls.kafka_url, since_ms=started_ms))
        if stored + rejected.total() >= published or time.monotonic() > deadline:
            break
        time.sleep(PROGRESS_INTERVAL_S)
    records, ends = asyncio.run(ingested(urls.kafka_url, since_ms=started_ms))
    return DemoSummary(
        duration_s=options.duration_s,
        published=published,
        ingested=records,
        stored=stored,
        rejected=rejected.total(),
        rejected_by_reason=dict(sorted(rejected.items())),
        lag=asyncio.run(consumer_lag(urls.kafka_url, settings.stream_group_id, ends)),
        accounted=stored == published - rejected.total(),
        **ticket_counts(urls.database_url, since=started),
        **field_counts(urls.database_url, since=started),
        anomalies_detected=count_anomalies(urls.database_url, started),
        maintenance_due=count_maintenance_due(urls.database_url, started),
    )


def _simulate(
    urls: ServiceUrls,
    fleet: Fleet,
    options: DemoOptions,
    progress: Progress,
    count_stored: Callable[[], int],
) -> SimulationReport:
    reports: list[SimulationReport] = []
    stop = threading.Event()
    latest: list[SimulationReport] = []

    def simulate() -> None:
        reports.append(
            run_simulation(
                parse_mqtt_url(urls.mqtt_url),
                fleet,
                duration_s=options.duration_s,
                rate_msgs_s=options.rate_msgs_s,
                invalid_every=options.invalid_every,
                stop=stop,
                on_progress=lambda r: latest.__setitem__(slice(None), [r]),
            )
        )

    thread = threading.Thread(target=simulate, name="simulator", daemon=True)
    thread.start()
    try:
        _show_progress(thread, latest, count_stored, progress)
    finally:
        stop.set()
        thread.join()
    if not reports:
        raise RuntimeError("the simulator stopped without a report (see the log above)")
    return reports[0]


def _show_progress(
    thread: threading.Thread,
    latest: list[SimulationReport],
    count_stored: Callable[[], int],
    progress: Progress,
) -> None:
    started = time.monotonic()
    while thread.is_alive():
        thread.join(PROGRESS_INTERVAL_S)
        published = latest[0].published + latest[0].invalid_total if latest else 0
        progress(
            f"\r[{time.monotonic() - started:5.0f} s] published {published:>7} "
            f"stored {count_stored():>7}"
        )
