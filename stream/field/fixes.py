"""Which GPS fixes the field trackers use, and the counts of those they drop.

A fix is dropped when it is not newer than the last one used for its device (a duplicate from
at-least-once delivery, or out of order) or when its stated accuracy is worse than the limit.
Dropped fixes change no tracker state, so a late or poor fix can neither reopen nor close a visit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from devices.records import Position

Drop = Literal["duplicate", "out_of_order", "inaccurate", "jump", "spike"]
Count = Drop | Literal["accepted", "relocated", "gap"]


@dataclass(slots=True)
class FixCounts:
    """Fixes screened in (accepted) and dropped, by reason; where the trackers broke a track.

    Jumps and spikes are dropped by the trip segmenter after the screen, so they are counted in
    accepted too; gap and relocated count breaks in a track, not fixes.
    """

    accepted: int = 0
    duplicate: int = 0
    out_of_order: int = 0
    inaccurate: int = 0
    jump: int = 0
    spike: int = 0
    relocated: int = 0
    gap: int = 0

    def add(self, what: Count) -> None:
        """Count one more of what."""
        setattr(self, what, getattr(self, what) + 1)

    def to_state(self) -> dict[str, int]:
        """The counts as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, int]) -> FixCounts:
        """Counts saved by to_state."""
        return cls(**state)


def screen(position: Position, last_ts_us: int | None, max_accuracy_m: float) -> Drop | None:
    """Why this fix is not to be used, or None when it is."""
    if last_ts_us is not None and position.ts_us <= last_ts_us:
        return "duplicate" if position.ts_us == last_ts_us else "out_of_order"
    if position.accuracy_m is not None and position.accuracy_m > max_accuracy_m:
        return "inaccurate"
    return None
