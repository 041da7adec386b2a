"""Hard filters: an engineer failing any of them is not a candidate for the ticket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from tickets.assignment.arrays import BoolArray
from tickets.assignment.models import TicketDemand
from tickets.assignment.situation import Situation

DECLINED_REASON: Final = "declined or timed out earlier"


@dataclass(frozen=True, eq=False)
class Verdict:
    """One filter's outcome: who passes, per ticket, and why those who fail are out."""

    name: str
    passed: BoolArray  # (T, E), or (1, E) when the same for every ticket
    reasons: tuple[str, ...]  # per ticket, or a single reason for all

    def passed_row(self, row: int) -> BoolArray:
        """Who passes for the ticket in this row."""
        return np.asarray(self.passed[row if self.passed.shape[0] > 1 else 0], dtype=np.bool_)

    def reason(self, row: int) -> str:
        """Why an engineer failing this filter is out for the ticket in this row."""
        return self.reasons[row if len(self.reasons) > 1 else 0]


def skills(s: Situation) -> Verdict:
    """Has every required skill at its minimum level or above."""
    passed = np.all(s.engineer_level >= s.required_level, axis=1)
    return Verdict("skills", passed, tuple(_skills_reason(t) for t in s.tickets))


def shift(s: Situation) -> Verdict:
    """On shift now, or, for planned work, a shift covers the window for the duration."""
    passed = s.shift_ok | ~s.require_shift
    return Verdict("shift", passed, tuple(_shift_reason(t) for t in s.tickets))


def leave(s: Situation) -> Verdict:
    """Not on leave or sick today, or on any day of the planned window."""
    reasons = tuple(
        "on leave or sick during the planned window" if t.has_window else "on leave or sick today"
        for t in s.tickets
    )
    return Verdict("leave", ~s.on_leave, reasons)


def area(s: Situation) -> Verdict:
    """Serves the ticket's area (when the ticket has one and the rule requires it)."""
    serves = s.table.area_member[s.area_index]
    passed = serves | ~s.require_area | (s.area_index < 0)[:, None]
    return Verdict("area", passed, tuple(f"does not serve area {t.area}" for t in s.tickets))


def capacity(s: Situation) -> Verdict:
    """Has fewer open tickets than the maximum they may hold at once."""
    passed = (s.table.open_tickets < s.table.max_concurrent)[None, :]
    return Verdict("capacity", passed, ("already at max concurrent tickets",))


def travel(s: Situation) -> Verdict:
    """Can get there within the rule's maximum travel time."""
    passed = s.travel_min <= s.max_travel_min
    reasons = tuple(f"travel over {limit:g} min" for limit in s.max_travel_min[:, 0])
    return Verdict("travel", passed, reasons)


def status(s: Situation) -> Verdict:
    """Is not `off`."""
    return Verdict("status", ~s.table.is_off[None, :], ("status is off",))


def declined(s: Situation) -> Verdict:
    """Has not declined or let this ticket time out before."""
    if not any(rows.size for rows in s.excluded_rows):
        return Verdict("declined", np.ones((1, len(s.table)), dtype=np.bool_), (DECLINED_REASON,))
    passed = np.ones((len(s.tickets), len(s.table)), dtype=np.bool_)
    for row, excluded in enumerate(s.excluded_rows):
        passed[row, excluded] = False
    return Verdict("declined", passed, (DECLINED_REASON,))


HARD_FILTERS: Final[tuple[Callable[[Situation], Verdict], ...]] = (
    status,
    declined,
    leave,
    shift,
    skills,
    area,
    capacity,
    travel,
)


def apply_filters(s: Situation) -> tuple[Verdict, ...]:
    """Every hard filter's verdict, in HARD_FILTERS order."""
    return tuple(hard_filter(s) for hard_filter in HARD_FILTERS)


def _skills_reason(ticket: TicketDemand) -> str:
    needed = ", ".join(
        f"{name} level {lvl}+" for name, lvl in sorted(ticket.required_skills.items())
    )
    return f"lacks required skills ({needed})"


def _shift_reason(ticket: TicketDemand) -> str:
    if ticket.has_window:
        return "no shift covers the planned window for the estimated duration"
    return "not on shift now"
