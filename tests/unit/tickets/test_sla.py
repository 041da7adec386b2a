from datetime import UTC, datetime, time, timedelta

import pytest

from tickets.domain.sla import SlaPolicy, WorkingHours, add_minutes, deadlines, share_used

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
OFFICE = WorkingHours("UTC", {d: (time(9), time(18)) for d in range(5)})


def test_around_the_clock_deadlines_are_plain_sums() -> None:
    policy = SlaPolicy(accept_within_min=30, arrive_within_min=240, resolve_within_min=1440)
    result = deadlines(policy, MONDAY_9)
    assert result.accept_by == MONDAY_9 + timedelta(minutes=30)
    assert result.arrive_by == MONDAY_9 + timedelta(hours=4)
    assert result.resolve_by == MONDAY_9 + timedelta(days=1)


def test_working_time_inside_one_day() -> None:
    assert add_minutes(MONDAY_9, 120, OFFICE) == MONDAY_9 + timedelta(hours=2)


def test_working_time_carries_over_to_the_next_morning() -> None:
    start = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert add_minutes(start, 120, OFFICE) == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_created_at_night_the_clock_starts_in_the_morning() -> None:
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert add_minutes(start, 30, OFFICE) == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_the_weekend_is_skipped() -> None:
    friday_17 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert add_minutes(friday_17, 120, OFFICE) == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_working_hours_follow_the_policy_time_zone() -> None:
    moscow = WorkingHours("Europe/Moscow", {d: (time(9), time(18)) for d in range(7)})
    start = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
    assert add_minutes(start, 60, moscow) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_a_calendar_without_working_time_is_an_error() -> None:
    with pytest.raises(ValueError):
        add_minutes(MONDAY_9, 10, WorkingHours("UTC", {}))


def test_working_hours_parse_from_the_stored_json() -> None:
    hours = WorkingHours.from_json({"timezone": "UTC", "days": {"0": ["08:00", "17:00"]}})
    assert hours.days == {0: (time(8), time(17))}


def test_share_used_is_the_fraction_of_time_passed() -> None:
    deadline = MONDAY_9 + timedelta(hours=1)
    assert share_used(MONDAY_9, deadline, MONDAY_9 + timedelta(minutes=48)) == pytest.approx(0.8)
    assert share_used(MONDAY_9, MONDAY_9, MONDAY_9) == 1.0
