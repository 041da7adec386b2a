"""The engineer's phone, end to end: a real headless Chromium with the app's service worker,
a real `toir api` and database. A ticket appears live, is worked online and offline, and
reaches the server once per action, in order; a reassignment made meanwhile is shown."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="browser tests: `playwright` is not installed")

from playwright.sync_api import BrowserContext, Page, Response, Route, expect

from tests.browser.support import ApiProcess
from tickets.users.models import Role

Shoot = Callable[[str], Path]
CHECKLIST = [
    {"id": "oil", "kind": "measure", "label": "Oil pressure, bar", "min": 2, "max": 6},
    {"id": "seal", "kind": "check", "label": "Seal replaced"},
    {"id": "photo", "kind": "photo", "label": "Photo of the panel", "required": False},
]
EVIDENCE = (
    '[{"metric": "vibration_mm_s", "value": 11.2, "threshold": 7.1, '
    '"detected_at": "2030-01-01T07:55:00Z", "model": "isolation-forest"}]'
)
# True once the service worker's copy of "my tickets" has the ticket in that status.
SAVED_FOR_OFFLINE = """async ([id, status]) => {
  const cache = await caches.open("toir-data");
  for (const request of await cache.keys()) {
    if (!request.url.includes("/api/v1/tickets?")) continue;
    const page = await (await cache.match(request)).json();
    if (page.items.some((t) => t.id === id && t.status === status)) return true;
  }
  return false;
}"""
LIVE_TIMEOUT_MS = 5_000
SYNC_TIMEOUT_MS = 20_000


def _seed(api: ApiProcess) -> dict[str, str]:
    api.sql(
        "INSERT INTO assets.sites (id, name, address, customer, lat, lon) "
        "VALUES ('s1', 'Boiler house', '1 Mill Lane', 'acme', 55.75, 37.62)"
    )
    api.sql(
        "INSERT INTO assets.equipment (id, site_id, kind, model, serial, criticality) "
        "VALUES ('pump-7', 's1', 'pump', 'Grundfos CR 10', 'SN-4411', 'high')"
    )
    api.sql("INSERT INTO tickets.engineers (id, name) VALUES ('eng-1', 'Ivan'), ('eng-2', 'Olga')")
    return {
        "planner": api.token(Role.PLANNER, "anna"),
        "ivan": api.token(Role.ENGINEER, "ivan", "eng-1"),
    }


def _open_ticket(api: ApiProcess, planner: str, assignee: str) -> int:
    body = {
        "title": "Pump vibrates",
        "kind": "anomaly",
        "priority": "critical",
        "equipment_id": "pump-7",
        "site_id": "s1",
        "description": "Vibration above the alarm level for 10 minutes.",
        "checklist": CHECKLIST,
    }
    ticket_id = int(api.ok("POST", "/tickets", planner, body)["id"])
    api.sql(
        "UPDATE tickets.tickets SET evidence = %s::jsonb, cause = 'vibration', event_count = 3 "
        "WHERE id = %s",
        EVIDENCE,
        ticket_id,
    )
    api.ok("POST", f"/tickets/{ticket_id}/actions/assign", planner, {"assignee_id": assignee})
    return ticket_id


def _sign_in(page: Page, token: str) -> None:
    page.goto("/app")
    page.get_by_label("Your access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#list")).to_be_visible()
    expect(page.locator("#net")).to_have_text("Online · live")  # the stream is subscribed
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _history(api: ApiProcess, ticket_id: int) -> list[tuple[str, str, str]]:
    rows = api.sql(
        "SELECT action, actor_kind, actor_id FROM tickets.history WHERE ticket_id = %s ORDER BY id",
        ticket_id,
    )
    return [(str(a), str(k), str(i)) for a, k, i in rows]


def _complete_offline(page: Page) -> None:
    page.get_by_role("button", name="Complete…").click()
    page.get_by_label("Work done").fill("Replaced the shaft seal, balanced the impeller.")
    page.get_by_label("Material 1").fill("Shaft seal CR-10")
    page.get_by_label("Quantity").fill("1")
    page.get_by_label("Oil pressure, bar").fill("4.2")
    page.get_by_label("Seal replaced").check()
    page.get_by_label("5 of 5").check()
    page.get_by_label("Customer's name (signature)").fill("P. Petrov")
    page.get_by_role("button", name="Complete ticket").click()


def test_an_engineer_works_a_ticket_live_online_and_offline_and_each_action_lands_once(
    page: Page, context: BrowserContext, api: ApiProcess, shoot: Shoot
) -> None:
    people = _seed(api)
    page.goto("/app")
    shoot("01-sign-in")
    _sign_in(page, people["ivan"])
    expect(page.get_by_text("No open tickets")).to_be_visible()

    ticket_id = _open_ticket(api, people["planner"], "eng-1")

    card = page.locator(f"a[data-ticket='{ticket_id}']")
    expect(card).to_be_visible(timeout=LIVE_TIMEOUT_MS)  # pushed live: no reload
    expect(card).to_contain_text("SLA")
    expect(card.locator(".countdown")).to_have_text(re.compile(r"^Accept in \d+ min"))
    notes = page.evaluate("window.__notifications")
    assert {"title": "New ticket", "body": f"#{ticket_id} Pump vibrates"} in notes
    shoot("02-my-tickets-live")

    card.click()
    expect(page.locator("#context")).to_contain_text("Grundfos CR 10")
    expect(page.get_by_role("link", name="Open map")).to_have_attribute(
        "href", re.compile(r"openstreetmap\.org/\?mlat=55\.750000&mlon=37\.620000")
    )
    expect(page.locator("#detail")).to_contain_text("vibration_mm_s")
    expect(page.locator("#history")).to_contain_text("assign")
    shoot("03-ticket-detail")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#detail-status")).to_have_text("Accepted")
    _wait_saved_for_offline(page, ticket_id, "accepted")

    posts = _record_action_posts(page)
    context.set_offline(True)
    page.reload()  # no network at all: the shell and the ticket come from the phone
    expect(page.locator("#detail-status")).to_have_text("Accepted")
    expect(page.locator("#net")).to_have_text("Offline")
    page.get_by_role("button", name="Arrived on site").click()
    expect(page.locator("#detail-status")).to_have_text("On site")
    _complete_offline(page)
    expect(page.locator("#pending")).to_have_text("2 to sync")
    expect(page.locator("#history")).to_contain_text("Waiting to sync: complete")
    shoot("04-offline-queue")
    assert [a for a, _, _ in _history(api, ticket_id)] == ["open", "assign", "accept"]

    lost = _lose_first_answer(page, "arrive")  # it reaches the server; the phone never hears
    went_online = datetime.now().astimezone()
    context.set_offline(False)

    expect(page.locator("#pending")).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    expect(page.locator("#conflicts")).to_be_hidden()
    assert _history(api, ticket_id) == [
        ("open", "user", "anna"),
        ("assign", "user", "anna"),
        ("accept", "engineer", "eng-1"),
        ("arrive", "engineer", "eng-1"),
        ("complete", "engineer", "eng-1"),
    ]
    ((arrived_at, completed_at, status),) = api.sql(
        "SELECT arrived_at, completed_at, status FROM tickets.tickets WHERE id = %s", ticket_id
    )
    assert arrived_at < completed_at < went_online  # when done on site, not when synced
    assert status == "completed"
    ((work_done, materials, answers, rating, comment),) = api.sql(
        "SELECT work_done, materials, checklist_answers, rating, comment "
        "FROM tickets.completions WHERE ticket_id = %s",
        ticket_id,
    )
    assert work_done.startswith("Replaced the shaft seal")
    assert materials == [{"name": "Shaft seal CR-10", "quantity": 1}]
    assert (answers, rating, comment) == (
        {"oil": 4.2, "seal": True},
        5,
        "Customer signature: P. Petrov",
    )
    _assert_keyed_and_replayed(posts, lost)
    expect(page.locator("#detail")).to_contain_text("no longer open for you")
    page.get_by_role("link", name="Back to my tickets").click()
    expect(page.get_by_text("No open tickets")).to_be_visible()
    shoot("05-synced")


def test_a_reassignment_while_offline_is_shown_as_a_conflict_not_lost(
    page: Page, context: BrowserContext, api: ApiProcess, shoot: Shoot
) -> None:
    people = _seed(api)
    ticket_id = _open_ticket(api, people["planner"], "eng-1")
    api.ok("POST", f"/tickets/{ticket_id}/actions/accept", people["ivan"])
    _sign_in(page, people["ivan"])
    page.locator(f"a[data-ticket='{ticket_id}']").click()
    expect(page.locator("#history")).to_contain_text("accept")

    context.set_offline(True)
    page.get_by_role("button", name="Arrived on site").click()
    expect(page.locator("#pending")).to_have_text("1 to sync")
    api.ok(
        "POST",
        f"/tickets/{ticket_id}/actions/assign",
        people["planner"],
        {"assignee_id": "eng-2", "reason": "Ivan is out of signal, Olga is closer"},
    )
    context.set_offline(False)

    conflicts = page.locator("#conflicts")
    expect(conflicts).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(conflicts).to_contain_text(f"Ticket #{ticket_id}: arrive")
    expect(conflicts).to_contain_text("reassigned to someone else while you were offline")
    expect(conflicts).to_contain_text(f"ticket {ticket_id} is not assigned to you")
    expect(page.locator("#pending")).to_be_hidden()
    expect(page.locator("#detail")).to_contain_text("no longer open for you")
    shoot("06-conflict")
    assert [a for a, _, _ in _history(api, ticket_id)] == ["open", "assign", "accept", "assign"]

    page.reload()  # the refusal is kept on the phone until the engineer dismisses it
    expect(conflicts).to_be_visible()
    conflicts.get_by_role("button", name="Dismiss").click()
    expect(conflicts).to_be_hidden()


def _wait_saved_for_offline(page: Page, ticket_id: int, status: str) -> None:
    deadline = time.monotonic() + 5
    while not page.evaluate(SAVED_FOR_OFFLINE, [ticket_id, status]):
        assert time.monotonic() < deadline, f"ticket {ticket_id} not saved as {status}"
        page.wait_for_timeout(100)


def _record_action_posts(page: Page) -> list[tuple[str, str | None, int, str | None]]:
    """Every answered action POST: (action, its Idempotency-Key, status, replayed header)."""
    posts: list[tuple[str, str | None, int, str | None]] = []

    def record(response: Response) -> None:
        if response.request.method == "POST" and "/actions/" in response.url:
            key = response.request.headers.get("idempotency-key")
            replayed = response.headers.get("idempotent-replayed")
            posts.append((response.url.rsplit("/", 1)[1], key, response.status, replayed))

    page.on("response", record)
    return posts


def _lose_first_answer(page: Page, action: str) -> list[str]:
    """Let the first `action` POST reach the server, then cut the line before its answer."""
    lost: list[str] = []

    def handle(route: Route) -> None:
        if lost:
            route.continue_()
            return
        answer = route.fetch()
        lost.append(f"{answer.status} {route.request.headers.get('idempotency-key')}")
        route.abort("internetdisconnected")

    page.route(f"**/actions/{action}", handle)
    return lost


def _assert_keyed_and_replayed(
    posts: list[tuple[str, str | None, int, str | None]], lost: list[str]
) -> None:
    assert [(a, s) for a, _, s, _ in posts] == [("arrive", 200), ("complete", 200)]
    assert all(key for _, key, _, _ in posts)
    (lost_status_key,) = lost
    arrive_key = posts[0][1]
    assert lost_status_key == f"200 {arrive_key}"  # the retry carried the first one's key
    assert posts[0][3] == "true"  # and got the stored first answer, not a second arrival
    assert posts[1][3] is None
