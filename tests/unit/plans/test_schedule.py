"""Due points of maintenance plans: calendar, meters, whichever first, leads and forecasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from predictive.plans.schedule import (
    CALENDAR,
    HOURS_RUN,
    Anchor,
    Intervals,
    Usage,
    add_months,
    due_status,
    meter_at,
    usage_rate,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _days(days: float) -> timedelta:
    return timedelta(days=days)


def test_a_calendar_interval_falls_due_a_number_of_days_after_the_last_service() -> None:
    anchor = Anchor(NOW - _days(20))

    status = due_status(Intervals(every_days=30), anchor, Usage(), NOW)

    assert status.first.basis == CALENDAR
    assert status.first.due_at == NOW + _days(10)
    assert not status.due_now
    assert status.first.summary(NOW) == "due on 2026-12-06 (in 10 days)"


def test_the_lead_gives_notice_that_many_days_before_a_calendar_due_date() -> None:
    anchor = Anchor(NOW - _days(20))

    assert not due_status(Intervals(every_days=30, lead_days=9), anchor, Usage(), NOW).due_now
    assert due_status(Intervals(every_days=30, lead_days=10), anchor, Usage(), NOW).due_now


def test_months_keep_the_day_or_take_the_last_day_of_a_shorter_month() -> None:
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2025, 11, 15, tzinfo=UTC), 3) == datetime(2026, 2, 15, tzinfo=UTC)


def test_an_hours_interval_is_forecast_from_the_usage_rate_and_says_so() -> None:
    anchor = Anchor(NOW - _days(40), hours_run=1_000.0)
    usage = Usage(hours_run=1_454.0, hours_run_per_day=9.2)

    status = due_status(Intervals(every_hours_run=500.0), anchor, usage, NOW)

    first = status.first
    assert (first.basis, first.due_value, first.remaining) == (HOURS_RUN, 1_500.0, 46.0)
    assert first.due_at == NOW + _days(5)
    assert first.forecast
    assert first.summary(NOW) == "due in ~46 h of running, ≈ 5 days at current use"


def test_a_meter_interval_without_a_usage_rate_has_no_date_but_still_falls_due() -> None:
    anchor = Anchor(NOW - _days(40), hours_run=1_000.0)

    waiting = due_status(Intervals(every_hours_run=500.0), anchor, Usage(hours_run=1_400.0), NOW)
    reached = due_status(Intervals(every_hours_run=500.0), anchor, Usage(hours_run=1_501.0), NOW)

    assert waiting.first.due_at is None and not waiting.due_now
    assert "usage rate not known yet" in waiting.first.summary(NOW)
    assert reached.due_now
    assert reached.first.summary(NOW) == "overdue by 1.0 h of running"


def test_a_meter_lead_gives_notice_that_many_units_before_the_due_value() -> None:
    anchor = Anchor(NOW - _days(40), hours_run=1_000.0)
    usage = Usage(hours_run=1_449.0)

    assert not due_status(
        Intervals(every_hours_run=500, lead_hours_run=50), anchor, usage, NOW
    ).due_now
    usage = Usage(hours_run=1_450.0)
    assert due_status(Intervals(every_hours_run=500, lead_hours_run=50), anchor, usage, NOW).due_now


def test_the_day_lead_applies_to_a_meter_forecast_too() -> None:
    anchor = Anchor(NOW - _days(40), hours_run=1_000.0)
    usage = Usage(hours_run=1_454.0, hours_run_per_day=9.2)  # due in 5 days

    assert not due_status(Intervals(every_hours_run=500, lead_days=4), anchor, usage, NOW).due_now
    assert due_status(Intervals(every_hours_run=500, lead_days=5), anchor, usage, NOW).due_now


def test_whichever_comes_first_decides_and_either_interval_gives_notice() -> None:
    anchor = Anchor(NOW - _days(100), hours_run=1_000.0)
    heavy_use = Usage(hours_run=1_400.0, hours_run_per_day=20.0)  # 500 h reached in 5 days
    light_use = Usage(hours_run=1_100.0, hours_run_per_day=1.0)  # in 400 days
    intervals = Intervals(every_days=180, every_hours_run=500.0, lead_days=7)

    by_hours = due_status(intervals, anchor, heavy_use, NOW)
    by_calendar = due_status(intervals, anchor, light_use, NOW)

    assert by_hours.first.basis == HOURS_RUN and by_hours.due_now
    assert by_calendar.first.basis == CALENDAR and not by_calendar.due_now
    assert len(by_hours.intervals) == 2


def test_the_next_due_point_counts_from_the_completed_work() -> None:
    intervals = Intervals(every_days=30, every_hours_run=500.0)
    before = Anchor(NOW - _days(40), hours_run=1_000.0)
    completed = Anchor(NOW - _days(2), hours_run=1_520.0)
    usage = Usage(hours_run=1_540.0, hours_run_per_day=10.0)

    overdue = due_status(intervals, before, usage, NOW)
    after = due_status(intervals, completed, usage, NOW)

    assert overdue.due_now and overdue.overdue_fraction(NOW) > 0
    assert not after.due_now
    assert after.first.due_at == NOW + _days(28)
    assert [i.due_value for i in after.intervals] == [None, 2_020.0]
    assert after.due_key() != overdue.due_key()


def test_an_occurrence_keeps_its_key_while_plan_and_anchor_stay() -> None:
    intervals = Intervals(every_days=30, every_hours_run=500.0)
    anchor = Anchor(NOW - _days(40), hours_run=1_000.0)

    first = due_status(intervals, anchor, Usage(hours_run=1_490.0, hours_run_per_day=5), NOW)
    later = due_status(intervals, anchor, Usage(hours_run=1_530.0), NOW + _days(3))

    assert first.due_key() == later.due_key()


def test_overdue_is_measured_in_intervals() -> None:
    status = due_status(Intervals(every_days=10), Anchor(NOW - _days(15)), Usage(), NOW)

    assert status.overdue_fraction(NOW) == pytest.approx(0.5)
    assert status.first.summary(NOW) == "overdue by 5 days (was due 2026-11-21)"


def test_usage_rate_needs_an_hour_of_history_and_a_meter_that_did_not_go_back() -> None:
    assert usage_rate((NOW - _days(2), 100.0), 120.0, NOW) == pytest.approx(10.0)
    assert usage_rate((NOW - timedelta(minutes=30), 100.0), 101.0, NOW) is None
    assert usage_rate((NOW - _days(2), 100.0), 90.0, NOW) is None
    assert usage_rate(None, 90.0, NOW) is None


def test_the_meter_at_a_moment_is_interpolated_between_samples() -> None:
    points = [(NOW - _days(2), 100.0), (NOW, 120.0)]

    assert meter_at(points, NOW - _days(1)) == pytest.approx(110.0)
    assert meter_at(points, NOW - _days(3)) == 100.0
    assert meter_at(points, NOW + _days(1)) == 120.0
    assert meter_at([], NOW) is None
