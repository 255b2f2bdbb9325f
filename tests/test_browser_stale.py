"""The page style (``pages/_page.css``): stale elements fade only in a slow run (bench/README.md, item 46).

A small app runs the stylesheet as app.py does (``st.html`` of the file) and decides from its slider how
long a run takes, so a fast run and a slow one can be watched in Chromium. The same app without the
stylesheet is the control: it shows that the check sees Streamlit's default (a transition on every stale
element from the start of every run), so it would fail if the style stopped applying. The app's own pages
are checked to carry the whole stylesheet.
"""
from __future__ import annotations

import textwrap

import pytest
from browser_support import ROOT, Server, open_page, page_paths, wait_settled

CSS = ROOT / "pages" / "_page.css"

APP = textwrap.dedent("""
    import time
    from pathlib import Path
    import streamlit as st
    if {styled}:
        st.html(Path({css!r}))
    v = st.slider("run length", 0, 100, 50)
    st.markdown("sent first")
    # value 51: a fast run (0.2 s before its last element); value 52: a slow one (2.5 s)
    time.sleep({{51: 0.2, 52: 2.5}}.get(v, 0))
    st.markdown(f"sent last: {{v}}")
""")

# What the last element's container looks like while the run is on: sampled on every animation frame from
# the key press to the end of the run (Streamlit sets data-test-script-state on the app's root).
WATCH = """(sampleMs) => new Promise((resolve) => {
  const seen = {stale: 0, opacities: [], transitions: 0, fadedAt: null};
  const t0 = performance.now();
  const tick = () => {
    const last = [...document.querySelectorAll('[data-testid=stElementContainer]')]
      .filter((el) => el.innerText.includes('sent last')).pop();
    if (last && last.dataset.stale === 'true') {
      seen.stale += 1;
      const op = parseFloat(getComputedStyle(last).opacity);
      seen.opacities.push(op);
      if (op < 0.9 && seen.fadedAt === null) seen.fadedAt = performance.now() - t0;
      seen.transitions += last.getAnimations().length;
    }
    if (performance.now() - t0 < sampleMs) requestAnimationFrame(tick); else resolve(seen);
  };
  requestAnimationFrame(tick);
})"""


def _run(page, url: str, to: int, sample_ms: int) -> dict:
    page.goto(url, wait_until="domcontentloaded")
    wait_settled(page, 60000)
    slider = page.locator("[data-testid=stSlider] input[type=range]").first
    slider.focus()
    for _ in range(to - 50):
        page.keyboard.press("ArrowRight")
    watch = page.evaluate_handle(f"({WATCH})({sample_ms})")
    return watch.json_value()


@pytest.fixture(scope="module", params=[True, False], ids=["styled", "streamlit-default"])
def small_app(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("stale_app")
    (d / "app.py").write_text(APP.format(styled=request.param, css=str(CSS)))
    s = Server("app.py", d)
    yield request.param, s
    s.stop()


def test_a_fast_run_starts_no_transition_and_a_slow_one_fades(small_app, page):
    styled, server = small_app
    # ArrowRight once: the slider leaves 50 for 51, and that run is fast
    fast = _run(page, server.url, 51, 700)
    assert fast["stale"] > 0, "the last element was never seen stale: the check watched nothing"
    if styled:
        assert fast["transitions"] == 0 and min(fast["opacities"]) == 1.0, fast
    else:  # Streamlit's own style: a transition (still in its 0.5 s delay) on the stale element at once
        assert fast["transitions"] > 0, fast
    slow = _run(page, server.url, 52, 2200)
    # both fade the stale element once the run has been going for 0.5 s, and not before
    assert slow["fadedAt"] is not None and 450 <= slow["fadedAt"] <= 1500, slow
    assert min(slow["opacities"]) < 0.6, slow


def test_the_stylesheet_reaches_every_page_whole(browser, server):
    """st.html cleans its input: a rule holding "<" (as in an @property syntax) would silently go. Every rule
    of the file must be in the page, and the page's stale elements must follow it (marked by hand here:
    Streamlit's own stale style belongs to the class it gave the element, so the hand-made mark shows
    this file's rules alone)."""
    text = CSS.read_text()
    assert "<" not in text
    ctx = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        for path in page_paths():
            page = ctx.new_page()
            open_page(page, f"{server.url}/{path}")
            rules = page.evaluate("""() => [...document.styleSheets].flatMap((s) => {
                try { return [...s.cssRules].map((r) => r.cssText); } catch (e) { return []; } })
                .filter((t) => t.includes('vlb-slow') || t.includes('vlb-app') || t.includes('data-stale'))""")
            assert len(rules) == 6, (path, rules)
            # an element marked stale by hand: no fade while the app's root says nothing about a slow run
            state = page.evaluate("""() => { const el = document.querySelector(
                '[data-testid=stMain] [data-testid=stElementContainer]:not([style*="display: none"])');
                el.dataset.stale = 'true'; const s = getComputedStyle(el);
                return [s.opacity, s.transitionProperty, el.getAnimations().length]; }""")
            assert state == ["1", "none", 0], (path, state)
            # and the fade once the root says a run has gone on for a while
            page.evaluate("""() => document.querySelector('[data-testid=stApp]')
                .setAttribute('data-test-script-state', 'running')""")
            page.wait_for_timeout(1700)
            faded = page.evaluate("""() => getComputedStyle(document.querySelector(
                '[data-testid=stMain] [data-stale=true]')).opacity""")
            assert float(faded) < 0.6, (path, faded)
            page.close()
    finally:
        ctx.close()
