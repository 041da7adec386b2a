"""What a decoder returns: the records it made and why it refused the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from devices.records import Position, Reading
from kernel.dlq import RejectReason

# 2000-01-01T00:00:00Z: nothing in the field reports earlier; an older timestamp is a reset clock.
Y2K_US: Final = 946_684_800 * 1_000_000


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one item (item_index) or the whole message (item_index None) was refused."""

    reason: RejectReason
    detail: str
    item_index: int | None = None


@dataclass(slots=True)
class Decoded:
    """The outcome of decoding one message: its records and its rejections."""

    records: list[Reading | Position]
    rejections: list[Rejection]


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds every decoder enforces on size and time."""

    max_payload_bytes: int = 65_536
    max_future_s: float = 86_400
    min_ts_us: int = Y2K_US


DEFAULT_LIMITS: Final = DecodeLimits()


class Invalid(Exception):
    """Raised by validators: the item it is raised for becomes a rejection."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def rejected(reason: RejectReason, detail: str) -> Decoded:
    """A whole-message rejection."""
    return Decoded([], [Rejection(reason, detail)])
