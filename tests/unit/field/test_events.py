"""Field events in the platform vocabulary."""

from __future__ import annotations

from kernel import events as vocabulary
from stream.field.events import SiteEntered, SiteLeft, to_domain_event
from stream.field.geofence_index import GeofenceIndex
from stream.field.visits import VisitTracker
from tests.unit.field.tracks import Track, circle

TRUCK = vocabulary.Subject(vocabulary.SubjectKind.VEHICLE, "truck-1")


def visit_events() -> list[SiteEntered | SiteLeft]:
    index = GeofenceIndex([circle("site-1", 2_000, 0, 150)])
    track = Track.starting_at(0, 0).drive_to(2_000, 0).park(900).drive_to(4_000, 0)
    tracker = VisitTracker()
    return [event for p in track.fixes for event in tracker.observe(p, index)]


def test_a_visit_becomes_vocabulary_events_that_survive_the_wire() -> None:
    entered, left = (to_domain_event(event, TRUCK) for event in visit_events())
    assert isinstance(entered, vocabulary.SiteEntered)
    assert isinstance(left, vocabulary.SiteLeft)
    decoded = vocabulary.from_json(left.to_json())
    assert decoded == left
    assert decoded.subject == TRUCK


def test_evidence_is_flat_with_iso_times_instead_of_microseconds() -> None:
    left = visit_events()[-1]
    assert isinstance(left, SiteLeft)
    evidence = to_domain_event(left, TRUCK).evidence
    assert evidence["site_id"] == "site-1"
    assert evidence["device_id"] == "truck-1"
    assert evidence["fixes"] == left.evidence.fixes
    assert evidence["reason"] == "exited"
    assert evidence["arrived_at"].endswith("+00:00")
    assert not [key for key in evidence if key.endswith("_us")]
    assert "event_id" not in evidence


def test_event_time_and_id_carry_over() -> None:
    entered = visit_events()[0]
    domain = to_domain_event(entered, TRUCK)
    assert domain.event_id == entered.event_id
    assert round(domain.occurred_at.timestamp() * 1_000_000) == entered.occurred_us
