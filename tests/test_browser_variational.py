"""The variational-inference page in a real headless Chromium: it opens, its charts
render, a slider and a button redraw a chart, and no exception or console error appears."""
from __future__ import annotations

import pytest

from browser_support import (FORMULAS_JS, assert_no_errors, open_page, press_slider, rerun_requests, view_every_chart,
                             wait_settled)

pytestmark = pytest.mark.browser

PATH = "variational"
# per chart, what it draws: its traces and where its shapes stand (the heatmap's circle around q is a shape)
CHART_DATA_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(el => JSON.stringify([(el.data || []).map(t => [t.x, t.y, t.z, t.marker]),
                               ((el.layout || {}).shapes || []).map(s => [s.x0, s.x1, s.xanchor, s.yanchor])]))"""
VISIBLE_CHARTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(el => el.offsetParent !== null && (el.data || []).length > 0
                  && el.querySelector('.main-svg') !== null).length"""


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    pg.console_errors = []

    def on_console(msg):
        # Streamlit probes <page>/_stcore/health and host-config before finding its base path: not the app's errors
        if msg.type == "error" and "/_stcore/" not in (msg.location or {}).get("url", ""):
            pg.console_errors.append(msg.text)

    pg.on("console", on_console)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    ctx.close()


def _tab(page, index: int):
    page.locator('[role="tab"]').nth(index).click()
    page.wait_for_timeout(600)


def test_page_opens_and_every_tab_draws(page, server):
    open_page(page, f"{server.url}/{PATH}")
    assert page.locator('[role="tab"]').count() == 6
    assert "Beyond EM" in page.locator("h1").first.inner_text()
    drawn = 0
    for i in range(6):  # only the open tab runs: a click reruns the page and draws that tab's charts
        _tab(page, i)
        wait_settled(page, 60000)
        page.wait_for_function(f"() => ({VISIBLE_CHARTS_JS})() >= 2", timeout=30000)
        charts = page.evaluate(CHART_DATA_JS)
        assert 2 <= len(charts) <= 3, (i, len(charts))
        assert all(c not in ("[]", "") for c in charts)
        drawn += len(charts)
    assert drawn == 14
    # the mean-field tab is open: its CAVI button adds one update to the ELBO chart
    count_js = """() => { const el = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(e => e.offsetParent !== null && e.closest('[role="tabpanel"]') !== null)
        .find(e => (e._fullData || []).some(t => t.name && t.name.startsWith('ELBO = ')));
        return el ? el._fullData[0].y.length : -1; }"""
    _tab(page, 4)
    page.wait_for_function(f"() => ({count_js})() === 1", timeout=30000)
    page.get_by_role("button", name="One CAVI update").click()
    wait_settled(page, 60000)
    page.wait_for_function(f"() => ({count_js})() === 2", timeout=30000)
    assert_no_errors(page, server)


def test_moving_the_q_slider_redraws_the_heatmap(page, server):
    open_page(page, f"{server.url}/{PATH}")
    before = page.evaluate(CHART_DATA_JS)
    slider = page.locator('[data-testid="stSlider"]', has_text="mean m of q").locator('input[type=range]')
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(500)
    wait_settled(page, 60000)
    page.wait_for_function(f"(before) => JSON.stringify(({CHART_DATA_JS})()) !== JSON.stringify(before)",
                           arg=before, timeout=30000)
    view_every_chart(page)   # a chart below the fold is updated when it comes into view
    after = page.evaluate(CHART_DATA_JS)
    changed = sum(a != b for a, b in zip(before, after))
    assert changed >= 3            # the bar, the densities, the heatmap's circle (and the SGA run from q)
    assert "0.45" in page.locator('[data-testid="stSlider"]', has_text="mean m of q").inner_text()
    assert_no_errors(page, server)


def test_the_address_follows_each_step_of_variational_em_and_reopens_there(page, server):
    """"Step" sets the bound iteration slider in a callback. The page's pre-run sync
    (``pages/_url_state``) used to update the server's copy of the address to that value, so Streamlit saw
    nothing to send: after three clicks the address still said t = 1, and a copied link reopened another view."""
    open_page(page, f"{server.url}/{PATH}")
    _tab(page, 5)
    wait_settled(page, 60000)
    slider = page.locator(".st-key-vi_vem_t input[type=range]").first
    for i in range(1, 4):
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_timeout(300)
        wait_settled(page, 60000)
        page.wait_for_function("(i) => new URLSearchParams(location.search).get('vi_vem_t') === String(i)",
                               arg=i, timeout=15000)
        assert slider.input_value() == str(i)
    url = page.url
    page.goto(url, wait_until="domcontentloaded")
    wait_settled(page, 60000)
    page.wait_for_function("() => { const s = document.querySelector('.st-key-vi_vem_t input[type=range]');"
                           " return s !== null && s.value === '3'; }", timeout=60000)
    assert_no_errors(page, server)


def test_q_reruns_its_tab_alone_and_the_address_follows(page, server):
    """The "Gaussian q by hand" tab is a fragment (bench/README.md, item 43): moving q or setting it to the
    best Gaussian asks for that fragment's rerun, not the page's; the charts, the slider and the address
    follow, and the copied link reopens at that q."""
    sent = rerun_requests(page)
    open_page(page, f"{server.url}/{PATH}")
    assert not any(sent)                                   # the first run is the page's
    del sent[:]
    before = page.evaluate(CHART_DATA_JS)
    slider = page.locator(".st-key-vi_q_m input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_settled(page, 60000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('vi_q_m') === '0.51'", timeout=15000)
    assert sent and all(sent), f"a q move asked for a whole-page run: {sent}"
    view_every_chart(page)
    after = page.evaluate(CHART_DATA_JS)
    assert sum(a != b for a, b in zip(before, after)) >= 3     # the bar, the densities, the heatmap's circle

    del sent[:]
    page.get_by_role("button", name="Set q to the best Gaussian").click()
    wait_settled(page, 60000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('vi_q_m') !== '0.51'", timeout=15000)
    assert sent and all(sent), f"the button asked for a whole-page run: {sent}"
    best = slider.input_value()
    assert float(page.evaluate("() => new URLSearchParams(location.search).get('vi_q_m')")) == float(best)
    page.goto(page.url, wait_until="domcontentloaded")
    wait_settled(page, 60000)
    page.wait_for_function("(v) => { const s = document.querySelector('.st-key-vi_q_m input[type=range]');"
                           " return s !== null && s.value === v; }", arg=best, timeout=60000)
    assert_no_errors(page, server)


def test_the_model_sliders_rerun_everything_below_the_introduction_alone(page, server):
    """Everything below the introduction is a fragment, with the q tab a fragment inside it (bench/README.md,
    item 48). A model slider asks for the outer fragment's rerun: the model's formula and the charts follow,
    the introduction's formula is sent once. A q move after it runs the q tab alone, on the new model: the
    page shows what a fresh page at the same address shows."""
    sent = rerun_requests(page)
    open_page(page, f"{server.url}/{PATH}")
    formulas, charts = page.evaluate(FORMULAS_JS), page.evaluate(CHART_DATA_JS)
    del sent[:]
    press_slider(page, "vi_pois_n", "4")
    outer = set(sent)
    assert sent and all(sent), f"a model slider asked for a whole-page run: {sent}"
    after = page.evaluate(FORMULAS_JS)
    assert len(after) == len(formulas)
    assert after[0] == formulas[0]                    # log p(x) = L(q) + KL(q || p(z|x)), above the fragment
    assert after[1] != formulas[1]                    # the model and its data: four counts now
    view_every_chart(page)
    assert page.evaluate(CHART_DATA_JS) != charts
    assert page.locator("h1").count() == 1

    del sent[:]
    press_slider(page, "vi_q_m", "0.51")
    assert sent and all(sent) and not outer & set(sent), f"a q move did not rerun the q tab alone: {sent}"
    moved = page.evaluate(FORMULAS_JS)
    open_page(page, page.url)
    assert page.evaluate(FORMULAS_JS) == moved
    assert_no_errors(page, server)
