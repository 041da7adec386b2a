"""What the online detector reports: an anomaly opened or cleared on a unit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from predictive.online.config import AnomalyKind

# Score as a multiple of the opening threshold: how far past "just anomalous" a unit is.
MEDIUM_RATIO = 1.5
HIGH_RATIO = 3.0


class Severity(StrEnum):
    """How serious an anomaly looks, from its score."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Transition(StrEnum):
    """Whether an anomaly opened or cleared."""

    OPENED = "opened"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One metric's part in an anomaly: its z-score against the unit's baseline."""

    metric: str
    z: float


@dataclass(frozen=True, slots=True)
class AnomalyEvent:
    """An anomaly of one kind opened or cleared on a unit (cleared carries the episode's peak)."""

    unit_id: str
    kind: AnomalyKind
    transition: Transition
    ts_us: int
    opened_us: int
    severity: Severity
    score: float
    contributors: tuple[Contribution, ...]

    def to_dict(self) -> dict[str, Any]:
        """The event as plain JSON-able values."""
        return {
            "unit_id": self.unit_id,
            "kind": self.kind.value,
            "transition": self.transition.value,
            "ts_us": self.ts_us,
            "opened_us": self.opened_us,
            "severity": self.severity.value,
            "score": self.score,
            "contributors": [{"metric": c.metric, "z": c.z} for c in self.contributors],
        }


def severity_of(score: float, open_at: float) -> Severity:
    """The severity of a score, relative to the threshold that opened it."""
    ratio = score / open_at if open_at > 0 else float("inf")
    if ratio >= HIGH_RATIO:
        return Severity.HIGH
    if ratio >= MEDIUM_RATIO:
        return Severity.MEDIUM
    return Severity.LOW
