"""Browser fixtures for the playground's end-to-end tests: one server and one headless chromium per module.

Playwright drives Debian's chromium (``/usr/bin/chromium``, or ``$CHAINRULE_CHROMIUM``); browser downloads are
impossible here, so without either the browser tests skip with the reason. Screenshots go to the test's
``tmp_path`` and, when ``$CHAINRULE_TEST_ARTIFACTS`` is set, are copied there too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def playground_url():
    pytest.importorskip("starlette", reason="the playground extra (starlette, uvicorn) is not installed")
    pytest.importorskip("uvicorn", reason="the playground extra (starlette, uvicorn) is not installed")
    from chainrule.playground.server import start_in_thread

    url, stop = start_in_thread()
    yield url
    stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium, or set CHAINRULE_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Page:
    """A playground tab: the Playwright page plus the console errors and page exceptions it has seen."""

    def __init__(self, page, url):
        self.page, self.url, self.problems, self.expected = page, url, [], []
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def open(self, query=""):
        """Load the page (with a settings query string) and wait until its first frame is drawn."""
        self.page.goto(self.url + (f"?{query}" if query else ""))
        # ready: the server has answered the settings the page sent from the URL
        self.page.wait_for_function("window.playground && window.playground.ready "
                                    "&& window.playground.framesRendered > 0", timeout=15_000)
        return self.page

    def expect_console_error(self, text):
        """A console error this test causes on purpose (chromium logs every HTTP error response itself)."""
        self.expected.append(text)

    def js(self, expression):
        return self.page.evaluate(expression)


@pytest.fixture
def tab(browser, playground_url):
    """A fresh tab (its own session) per test; afterwards no console error or page exception may be left."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = Page(context.new_page(), playground_url)
    yield page
    problems = [p for p in page.problems if not any(text in p for text in page.expected)]
    context.close()
    assert not problems, problems


@pytest.fixture
def screenshot(tmp_path):
    """screenshot(page, name): a full-page PNG in tmp_path (and in $CHAINRULE_TEST_ARTIFACTS if set)."""
    def take(page, name):
        path = tmp_path / f"playground-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        target = os.environ.get("CHAINRULE_TEST_ARTIFACTS")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(target) / path.name)
        return path

    return take
