"""The sections that run as fragments, in a real headless Chromium (bench/README.md, items 44 and 47).

On elbo_gap everything q drives, and on lower_bounds everything below the model controls, is a fragment:
moving one of its sliders asks the server for that fragment's rerun, not the page's. Each checks what a
student would see go wrong if the fragment were built carelessly: the formula at the top of the page (a
placeholder outside the fragment, written from inside it) must follow with its numbers and must not pile up,
the charts and the address must follow, the address must reopen the page there, and after a model change
(a whole-page run) the fragment must work on the new model, not on the one it was first drawn with.

On latent_models the three sections below the model choice are one fragment (item 47): the formulas above it
must be left alone, and freezing the data from inside it must still reach the address.
"""
from __future__ import annotations

import pytest

from browser_support import FORMULAS_JS, assert_no_errors, open_page, press_slider, rerun_requests, wait_settled

pytestmark = pytest.mark.browser

CHART_DATA_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(el => JSON.stringify((el.data || []).map(t => [t.x, t.y, t.base])))"""

# page, the fragment slider pressed, its value after one ArrowRight, the K selectbox of the model controls
CASES = {
    "elbo_gap": ("eg_t", "0.31", "eg_k_gmm1d"),
    "lower_bounds": ("lb_blend", "0.55", "lb_k_gmm1d"),
}


@pytest.mark.parametrize("path", list(CASES))
def test_a_fragment_slider_reruns_its_section_and_the_page_follows(page, server, path):
    key, value, k_box = CASES[path]
    sent = rerun_requests(page)
    open_page(page, f"{server.url}/{path}")
    assert not any(sent)                                   # the first run is the page's
    charts, formulas = page.evaluate(CHART_DATA_JS), page.evaluate(FORMULAS_JS)
    del sent[:]
    press_slider(page, key, value)
    assert sent and all(sent), f"a move of {key} asked for a whole-page run: {sent}"
    after = page.evaluate(FORMULAS_JS)
    assert len(after) == len(formulas), "the formula placeholder above the fragment piled up"
    assert after[0] != formulas[0], "the formula at the top kept the numbers of the last run"
    assert page.evaluate(CHART_DATA_JS) != charts
    assert page.locator(f".st-key-{key} input[type=range]").input_value() == value
    assert_no_errors(page, server)

    # the address reopens the page at the moved value, with the same numbers in the formula
    moved = after
    open_page(page, page.url)
    assert page.locator(f".st-key-{key} input[type=range]").input_value() == value
    assert page.evaluate(FORMULAS_JS) == moved

    # a model change is a whole-page run; the fragment then works on the new model
    del sent[:]
    box = page.locator(f".st-key-{k_box}")
    box.click()
    page.get_by_role("option", name="3", exact=True).click()
    wait_settled(page, 60000)
    page.wait_for_function("(k) => new URLSearchParams(location.search).get(k) === '3'", arg=k_box, timeout=15000)
    wait_settled(page, 60000)
    assert "" in sent, f"a model change did not rerun the page: {sent}"
    three = page.evaluate(FORMULAS_JS)
    assert three[0] != moved[0]
    del sent[:]
    page.locator(f".st-key-{key} input[type=range]").focus()
    page.keyboard.press("ArrowLeft")
    wait_settled(page, 60000)
    page.wait_for_function("(k) => new URLSearchParams(location.search).get(k) === null", arg=key, timeout=15000)
    wait_settled(page, 60000)
    assert sent and all(sent), f"a move of {key} asked for a whole-page run: {sent}"
    back = page.evaluate(FORMULAS_JS)
    assert back[0] != three[0]
    # the same numbers as a fresh page of the 3-component model at the slider's default: the fragment ran on
    # the new model, not the one it was first drawn with
    open_page(page, f"{server.url}/{path}?{k_box}=3")
    assert page.evaluate(FORMULAS_JS)[0] == back[0]
    assert_no_errors(page, server)


def _query(page, key: str):
    return page.evaluate("(k) => new URLSearchParams(location.search).get(k)", key)


def test_latent_models_sliders_rerun_the_model_sections_and_the_rest_stays(page, server):
    """latent_models: the three sections a model's sliders drive are one fragment (bench/README.md, item 47).

    A move must rerun them, not the page: the formulas and charts below follow, the title and the formulas
    above are sent once. Freezing the data from inside the fragment writes the frozen θ to the address even
    after quick moves (the address must not fall back to an earlier slider value), and the link reopens the
    same numbers. A model change reruns the page, and the fragment then runs the new model.
    """
    sent = rerun_requests(page)
    open_page(page, f"{server.url}/latent_models")
    assert not any(sent)
    charts, formulas = page.evaluate(CHART_DATA_JS), page.evaluate(FORMULAS_JS)
    del sent[:]
    press_slider(page, "lvm_g1_mu0", "-2.9")
    assert sent and all(sent), f"a move of μ asked for a whole-page run: {sent}"
    after = page.evaluate(FORMULAS_JS)
    assert len(after) == len(formulas)
    assert after[0] == formulas[0]                          # the model's formulas above the fragment
    assert after[1] != formulas[1]                          # p(x) = Σ π N(x | μ, σ²) with the new μ
    assert page.evaluate(CHART_DATA_JS) != charts
    assert page.locator("h1").count() == 1
    assert_no_errors(page, server)

    # three quick moves, then freeze: the address holds the last μ and the frozen θ
    mu = page.locator(".st-key-lvm_g1_mu0 input[type=range]")
    mu.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_settled(page, 60000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lvm_g1_mu0') === '-2.6'",
                           timeout=15000)
    del sent[:]
    page.locator(".st-key-lvm_freeze label").click()
    wait_settled(page, 60000)
    page.wait_for_function("() => new URLSearchParams(location.search).has('lvm_frozen')", timeout=15000)
    wait_settled(page, 60000)
    assert sent and all(sent), f"freezing asked for a whole-page run: {sent}"
    assert _query(page, "lvm_g1_mu0") == "-2.6"
    press_slider(page, "lvm_g1_mu0", "-2.5")                 # the model moves away from the frozen data
    frozen = page.evaluate(FORMULAS_JS)
    assert any(r"\theta_\text" in f for f in frozen)        # log p at the θ that drew the data, and the difference
    open_page(page, page.url)
    assert page.evaluate(FORMULAS_JS) == frozen
    assert mu.input_value() == "-2.5"

    # a model change is a whole-page run; the fragment then runs the new model
    del sent[:]
    page.locator(".st-key-lvm_model label").filter(has_text="Two coins").click()
    wait_settled(page, 60000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lvm_model') === 'Two coins'",
                           timeout=15000)
    wait_settled(page, 60000)
    assert "" in sent, f"a model change did not rerun the page: {sent}"
    del sent[:]
    press_slider(page, "lvm_c_p0", "0.31")
    assert sent and all(sent), f"a move of the coin's p asked for a whole-page run: {sent}"
    coins = page.evaluate(FORMULAS_JS)
    assert any(r"\mathrm{Bin}(h \mid 10, 0.31)" in f for f in coins)
    open_page(page, page.url)
    assert page.evaluate(FORMULAS_JS) == coins
    assert_no_errors(page, server)
