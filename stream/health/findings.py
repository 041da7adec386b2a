"""An anomaly opened or cleared on a unit, from either detector, and what it becomes:
an AnomalyDetected event (openings only) and a row of predictive.anomalies."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.clock import from_epoch_us
from kernel.events import AnomalyDetected, Subject, SubjectKind, event_id_for
from predictive.online.events import AnomalyEvent, Transition
from stream.health.repository import AnomalyRow


@dataclass(frozen=True, slots=True)
class Finding:
    """An anomaly of one kind opened or cleared on a unit (cleared: the episode's peak)."""

    unit_id: str
    kind: str
    opened: bool
    ts_us: int
    opened_us: int
    severity: str
    score: float
    contributors: tuple[tuple[str, float], ...] = ()
    detector: str = "online"
    model_version: int | None = None

    @classmethod
    def of(cls, event: AnomalyEvent) -> Finding:
        """A finding of the online detector."""
        return cls(
            unit_id=event.unit_id,
            kind=event.kind.value,
            opened=event.transition is Transition.OPENED,
            ts_us=event.ts_us,
            opened_us=event.opened_us,
            severity=event.severity.value,
            score=event.score,
            contributors=tuple((c.metric, c.z) for c in event.contributors),
        )

    @property
    def event_id(self) -> str:
        """The same unit, kind and opening always give the same id (replays de-duplicate)."""
        return event_id_for("AnomalyDetected", self.unit_id, self.kind, self.opened_us)

    def event(self) -> AnomalyDetected:
        """The AnomalyDetected event of an opening."""
        return AnomalyDetected(
            event_id=self.event_id,
            occurred_at=from_epoch_us(self.ts_us),
            subject=Subject(SubjectKind.EQUIPMENT, self.unit_id),
            evidence={
                "kind": self.kind,
                "severity": self.severity,
                "score": round(self.score, 4),
                "detector": self.detector,
                "model_version": self.model_version,
                "opened_at": from_epoch_us(self.opened_us).isoformat(),
                "contributors": [{"metric": m, "z": round(z, 3)} for m, z in self.contributors],
                "metrics": {m: round(z, 3) for m, z in self.contributors},
            },
        )

    def row(self) -> AnomalyRow:
        return AnomalyRow(
            equipment_id=self.unit_id,
            kind=self.kind,
            opened_us=self.opened_us,
            severity=self.severity,
            score=self.score,
            contributors=[{"metric": m, "z": z} for m, z in self.contributors],
            event_id=self.event_id,
            model_version=self.model_version,
            cleared_us=None if self.opened else self.ts_us,
        )
