"""The planners' dispatch board in a real headless Chromium against a real `toir api`: open
tickets by status with SLA state, the unassignable ones with the engine's reasons, the
candidates with their scores, and a manual reassignment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="browser tests: `playwright` is not installed")

from playwright.sync_api import Page, expect

from tests.browser.support import ApiProcess
from tickets.assign import UNLOCATED
from tickets.users.models import Role

Shoot = Callable[[str], Path]
WEEK = [{"weekday": d, "starts": "00:00", "ends": "00:00"} for d in range(7)]  # around the clock


def _seed(api: ApiProcess, planner: str) -> tuple[int, int]:
    """Two engineers near a located site; a ticket there and one with no site at all."""
    api.sql(
        "INSERT INTO assets.sites (id, name, lat, lon, area) "
        "VALUES ('s1', 'Boiler house', 55.75, 37.62, 'north')"
    )
    for engineer_id, north_deg in (("near", 0.005), ("far", 0.05)):
        body = {
            "id": engineer_id,
            "name": engineer_id.title(),
            "home_lat": 55.75 + north_deg,
            "home_lon": 37.62,
            "areas": ["north"],
            "skills": {"hvac": 3},
            "shifts": WEEK,
        }
        api.ok("POST", "/engineers", planner, body)
    located = {"title": "No heating", "site_id": "s1", "required_skills": {"hvac": 2}}
    ticket_id = int(api.ok("POST", "/tickets", planner, located)["id"])
    nowhere_id = int(api.ok("POST", "/tickets", planner, {"title": "Noise somewhere"})["id"])
    summary = api.ok("POST", "/tickets/assign-waiting", planner)
    assert [a["engineer_id"] for a in summary["assigned"]] == ["near"]
    return ticket_id, nowhere_id


def test_a_planner_sees_the_board_and_reassigns_from_the_candidates(
    page: Page, api: ApiProcess, shoot: Shoot
) -> None:
    planner = api.token(Role.PLANNER, "anna")
    ticket_id, nowhere_id = _seed(api, planner)
    page.goto("/app/board")
    page.get_by_label("Your access token").fill(planner)
    page.get_by_role("button", name="Sign in").click()

    stuck = page.locator("#unassignable")
    expect(stuck).to_contain_text("Needs a person (1)")
    expect(stuck.locator(f"[data-ticket='{nowhere_id}']")).to_contain_text(UNLOCATED)
    assigned = page.locator("section.column[data-status='assigned']")
    expect(assigned.locator(f"[data-ticket='{ticket_id}']")).to_contain_text("near")
    expect(assigned.locator(f"[data-ticket='{ticket_id}']")).to_contain_text("SLA ok")
    shoot("07-board")

    assigned.locator(f"[data-ticket='{ticket_id}']").click()
    panel = page.locator("#panel")
    expect(panel.locator(".candidate")).to_have_count(2)
    far = panel.locator(".candidate[data-engineer='far']")
    expect(far).to_contain_text("min away")
    expect(far).to_contain_text("travel (weight")  # every factor's score, with its weight
    expect(far.locator("meter")).not_to_have_count(0)
    expect(panel.locator(".candidate[data-engineer='near']")).to_be_visible()
    shoot("08-board-candidates")
    panel.get_by_role("button", name="Assign to far").click()

    expect(panel).to_be_hidden()
    expect(assigned.locator(f"[data-ticket='{ticket_id}']")).to_contain_text("far")
    rows = api.sql(
        "SELECT t.assignee_id, 'manual' = ANY(t.flags), h.actor_id, h.reason "
        "FROM tickets.tickets t JOIN tickets.history h ON h.ticket_id = t.id "
        "WHERE t.id = %s ORDER BY h.id DESC LIMIT 1",
        ticket_id,
    )
    assert rows == [("far", True, "anna", "assigned from the dispatch board")]
