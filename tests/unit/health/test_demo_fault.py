"""The demo's injected fault starts once the detector can see it, even in a short run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from devices.records import Reading
from devices.simulator.equipment import METRIC_NAMES
from devices.simulator.fleet import Fleet, FleetConfig
from devices.simulator.run import pace
from predictive.online.detector import OnlineDetector
from predictive.online.events import AnomalyEvent, Transition
from predictive.settings import DEMO_DETECTOR, detector_config
from stream.health.demo_hooks import demo_fault
from toir.demo import DemoOptions, fault_onset_s

T0_US = 1_790_000_000_000_000
TICK_US = 250_000


def _replay(options: DemoOptions) -> tuple[str, int, list[AnomalyEvent]]:
    """The demo's fleet and fault run offline through the demo's detector settings."""
    fleet = Fleet(FleetConfig(options.equipment, options.vehicles, options.seed))
    onset_us = T0_US + int(fault_onset_s(fleet.size, options) * 1e6)
    fault = demo_fault(fleet.equipment[0].id, starts_at_us=onset_us)
    fleet = Fleet(replace(fleet.config, faults=(fault,)))
    assert options.rate_msgs_s is not None
    pace(fleet, rate_msgs_s=options.rate_msgs_s, invalid_every=options.invalid_every)
    detector = OnlineDetector(METRIC_NAMES, detector_config(DEMO_DETECTOR))
    events: list[AnomalyEvent] = []
    for now_us in range(T0_US, T0_US + int(options.duration_s * 1e6), TICK_US):
        readings = [r for r in fleet.advance(now_us) if isinstance(r, Reading)]
        if readings:
            values = np.array([[r.metrics.get(m, np.nan) for m in METRIC_NAMES] for r in readings])
            events += detector.update_batch(
                [r.device_id for r in readings],
                [r.ts_us for r in readings],
                values,
                [r.running is not False for r in readings],
            )
    return fault.device_id, onset_us, events


def test_a_thirty_second_demo_detects_its_overheating_and_nothing_else() -> None:
    faulty, onset_us, events = _replay(DemoOptions(duration_s=30.0))

    opened = [e for e in events if e.transition is Transition.OPENED]
    assert [(e.unit_id, e.kind.value) for e in opened] == [(faulty, "spike")]
    assert onset_us <= opened[0].ts_us < onset_us + 3_000_000


def test_the_fault_waits_for_the_warm_up_when_units_report_slowly() -> None:
    warmup = int(DEMO_DETECTOR["warmup_samples"])

    assert fault_onset_s(30, DemoOptions(duration_s=30.0)) == 10.0
    # 30 units at 10 msg/s: a reading every 3 s, so the warm-up (with its margin) comes
    # after the first third of a four-minute run, and before half-time.
    assert fault_onset_s(30, DemoOptions(duration_s=240.0, rate_msgs_s=10.0)) == warmup * 4.5
    assert fault_onset_s(30, DemoOptions(duration_s=60.0, rate_msgs_s=10.0)) == 30.0
