"""The EM page in a real headless Chromium: the E-step and M-step buttons redraw the figure,
Play animates precomputed frames without a server round trip, the CSV download parses."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import vizcore as vc
from browser_support import open_page, wait_settled
from vizcore import em_views as ev

pytestmark = pytest.mark.browser

FIGURE_JS = """() => {
    const el = document.querySelector('.js-plotly-plot');
    if (!el || !el._fullLayout) return null;
    const title = el.querySelector('.gtitle');
    const s = el._fullLayout.sliders && el._fullLayout.sliders[0];
    return {title: title ? title.textContent : '', active: s ? s.active : null,
            bound: Array.from(el._fullData[1].y || []).slice(0, 400).map(v => (v === null || !Number.isFinite(+v)) ? null : +v),
            logp: Array.from(el._fullData[0].y || []).slice(0, 400).map(v => (v === null || !Number.isFinite(+v)) ? null : +v),
            frames: (el._transitionData && el._transitionData._frames || []).length};
}"""


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    pg.errors = []
    pg.on("console", lambda m: m.type == "error" and "favicon" not in m.text and "404" not in m.text
          and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.ws_frames = []
    pg.on("websocket", lambda ws: ws.on("framereceived", lambda payload: pg.ws_frames.append(len(payload))))
    _open(pg, server)
    yield pg
    ctx.close()


def _open(pg, server, query: str = ""):
    # With a pages/ folder next to app.py, Streamlit serves sessions in its old pages-folder mode (here:
    # pages/em.py alone, without app.py) until app.py has run st.navigation once in the server. So open the
    # app's root first and wait for app.py's navigation, then the page.
    pg.goto(f"{server.url}/", wait_until="domcontentloaded")
    pg.get_by_role("link", name="EM, step by step").first.wait_for(timeout=60000)
    pg.goto(f"{server.url}/em{query}", wait_until="domcontentloaded")
    wait_settled(pg)
    pg.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    wait_settled(pg)
    assert pg.get_by_role("link", name="EM, step by step").count(), "routed by app.py"
    pg.wait_for_function("() => { const el = document.querySelector('.js-plotly-plot'); "
                         "return el && el._fullLayout && el._fullData.length > 1; }", timeout=30000)


def _figure(pg):
    return pg.evaluate(FIGURE_JS)


def _click(pg, label):
    pg.get_by_role("button", name=label, exact=True).click()
    pg.wait_for_timeout(300)
    wait_settled(pg)
    pg.wait_for_timeout(500)


def _play_to_frame(pg, frame: int):
    """Press ▶ Play and wait until the animation has reached ``frame``."""
    pg.locator(".js-plotly-plot .updatemenu-button").first.click()
    pg.wait_for_function("(f) => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active >= f",
                         arg=frame, timeout=15000)


def _no_errors(pg, server, paused: bool = False):
    assert pg.locator('[data-testid="stException"]').count() == 0, server.logs()[-3000:]
    errors = pg.errors
    if paused:
        # plotly.js itself rejects the interrupted animation's promise with no reason when Pause stops
        # a running animation (a plain plotly HTML file does the same): the page logs "undefined".
        errors = [e for e in errors if e != "undefined"]
    assert not errors, errors


def test_e_step_and_m_step_redraw_the_figure(page, server):
    start = _figure(page)
    assert start["title"].startswith("Start")
    assert start["bound"] and all(v is None for v in start["bound"]), "no bound before the first E-step"
    _click(page, "E-step")
    after_e = _figure(page)
    assert after_e["title"].startswith("E-step 1")
    assert any(v is not None for v in after_e["bound"]), "the E-step draws the bound"
    assert after_e["active"] == 1
    _click(page, "M-step")
    after_m = _figure(page)
    assert after_m["title"].startswith("M-step 1")
    assert after_m["active"] == 2
    assert after_m["logp"] != after_e["logp"] or after_m["bound"] != after_e["bound"]
    assert page.get_by_role("button", name="M-step", exact=True).is_disabled()
    _no_errors(page, server)


def test_play_advances_frames_in_the_browser_without_a_rerun(page, server):
    before = _figure(page)
    assert before["frames"] > 10 and before["active"] == 0
    page.wait_for_timeout(1500)
    page.ws_frames.clear()
    page.locator(".js-plotly-plot .updatemenu-button").first.click()   # ▶ Play
    seen = set()
    for _ in range(12):
        page.wait_for_timeout(250)
        f = _figure(page)
        seen.add((f["active"], f["title"]))
    received = len(page.ws_frames)
    page.locator(".js-plotly-plot .updatemenu-button").nth(1).click()  # ❚❚ Pause
    after = _figure(page)
    assert after["active"] > 2, "the frame slider moved on"
    assert len({a for a, _ in seen}) >= 3 and len({t for _, t in seen}) >= 3, seen
    assert after["bound"] != before["bound"], "the frames redraw the curves"
    assert received <= 2, f"{received} websocket messages during playback: a server round trip per frame?"
    # the server still shows the start: playback is the browser's alone
    assert page.get_by_role("button", name="E-step", exact=True).is_enabled()
    _no_errors(page, server, paused=True)


def test_a_step_clicked_while_playing_stops_the_animation_at_that_step(page, server):
    """The figure shows what the page's numbers show. Before, ▶ Play went on over the server's new figure:
    a click on E-step drew half-step 1 and the animation carried on to frames 4, 6, 7, 8 while the table
    beside it stayed at half-step 1."""
    _play_to_frame(page, 2)
    _click(page, "E-step")
    first = _figure(page)
    page.wait_for_timeout(1500)                                         # three frames at 500 ms a frame
    again = _figure(page)
    assert (first["active"], first["title"]) == (again["active"], again["title"]) == (1, again["title"]), again
    assert again["title"].startswith("E-step 1"), again["title"]
    _no_errors(page, server)


def test_a_rerun_that_leaves_the_figure_as_it_is_does_not_stop_play(page, server):
    """Opening "Show the code" reruns the page; the EM figure is not new, so Streamlit does not hand it to the
    chart element again, and Play goes on (the element stops an animation only for a figure it is handed)."""
    _play_to_frame(page, 2)
    page.get_by_text("Show the code", exact=True).click()
    page.wait_for_timeout(300)
    wait_settled(page)
    page.locator(".stCode, [data-testid=stCode]").first.wait_for(timeout=30000)
    at = _figure(page)["active"]
    page.wait_for_function("(a) => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active > a",
                           arg=at, timeout=5000)
    page.locator(".js-plotly-plot .updatemenu-button").nth(1).click()  # ❚❚ Pause
    _no_errors(page, server, paused=True)


def test_leaving_the_page_after_a_step_clicked_mid_play_throws_nothing(page, server):
    """The animation loop of a figure replaced in mid-play once outlived it: after leaving the page, plotly
    threw "Cannot set properties of undefined (setting '_currentFrame')" and "e.emit is not a function" on
    every frame, for as long as the animation had left to run."""
    _play_to_frame(page, 2)
    _click(page, "E-step")
    page.get_by_role("link", name="KL divergence").first.click()
    page.wait_for_function("() => location.pathname.endsWith('/kl_divergence')", timeout=15000)
    wait_settled(page)
    page.wait_for_timeout(2000)
    _no_errors(page, server)


def test_csv_download_parses(page, server):
    button = page.get_by_role("button", name="Download the trace (CSV)", exact=True)
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    text = open(info.value.path(), encoding="utf-8").read()
    rows = list(csv.reader(io.StringIO(text)))
    x = vc.load_dataset("faithful_waiting")
    trace = vc.run_em("gmm1d", x, ev.init_params("gmm1d", x, 2, "kmeans++", np.random.default_rng(0)),
                      max_iter=150, tol=1e-8)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["iteration", "weights[0]", "weights[1]"]
    assert len(body) == trace.n_iter + 1
    np.testing.assert_allclose([float(r[header.index("log_likelihood")]) for r in body], trace.log_likelihood,
                               rtol=1e-14)
    assert info.value.suggested_filename.endswith(".csv")
    _no_errors(page, server)


def test_the_half_step_is_in_the_address(page, server):
    _click(page, "E-step")
    param, value = page.url.split("?")[1].split("=")
    assert param.startswith("em_step_") and value == "1"
    _open(page, server, f"?{param}=5")          # a shared link opens at the same half-step
    f = _figure(page)
    assert f["title"].startswith("E-step 3") and f["active"] == 5
    assert page.get_by_role("button", name="M-step", exact=True).is_enabled()
    assert page.get_by_role("button", name="E-step", exact=True).is_disabled()
    _no_errors(page, server)


def test_every_click_moves_the_address_and_the_link_reopens_there(page, server):
    """E-step, M-step, E-step: the address follows each click (it once stayed at the first one, so a copied
    link reopened another half-step), and the copied link opens at the half-step on screen. The buttons rerun
    the half-step fragment, where Streamlit's own binding writes the address; the full-run path of the same
    bug is covered by variational EM's "Step" (test_browser_variational.py)."""
    for i, label in enumerate(("E-step", "M-step", "E-step"), start=1):
        _click(page, label)
        param, value = page.url.split("?")[1].split("=")
        assert param.startswith("em_step_") and value == str(i), (label, page.url)
    shown = _figure(page)
    assert shown["active"] == 3 and shown["title"].startswith("E-step 2")
    _open(page, server, f"?{param}={value}")
    again = _figure(page)
    assert (again["active"], again["title"]) == (shown["active"], shown["title"])
    _no_errors(page, server)


def test_scrubbed_frames_draw_what_the_server_draws_at_that_half_step(page, server):
    """A frame may leave out a curve its base frame already sends (``baseframe``); plotly merges it back in the
    browser. Scrubbed to a frame, the figure must draw exactly what the server sends for that half-step, where
    Python merges the frames (``vizcore.figures.em.resolved_frame``): the same title and the same numbers."""
    _click(page, "E-step")
    param = page.url.split("?")[1].split("=")[0]
    page.evaluate("""() => { const gd = document.querySelector('.js-plotly-plot');
                             window.__animated = 0; gd.on('plotly_animated', () => { window.__animated += 1; }); }""")
    inherited = set(page.evaluate("""() => document.querySelector('.js-plotly-plot')._transitionData._frames
                                        .filter(f => f.baseframe !== undefined).map(f => +f.name)"""))
    assert inherited, "some frames leave a repeated curve to their base frame"
    seen = {}
    for target in (3, 4, 21):  # 3 (E-step 2) and 21 (E-step 11) take log p from the frame before them
        before = page.evaluate("() => window.__animated")
        # what a click on the frame slider's step does: its own animate command (the rail's clickable
        # width is a few pixels per step, too narrow to aim at one step)
        page.evaluate("""(i) => { const gd = document.querySelector('.js-plotly-plot');
                                  const step = gd._fullLayout.sliders[0].steps[i];
                                  return Plotly.animate(gd, step.args[0], step.args[1]); }""", target)
        page.wait_for_function(f"() => window.__animated > {before}", timeout=10000)
        page.wait_for_timeout(200)
        f = _figure(page)
        seen[f["active"]] = f
    assert sorted(seen) == [3, 4, 21] and {3, 21} <= inherited, (sorted(seen), sorted(inherited))
    for step, scrubbed in seen.items():
        _open(page, server, f"?{param}={step}")
        served = _figure(page)
        assert served["active"] == step
        assert served["title"] == scrubbed["title"]
        assert served["logp"] == scrubbed["logp"] and served["bound"] == scrubbed["bound"], step
        assert any(v is not None for v in served["logp"])
    _no_errors(page, server)


CONTROLS_JS = """() => {
    const gd = document.querySelector('.js-plotly-plot');
    const box = (e) => { const b = e.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; };
    const grip = gd.querySelector('.slider-grip-rect');
    grip.scrollIntoView({block: 'center'});
    const g = box(grip);
    const hit = document.elementFromPoint((g.left + g.right) / 2, (g.top + g.bottom) / 2);
    return {buttons: [...gd.querySelectorAll('.updatemenu-button')].map(box), grip: g,
            rail: box(gd.querySelector('.slider-rail-rect')), plot: box(gd.querySelector('.nsewdrag')),
            gripOnTop: !!hit && !!hit.closest('.slider-container'), active: gd._fullLayout.sliders[0].active};
}"""


@pytest.mark.parametrize("query, width", [("", 1280), ("?lang=zh", 1280), ("?present=true", 1280), ("", 480)],
                         ids=["english", "chinese", "presenter", "narrow"])
def test_the_frame_slider_starts_clear_of_play_and_pause(browser, server, query, width):
    """At the first frame the slider's grip sits at the rail's left end: it must not lie under ❚❚ Pause, where a
    click pauses instead of scrubbing (it did, with the slider placed at a fraction of the chart's width, on a
    chart narrower than the buttons assumed, and in presenter mode's larger font)."""
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    try:
        pg.goto(f"{server.url}/", wait_until="domcontentloaded")    # app.py's navigation first, as _open does
        pg.get_by_role("link", name="EM, step by step").first.wait_for(timeout=60000)
        open_page(pg, f"{server.url}/em{query}")
        pg.wait_for_function("() => { const el = document.querySelector('.js-plotly-plot'); "
                             "return el && el._fullLayout && el._fullLayout.sliders.length; }", timeout=30000)
        c = pg.evaluate(CONTROLS_JS)
        assert c["active"] == 0 and len(c["buttons"]) == 2
        last = max(b["right"] for b in c["buttons"])
        assert c["grip"]["left"] >= last + 4, c          # the grip at frame 0 is clear of the buttons
        assert c["gripOnTop"], c                          # and a click there reaches the slider
        assert c["rail"]["right"] <= c["plot"]["right"] + 12, c
        mid = lambda b: (b["top"] + b["bottom"]) / 2  # noqa: E731
        assert abs(mid(c["rail"]) - mid(c["buttons"][0])) <= 6, c   # on the buttons' row, not above it
        rail_px = c["rail"]["right"] - c["rail"]["left"]
        assert rail_px >= 0.4 * (c["plot"]["right"] - c["plot"]["left"]), c   # room left to scrub
        _no_errors(pg, server)
    finally:
        ctx.close()
