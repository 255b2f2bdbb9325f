"""The address is a record of the view, not an undo list: Back leaves the page (headless Chromium).

Every widget is bound to the address (pages/_url_state.py). Streamlit writes a value the user moves with
``history.replaceState``, but a value the page sets itself (elbo_gap's q following t, EM's step buttons) with
``history.pushState``: one new history entry per changed parameter. Before static/vlb_chart.js kept such
changes in place, three moves of elbo_gap's t left six entries, each a half-updated view (t moved, q not yet,
q₁ + q₂ ≠ 1), and Back walked through them instead of returning to the page the student came from.
"""
from __future__ import annotations

import pytest

from browser_support import assert_no_errors, open_page, press_slider, view_every_chart, wait_settled
from test_browser_chart import CHARTS_JS

pytestmark = pytest.mark.browser

QUERY_JS = "() => Object.fromEntries(new URLSearchParams(location.search))"
# A slow network: every message from the server reaches the page this many milliseconds late, in order.
SLOW_NETWORK = """(() => { const late = %d; const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    addEventListener(type, f, ...rest) {
      return super.addEventListener(type, type === 'message' ? (e) => setTimeout(() => f.call(this, e), late) : f, ...rest);
    }
    set onmessage(f) { super.onmessage = f && ((e) => setTimeout(() => f.call(this, e), late)); }
    get onmessage() { return super.onmessage; }
  }; })()"""


def _arrive(page, server, title: str) -> int:
    """Open the home page, go to ``title`` by the sidebar, and return the history's length there."""
    open_page(page, f"{server.url}/")
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    wait_settled(page, 60000)
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    wait_settled(page, 60000)
    return page.evaluate("history.length")


def _back_leaves(page, server, path: str) -> None:
    page.go_back()
    page.wait_for_function("(p) => !location.pathname.endsWith('/' + p)", arg=path, timeout=15000)
    wait_settled(page, 60000)
    assert page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]').inner_text().strip() == "Home"
    assert_no_errors(page, server)


def test_values_the_page_sets_replace_the_address_entry(page, server):
    length = _arrive(page, server, "The ELBO and the KL gap")
    for value in ("0.31", "0.32", "0.33"):
        press_slider(page, "eg_t", value)
    query = page.evaluate(QUERY_JS)
    q = [float(v) for k, v in sorted(query.items()) if k.startswith("eg_q_")]
    assert query["eg_t"] == "0.33" and len(q) == 2, query      # the address has the view: t, and q that followed
    assert sum(q) == pytest.approx(1.0), query
    assert page.evaluate("history.length") == length, "the page's own writes to the address added history entries"
    _back_leaves(page, server, "elbo_gap")


def test_back_from_the_next_page_returns_to_the_view_left(page, server):
    """Leaving by the sidebar, Streamlit writes the next page's query under the old path before it pushes the new
    path: kept in place, that write wiped t = 0.33 from elbo_gap's entry, and Back from EM showed t = 0.3."""
    _arrive(page, server, "The ELBO and the KL gap")
    for value in ("0.31", "0.32", "0.33"):
        press_slider(page, "eg_t", value)
    left = page.evaluate(QUERY_JS)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("EM, step by step", exact=True).click()
    page.wait_for_function("() => location.pathname.endsWith('/em')", timeout=15000)
    wait_settled(page, 60000)
    page.go_back()
    page.wait_for_function("() => location.pathname.endsWith('/elbo_gap')", timeout=15000)
    wait_settled(page, 60000)
    page.wait_for_selector(".st-key-eg_t input[type=range]", timeout=30000)
    assert page.evaluate(QUERY_JS) == left
    assert page.locator(".st-key-eg_t input[type=range]").input_value() == "0.33"
    _back_leaves(page, server, "elbo_gap")


def test_em_step_buttons_do_not_add_history_entries(page, server):
    length = _arrive(page, server, "EM, step by step")
    for name in ("E-step", "M-step", "E-step"):
        page.locator(".st-key-em_" + ("e" if name == "E-step" else "m")).get_by_role("button").click()
        wait_settled(page, 60000)
    page.wait_for_function("() => [...new URLSearchParams(location.search)].some(([k, v]) => "
                           "k.startsWith('em_step_') && v === '3')", timeout=15000)
    assert page.evaluate("history.length") == length
    _back_leaves(page, server, "em")


def test_back_to_the_page_before_leaves_no_errors(page, server):
    """Leaving a page by Back unmounts its charts: none may try to size itself on the way out (plotly then
    logged "Resize must be passed a displayed plot div element" once per chart)."""
    _arrive(page, server, "The ELBO and the KL gap")
    _back_leaves(page, server, "elbo_gap")


def test_the_address_keeps_up_with_an_arrow_key_held_on_a_slow_network(browser, server):
    """Each move of elbo_gap's t reruns a callback that sets q, so the server writes the address. On a slow
    network, that write (with t = 0.39) reached the page after the page had written t = 0.40 itself, and
    Streamlit's page put the older address back: the link said t = 0.39 while the page showed 0.40, and
    opened another view. Every run now ends by sending the address again if an earlier run wrote it lately
    (pages/_url_state.py)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(SLOW_NETWORK % 150)
    page = ctx.new_page()
    try:
        open_page(page, f"{server.url}/elbo_gap")
        page.locator(".st-key-eg_t input[type=range]").focus()
        for _ in range(10):
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(50)
        for _ in range(2):   # a run can start after the last message of the one before has arrived
            page.wait_for_timeout(1000)
            wait_settled(page, 60000)
        query = page.evaluate(QUERY_JS)
        shown = {k: page.locator(f".st-key-{k} input[type=range]").input_value() for k in query}
        assert query["eg_t"] == "0.4" and query == shown, (query, shown)
        view_every_chart(page)
        charts = page.evaluate(CHARTS_JS)
        fresh = ctx.new_page()
        open_page(fresh, page.url)
        view_every_chart(fresh)
        again = fresh.evaluate(CHARTS_JS)
        assert {k: c["data"] for k, c in charts.items()} == {k: c["data"] for k, c in again.items()}
    finally:
        ctx.close()
