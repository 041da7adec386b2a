"""Detection metrics against labelled faults: precision, recall, delay, false alarms."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S
FALSE_ALARM_PERIOD_DAYS = 30.0


@dataclass(frozen=True, slots=True)
class LabelledFault:
    """A fault active on a unit over [start_us, end_us), fully developed after ramp_s."""

    unit_id: str
    kind: str
    start_us: int
    end_us: int
    ramp_s: float


@dataclass(frozen=True, slots=True)
class Alarm:
    """An anomaly opened on a unit."""

    unit_id: str
    ts_us: int
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Detection:
    """How one fault was (or was not) detected."""

    fault: LabelledFault
    first_alarm_us: int | None

    @property
    def delay_s(self) -> float | None:
        """Seconds from the fault's start to the first alarm during it."""
        if self.first_alarm_us is None:
            return None
        return (self.first_alarm_us - self.fault.start_us) / US_PER_S

    @property
    def delay_fraction(self) -> float | None:
        """The delay as a fraction of the fault's development; None for sudden faults."""
        delay_s = self.delay_s
        if delay_s is None or self.fault.ramp_s <= 0:
            return None
        return delay_s / self.fault.ramp_s


def detections(faults: Sequence[LabelledFault], alarms: Sequence[Alarm]) -> list[Detection]:
    """Each fault with the first alarm on its unit while it was active."""
    found = []
    for fault in faults:
        inside = [
            a.ts_us
            for a in alarms
            if a.unit_id == fault.unit_id and fault.start_us <= a.ts_us < fault.end_us
        ]
        found.append(Detection(fault, min(inside) if inside else None))
    return found


def false_alarms(faults: Sequence[LabelledFault], alarms: Sequence[Alarm]) -> list[Alarm]:
    """Alarms raised while no fault was active on their unit."""
    return [
        a
        for a in alarms
        if not any(f.unit_id == a.unit_id and f.start_us <= a.ts_us < f.end_us for f in faults)
    ]


def normal_unit_days(
    faults: Sequence[LabelledFault], unit_ids: Sequence[str], *, scored_from_us: int, end_us: int
) -> float:
    """Unit-days scored without an active fault: the exposure for the false-alarm rate."""
    total_us = 0
    for unit_id in unit_ids:
        span_us = max(0, end_us - scored_from_us)
        for fault in (f for f in faults if f.unit_id == unit_id):
            overlap_start, overlap_end = (
                max(fault.start_us, scored_from_us),
                min(fault.end_us, end_us),
            )
            span_us -= max(0, overlap_end - overlap_start)
        total_us += span_us
    return total_us / US_PER_DAY


def summarise(
    faults: Sequence[LabelledFault],
    alarms: Sequence[Alarm],
    *,
    unit_ids: Sequence[str],
    scored_from_us: int,
    end_us: int,
    gradual_kinds: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Precision, recall, delays and false alarms per unit per 30 days, JSON-able."""
    found = detections(faults, alarms)
    detected = sum(d.first_alarm_us is not None for d in found)
    wrong = false_alarms(faults, alarms)
    unit_days = normal_unit_days(faults, unit_ids, scored_from_us=scored_from_us, end_us=end_us)
    gradual = [d.delay_fraction for d in found if d.fault.kind in gradual_kinds]
    return {
        "faults": len(found),
        "detected": detected,
        "recall": _ratio(detected, len(found)),
        # Fault-level precision: a detected fault is one hit however many alarms it raised.
        "precision": _ratio(detected, detected + len(wrong)),
        "alarms": len(alarms),
        "false_alarms": len(wrong),
        "normal_unit_days": round(unit_days, 2),
        "false_alarms_per_unit_30d": _ratio(len(wrong) * FALSE_ALARM_PERIOD_DAYS, unit_days),
        "median_delay_fraction_gradual": _median([g for g in gradual if g is not None]),
        "missed_gradual": sum(g is None for g in gradual),
        "by_kind": _by_kind(found),
    }


def _by_kind(found: Sequence[Detection]) -> dict[str, dict[str, Any]]:
    kinds = sorted({d.fault.kind for d in found})
    result = {}
    for kind in kinds:
        of_kind = [d for d in found if d.fault.kind == kind]
        delays_s = [d.delay_s for d in of_kind if d.delay_s is not None]
        fractions = [d.delay_fraction for d in of_kind if d.delay_fraction is not None]
        result[kind] = {
            "faults": len(of_kind),
            "detected": len(delays_s),
            "median_delay_h": _median([s / 3600 for s in delays_s]),
            "median_delay_fraction": _median(fractions),
        }
    return result


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else round(numerator / denominator, 4)


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None
