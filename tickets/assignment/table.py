"""Engineers as columns of numpy arrays, built once and scored against many tickets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from tickets.assignment.arrays import BoolArray, FloatArray, IdArray, IntArray, LevelArray
from tickets.assignment.models import EngineerProfile
from tickets.assignment.shifts import absence_days, shift_bounds_mow

_EMPTY: Final[IntArray] = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class EngineerTable:
    """Engineer attributes as arrays indexed by row; one row per engineer, in input order."""

    ids: tuple[str, ...]
    id_array: IdArray  # the same ids, for vectorised lookups
    row_of: Mapping[str, int]
    id_rank: IntArray  # position of each id in sorted order: the last tie-break
    rows_by_id: IntArray  # rows in id order
    home_lat: FloatArray
    home_lon: FloatArray
    position_lat: FloatArray  # NaN when there is no fix
    position_lon: FloatArray
    position_epoch_s: FloatArray
    is_off: BoolArray
    is_available: BoolArray
    max_concurrent: IntArray
    open_tickets: IntArray
    open_hours: FloatArray
    assigned_today: IntArray
    en_route_to_urgent: BoolArray
    skill_index: Mapping[str, int]
    skill_levels: LevelArray  # (skills + 1, engineers); the last row is nobody's skill
    area_index: Mapping[str, int]
    area_member: BoolArray  # (areas + 1, engineers); the last row is nobody's area
    work_type_index: Mapping[str, int]
    first_time_fix: FloatArray  # (work types + 1, engineers), NaN when unknown
    zones: tuple[str, ...]
    zone_of: IntArray
    shift_start_mow: FloatArray  # (engineers, max shifts), minute of the local week
    shift_end_mow: FloatArray  # may pass the end of the week; padding is an empty interval
    absence_first_day: IntArray  # (engineers, max absences), proleptic ordinals
    absence_last_day: IntArray
    responsible_rows: Mapping[str, IntArray]  # equipment or site id -> engineer rows
    visit_rows: Mapping[str, tuple[IntArray, FloatArray]]  # site id -> rows, visit counts
    preferred_rows: Mapping[str, IntArray]  # customer id -> engineer rows

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_profiles(cls, profiles: Sequence[EngineerProfile]) -> EngineerTable:
        """Build the table; engineer ids must be unique."""
        ids = tuple(p.id for p in profiles)
        if len(set(ids)) != len(ids):
            raise ValueError("engineer ids must be unique")
        skill_index, skill_levels = _skill_matrix(profiles)
        area_index, area_member = _area_matrix(profiles)
        work_type_index, first_time_fix = _first_time_fix_matrix(profiles)
        zones = tuple(sorted({p.timezone for p in profiles}))
        shift_start_mow, shift_end_mow = _shift_matrix(profiles)
        absence_first_day, absence_last_day = _absence_matrix(profiles)
        id_array = np.array(ids, dtype=np.object_)
        rows_by_id = np.argsort(id_array).astype(np.int64)
        return cls(
            ids=ids,
            id_array=id_array,
            row_of={engineer_id: row for row, engineer_id in enumerate(ids)},
            id_rank=np.argsort(rows_by_id).astype(np.int64),
            rows_by_id=rows_by_id,
            home_lat=_floats(p.home_lat for p in profiles),
            home_lon=_floats(p.home_lon for p in profiles),
            position_lat=_floats(_or_nan(p.position_lat) for p in profiles),
            position_lon=_floats(_or_nan(p.position_lon) for p in profiles),
            position_epoch_s=_floats(_fix_epoch_s(p) for p in profiles),
            is_off=np.array([p.status == "off" for p in profiles], dtype=np.bool_),
            is_available=np.array([p.status == "available" for p in profiles], dtype=np.bool_),
            max_concurrent=_ints(p.max_concurrent for p in profiles),
            open_tickets=_ints(p.open_tickets for p in profiles),
            open_hours=_floats(p.open_hours for p in profiles),
            assigned_today=_ints(p.assigned_today for p in profiles),
            en_route_to_urgent=np.array([p.en_route_to_urgent for p in profiles], dtype=np.bool_),
            skill_index=skill_index,
            skill_levels=skill_levels,
            area_index=area_index,
            area_member=area_member,
            work_type_index=work_type_index,
            first_time_fix=first_time_fix,
            zones=zones,
            zone_of=_ints(zones.index(p.timezone) for p in profiles),
            shift_start_mow=shift_start_mow,
            shift_end_mow=shift_end_mow,
            absence_first_day=absence_first_day,
            absence_last_day=absence_last_day,
            responsible_rows=_inverted(profiles, lambda p: p.responsible_for),
            visit_rows=_visits(profiles),
            preferred_rows=_inverted(profiles, lambda p: p.preferred_by_customers),
        )

    def rows_of(self, ids: Iterable[str]) -> IntArray:
        """Rows of the given engineer ids; ids not in the table are skipped."""
        return np.array([self.row_of[i] for i in ids if i in self.row_of], dtype=np.int64)

    def rows_in(self, index: Mapping[str, IntArray], key: str | None) -> IntArray:
        """Rows listed under key in one of the table's inverted indexes."""
        return _EMPTY if key is None else index.get(key, _EMPTY)


def _floats(values: Iterable[float]) -> FloatArray:
    return np.fromiter(values, dtype=np.float64)


def _ints(values: Iterable[int]) -> IntArray:
    return np.fromiter(values, dtype=np.int64)


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _fix_epoch_s(profile: EngineerProfile) -> float:
    if profile.position_at is None or profile.position_lat is None:
        return float("nan")
    return profile.position_at.timestamp()


def _vocabulary(names: Iterable[str]) -> dict[str, int]:
    return {name: position for position, name in enumerate(sorted(set(names)))}


def _skill_matrix(profiles: Sequence[EngineerProfile]) -> tuple[dict[str, int], LevelArray]:
    index = _vocabulary(skill for p in profiles for skill in p.skills)
    levels = np.zeros((len(index) + 1, len(profiles)), dtype=np.int8)
    for row, profile in enumerate(profiles):
        for skill, level in profile.skills.items():
            levels[index[skill], row] = level
    return index, levels


def _area_matrix(profiles: Sequence[EngineerProfile]) -> tuple[dict[str, int], BoolArray]:
    index = _vocabulary(area for p in profiles for area in p.areas)
    member = np.zeros((len(index) + 1, len(profiles)), dtype=np.bool_)
    for row, profile in enumerate(profiles):
        member[[index[area] for area in profile.areas], row] = True
    return index, member


def _first_time_fix_matrix(
    profiles: Sequence[EngineerProfile],
) -> tuple[dict[str, int], FloatArray]:
    index = _vocabulary(work for p in profiles for work in p.first_time_fix_rate)
    rates = np.full((len(index) + 1, len(profiles)), np.nan)
    for row, profile in enumerate(profiles):
        for work_type, rate in profile.first_time_fix_rate.items():
            rates[index[work_type], row] = rate
    return index, rates


def _shift_matrix(profiles: Sequence[EngineerProfile]) -> tuple[FloatArray, FloatArray]:
    bounds = [[shift_bounds_mow(s) for s in p.shifts] for p in profiles]
    width = max((len(b) for b in bounds), default=0) or 1
    start = np.zeros((len(profiles), width))
    end = np.zeros((len(profiles), width))
    for row, intervals in enumerate(bounds):
        for k, (first_mow, last_mow) in enumerate(intervals):
            start[row, k], end[row, k] = first_mow, last_mow
    return start, end


def _absence_matrix(profiles: Sequence[EngineerProfile]) -> tuple[IntArray, IntArray]:
    width = max((len(p.absences) for p in profiles), default=0) or 1
    # Padding is an empty range (first after last), which overlaps nothing.
    first = np.ones((len(profiles), width), dtype=np.int64)
    last = np.zeros((len(profiles), width), dtype=np.int64)
    for row, profile in enumerate(profiles):
        for k, absence in enumerate(profile.absences):
            first[row, k], last[row, k] = absence_days(absence)
    return first, last


def _inverted(
    profiles: Sequence[EngineerProfile], keys_of: Callable[[EngineerProfile], Iterable[str]]
) -> dict[str, IntArray]:
    rows: defaultdict[str, list[int]] = defaultdict(list)
    for row, profile in enumerate(profiles):
        for key in keys_of(profile):
            rows[key].append(row)
    return {key: np.array(found, dtype=np.int64) for key, found in rows.items()}


def _visits(profiles: Sequence[EngineerProfile]) -> dict[str, tuple[IntArray, FloatArray]]:
    found: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    for row, profile in enumerate(profiles):
        for site_id, count in profile.site_visits.items():
            found[site_id].append((row, count))
    return {
        site_id: (_ints(r for r, _ in pairs), _floats(float(c) for _, c in pairs))
        for site_id, pairs in found.items()
    }
