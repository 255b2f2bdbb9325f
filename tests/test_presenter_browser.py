"""Classroom features in a real headless Chromium: presenter mode, the language, chart alt text.

* presenter mode (``?present=true``; ``?present=1`` works too): on every page every rendered
  tick label of every chart is at least 20 px (measured with ``getComputedStyle`` on the plotly
  SVG's ``.xtick text`` / ``.ytick text``), and the sidebar starts collapsed; without it the ticks
  are the usual small ones (so the measurement can fail);
* ``?lang=zh`` opens a page in Chinese, a Chinese browser gets Chinese without ``?lang``, and the
  sidebar's language switch changes the page that is open;
* each main chart carries its alt text as the accessible name of the chart.
"""
from __future__ import annotations

import re

import pytest

from browser_support import Server, page_paths, wait_settled
from vizcore.i18n_zh import ZH

pytestmark = pytest.mark.browser

TICK_SIZES_JS = """() => Array.from(document.querySelectorAll(
    '[data-testid="stMain"] .js-plotly-plot .xtick text, [data-testid="stMain"] .js-plotly-plot .ytick text'))
    .map(e => parseFloat(getComputedStyle(e).fontSize))"""
OVERLAPS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')).flatMap(el => {
    const t = el.querySelector('.gtitle'), l = el.querySelector('.legend');
    if (!t || !l || !t.textContent.trim()) return [];
    const a = t.getBoundingClientRect(), b = l.getBoundingClientRect();
    if (!a.width || !b.width) return [];
    const overlap = a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    return overlap ? [t.textContent.slice(0, 60)] : [];
})"""
H1_JS = "() => (document.querySelector('[data-testid=\"stMain\"] h1') || {innerText: ''}).innerText"
SIDEBAR_NAV_JS = """() => (document.querySelector('[data-testid="stSidebarNav"]') || {innerText: ''}).innerText"""
CJK = re.compile(r"[\u4e00-\u9fff]")
TITLES = {"home": "Variational lower bounds, live", "latent_models": "Latent-variable models",
          "lower_bounds": "Maximising through lower bounds", "kl_divergence": "KL divergence",
          "elbo_gap": "The ELBO and the KL gap", "em": "EM, step by step",
          "variational": "Beyond EM: variational inference"}


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


def _new_page(browser, locale="en-US"):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale=locale)
    return ctx, ctx.new_page()


def _open(page, server, path: str, query: str = ""):
    page.goto(f"{server.url}/{path}{query}", wait_until="domcontentloaded")
    wait_settled(page)
    page.wait_for_selector('[data-testid="stMain"] .js-plotly-plot .xtick text', timeout=60000)
    wait_settled(page)


def _wait_for(page, js: str, timeout_ms: int = 30000):
    page.wait_for_function(js, timeout=timeout_ms)
    wait_settled(page)


@pytest.mark.parametrize("path", page_paths())
def test_presenter_mode_ticks_are_at_least_20px(browser, server, path):
    ctx, page = _new_page(browser)
    try:
        _open(page, server, path, "?present=true")
        page.wait_for_timeout(500)
        sizes = page.evaluate(TICK_SIZES_JS)
        assert len(sizes) >= 4, f"no tick labels measured on {path}"
        assert min(sizes) >= 20, f"{path}: tick label sizes {sorted(set(sizes))}"
        assert not page.evaluate(OVERLAPS_JS), f"{path}: a legend covers the title of {page.evaluate(OVERLAPS_JS)}"
        box = page.locator('[data-testid="stSidebar"]').bounding_box()
        assert box is None or box["x"] + box["width"] <= 1, f"{path}: the sidebar should start collapsed"
        assert page.locator('[data-testid="stException"]').count() == 0, server.logs()[-3000:]
    finally:
        ctx.close()


@pytest.mark.parametrize("path", ["em", "lower_bounds", "elbo_gap"])
def test_presenter_mode_in_chinese_keeps_legends_off_the_titles(browser, server, path):
    ctx, page = _new_page(browser)
    try:
        _open(page, server, path, "?present=true&lang=zh")
        page.wait_for_timeout(500)
        assert page.evaluate("() => document.querySelectorAll('[data-testid=\"stMain\"] .js-plotly-plot .legend').length")
        assert not page.evaluate(OVERLAPS_JS), f"{path}: a legend covers the title of {page.evaluate(OVERLAPS_JS)}"
    finally:
        ctx.close()


def test_without_presenter_mode_ticks_are_small(browser, server):
    ctx, page = _new_page(browser)
    try:
        _open(page, server, "lower_bounds")
        sizes = page.evaluate(TICK_SIZES_JS)
        assert sizes and max(sizes) < 20
        assert page.locator('[data-testid="stSidebar"]').bounding_box()["width"] > 100
    finally:
        ctx.close()


def test_present_1_also_turns_presenter_mode_on(browser, server):
    ctx, page = _new_page(browser)
    try:
        _open(page, server, "kl_divergence", "?present=1")
        sizes = page.evaluate(TICK_SIZES_JS)
        assert sizes and min(sizes) >= 20
        # the explanations are folded into expanders
        assert page.locator('[data-testid="stMain"] [data-testid="stExpander"]').count() >= 2
    finally:
        ctx.close()


@pytest.mark.parametrize("path", ["lower_bounds", "em", "variational"])
def test_lang_zh_opens_the_page_in_chinese(browser, server, path):
    ctx, page = _new_page(browser)
    try:
        _open(page, server, path, "?lang=zh")
        assert page.evaluate(H1_JS) == ZH[TITLES[path]]
        nav = page.evaluate(SIDEBAR_NAV_JS)
        assert ZH["Home"] in nav and ZH["KL divergence"] in nav and "Home" not in nav
        assert page.locator('[data-testid="stException"]').count() == 0, server.logs()[-3000:]
    finally:
        ctx.close()


def test_a_chinese_browser_gets_chinese_without_lang(browser, server):
    ctx, page = _new_page(browser, locale="zh-CN")
    try:
        _open(page, server, "elbo_gap")
        _wait_for(page, f"() => ({H1_JS})() === {ZH[TITLES['elbo_gap']]!r}")
        assert page.evaluate(H1_JS) == ZH[TITLES["elbo_gap"]]
    finally:
        ctx.close()


def test_the_language_switch_changes_the_page(browser, server):
    ctx, page = _new_page(browser)
    try:
        _open(page, server, "kl_divergence")
        assert page.evaluate(H1_JS) == "KL divergence"
        labels_en = page.locator('[data-testid="stMain"] [data-testid="stWidgetLabel"]').all_inner_texts()
        page.locator('[data-testid="stSidebar"] button', has_text="中文").click()
        _wait_for(page, f"() => ({H1_JS})() === {ZH['KL divergence']!r}")
        labels_zh = page.locator('[data-testid="stMain"] [data-testid="stWidgetLabel"]').all_inner_texts()
        assert labels_zh != labels_en and any(CJK.search(s) for s in labels_zh)
        assert "lang=" in page.url  # the choice is in the address, to share
        page.locator('[data-testid="stSidebar"] button', has_text="English").click()
        _wait_for(page, f"() => ({H1_JS})() === 'KL divergence'")
    finally:
        ctx.close()


def test_charts_carry_their_alt_text(browser, server):
    ctx, page = _new_page(browser)
    try:
        _open(page, server, "lower_bounds", "?lang=zh")
        names = page.evaluate("""() => Array.from(document.querySelectorAll(
            '[data-testid="stMain"] [role="figure"][aria-label]')).map(e => e.getAttribute('aria-label'))""")
        assert ZH["Line chart of log p(X|θ) over one coordinate of θ with a family of lower bounds, each touching "
                  "it at its anchor."] in names
    finally:
        ctx.close()
