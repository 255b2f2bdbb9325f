"""Every page in a real headless Chromium: it opens, its charts render, a slider
redraws a chart, and no exception or console error appears."""
from __future__ import annotations

import pytest

from browser_support import Server, page_paths, wait_settled
from plotly_checks import NOTATION_UNDERSCORE

pytestmark = pytest.mark.browser

CHART_DATA_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(el => JSON.stringify((el.data || []).map(t => [t.x, t.y, t.z])))"""
# every text plotly drew (legends, titles, axes, annotations, bar labels), as the reader sees it
SVG_TEXT_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot svg text')).map(t => t.textContent)"""


@pytest.fixture(scope="module")
def server(browser):
    s = Server()
    # A fresh server runs its first session in Streamlit's legacy pages/ mode until app.py has run
    # once; open the root first so every page below is served through st.navigation.
    warm = browser.new_page()
    warm.goto(s.url + "/", wait_until="domcontentloaded")
    wait_settled(warm)
    warm.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    warm.close()
    yield s
    s.stop()


def _open(page, server, path):
    page.goto(f"{server.url}/{path}", wait_until="domcontentloaded")
    wait_settled(page)
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=30000)
    wait_settled(page)


def _no_errors(page, server):
    assert page.locator('[data-testid="stException"]').count() == 0, server.logs()[-3000:]
    real = [e for e in page.console_errors if "favicon" not in e]
    assert not real, real


@pytest.mark.parametrize("path", page_paths())
def test_page_opens_and_draws(page, server, path):
    _open(page, server, path)
    charts = page.evaluate(CHART_DATA_JS)
    assert charts, f"no chart rendered on {path}"
    assert any(c not in ("[]", "") for c in charts)
    texts = page.evaluate(SVG_TEXT_JS)
    assert texts, f"no text drawn in the charts of {path}"
    underscored = [t for t in texts if NOTATION_UNDERSCORE.search(t)]
    assert not underscored, underscored
    _no_errors(page, server)


SUBSCRIPTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot .legendtext'))
    .filter(t => Array.from(t.querySelectorAll('tspan')).some(s => s.textContent === 'old'
        && parseFloat(s.getAttribute('dy')) > 0 && getComputedStyle(s).fontSize !== getComputedStyle(t).fontSize))
    .map(t => t.textContent.replace(/\u200b/g, ''))"""  # plotly puts zero-width spaces around a subscript


def test_em_legend_writes_theta_old_as_a_subscript(page, server):
    """"touch at θ_old" is drawn as θ with "old" lowered and smaller (plotly's <sub>), not with an underscore."""
    _open(page, server, "em")
    assert "touch at θold" in page.evaluate(SUBSCRIPTS_JS)


@pytest.mark.parametrize("path", page_paths())
def test_slider_redraws_a_chart(page, server, path):
    _open(page, server, path)
    before = page.evaluate(CHART_DATA_JS)
    sliders = page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[type=range]')
    assert sliders.count() > 0, f"no slider on {path}"
    visible = [sliders.nth(i) for i in range(sliders.count()) if sliders.nth(i).is_visible()]
    assert visible, f"no visible slider on {path}"
    changed = False
    for slider in visible[:4]:
        slider.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        for _ in range(40):  # a rerun may take a few seconds on a loaded machine
            page.wait_for_timeout(250)
            if page.evaluate(CHART_DATA_JS) != before:
                changed = True
                break
        if changed:
            break
        wait_settled(page)
    assert changed, f"moving a slider on {path} changed no chart"
    _no_errors(page, server)


PUSHED_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(gd => {
    const k = gd.closest('[class*="st-key-"]');
    const key = k ? Array.from(k.classList).find(c => c.startsWith('st-key-')) : '?';
    const size = gd._fullLayout && gd._fullLayout._size, asked = (gd.layout && gd.layout.margin) || {};
    if (!size || gd.offsetParent === null) return [];
    return ['l', 'r', 't', 'b'].filter(s => Math.abs(size[s] - (asked[s] || 0)) > 1)
        .map(s => `${key}: margin.${s} asked ${asked[s]}, plotly drew ${size[s]}`);
})"""


@pytest.mark.parametrize("query", ["", "?present=true"], ids=["plain", "presenter"])
@pytest.mark.parametrize("path", page_paths())
def test_charts_ask_for_margins_that_fit(page, server, path, query):
    """No chart's margins are widened by plotly's automargin at a 1400-px window: each is drawn once per
    update, not twice (vizcore/figures/margins.py; bench/README.md item 38). Also after a slider move."""
    page.goto(f"{server.url}/{path}{query}", wait_until="domcontentloaded")
    wait_settled(page)
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=30000)
    wait_settled(page)
    assert page.evaluate(PUSHED_JS) == []
    slider = page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[type=range] >> visible=true').first
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    wait_settled(page)
    assert page.evaluate(PUSHED_JS) == []
    _no_errors(page, server)


@pytest.mark.parametrize("path", page_paths())
def test_nothing_runs_off_a_phones_screen(browser, server, path):
    """At 390 × 844 px (a phone, the way students open the link): the page is no wider than the screen. What
    is wider than its column (a wide formula, em's table of restarts) scrolls inside it, so all of it stays
    within reach."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        _open(page, server, path)
        widths = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
            return [document.documentElement.scrollWidth, m.scrollWidth, window.innerWidth]; }""")
        assert max(widths[:2]) <= widths[2], widths
    finally:
        ctx.close()


# every display formula of the main column as [its text, its width, the width it needs] (pages/_page.css)
FORMULAS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] .katex-display'))
    .filter(d => d.offsetParent !== null)
    .map(d => [d.textContent.slice(0, 60), d.clientWidth, d.scrollWidth])"""


@pytest.mark.parametrize("width", [1024, 1093, 1280], ids=["1024px", "1366px-at-125%", "1920px-at-150%"])
@pytest.mark.parametrize("path", page_paths())
def test_every_formula_fits_a_laptops_column(browser, server, path, width):
    """At a laptop's width with the sidebar open (an old 1024-px screen; Windows scales a 1366-px screen to
    1093 px at 125 %, a 1920-px one to 1280 px at 150 %), every display formula fits its column: none
    scrolls, so the numbers on its right stay in view (pages/_page.css sets them smaller below 1240 px)."""
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = ctx.new_page()
        _open(page, server, path)
        formulas = page.evaluate(FORMULAS_JS)
        assert formulas, f"no formula on {path}"
        assert page.evaluate("() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().width") > 0
        wider = [f for f in formulas if f[2] > f[1] + 2]  # KaTeX's box needs 2 px more than a formula that fits
        assert not wider, wider
    finally:
        ctx.close()
