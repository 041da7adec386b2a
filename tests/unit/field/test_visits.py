"""Visit tracking: dwell, hysteresis, gaps, overlapping sites, dropped fixes, checkpoints."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from devices.records import Position
from stream.field.events import SiteEntered, SiteLeft
from stream.field.geofence_index import GeofenceIndex
from stream.field.visits import VisitConfig, VisitEvent, VisitTracker
from tests.unit.field.tracks import Track, circle, square

# A 150 m site 2 km north of the centre; the track starts at the centre.
SITE = circle("site-1", 2_000, 0, 150)
INDEX = GeofenceIndex([SITE])


def run(
    positions: Iterable[Position],
    index: GeofenceIndex = INDEX,
    tracker: VisitTracker | None = None,
) -> list[VisitEvent]:
    tracker = tracker or VisitTracker()
    return [event for position in positions for event in tracker.observe(position, index)]


def kinds(events: list[VisitEvent]) -> list[tuple[str, str]]:
    return [(type(event).__name__, event.site_id) for event in events]


def visit_track() -> Track:
    """Drive to the site, park 20 minutes at its centre, drive away."""
    return Track.starting_at(0, 0).drive_to(2_000, 0).park(1_200).drive_to(4_000, 0)


def inside(track: Track) -> list[Position]:
    """The fixes of the track inside the site itself."""
    return [p for p in track.fixes if INDEX.near(p.lat, p.lon, 0.0)]


def test_staying_past_the_dwell_is_a_visit_from_the_first_fix_inside() -> None:
    track = visit_track()
    events = run(track.fixes)
    assert kinds(events) == [("SiteEntered", "site-1"), ("SiteLeft", "site-1")]
    entered, left = events
    assert isinstance(entered, SiteEntered) and isinstance(left, SiteLeft)
    first_inside = inside(track)[0]
    assert entered.arrived_us == first_inside.ts_us
    assert entered.occurred_us - entered.arrived_us >= 300 * 1_000_000
    assert entered.occurred_us - entered.arrived_us < 310 * 1_000_000
    assert left.arrived_us == entered.arrived_us
    assert left.reason == "exited"


def test_leaving_reports_the_last_fix_within_the_exit_margin_and_the_duration() -> None:
    track = visit_track()
    left = run(track.fixes)[-1]
    assert isinstance(left, SiteLeft)
    within_margin = [p for p in track.fixes if INDEX.near(p.lat, p.lon, 50.0)]
    assert left.departed_us == within_margin[-1].ts_us
    assert left.duration_s == (left.departed_us - left.arrived_us) / 1_000_000
    assert left.evidence.fixes == len(within_margin)
    assert left.evidence.min_centre_m == pytest.approx(0.0, abs=1e-6)
    assert left.evidence.first_fix_us == left.arrived_us


def test_driving_through_a_site_is_not_a_visit() -> None:
    track = Track.starting_at(0, 0).drive_to(4_000, 0, speed_kmh=30)
    assert inside(track)  # it did pass through
    assert run(track.fixes) == []


def test_stopping_for_less_than_the_dwell_is_not_a_visit() -> None:
    track = Track.starting_at(0, 0).drive_to(2_000, 0).park(240).drive_to(4_000, 0)
    assert run(track.fixes) == []


def test_jitter_across_the_boundary_does_not_flap() -> None:
    # Parked 5 m outside the radius with 10 m jitter: fixes hop in and out of the circle.
    track = Track.starting_at(0, 0).drive_to(2_155, 0).park(3_600, jitter_m=10).drive_to(4_000, 0)
    in_circle = {bool(INDEX.near(p.lat, p.lon)) for p in track.fixes[-400:-100]}
    assert in_circle == {True, False}
    assert kinds(run(track.fixes)) == [("SiteEntered", "site-1"), ("SiteLeft", "site-1")]


def test_without_an_exit_margin_the_same_jitter_would_flap() -> None:
    track = Track.starting_at(0, 0).drive_to(2_155, 0).park(3_600, jitter_m=10).drive_to(4_000, 0)
    tracker = VisitTracker(VisitConfig(exit_margin_m=0.0, min_dwell_s=0.0))
    assert len(run(track.fixes, tracker=tracker)) > 10


def test_entering_needs_the_site_itself_not_just_the_margin() -> None:
    track = Track.starting_at(0, 0).drive_to(2_000 - 180, 0).park(1_200).drive_to(0, 0)
    assert run(track.fixes) == []


def test_a_short_gap_inside_keeps_the_visit() -> None:
    track = Track.starting_at(0, 0).drive_to(2_000, 0).park(400).silence(600).park(400)
    track.drive_to(4_000, 0)
    events = run(track.fixes)
    assert kinds(events) == [("SiteEntered", "site-1"), ("SiteLeft", "site-1")]
    assert events[-1].duration_s > 1_300  # type: ignore[union-attr]


def test_a_long_gap_ends_the_visit_at_the_last_fix_before_it() -> None:
    track = Track.starting_at(0, 0).drive_to(2_000, 0).park(400)
    last_before_gap = track.fixes[-1]
    track.silence(1_800).park(400).drive_to(4_000, 0)
    events = run(track.fixes)
    assert kinds(events) == [
        ("SiteEntered", "site-1"),
        ("SiteLeft", "site-1"),
        ("SiteEntered", "site-1"),
        ("SiteLeft", "site-1"),
    ]
    first_left = events[1]
    assert isinstance(first_left, SiteLeft)
    assert first_left.reason == "gap"
    assert first_left.departed_us == last_before_gap.ts_us


def test_reappearing_elsewhere_after_a_short_gap_leaves_at_the_last_fix_inside() -> None:
    track = Track.starting_at(0, 0).drive_to(2_000, 0).park(400)
    last_inside = track.fixes[-1]
    track.silence(300).fix(3_000, 0)
    left = run(track.fixes)[-1]
    assert isinstance(left, SiteLeft)
    assert (left.reason, left.departed_us) == ("exited", last_inside.ts_us)


def test_expire_ends_the_visit_of_a_silent_device() -> None:
    track = Track.starting_at(0, 0).drive_to(2_000, 0).park(400)
    tracker = VisitTracker()
    run(track.fixes, tracker=tracker)
    assert tracker.sites_of("truck-1") == ["site-1"]
    assert tracker.expire(track.fixes[-1].ts_us + 600 * 1_000_000) == []
    [left] = tracker.expire(track.fixes[-1].ts_us + 901 * 1_000_000)
    assert isinstance(left, SiteLeft)
    assert (left.reason, left.departed_us) == ("gap", track.fixes[-1].ts_us)
    assert tracker.sites_of("truck-1") == []


def test_overlapping_sites_are_tracked_separately() -> None:
    # Two sites 200 m apart with 150 m radii: park in the overlap, then in "b" only.
    index = GeofenceIndex([circle("a", 2_000, 0, 150), circle("b", 2_200, 0, 150)])
    track = Track.starting_at(0, 0).drive_to(2_100, 0).park(600).drive_to(2_300, 0).park(600)
    track.drive_to(5_000, 0)
    events = run(track.fixes, index)
    assert kinds(events) == [
        ("SiteEntered", "a"),
        ("SiteEntered", "b"),
        ("SiteLeft", "a"),
        ("SiteLeft", "b"),
    ]
    assert events[2].occurred_us < events[3].occurred_us


def test_polygon_sites_are_visited_like_circles() -> None:
    index = GeofenceIndex([square("yard", 2_000, 0, 300)])
    track = visit_track()
    assert kinds(run(track.fixes, index)) == [("SiteEntered", "yard"), ("SiteLeft", "yard")]


def test_out_of_order_and_duplicate_fixes_are_ignored_and_counted() -> None:
    fixes = visit_track().fixes
    # A fix from outside the site, delivered late in the middle of the stay, and a redelivery.
    middle = len(fixes) // 2
    messy = [*fixes[:middle], fixes[3], fixes[middle - 1], *fixes[middle:]]
    tracker = VisitTracker()
    assert run(messy, tracker=tracker) == run(fixes)
    assert (tracker.counts.out_of_order, tracker.counts.duplicate) == (1, 1)
    assert tracker.counts.accepted == len(fixes)


def test_inaccurate_fixes_are_ignored_and_counted() -> None:
    track = Track.starting_at(0, 0).drive_to(2_000, 0).park(300)
    track.fix(0, 0, accuracy_m=800.0).fix(5_000, 0, accuracy_m=250.0)
    track.park(300, accuracy_m=12.0).drive_to(4_000, 0)
    tracker = VisitTracker()
    events = run(track.fixes, tracker=tracker)
    assert kinds(events) == [("SiteEntered", "site-1"), ("SiteLeft", "site-1")]
    assert tracker.counts.inaccurate == 2
    assert events[-1].evidence.worst_accuracy_m == 12.0


def test_state_round_trip_through_json_continues_identically() -> None:
    fixes = visit_track().fixes
    whole = VisitTracker()
    expected = run(fixes, tracker=whole)
    for cut in (10, 30, 80):  # before the site, waiting out the dwell, during the visit
        first = VisitTracker()
        events = run(fixes[:cut], tracker=first)
        restored = VisitTracker.from_state(json.loads(json.dumps(first.to_state())))
        events += run(fixes[cut:], tracker=restored)
        assert events == expected
        assert restored.to_state() == whole.to_state()


def test_event_ids_are_stable_and_distinct_per_event() -> None:
    first, second = run(visit_track().fixes), run(visit_track().fixes)
    assert [e.event_id for e in first] == [e.event_id for e in second]
    assert len({e.event_id for e in first}) == 2


def test_devices_are_tracked_independently() -> None:
    a = visit_track().fixes
    b = [Position("van-2", p.ts_us, p.lat, p.lon) for p in a]
    events = run(sorted([*a, *b], key=lambda p: p.ts_us))
    assert sorted((type(e).__name__, e.device_id) for e in events) == [
        ("SiteEntered", "truck-1"),
        ("SiteEntered", "van-2"),
        ("SiteLeft", "truck-1"),
        ("SiteLeft", "van-2"),
    ]


def test_invalid_config_is_refused() -> None:
    with pytest.raises(ValueError):
        VisitConfig(max_gap_s=0)
    with pytest.raises(ValueError):
        VisitConfig(exit_margin_m=-1)
