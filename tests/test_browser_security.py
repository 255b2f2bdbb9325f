"""Hostile links, uploads and two users at once, in a real headless Chromium.

* every page opened with script fragments in the query string: no dialog fires, no injected
  element exists, nothing is executed, the page renders;
* a CSV uploaded through the real uploader: a bad file shows one error and the previous data
  stay in use; a file over the 5 MB limit is refused by the uploader itself;
* two browser contexts (two users) with different settings and uploads: neither sees the other's.

(Endurance — 50 sessions at once — is the load test of ``bench/``, not repeated here.)
"""
from __future__ import annotations

import urllib.parse

import pytest

from browser_support import Server, page_paths, wait_settled

pytestmark = pytest.mark.browser

XSS = "window.__xss=(window.__xss||0)+1"
PAYLOADS = {
    "<script>alert(1)</script>": "1",
    "q": f"<img src=x onerror=\"{XSS};alert(1)\">",
    "lang": f"<svg onload=\"{XSS};alert(2)\">",
    "present": "javascript:alert(3)",
    "lb_model": f"\"><script>{XSS};alert(4)</script>",
    "eg_t": "1e400",
    "home_t": "<b>bold</b>",
    "bogus_key": "[x](javascript:alert(5))",
}
INJECTED_JS = """() => {
    const bad = [];
    if (window.__xss) bad.push('window.__xss=' + window.__xss);
    for (const s of document.querySelectorAll('script')) if (/__xss|alert\\(/.test(s.textContent)) bad.push('script');
    for (const el of document.querySelectorAll('img[src="x"], [onerror], [onload], svg[onload]')) bad.push(el.outerHTML.slice(0, 80));
    for (const a of document.querySelectorAll('a[href^="javascript:"]')) bad.push(a.outerHTML.slice(0, 80));
    return bad;
}"""
CHART_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(el => JSON.stringify((el.data || []).map(t => [t.x, t.y])))"""


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


def _context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.dialogs = []
    pg.errors = []

    def on_dialog(d):
        pg.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()
    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    return ctx, pg


def _route(pg, server):
    # A fresh server runs a pages/ file alone until app.py has run st.navigation once (Streamlit's
    # pages-folder mode): open the root first, as a student following a link does after anyone else.
    pg.goto(f"{server.url}/", wait_until="domcontentloaded")
    pg.get_by_role("link", name="EM, step by step").first.wait_for(timeout=60000)


def _open(pg, server, path: str, query: str = ""):
    pg.goto(f"{server.url}/{path}{query}", wait_until="domcontentloaded")
    wait_settled(pg)
    pg.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    wait_settled(pg)


def test_the_detectors_see_an_injection(browser):
    """The checks below are not blind: a page that does run injected markup fails them."""
    ctx, pg = _context(browser)
    try:
        pg.set_content(f"<p>x</p><img src=x onerror=\"{XSS};alert(1)\">")
        pg.wait_for_timeout(500)
        assert pg.dialogs and pg.evaluate(INJECTED_JS)
    finally:
        ctx.close()


@pytest.mark.parametrize("path", page_paths())
def test_script_fragments_in_the_query_string_do_nothing(browser, server, path):
    ctx, pg = _context(browser)
    try:
        _route(pg, server)
        query = "?" + urllib.parse.urlencode(PAYLOADS, quote_via=urllib.parse.quote)
        _open(pg, server, path, query)
        pg.wait_for_timeout(1500)  # let toasts and any late rerun render
        assert pg.dialogs == [], pg.dialogs
        assert pg.evaluate(INJECTED_JS) == []
        assert pg.locator('[data-testid="stException"]').count() == 0, server.logs()[-3000:]
        assert pg.evaluate(CHART_JS), "the page did not render"
        body = pg.evaluate("() => document.body.innerHTML")
        assert "<script>alert" not in body and "onerror=" not in body.replace("onerror=\\", "")
        assert not [e for e in pg.errors if "__xss" in e or "alert" in e]
    finally:
        ctx.close()


def test_a_script_fragment_as_the_path_does_nothing(browser, server):
    ctx, pg = _context(browser)
    try:
        _route(pg, server)
        pg.goto(f"{server.url}/%3Cscript%3Ealert(1)%3C%2Fscript%3E?x=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
                wait_until="domcontentloaded")
        wait_settled(pg)
        pg.wait_for_timeout(1500)
        assert pg.dialogs == [] and pg.evaluate(INJECTED_JS) == []
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        ctx.close()


# ---------------------------------------------------------------------------------------------
# uploads through the real uploader, and two users at once
# ---------------------------------------------------------------------------------------------
GOOD = ("waiting.csv", b"waiting\n" + b"\n".join(str(v).encode() for v in
                                                 [50, 52, 55, 54, 58, 75, 78, 80, 82, 85, 79, 77]))
OTHER = ("other.csv", b"x\n" + b"\n".join(str(v).encode() for v in [1, 2, 2.5, 3, 7, 8, 8.5, 9]))


def _choose(pg, label: str, option: str):
    box = pg.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    pg.get_by_role("option", name=option, exact=True).click()
    wait_settled(pg)


def _upload(pg, name: str, raw: bytes):
    pg.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": raw}])
    pg.wait_for_timeout(500)
    wait_settled(pg)


def _family(pg):
    pg.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    return pg.evaluate(CHART_JS)[0]


def _alerts(pg) -> list[str]:
    return [t for t in pg.locator('[data-testid="stAlert"]').all_inner_texts() if t.strip()]


def _lower_bounds_with_upload(browser, server, name, raw):
    ctx, pg = _context(browser)
    _route(pg, server)
    _open(pg, server, "lower_bounds")
    _choose(pg, "Data", "Upload a CSV file")
    pg.get_by_text("Choose a CSV file to continue").wait_for(timeout=30000)
    _upload(pg, name, raw)
    pg.get_by_text(f"Data from {name}").wait_for(timeout=30000)
    return ctx, pg


def test_a_bad_upload_in_the_browser_keeps_the_previous_data(browser, server):
    ctx, pg = _lower_bounds_with_upload(browser, server, *GOOD)
    try:
        before = _family(pg)
        _upload(pg, "bad.csv", b"x\n1\n<img src=x onerror=alert(1)>\n")
        pg.get_by_text("expected numbers").wait_for(timeout=30000)
        alerts = _alerts(pg)
        assert len([a for a in alerts if "expected numbers" in a]) == 1, alerts
        text = next(a for a in alerts if "expected numbers" in a)
        assert "row 3" in text and "<img src=x" in text  # shown as text, literally
        assert "Replace that cell" in text and f"The previous file stays in use: {GOOD[0]}" in text
        assert pg.evaluate(INJECTED_JS) == [] and pg.dialogs == []
        assert _family(pg) == before, "the previous data are no longer in use"
        # a file over the 5 MB limit never reaches the app: the uploader refuses it, the data stay
        _upload(pg, "big.csv", b"3.600000\n" * 700_000)
        uploader = pg.locator('[data-testid="stFileUploader"]')
        uploader.get_by_text("File must be 5.0MB or smaller").wait_for(timeout=30000)
        assert _family(pg) == before
        assert pg.get_by_text(f"Data from {GOOD[0]}").count() == 1
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        ctx.close()


def _slider_value(pg, label: str) -> str:
    slider = pg.locator('[data-testid="stSlider"]').filter(has_text=label).first
    return slider.locator("input[type=range]").first.input_value()


def test_two_users_do_not_see_each_others_state(browser, server):
    ctx_a, a = _lower_bounds_with_upload(browser, server, *GOOD)
    ctx_b, b = _context(browser)
    try:
        # user A moves a slider
        default = _slider_value(a, "Number of anchors")
        a.locator('[data-testid="stSlider"]').filter(has_text="Number of anchors").first \
            .locator("input[type=range]").first.focus()
        for _ in range(3):
            a.keyboard.press("ArrowRight")
        wait_settled(a)
        a_value = _slider_value(a, "Number of anchors")
        assert a_value != default
        a_chart = _family(a)
        # user B opens the same page: defaults, built-in data, no upload
        _route(b, server)
        _open(b, server, "lower_bounds")
        assert _slider_value(b, "Number of anchors") == default
        assert b.get_by_text(f"Data from {GOOD[0]}").count() == 0
        b_chart = _family(b)
        assert b_chart != a_chart
        # user B uploads another file; user A still has its own data and settings
        _choose(b, "Data", "Upload a CSV file")
        _upload(b, *OTHER)
        b.get_by_text(f"Data from {OTHER[0]}").wait_for(timeout=30000)
        a.locator('[data-testid="stSlider"]').filter(has_text="Number of anchors").first \
            .locator("input[type=range]").first.focus()
        a.keyboard.press("ArrowLeft")  # a new run of A's page, in A's session
        wait_settled(a)
        a.wait_for_function("(v) => { const s = Array.from(document.querySelectorAll('[data-testid=\"stSlider\"]'))"
                            ".find(e => e.innerText.includes('Number of anchors')); "
                            "return s && s.querySelector('input[type=range]').value !== v; }",
                            arg=a_value, timeout=30000)
        wait_settled(a)
        assert a.get_by_text(f"Data from {GOOD[0]}").count() == 1
        assert a.get_by_text(f"Data from {OTHER[0]}").count() == 0
        assert b.get_by_text(f"Data from {GOOD[0]}").count() == 0
    finally:
        ctx_a.close()
        ctx_b.close()
