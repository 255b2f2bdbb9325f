"""Shared test set-up: the project root on sys.path, so tests import vizcore and pages; and the browser tests'
headless Chromium and app server, one of each per test module (a module may define its own instead)."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # AppTest resolves page paths relative to the project root

from browser_support import CHROMIUM_ARGS, Server, chromium_path, unavailable  # noqa: E402 (tests/ is on sys.path)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        except Exception as err:  # noqa: BLE001 - no browser at all
            unavailable(f"no Chromium could be started ({type(err).__name__}); apt-get install -y chromium")
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(browser):
    s = Server()
    # A fresh server runs its first session in Streamlit's legacy pages/ mode until app.py has run once (a
    # deep link to a page as the first visit then fails in the browser): open the root first.
    warm = browser.new_page()
    try:
        warm.goto(s.url + "/", wait_until="domcontentloaded")
        warm.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    finally:
        warm.close()
    yield s
    s.stop()


@pytest.fixture
def page(browser):
    """A 1400 × 1000 tab whose ``console_errors`` collects console errors, uncaught exceptions and KaTeX's
    warnings about a formula (LaTeX that KaTeX typesets but LaTeX would not, such as a bare line break in
    display mode, which the home page had)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.console_errors = []
    # Streamlit probes <page>/_stcore/health before it finds its base path: those 404s are the framework's
    pg.on("console", lambda m: m.type == "error" and "/_stcore/" not in (m.location or {}).get("url", "")
          and pg.console_errors.append(m.text))
    pg.on("console", lambda m: m.type == "warning" and "LaTeX-incompatible" in m.text
          and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    ctx.close()
