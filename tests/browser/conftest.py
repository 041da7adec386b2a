"""Browser end-to-end tests: real headless Chromium (Debian's `chromium`, driven by Playwright
through the system browser; nothing is downloaded) against a real `toir api` process and
database. Without Playwright or Chromium these tests are skipped, and the reason is printed
at the end of the run in a line of its own: `make browser-deps` installs both.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.support import ApiProcess, start_api

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize

HERE = Path(__file__).parent
ARTIFACTS = HERE / "artifacts"
# No sandbox (CI runs as root), no GPU, and no background traffic to Google's services (on a
# closed network it only produces refused connections and slows the start).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 360, "height": 780}
SKIPPED = pytest.StashKey[str]()  # why the browser tests were skipped, for the summary
# Records what the app shows as system notifications (headless Chromium shows none).
RECORD_NOTIFICATIONS = """
window.__notifications = [];
if (window.ServiceWorkerRegistration) {
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    window.__notifications.push({ title, body: options && options.body });
    return Promise.resolve();
  };
}
"""


def chromium_path() -> str | None:
    for candidate in (os.environ.get("TOIR_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the Python package `playwright` is not installed (run `make browser-deps`)"
    if chromium_path() is None:
        return (
            "no Chromium: /usr/bin/chromium is missing (as root, `make browser-deps` "
            "installs Debian's chromium; or set TOIR_CHROMIUM to a Chromium binary)"
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing()
    if reason is None:
        return
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=f"browser tests: {reason}"))
    config.stash[SKIPPED] = reason


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reason = config.stash.get(SKIPPED, None)
    if reason:
        terminalreporter.write_sep("!", f"BROWSER TESTS SKIPPED: {reason}", yellow=True, bold=True)


# Module-scoped, not session: while Playwright's sync API runs, its event loop is the running
# loop of this thread, and every later test that calls asyncio.run() would fail.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=LAUNCH_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[ApiProcess]:
    process = start_api(database_url, tmp_path)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def context(browser: Browser, api: ApiProcess) -> Iterator[BrowserContext]:
    """A phone-sized browser of its own (storage, service worker, IndexedDB) per test."""
    context = browser.new_context(
        base_url=api.base_url, viewport=PHONE, service_workers="allow", locale="en-GB"
    )
    context.grant_permissions(["notifications"], origin=api.base_url)
    context.add_init_script(RECORD_NOTIFICATIONS)
    context.set_default_timeout(10_000)
    yield context
    context.close()  # before the API stops: open live streams would hold up its shutdown


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def shoot(page: Page) -> Callable[[str], Path]:
    """Save a screenshot of the page as a test artefact: tests/browser/artifacts/NAME.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the image
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
