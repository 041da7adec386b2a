"""What writing a batch of raw telemetry came to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic

from stream.repository import RowT


@dataclass(frozen=True, slots=True)
class RejectedRow(Generic[RowT]):
    row: RowT
    detail: str


@dataclass
class WriteResult(Generic[RowT]):
    stored: int = 0
    rejected: list[RejectedRow[RowT]] = field(default_factory=list)
