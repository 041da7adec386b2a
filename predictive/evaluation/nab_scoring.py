"""NAB-style scoring of detections against labelled windows (our own implementation).

As NAB describes it: the earliest detection in a window is a true positive, detections
outside every window are false positives, a window without one is missed, and nothing in
the probationary period (the first 15 % of the series) is scored. The weighted score uses
NAB's standard profile and scaled sigmoid, normalised per series (NAB normalises over its
whole corpus, so a per-series figure is indicative only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PROBATION_FRACTION = 0.15
# NAB standard profile weights.
TP_WEIGHT = 1.0
FP_WEIGHT = 0.11
FN_WEIGHT = 1.0

Window = tuple[int, int]


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One labelled window: whether it is scored and its earliest detection."""

    start_us: int
    end_us: int
    scored: bool
    first_detection_us: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "start_us": self.start_us,
            "end_us": self.end_us,
            "scored": self.scored,
            "first_detection_us": self.first_detection_us,
        }


def probation_end_us(ts_us: Sequence[int]) -> int:
    """The first timestamp scored: the one after the first 15 % of the points."""
    return ts_us[min(len(ts_us) - 1, math.floor(PROBATION_FRACTION * len(ts_us)))]


def scaled_sigmoid(position: float) -> float:
    """NAB's weight of a detection at a relative position: ~1 at a window start, 0 at its end."""
    if position > 10:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def score_windows(
    detections_us: Sequence[int], windows: Sequence[Window], *, scored_from_us: int
) -> dict[str, Any]:
    """Windows detected, false positives and a per-series NAB-style score, JSON-able."""
    scored = sorted(d for d in detections_us if d >= scored_from_us)
    results = [_window_result(scored, w, scored_from_us) for w in windows]
    false_us = [d for d in scored if not any(start <= d <= end for start, end in windows)]
    counted = [r for r in results if r.scored]
    detected = [r for r in counted if r.first_detection_us is not None]
    raw = sum(
        TP_WEIGHT * scaled_sigmoid(_position(r.first_detection_us or 0, r.start_us, r.end_us))
        for r in detected
    )
    raw += sum(FP_WEIGHT * _false_weight(d, windows) for d in false_us)
    raw -= FN_WEIGHT * (len(counted) - len(detected))
    null, perfect = -FN_WEIGHT * len(counted), TP_WEIGHT * scaled_sigmoid(-1.0) * len(counted)
    return {
        "windows": len(windows),
        "windows_scored": len(counted),
        "windows_detected": len(detected),
        "false_positives": len(false_us),
        "nab_style_score": round(100 * (raw - null) / (perfect - null), 1) if counted else None,
        "window_results": [r.to_dict() for r in results],
    }


def _window_result(scored: Sequence[int], window: Window, scored_from_us: int) -> WindowResult:
    start_us, end_us = window
    inside = [d for d in scored if start_us <= d <= end_us]
    return WindowResult(
        start_us=start_us,
        end_us=end_us,
        scored=end_us >= scored_from_us,
        first_detection_us=inside[0] if inside else None,
    )


def _position(detection_us: int, start_us: int, end_us: int) -> float:
    """-1 at the window's start, 0 at its end."""
    return (detection_us - end_us) / max(1, end_us - start_us)


def _false_weight(detection_us: int, windows: Sequence[Window]) -> float:
    """A false positive shortly after a window costs less than one far from any."""
    before = [(start, end) for start, end in windows if end < detection_us]
    if not before:
        return -1.0
    start, end = max(before, key=lambda w: w[1])
    return scaled_sigmoid((detection_us - end) / max(1, end - start))
