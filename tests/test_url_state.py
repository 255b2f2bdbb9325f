"""Views in the URL: every control is in the address, and the address restores the view.

Browser (headless Chromium): on every page, move controls (models, data, θ, seeds, tabs, button
counts, language, presenter mode), copy the address, open it in a fresh browser context and
compare every widget's value and every chart's data. A garbage address falls back to defaults
(numbers outside a range: the nearest allowed value) with a notice. A bad upload shows its
message and keeps the previous data.

AppTest: the same seeding without a browser (dependent widgets, clamping, the notice,
hand-set q, state mirrored by hand), and garbage in every parameter of every page.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT

import vizcore as vc
from browser_support import view_every_chart
from plotly_checks import charts as charts_of  # noqa: E402

# ---- AppTest ---------------------------------------------------------------------------------------
PAGES = ["pages/home.py", "pages/latent_models.py", "pages/lower_bounds.py", "pages/kl_divergence.py",
         "pages/elbo_gap.py", "pages/em.py", "pages/variational.py"]


def _as_app_runs_it(path, settings=True):
    """A page as app.py runs it: the shared settings, the address check and the export panel around it."""
    import runpy

    from pages import _export, _url_state
    from pages._common import end_page, settings as shared
    if settings:
        shared()
    _url_state.begin()
    _export.begin_run()
    runpy.run_path(path, run_name="__main__")
    end_page()


def app(page: str, query: dict | None = None):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_function(_as_app_runs_it, args=(str(ROOT / page),), default_timeout=180)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def widget_values(at) -> dict:
    out = {}
    for kind in ("slider", "select_slider", "selectbox", "number_input", "checkbox", "toggle", "radio",
                 "multiselect", "button_group"):
        for w in at.get(kind):
            key = getattr(w, "key", None)
            if key and not key.startswith("_"):
                try:
                    out[key] = w.value
                except Exception:  # noqa: BLE001 - a widget type AppTest cannot read
                    pass
    return out


def chart_specs(at) -> list:
    return [json.loads(c.proto.spec) for c in charts_of(at)]


def toasts(at) -> str:
    from pages._guards import unescape_markdown
    return " ".join(unescape_markdown(t.value) for t in at.toast)


def test_url_seeds_dependent_widgets_model_k_theta():
    base = app("pages/lower_bounds.py")
    q = {"lb_model": "2-D Gaussian mixture", "lb_k_gmm2d": "3", "lb_th_gmm2d_old_faithful_3_m0y": "60.5",
         "lb_anchors": "9", "lb_coord_gmm2d_3": "μ₂ [y]   (means[1][1])"}
    at = app("pages/lower_bounds.py", q)
    assert not at.exception and not at.error
    v = widget_values(at)
    assert v["lb_model"] == "gmm2d" and v["lb_k_gmm2d"] == 3 and v["lb_anchors"] == 9
    assert v["lb_th_gmm2d_old_faithful_3_m0y"] == 60.5 and v["lb_coord_gmm2d_3"] == "means[1][1]"
    assert chart_specs(at) != chart_specs(base)
    assert toasts(at) == ""   # every value was used: no notice


def test_garbage_falls_back_to_defaults_and_numbers_are_clamped_with_a_notice():
    q = {"lb_model": "nonsense", "lb_anchors": "999", "lb_blend": "abc", "lb_envelope": "perhaps",
         "lb_th_gmm1d_faithful_waiting_2_m0": "1e9", "lb_th_gmm1d_faithful_waiting_2_v0": "nan"}
    at = app("pages/lower_bounds.py", q)
    assert not at.exception and not at.error
    v, d = widget_values(at), widget_values(app("pages/lower_bounds.py"))
    assert v["lb_model"] == d["lb_model"] == "gmm1d"
    assert v["lb_blend"] == d["lb_blend"] and v["lb_envelope"] == d["lb_envelope"]
    assert v["lb_th_gmm1d_faithful_waiting_2_v0"] == d["lb_th_gmm1d_faithful_waiting_2_v0"]
    assert v["lb_anchors"] == 20                                     # clamped to the slider's maximum
    slider = next(s for s in at.slider if s.key == "lb_th_gmm1d_faithful_waiting_2_m0")
    assert v["lb_th_gmm1d_faithful_waiting_2_m0"] == slider.max       # clamped, not reset
    notice = toasts(at)
    for key in ("lb_model", "lb_anchors", "lb_blend", "lb_envelope", "lb_th_gmm1d_faithful_waiting_2_m0"):
        assert key in notice
    assert "nearest allowed value" in notice and "default" in notice


GARBAGE = ["", "☃", "1e999", "-1e999", "NaN", "[1,2]", "<b>x</b>", "%ZZ", "true&x=1"]


@pytest.mark.parametrize("page", PAGES)
def test_garbage_in_every_parameter_of_a_page(page):
    """Every widget key of the page gets a garbage value: the page renders, no error, no exception."""
    clean = app(page)
    assert not clean.exception
    keys = sorted(widget_values(clean))
    assert keys, f"no keyed widget on {page}"
    for i, junk in enumerate(GARBAGE[:4] if page == "pages/em.py" else GARBAGE):
        at = app(page, {k: junk for k in keys} | {"lang": junk, "present": junk})
        assert not at.exception, (page, junk, [e.message for e in at.exception])
        assert not at.error, (page, junk, [e.value for e in at.error])
        assert charts_of(at), (page, junk)
        if junk in ("☃", "<b>x</b>", "%ZZ", "true&x=1"):  # not a value of any widget: all defaults
            got = widget_values(at)
            want = widget_values(clean)
            assert {k: got.get(k) for k in want} == want, (page, junk)


def test_hand_set_q_of_a_point_is_restored():
    """On the ELBO page, q(z_n) set by hand (off the t-path) comes back from the address."""
    base = app("pages/elbo_gap.py")
    q = {"eg_t": "0.5", "eg_n": "3", "eg_q_gmm1d_2_0": "0.9", "eg_q_gmm1d_2_1": "0.1"}
    at = app("pages/elbo_gap.py", q)
    assert not at.exception
    v = widget_values(at)
    assert (v["eg_t"], v["eg_n"], v["eg_q_gmm1d_2_0"], v["eg_q_gmm1d_2_1"]) == (0.5, 3, 0.9, 0.1)
    assert any("set by hand" in c.value for c in at.caption)
    # the values on the path are not "by hand": opening them gives the path again
    path = app("pages/elbo_gap.py", {"eg_t": "0.5"})
    v2 = widget_values(path)
    follow = app("pages/elbo_gap.py", {"eg_t": "0.5", "eg_q_gmm1d_2_0": str(v2["eg_q_gmm1d_2_0"]),
                                       "eg_q_gmm1d_2_1": str(v2["eg_q_gmm1d_2_1"])})
    assert not any("set by hand" in c.value for c in follow.caption)
    assert chart_specs(follow) == chart_specs(path) != chart_specs(base)


def test_state_held_by_buttons_is_mirrored_into_the_address():
    at = app("pages/variational.py", {"vi_tab": "Mean-field", "vi_mf_n": "7"})
    assert not at.exception
    assert any("7 updates so far" in c.value for c in at.caption)
    at = app("pages/variational.py", {"vi_tab": "Mean-field", "vi_mf_n": "zzz"})
    assert not at.exception and any("0 updates so far" in c.value for c in at.caption)


def test_frozen_data_of_the_latent_page_is_restored():
    frozen = {"model": "coins", "extra": 12, "weights": [0.2, 0.8], "heads_probs": [0.1, 0.9]}
    q = {"lvm_model": "Two coins", "lvm_freeze": "true", "lvm_frozen": json.dumps(frozen)}
    at = app("pages/latent_models.py", q)
    assert not at.exception and not at.error
    # the data were drawn from the θ in the address (12 tosses), not from the sliders (10 tosses)
    model = vc.get_model("coins")
    x, _ = model.sample(model.make_params(weights=[0.2, 0.8], heads_probs=[0.1, 0.9]), 300,
                        np.random.default_rng(0), tosses=12)
    latex = " ".join(m.value for m in at.latex)
    ll = vc.log_marginal("coins", x, model.make_params(weights=[0.5, 0.5], heads_probs=[0.3, 0.75]))
    assert f"{ll:.3f}" in latex
    bad = app("pages/latent_models.py", q | {"lvm_frozen": "{not json"})
    assert not bad.exception and not bad.error


def test_early_value_reads_the_address_within_the_widget_range():
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st
        from pages._url_state import early_value
        st.write(repr((early_value("a", 0.0, -1, 1), early_value("b", 5, 0, 10, cast=int),
                       early_value("c", 2.0), early_value("d", 1.0, 0, 2))))

    at = AppTest.from_function(script)
    for k, v in {"a": "0.5", "b": "7", "c": "x", "d": "3"}.items():
        at.query_params[k] = v
    at.run()
    assert at.markdown[0].value.strip("`") == repr((0.5, 7, 2.0, 1.0))


# ---- in a real browser ---------------------------------------------------------------------------
WIDGETS_JS = r"""() => {
  const out = {};
  document.querySelectorAll('[class*="st-key-"]').forEach(el => {
    const cls = Array.from(el.classList).find(c => c.startsWith('st-key-'));
    const key = cls.slice(7);
    if (key.startsWith('_') || el.querySelector('.js-plotly-plot')) return;
    if (el.querySelector('[data-testid=stDownloadButton]') || el.querySelector('[data-testid=stButton]')) return;
    const own = sel => Array.from(el.querySelectorAll(sel)).filter(n => n.closest('[class*="st-key-"]') === el);
    const tabs = Array.from(el.querySelectorAll('[role=tab]')).filter(
        t => t.closest('[class*="st-key-"]') === el || t.closest('[data-testid=stTabs]') === el.querySelector('[data-testid=stTabs]'));
    let v;
    const ranges = own('input[type=range]');
    if (ranges.length) v = ranges.map(i => i.value).join(',');
    else if (own('input[type=number]').length) v = own('input[type=number]')[0].value;
    else if (own('input[type=checkbox]').length) v = own('input[type=checkbox]')[0].checked;
    else if (own('input[type=radio]').length) {
      const c = own('input[type=radio]').find(i => i.checked); v = c ? c.closest('label').innerText : null; }
    else if (tabs.length && el.querySelector('[data-testid=stTabs]')) {
      const s = tabs.find(t => t.getAttribute('aria-selected') === 'true'); v = s ? s.innerText : null; }
    else v = el.innerText.slice(0, 300);
    out[key] = v;
  });
  return out;
}"""

CHARTS_JS = r"""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => JSON.stringify([
  (el.data || []).map(t => [t.x, t.y, t.z, t.name, t.base]),
  ((el.layout || {}).shapes || []).map(s => [s.x0, s.x1, s.y0, s.y1])]))"""


def _settle(page):
    from browser_support import wait_settled
    wait_settled(page)
    page.wait_for_timeout(300)
    wait_settled(page)


def _open(page, url):
    page.goto(url, wait_until="domcontentloaded")
    _settle(page)
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    _settle(page)


def _new_page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return ctx, page


def _changes_url(page, act, timeout=30000):
    before = page.url
    act()
    page.wait_for_function("(u) => location.href !== u", arg=before, timeout=timeout)
    _settle(page)


URL_HOLDS_SLIDER_JS = r"""(key) => {
  const i = document.querySelector(`.st-key-${key} input[type=range]`);
  const v = new URL(location.href).searchParams.get(key);
  // absent: the slider is at its default (which may depend on other controls); the restored view is compared later
  return i && (v === null || Math.abs(parseFloat(v) - parseFloat(i.value)) < 1e-9);
}"""


def slider(key, presses, arrow="ArrowRight"):
    def act(page):
        def go():
            thumb = page.locator(f".st-key-{key} input[type=range]").first
            thumb.scroll_into_view_if_needed()
            thumb.focus()
            for _ in range(presses):  # at a reader's pace: each press's rerun ends before the next
                page.keyboard.press(arrow)
                _settle(page)
        _changes_url(page, go)
        # quick presses go out as several reruns: wait until the last one has reached the address
        try:
            page.wait_for_function(URL_HOLDS_SLIDER_JS, arg=key, timeout=30000)
        except Exception as err:  # noqa: BLE001
            shown = page.locator(f".st-key-{key} input[type=range]").first.input_value()
            raise AssertionError(f"{key}: the slider shows {shown}, the address stays {page.url}") from err
        _settle(page)
    return act


def select(key, option):
    def act(page):
        def go():
            page.locator(f".st-key-{key} [data-testid=stSelectbox]").click()
            page.wait_for_timeout(300)
            page.get_by_role("option", name=option, exact=True).first.click()
        _changes_url(page, go)
    return act


def radio(key, label):
    def act(page):
        _changes_url(page, lambda: page.locator(f".st-key-{key} label", has_text=label).first.click())
    return act


def checkbox(key):
    def act(page):
        _changes_url(page, lambda: page.locator(f".st-key-{key} label").first.click())
    return act


def tab(key, label):
    def act(page):
        _changes_url(page, lambda: page.locator(f".st-key-{key} [role=tab]", has_text=label).first.click())
    return act


def button(key):
    def act(page):
        _changes_url(page, lambda: page.locator(f".st-key-{key} button").first.click())
    return act


def step_up(key):
    def act(page):
        _changes_url(page, lambda: page.locator(f".st-key-{key} [data-testid=stNumberInputStepUp]").click())
    return act


def expand(label):
    def act(page):
        page.locator("[data-testid=stMain] [data-testid=stExpander] summary", has_text=label).first.click()
        _settle(page)
    return act


def sidebar_toggle(key):
    def act(page):
        _changes_url(page, lambda: page.locator(f"[data-testid=stSidebar] .st-key-{key} label").first.click())
    return act


def sidebar_choice(key, label):
    def act(page):
        _changes_url(page, lambda: page.locator(f"[data-testid=stSidebar] .st-key-{key} button",
                                                has_text=label).first.click())
    return act


SCENARIOS = {
    "home": ("", [slider("home_t", 4)]),
    "latent_models": ("latent_models", [
        radio("lvm_model", "Two coins"), slider("lvm_c_tosses", 5), slider("lvm_c_w0", 4, "ArrowLeft"),
        tab("lvm_tab", "z = 2"), slider("lvm_c_p1", 3, "ArrowLeft"), checkbox("lvm_freeze"),
        slider("lvm_h0", 2), button("lvm_resample")]),
    "lower_bounds": ("lower_bounds", [
        select("lb_model", "2-D Gaussian mixture"), select("lb_k_gmm2d", "3"), expand("Parameters"),
        slider("lb_th_gmm2d_old_faithful_3_m0y", 5), slider("lb_th_gmm2d_old_faithful_3_w1", 3, "ArrowLeft"),
        slider("lb_anchors", 3), slider("lb_blend", 2, "ArrowLeft"), checkbox("lb_envelope")]),
    "elbo_gap": ("elbo_gap", [
        select("eg_data_gmm1d", "Synthetic data (seeded)"), step_up("eg_seed"), slider("eg_t", 10),
        step_up("eg_n"), slider("eg_q_gmm1d_2_0", 5, "ArrowLeft")]),
    "kl_divergence": ("kl_divergence", [
        radio("kl_family", "Uniform"), slider("kl_uniform_q_low", 5), slider("kl_fit_separation", 10, "ArrowLeft")]),
    "variational": ("variational", [
        tab("vi_tab", "Mean-field"), button("vi_mf_run"), button("vi_mf_step"), slider("vi_mf_rho", 3, "ArrowLeft"),
        tab("vi_tab", "Variational EM"), button("vi_vem_next"), slider("vi_vem_spread", 2)]),
    "settings": ("kl_divergence", [sidebar_choice("lang", "中文"), sidebar_toggle("present"),
                                   slider("kl_fit_weight", 3)]),
}


def _snapshot(page):
    view_every_chart(page)   # a chart below the fold is updated when it comes into view
    return page.evaluate(WIDGETS_JS), page.evaluate(CHARTS_JS)


@pytest.mark.browser
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_copied_url_restores_the_view_in_a_fresh_browser(browser, server, name):
    path, actions = SCENARIOS[name]
    ctx, page = _new_page(browser)
    _open(page, f"{server.url}/{path}")
    default_widgets, default_charts = _snapshot(page)
    for act in actions:
        act(page)
    url = page.url
    widgets, charts = _snapshot(page)
    assert widgets != default_widgets and charts != default_charts, "the actions changed nothing"
    assert page.locator("[data-testid=stException]").count() == 0, server.logs()[-3000:]
    ctx.close()

    ctx2, fresh = _new_page(browser)
    _open(fresh, url)
    for _ in range(60):  # charts may still be drawing (a loaded machine: up to 30 s)
        w2, c2 = _snapshot(fresh)
        if (w2, c2) == (widgets, charts):
            break
        fresh.wait_for_timeout(500)
    diff = {k: (widgets.get(k), w2.get(k)) for k in set(widgets) | set(w2) if widgets.get(k) != w2.get(k)}
    assert not diff, f"{url}: widgets differ {diff}"
    assert c2 == charts, f"{url}: chart data differ in charts {[i for i, (a, b) in enumerate(zip(charts, c2)) if a != b]} " \
                         f"of {len(charts)} (restored: {len(c2)})"
    assert fresh.locator("[data-testid=stException]").count() == 0
    assert fresh.locator("[data-testid=stToast]").count() == 0, "a restored address needs no notice"
    assert not fresh.errors, fresh.errors
    ctx2.close()


@pytest.mark.browser
def test_garbage_address_opens_with_defaults_and_a_notice(browser, server):
    ctx, page = _new_page(browser)
    junk = ("lower_bounds?lb_model=nonsense&lb_anchors=abc&lb_blend=7&lb_envelope=maybe"
            "&lb_th_gmm1d_faithful_waiting_2_m0=1e9&%ZZ=%&lang=xx&present=banana")
    _open(page, f"{server.url}/{junk}")
    assert page.locator("[data-testid=stException]").count() == 0, server.logs()[-3000:]
    page.wait_for_selector("[data-testid=stToast]", timeout=20000)
    notice = " ".join(page.locator("[data-testid=stToast]").all_inner_texts())
    assert "lb_anchors" in notice and "nearest allowed value" in notice
    widgets, charts = _snapshot(page)
    ctx.close()
    ctx2, ref = _new_page(browser)   # what it should equal: the defaults, m0 and the blend at the top of their sliders
    _open(ref, f"{server.url}/lower_bounds?lb_th_gmm1d_faithful_waiting_2_m0=101.5&lb_blend=1")
    w_ref, c_ref = _snapshot(ref)
    assert widgets == w_ref and charts == c_ref
    ctx2.close()


GOOD = b"x\n" + "\n".join(f"{v}" for v in np.linspace(40, 95, 60)).encode()
BAD = b"x\n50\n61\nseventy\n80\n"


@pytest.mark.browser
def test_bad_upload_shows_its_message_and_keeps_the_previous_data(browser, server):
    ctx, page = _new_page(browser)
    _open(page, f"{server.url}/lower_bounds")
    select("lb_data_gmm1d", "Upload a CSV file")(page)
    uploader = page.locator(".st-key-lb_upload_gmm1d input[type=file]")
    uploader.set_input_files(files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": GOOD}])
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=60000)
    _settle(page)
    page.wait_for_function("() => document.body.innerText.includes('good.csv')", timeout=30000)
    _, good_charts = _snapshot(page)
    assert good_charts
    uploader.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD}])
    page.wait_for_selector("[data-testid=stAlertContentError]", timeout=60000)
    _settle(page)
    error = page.locator("[data-testid=stAlertContentError]").first.inner_text()
    assert "row" in error and "seventy" in error, error          # what is wrong, and where
    assert "good.csv" in error                                   # and that the previous file stays
    _, charts = _snapshot(page)
    assert charts == good_charts                                 # the previous data are still drawn
    assert page.locator("[data-testid=stException]").count() == 0
    ctx.close()


@pytest.mark.browser
def test_export_panel_follows_the_page(browser, server):
    ctx, page = _new_page(browser)
    _open(page, f"{server.url}/kl_divergence")
    page.locator("[data-testid=stSidebar] [data-testid=stExpander] summary", has_text="Export").click()
    keys = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=stSidebar] [class*="st-key-_export_fig_"]'))
        .map(el => Array.from(el.classList).find(c => c.startsWith('st-key-_export_fig_')).slice(19))""")
    charts = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=stMain] [class*="st-key-"] .js-plotly-plot'))
        .map(el => Array.from(el.closest('[class*="st-key-"]').classList).find(c => c.startsWith('st-key-')).slice(7))""")
    assert sorted(keys) == sorted(charts) and all(k.startswith("kl_") for k in keys)
    ctx.close()
