"""The detectors give what a plain per-reading loop gives, step by step, on mixed steps."""

from __future__ import annotations

import numpy as np
import pytest

from devices.records import Reading
from stream.health.detection import DetectorSet
from tests.unit.health.reference import (
    CONFIG,
    EXTRA,
    STEP_US,
    T0_US,
    ReferenceDetectors,
    device_of,
    mixed_steps,
    unit_of,
)

UNITS = 9
UNIT_IDS = [unit_of(i) for i in range(UNITS)]
UNIT_OF_DEVICE = {device_of(i): unit_of(i) for i in range(UNITS)}


def _pairs(step: list[Reading]) -> list[tuple[str, Reading]]:
    return [(UNIT_OF_DEVICE[r.device_id], r) for r in step]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_findings_checkpoints_and_staleness_match_a_per_reading_loop(seed: int) -> None:
    detectors, reference = DetectorSet(CONFIG), ReferenceDetectors()
    every_finding = []

    for now_s, step in enumerate(mixed_steps(seed, steps=24, units=UNITS)):
        pairs = _pairs(step)
        found = detectors.update([u for u, _ in pairs], [r for _, r in pairs], now_s=now_s)
        expected, updated = reference.update(pairs)
        saved = detectors.checkpoints()

        assert found == expected
        assert sorted(c.unit_id for c in saved) == sorted(updated)
        assert {c.unit_id: (c.metric_set, c.state) for c in saved} == {
            u: reference.state(u) for u in updated
        }
        assert detectors.stale(UNIT_IDS, now_s=now_s, after_s=0.5) == [
            u for u in UNIT_IDS if u not in updated
        ]
        every_finding += found

    assert {f.opened for f in every_finding} == {True, False}  # opened and cleared
    assert any(EXTRA in names for names in reference.set_of.values())  # a unit grew


def _reading(unit: str, sample: int, metrics: dict[str, float]) -> tuple[str, Reading]:
    return unit, Reading(f"dev-{unit}", T0_US + sample * STEP_US, running=True, metrics=metrics)


def _step(
    names_of: dict[str, tuple[str, ...]], samples: range, *, jump: float = 0.0
) -> list[tuple[str, Reading]]:
    """Readings of each unit in turn, sample by sample; each unit's level its own."""
    rng = np.random.default_rng(samples.start)
    return [
        _reading(unit, i, {n: 10.0 * (u + 5) + jump + rng.normal(0, 0.3) for n in names})
        for i in samples
        for u, (unit, names) in enumerate(names_of.items())
    ]


def test_units_of_two_sets_reporting_only_shared_metrics_are_each_scored_in_their_own() -> None:
    # eq-1 holds the smaller set, yet comes first: findings at the same moment keep the
    # order in which the sets first appear in the step, not the sets' sort order.
    shared = ("current_a", "temperature_c")
    steps = [
        _step({"eq-1": shared, "eq-2": (*shared, "oil_temp_c")}, range(25)),
        _step({"eq-1": shared, "eq-2": shared}, range(25, 55)),
        _step({"eq-1": shared, "eq-2": shared}, range(55, 60), jump=25.0),
    ]
    detectors, reference = DetectorSet(CONFIG), ReferenceDetectors()

    for step in steps:
        found = detectors.update([u for u, _ in step], [r for _, r in step], now_s=0.0)
        expected, _ = reference.update(step)
        assert found == expected
    saved = detectors.checkpoints()

    assert [(f.unit_id, f.opened) for f in found] == [("eq-1", True), ("eq-2", True)]
    assert found[0].ts_us == found[1].ts_us
    assert {c.unit_id: (c.metric_set, c.state) for c in saved} == {
        u: reference.state(u) for u in ("eq-1", "eq-2")
    }
