"""The stream's detectors: metric sets, per-unit checkpoints and restoring them."""

from __future__ import annotations

import numpy as np

from devices.records import Reading
from kernel.events import AnomalyDetected
from predictive.settings import DEMO_DETECTOR, detector_config
from stream.health.detection import DetectorSet
from stream.health.findings import Finding

# The demo's settings: a short warm-up, at readings a second apart.
CONFIG = detector_config(DEMO_DETECTOR)
T0_US = 1_780_000_000_000_000
STEP_US = 1_000_000
METRICS = ("temperature_c", "current_a")


def _readings(unit: str, start: int, count: int, *, jump: float = 0.0) -> list[tuple[str, Reading]]:
    rng = np.random.default_rng(start)
    return [
        (
            unit,
            Reading(
                device_id=f"dev-{unit}",
                ts_us=T0_US + (start + i) * STEP_US,
                running=True,
                metrics={
                    "temperature_c": 60.0 + jump + rng.normal(0, 0.3),
                    "current_a": 40.0 + rng.normal(0, 0.5),
                },
            ),
        )
        for i in range(count)
    ]


def _update(
    detectors: DetectorSet, pairs: list[tuple[str, Reading]], *, now_s: float
) -> list[Finding]:
    return detectors.update([u for u, _ in pairs], [r for _, r in pairs], now_s=now_s)


def _feed(detectors: DetectorSet, readings: list[tuple[str, Reading]]) -> list[Finding]:
    found: list[Finding] = []
    for start in range(0, len(readings), 7):
        found += _update(detectors, readings[start : start + 7], now_s=0.0)
    return found


def test_a_jump_after_warm_up_opens_a_spike_with_the_metric_that_moved() -> None:
    detectors = DetectorSet(CONFIG)

    quiet = _feed(detectors, _readings("eq-1", 0, 60) + _readings("eq-2", 0, 60))
    found = _feed(detectors, _readings("eq-1", 60, 5, jump=25.0))

    assert quiet == []
    assert [(f.unit_id, f.kind, f.opened) for f in found] == [("eq-1", "spike", True)]
    assert found[0].contributors[0][0] == "temperature_c"


def test_an_opening_becomes_an_event_with_an_id_from_unit_kind_and_opening() -> None:
    finding = Finding("eq-1", "spike", True, T0_US + 5, T0_US, "high", 30.0, (("t", 30.0),))

    event = finding.event()

    assert isinstance(event, AnomalyDetected)
    assert event.subject.id == "eq-1"
    assert event.evidence["kind"] == "spike" and event.evidence["metrics"] == {"t": 30.0}
    assert event.event_id == Finding("eq-1", "spike", True, T0_US + 9, T0_US, "low", 1.0).event_id


def test_a_restored_unit_goes_on_exactly_where_the_checkpoint_stopped() -> None:
    original = DetectorSet(CONFIG)
    _feed(original, _readings("eq-1", 0, 60) + _readings("eq-2", 0, 60))
    saved = original.checkpoints()
    restarted = DetectorSet(CONFIG)

    taken = restarted.restore(saved)
    after_original = _feed(original, _readings("eq-1", 60, 5, jump=25.0))
    after_restart = _feed(restarted, _readings("eq-1", 60, 5, jump=25.0))

    assert taken == 2 and {c.unit_id for c in saved} == {"eq-1", "eq-2"}
    assert saved[0].metric_set == tuple(sorted(METRICS))
    assert after_restart == after_original != []


def test_only_units_updated_since_the_last_checkpoint_are_saved_again() -> None:
    detectors = DetectorSet(CONFIG)
    _feed(detectors, _readings("eq-1", 0, 10) + _readings("eq-2", 0, 10))
    detectors.checkpoints()

    _feed(detectors, _readings("eq-2", 10, 3))

    assert [c.unit_id for c in detectors.checkpoints()] == ["eq-2"]
    assert detectors.checkpoints() == []


def test_a_checkpoint_older_than_what_the_worker_holds_is_not_taken() -> None:
    detectors = DetectorSet(CONFIG)
    _feed(detectors, _readings("eq-1", 0, 10))
    old = detectors.checkpoints()
    _feed(detectors, _readings("eq-1", 10, 10))

    assert detectors.restore(old) == 0


def test_units_are_stale_when_never_seen_or_untouched_for_a_while() -> None:
    detectors = DetectorSet(CONFIG)
    _update(detectors, _readings("eq-1", 0, 1), now_s=100.0)

    assert detectors.stale(["eq-1", "eq-2"], now_s=150.0, after_s=60.0) == ["eq-2"]
    assert detectors.stale(["eq-1"], now_s=161.0, after_s=60.0) == ["eq-1"]


def test_a_unit_reporting_a_new_metric_moves_to_the_larger_metric_set() -> None:
    detectors = DetectorSet(CONFIG)
    _feed(detectors, _readings("eq-1", 0, 5))
    extra = Reading("dev-eq-1", T0_US + 10 * STEP_US, metrics={"pressure_bar": 4.0})

    detectors.update(["eq-1"], [extra], now_s=0.0)

    (checkpoint,) = detectors.checkpoints()
    assert checkpoint.metric_set == ("current_a", "pressure_bar", "temperature_c")


def test_a_reading_lacking_a_metric_of_its_set_is_scored_on_the_others() -> None:
    detectors = DetectorSet(CONFIG)
    _feed(detectors, _readings("eq-1", 0, 60))
    partial = [
        ("eq-1", Reading("dev-eq-1", T0_US + (60 + i) * STEP_US, metrics={"current_a": 60.0}))
        for i in range(5)
    ]

    found = _feed(detectors, partial)

    assert [(f.kind, f.opened, f.contributors[0][0]) for f in found] == [
        ("spike", True, "current_a")
    ]
    (checkpoint,) = detectors.checkpoints()
    assert checkpoint.metric_set == ("current_a", "temperature_c")
