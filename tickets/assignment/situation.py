"""Everything filters and factors read about each ticket and engineer at one moment, as arrays.

Arrays are shaped (tickets, engineers), or (1, engineers) when the value is the same for
every ticket, so numpy broadcasting lets one code path score one ticket or a whole batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np

from tickets.assignment.arrays import BoolArray, FloatArray, IntArray, LevelArray
from tickets.assignment.models import TicketDemand
from tickets.assignment.rules import FACTOR_NAMES, AssignmentRule
from tickets.assignment.shifts import absent, local_clocks, shift_left_min, window_overlap_min
from tickets.assignment.table import EngineerTable
from tickets.assignment.travel import TravelEstimator

_LAST_INSTANT = timedelta(microseconds=1)
Array = TypeVar("Array", FloatArray, BoolArray)


@dataclass(frozen=True, eq=False)
class Situation:
    """Tickets, their rules and the engineer table, pre-computed for filters and factors."""

    table: EngineerTable
    tickets: tuple[TicketDemand, ...]
    rules: tuple[AssignmentRule, ...]
    now: datetime
    travel_min: FloatArray  # (T, E)
    duration_min: FloatArray  # (T, 1)
    has_window: BoolArray  # (T, 1)
    shift_room_min: FloatArray  # minutes left in the current shift, or best overlap with the window
    shift_ok: BoolArray  # on shift now, or a shift covers the window for the estimated duration
    on_leave: BoolArray
    required_level: LevelArray  # (T, K, 1); 0 pads tickets needing fewer than K skills
    engineer_level: LevelArray  # (T, K, E)
    area_index: IntArray  # (T,); -1 when the ticket names no area
    work_type_index: IntArray  # (T,)
    max_travel_min: FloatArray  # (T, 1); inf when the rule sets no limit
    require_area: BoolArray  # (T, 1)
    require_shift: BoolArray  # (T, 1)
    excluded_rows: tuple[IntArray, ...]  # per ticket: engineers who declined or timed out
    weights_pct: FloatArray  # (T, factors), in FACTOR_NAMES order


def build_situation(
    *,
    tickets: Sequence[TicketDemand],
    rules: Sequence[AssignmentRule],
    table: EngineerTable,
    now: datetime,
    travel: TravelEstimator,
    exclude: Sequence[Collection[str]],
) -> Situation:
    """Pre-compute the arrays for tickets[i] under rules[i] against the table at `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    room_min, shift_ok, on_leave = _time_state(tickets, table, now)
    required_level, engineer_level = _skill_levels(tickets, table)
    return Situation(
        table=table,
        tickets=tuple(tickets),
        rules=tuple(rules),
        now=now,
        travel_min=_travel_matrix(tickets, rules, table, now, travel),
        duration_min=np.array([[t.duration_h * 60] for t in tickets]),
        has_window=np.array([[t.has_window] for t in tickets], dtype=np.bool_),
        shift_room_min=room_min,
        shift_ok=shift_ok,
        on_leave=on_leave,
        required_level=required_level,
        engineer_level=engineer_level,
        area_index=_indexes([t.area for t in tickets], table.area_index),
        work_type_index=_indexes([t.work_type for t in tickets], table.work_type_index),
        max_travel_min=np.array([[_limit_min(r.max_travel_min)] for r in rules]),
        require_area=np.array([[r.require_area] for r in rules], dtype=np.bool_),
        require_shift=np.array([[r.require_shift] for r in rules], dtype=np.bool_),
        excluded_rows=tuple(table.rows_of(ids) for ids in exclude),
        weights_pct=np.array([[r.weights_pct[f] for f in FACTOR_NAMES] for r in rules]),
    )


def _indexes(keys: Sequence[str | None], index: Mapping[str, int]) -> IntArray:
    """Each key's row in a table vocabulary; -1 for None, the nobody row for unknown keys."""
    nobody = len(index)  # the table's extra row that no engineer has
    return np.array([-1 if key is None else index.get(key, nobody) for key in keys], dtype=np.int64)


def _limit_min(max_travel_min: float | None) -> float:
    return np.inf if max_travel_min is None else max_travel_min


def _skill_levels(
    tickets: Sequence[TicketDemand], table: EngineerTable
) -> tuple[LevelArray, LevelArray]:
    width = max((len(t.required_skills) for t in tickets), default=0) or 1
    nobody = len(table.skill_index)
    index = np.full((len(tickets), width), nobody, dtype=np.int64)
    required = np.zeros((len(tickets), width), dtype=np.int8)
    for row, ticket in enumerate(tickets):
        for k, (skill, level) in enumerate(sorted(ticket.required_skills.items())):
            index[row, k] = table.skill_index.get(skill, nobody)
            required[row, k] = level
    return required[:, :, None], table.skill_levels[index]


def _travel_matrix(
    tickets: Sequence[TicketDemand],
    rules: Sequence[AssignmentRule],
    table: EngineerTable,
    now: datetime,
    travel: TravelEstimator,
) -> FloatArray:
    groups: defaultdict[float | None, list[int]] = defaultdict(list)
    for row, (ticket, rule) in enumerate(zip(tickets, rules, strict=True)):
        groups[_staleness_min(ticket, rule, now)].append(row)
    minutes = np.empty((len(tickets), len(table)))
    for stale_after_min, rows in groups.items():
        origin_lat, origin_lon = _origins(table, now, stale_after_min)
        minutes[rows] = travel.travel_min(
            from_lat=origin_lat,
            from_lon=origin_lon,
            to_lat=np.array([tickets[r].lat for r in rows]),
            to_lon=np.array([tickets[r].lon for r in rows]),
            to_areas=[tickets[r].area for r in rows],
        )
    return minutes


def _staleness_min(ticket: TicketDemand, rule: AssignmentRule, now: datetime) -> float | None:
    # Where an engineer is now says little about where they will be when planned work starts
    # later than a position stays fresh: such tickets are measured from the home base.
    horizon = now + timedelta(minutes=rule.position_stale_after_min)
    if ticket.window_start is not None and ticket.window_start > horizon:
        return None
    return rule.position_stale_after_min


def _origins(
    table: EngineerTable, now: datetime, stale_after_min: float | None
) -> tuple[FloatArray, FloatArray]:
    if stale_after_min is None:
        return table.home_lat, table.home_lon
    age_min = (now.timestamp() - table.position_epoch_s) / 60
    fresh = age_min <= stale_after_min  # NaN (no fix) compares False
    return (
        np.where(fresh, table.position_lat, table.home_lat),
        np.where(fresh, table.position_lon, table.home_lon),
    )


def _time_state(
    tickets: Sequence[TicketDemand], table: EngineerTable, now: datetime
) -> tuple[FloatArray, BoolArray, BoolArray]:
    week_min, day = local_clocks([now], table.zones)
    now_mow, today = week_min[0, table.zone_of], day[0, table.zone_of]
    room = shift_left_min(now_mow, table.shift_start_mow, table.shift_end_mow)[None, :]
    leave = absent(today, today, table.absence_first_day, table.absence_last_day)[None, :]
    windowed = [row for row, t in enumerate(tickets) if t.has_window]
    if not windowed:
        return room, room > 0, leave
    w_room, w_ok, w_leave = _window_state([tickets[r] for r in windowed], table)
    count = len(tickets)
    return (
        _overridden(room, windowed, w_room, count),
        _overridden(room > 0, windowed, w_ok, count),
        _overridden(leave, windowed, w_leave, count),
    )


def _overridden(shared: Array, rows: list[int], values: Array, count: int) -> Array:
    """The shared (1, E) row repeated for count tickets, with the given rows replaced."""
    out = np.repeat(shared, count, axis=0)
    out[rows] = values
    return out


def _window_state(
    tickets: Sequence[TicketDemand], table: EngineerTable
) -> tuple[FloatArray, BoolArray, BoolArray]:
    # Planned work tends to share standard windows: compute each distinct window once.
    windows = sorted({_window(t) for t in tickets})
    position = {window: row for row, window in enumerate(windows)}
    which = np.array([position[_window(t)] for t in tickets], dtype=np.int64)
    start_mow, first_day = local_clocks([start for start, _ in windows], table.zones)
    _, last_day = local_clocks([end - _LAST_INSTANT for _, end in windows], table.zones)
    window_min = np.array([[(end - start).total_seconds() / 60] for start, end in windows])
    overlap_min = window_overlap_min(
        start_mow[:, table.zone_of], window_min, table.shift_start_mow, table.shift_end_mow
    )[which]
    duration_min = np.array([[t.duration_h * 60] for t in tickets])
    covered = overlap_min >= np.minimum(duration_min, window_min[which])
    leave = absent(
        first_day[:, table.zone_of],
        last_day[:, table.zone_of],
        table.absence_first_day,
        table.absence_last_day,
    )[which]
    return overlap_min, covered, leave


def _window(ticket: TicketDemand) -> tuple[datetime, datetime]:
    assert ticket.window_start is not None and ticket.window_end is not None
    return ticket.window_start, ticket.window_end
