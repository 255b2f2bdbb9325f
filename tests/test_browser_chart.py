"""The app's chart element (pages/_chart.py) in headless Chromium: it looks as st.plotly_chart did, and a
slider move updates each changed chart once, in place, to what a fresh load of the same address draws.

The theme check serves a one-chart app with ``st.plotly_chart(theme="streamlit")`` and compares the
template Streamlit applied with ``vizcore/figures/streamlit_theme.json``. After a Streamlit upgrade that
changes its chart theme, ``VLB_WRITE_THEME=1 python -m pytest tests/test_browser_chart.py -k theme``
writes the new one (both copies: the server's and the one static/ serves to the browser).
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import pytest

from browser_support import ROOT, Server, open_page, page_paths, view_every_chart, wait_settled
from test_browser_pages import server  # noqa: F401 - the same warmed-up app server (Chromium: conftest.py)

pytestmark = pytest.mark.browser

THEME_FILE = ROOT / "vizcore" / "figures" / "streamlit_theme.json"

THEMED_APP = """
import plotly.graph_objects as go, streamlit as st
st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])), theme="streamlit", key="themed")
"""

# per chart (by its Streamlit key): its traces' x/y/z, the element's identity mark, and Plotly.react calls
CHARTS_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
    const k = gd.closest('[class*="st-key-"]');
    const key = k ? Array.from(k.classList).find(c => c.startsWith('st-key-')) : '?';
    const svg = gd.querySelector('.main-svg');
    return [key, {data: JSON.stringify((gd.data || []).map(t => [t.x, t.y, t.z])), mark: gd.__testMark || null,
                  svg: (svg && svg.__testMark) || null, reacts: gd.__testReacts || 0}];
}))"""

MARK_JS = """() => { for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    gd.__testMark = 'kept'; gd.__testReacts = 0; gd.querySelector('.main-svg').__testMark = 'kept'; } }"""

# counts Plotly.react per plot, from the moment plotly.js arrives
COUNT_REACTS_JS = """(() => { let P;
  Object.defineProperty(window, 'Plotly', {configurable: true, get() { return P; }, set(v) {
    P = v; if (!v || !v.react || v.react.__counted) return;
    const react = v.react;
    v.react = function (gd, ...a) { gd.__testReacts = (gd.__testReacts || 0) + 1; return react.call(this, gd, ...a); };
    v.react.__counted = true; }});
})();"""


@contextlib.contextmanager
def _tab(browser, url, **context):
    """A new browser context with one page opened at ``url`` and settled."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, **context)
    try:
        page = ctx.new_page()
        open_page(page, url)
        yield page
    finally:
        ctx.close()


@contextlib.contextmanager
def _counting(browser):
    """A new browser context that counts Plotly.react per plot, its page, and the page's uncaught errors."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.add_init_script(COUNT_REACTS_JS)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield ctx, page, errors
    finally:
        ctx.close()


def clean_theme_layout(layout: dict) -> dict:
    """A template layout as plotly.py accepts it: 'transparent' as rgba(0,0,0,0), and without the
    properties plotly.js ignores (plotly.py rejects them)."""
    import plotly.graph_objects as go
    text = json.dumps(layout).replace('"transparent"', '"rgba(0,0,0,0)"')
    return go.Figure(layout={"template": {"layout": json.loads(text)}},
                     skip_invalid=True).layout.template.layout.to_plotly_json()


def test_the_charts_theme_is_the_one_streamlit_applies(browser):
    with tempfile.TemporaryDirectory(prefix="themed_") as d:
        (Path(d) / "themed.py").write_text(THEMED_APP)
        s = Server(app="themed.py", cwd=Path(d))
        try:
            found = {}
            for scheme in ("light", "dark"):
                ctx = browser.new_context(viewport={"width": 1000, "height": 800}, color_scheme=scheme)
                page = ctx.new_page()
                open_page(page, s.url)
                found[scheme] = clean_theme_layout(page.evaluate(
                    "() => document.querySelector('.js-plotly-plot').layout.template.layout"))
                ctx.close()
        finally:
            s.stop()
    stored = json.loads(THEME_FILE.read_text(encoding="utf-8"))
    if os.environ.get("VLB_WRITE_THEME"):  # the server's copy and the browser's (tests/test_static.py)
        for f in (THEME_FILE, ROOT / "static" / "streamlit_theme.json"):
            f.write_text(json.dumps({**stored, **found}, indent=1, sort_keys=True), encoding="utf-8")
    assert found["light"] != found["dark"]
    for scheme in ("light", "dark"):
        assert found[scheme] == stored[scheme], (
            f"Streamlit's {scheme} chart theme changed: VLB_WRITE_THEME=1 python -m pytest {__file__} -k theme")


@pytest.mark.parametrize("path", page_paths())
def test_a_slider_move_updates_each_chart_once_in_place_as_a_fresh_load_draws_it(browser, server, path):
    with _counting(browser) as (ctx, page, errors):
        open_page(page, f"{server.url}/{path}")
        # a chart can be drawn before the run has sent the rest of the page: wait for a slider too
        page.wait_for_selector('[data-testid="stMain"] [data-testid="stSlider"] input[type=range] >> visible=true',
                               timeout=60000)
        wait_settled(page)
        sliders = page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[type=range]')
        visible = [sliders.nth(i) for i in range(sliders.count()) if sliders.nth(i).is_visible()]
        assert visible, f"no visible slider on {path}"
        before = page.evaluate(CHARTS_JS)
        page.evaluate(MARK_JS)
        moves = 3
        for _ in range(moves):
            visible[0].focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(300)
            wait_settled(page)
        page.wait_for_timeout(500)
        view_every_chart(page)   # a chart below the fold is updated when it comes into view, once
        after = page.evaluate(CHARTS_JS)
        assert set(after) == set(before), "the page's charts changed"
        changed = [k for k in after if after[k]["data"] != before[k]["data"]]
        assert changed, f"{moves} moves of the first slider changed no chart on {path}"
        for k, c in after.items():
            assert c["mark"] == "kept", f"{k}: a new plot element (the chart was mounted again)"
            assert c["svg"] == "kept", f"{k}: plotted anew instead of updated (a changed config makes Plotly.react do that)"
            assert c["reacts"] <= moves, f"{k}: drawn {c['reacts']} times in {moves} moves"
        # what a new visitor of the same address sees
        fresh = ctx.new_page()
        open_page(fresh, page.url)
        again = fresh.evaluate(CHARTS_JS)
        for k in after:
            assert after[k]["data"] == again[k]["data"], f"{k} on {path}: updated in place, it differs from a fresh load"
        assert not errors, errors


def test_a_chart_follows_its_column_and_fills_the_screen_on_request(browser, server):
    with _tab(browser, f"{server.url}/kl_divergence") as page:
        size = """(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
                           return [gd._fullLayout.width, gd.parentElement.clientWidth, gd._fullLayout.height]; }"""
        w, column, h = page.evaluate(size, 0)
        assert abs(w - column) <= 1 and h > 100
        page.set_viewport_size({"width": 1000, "height": 1000})
        page.wait_for_timeout(800)
        w2, column2, _ = page.evaluate(size, 0)
        assert column2 < column and abs(w2 - column2) <= 1, (w, column, w2, column2)

        gd = page.locator(".js-plotly-plot").first
        gd.hover()
        gd.locator('.modebar-btn[data-title="Full screen"]').click()
        page.wait_for_function("() => document.fullscreenElement !== null", timeout=5000)
        page.wait_for_timeout(500)
        inner = page.evaluate("() => [window.innerWidth, window.innerHeight]")
        full = page.evaluate(size, 0)
        assert abs(full[0] - inner[0]) <= 1 and abs(full[2] - inner[1]) <= 1, (full, inner)
        page.evaluate("() => document.exitFullscreen()")
        page.wait_for_function("() => document.fullscreenElement === null", timeout=5000)
        page.wait_for_timeout(500)
        back = page.evaluate(size, 0)
        assert abs(back[0] - back[1]) <= 1 and back[2] == h, (back, h)


MODEBARS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(gd => gd.offsetParent !== null)
    .map(gd => { const bar = gd.querySelector('.modebar');
                 return bar ? getComputedStyle(bar.querySelector('.modebar-group') || bar).opacity : 'none'; })"""


def test_a_touch_screen_shows_the_charts_without_plotlys_mode_bar(browser, server):
    """On a phone (no hover) plotly would show its mode bar all the time, over the title and the legend of a
    350-px chart; there the charts have none. With a mouse it appears on hover only, as before."""
    with _tab(browser, f"{server.url}/em", has_touch=True, is_mobile=True) as page:
        bars = page.evaluate(MODEBARS_JS)
        assert bars and set(bars) == {"none"}, bars
    with _tab(browser, f"{server.url}/em") as page:
        bars = page.evaluate(MODEBARS_JS)
        assert bars and set(bars) == {"0"}, bars  # there, hidden until the pointer is over the chart


def test_every_chart_has_its_accessible_name(browser, server):
    with _tab(browser, f"{server.url}/elbo_gap") as page:
        names = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                                 .map(gd => [gd.getAttribute('role'), gd.getAttribute('aria-label')])""")
    assert names and all(role == "figure" and label and len(label) > 10 for role, label in names), names


def test_the_charts_follow_a_theme_switch_without_a_widget_touched(browser, server):
    from vizcore.figures.display import DARK_BG, LIGHT_BG
    papers = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                 .map(gd => gd._fullLayout.paper_bgcolor.toUpperCase())"""
    with _tab(browser, f"{server.url}/elbo_gap", color_scheme="light") as page:
        assert set(page.evaluate(papers)) == {LIGHT_BG.upper()}
        page.emulate_media(color_scheme="dark")   # the system switches; Streamlit follows it by default
        page.wait_for_function(f"() => ({papers})()[0] === '{DARK_BG.upper()}'", timeout=30000)
        wait_settled(page)
        view_every_chart(page)   # the charts below the fold follow when they come into view
        page.wait_for_function(f"() => ({papers})().every(c => c === '{DARK_BG.upper()}')", timeout=30000)
        assert len(page.evaluate(papers)) >= 4


def test_the_served_plotly_js_holds_exactly_the_trace_types_the_specs_are_checked_against(browser):
    """pages/_chart.PLOTLY_TRACES, against which tests/test_figure_specs.py checks every spec, is what the
    bundle in static/ registers: asked of the bundle itself, in Chromium."""
    from pages import _chart
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.set_content("<!doctype html><html><body></body></html>")
        page.add_script_tag(path=str(ROOT / "static" / _chart.PLOTLY_BUNDLE))
        traces = page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)")
    finally:
        ctx.close()
    assert set(traces) == set(_chart.PLOTLY_TRACES)


def test_plotly_js_is_asked_for_first_on_every_page_by_an_element_that_takes_no_room(browser, server):
    """pages/_chart.preload: the first element of every page, opened at its own address, is hidden and 0 px
    high, and plotly.js is requested. (How much earlier than the first chart's element would ask for it is a
    timing, measured by bench/run.py --only first_load; bench/README.md, item 42.)"""
    from pages._chart import PLOTLY_BUNDLE, PRELOAD_KEY
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.add_init_script("""new MutationObserver(() => { if (!window.__chartAt && document.querySelector('div.vlb-chart'))
        window.__chartAt = performance.now(); }).observe(document, {subtree: true, childList: true});""")
    try:
        for path in page_paths():
            page = ctx.new_page()
            open_page(page, f"{server.url}/{path}")
            first = page.evaluate("""() => { const el = document.querySelector(
                '[data-testid=stMain] [data-testid=stVerticalBlock] > [data-testid=stElementContainer]');
                return [el.className, getComputedStyle(el).display, el.getBoundingClientRect().height]; }""")
            assert f"st-key-{PRELOAD_KEY}" in first[0].split() and first[1:] == ["none", 0], (path, first)
            asked = page.evaluate("""(name) => performance.getEntriesByType('resource')
                .filter(r => r.name.includes(name)).map(r => r.startTime)""", PLOTLY_BUNDLE)
            chart_at = page.evaluate("() => window.__chartAt")
            assert asked and chart_at, (path, asked, chart_at)
            page.close()
    finally:
        ctx.close()


# per chart: what plotly drew of its shapes and axes, and how the element updated it
DRAWN_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
    const k = gd.closest('[class*="st-key-"]');
    const key = k ? Array.from(k.classList).find(c => c.startsWith('st-key-')) : '?';
    const fl = gd._fullLayout;
    const axes = Object.keys(fl).filter(a => /^[xy]axis\\d*$/.test(a)).sort().map(a => [a, fl[a].range.map(v => +(+v).toPrecision(10))]);
    return [key, {shapes: JSON.stringify((fl.shapes || []).map(s => [s.x0, s.x1, s.y0, s.y1, s.xanchor, s.yanchor, s.visible])),
                  paths: Array.from(gd.querySelectorAll('.shapelayer path')).map(p => p.getAttribute('d')).join(' '),
                  axes: JSON.stringify(axes), data: JSON.stringify((gd.data || []).map(t => [t.x, t.y, t.z])),
                  moves: gd.__vlbMoves || 0, reacts: gd.__testReacts || 0}];
}))"""


@pytest.mark.parametrize("path, move, chart", [("latent_models", "lvm_x0", "st-key-lvm_fig_density"),
                                                ("em", "E-step", "st-key-em_trace"),
                                                ("variational", "vi_q_m", "st-key-vi_chart_heat")])
def test_a_move_of_the_shapes_alone_moves_them_without_a_redraw_as_a_fresh_load_draws_them(browser, server, path,
                                                                                           move, chart):
    """latent_models' x₀ moves the dotted line on the density; an E-step moves em's "current half-step" line on
    the sawtooth; variational's q mean moves the circle on the ELBO heatmap. None changes the chart's data: the element moves the shapes (Plotly.relayout) instead of
    drawing the chart again, and what it shows is what a fresh load of the new address draws."""
    with _counting(browser) as (ctx, page, errors):
        page.goto(f"{server.url}/", wait_until="domcontentloaded")   # app.py's navigation first
        page.get_by_role("link", name="Home").first.wait_for(timeout=60000)
        open_page(page, f"{server.url}/{path}")
        page.wait_for_timeout(500)
        before = page.evaluate(DRAWN_JS)[chart]
        url = page.url
        if path == "em":
            page.get_by_role("button", name=move, exact=True).click()
            page.wait_for_function("u => location.href !== u", arg=url, timeout=15000)
        else:
            page.locator(f".st-key-{move} input[type=range]").focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("u => location.href !== u", arg=url, timeout=15000)
        wait_settled(page)
        page.wait_for_timeout(500)
        view_every_chart(page)   # em's sawtooth and variational's heatmap are below the fold
        after = page.evaluate(DRAWN_JS)[chart]
        assert after["shapes"] != before["shapes"] and after["paths"] != before["paths"], "the shapes moved"
        assert after["data"] == before["data"]
        assert after["moves"] == 1 and after["reacts"] == before["reacts"], after
        fresh = ctx.new_page()
        open_page(fresh, page.url)
        fresh.wait_for_timeout(500)
        again = fresh.evaluate(DRAWN_JS)[chart]
        for what in ("shapes", "paths", "axes", "data"):
            assert after[what] == again[what], (what, after[what], again[what])
        assert not errors, errors


BELOW_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(gd => gd.offsetParent !== null
    && gd.getBoundingClientRect().top > window.innerHeight + 150).map(gd => Array.from(gd.closest('[class*="st-key-"]')
    .classList).find(c => c.startsWith('st-key-')))"""


@pytest.mark.parametrize("flush", ["scroll", "print"])
def test_a_chart_off_the_screen_is_updated_when_it_comes_into_view(browser, server, flush):
    """Moves of elbo_gap's t leave the charts below the fold as they were drawn (no Plotly.react), while the
    charts in view follow each move. Scrolled into view, or before the page is printed, each is drawn once,
    with the newest figure: what a fresh load of the address draws."""
    with _counting(browser) as (ctx, page, errors):
        open_page(page, f"{server.url}/elbo_gap")
        page.wait_for_selector(".st-key-eg_t input[type=range]", timeout=60000)
        wait_settled(page)
        page.evaluate(MARK_JS)
        for _ in range(3):
            url = page.url
            page.locator(".st-key-eg_t input[type=range]").focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("u => location.href !== u", arg=url, timeout=15000)
            wait_settled(page)
        page.wait_for_timeout(500)
        below = page.evaluate(BELOW_JS)
        moved = page.evaluate(CHARTS_JS)
        assert below and len(below) < len(moved), (below, list(moved))
        for k, c in moved.items():
            if k in below:
                assert c["reacts"] == 0, f"{k}: drawn off the screen"
            else:
                assert c["reacts"] >= 1, f"{k}: in view, not updated"
        if flush == "scroll":
            view_every_chart(page)
        else:
            page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
            page.wait_for_timeout(800)
        after = page.evaluate(CHARTS_JS)
        fresh = ctx.new_page()
        open_page(fresh, page.url)
        view_every_chart(fresh)
        again = fresh.evaluate(CHARTS_JS)
        for k in below:
            assert after[k]["reacts"] == 1, f"{k}: drawn {after[k]['reacts']} times on coming into view"
            assert after[k]["svg"] == "kept", f"{k}: plotted anew instead of updated"
            assert after[k]["data"] == again[k]["data"] != moved[k]["data"], k
        assert not errors, errors
