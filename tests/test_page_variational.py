"""The variational-inference page under Streamlit's AppTest: it runs, its widgets
change what is drawn, and the numbers it shows are the ones vizcore.vi computes."""
from __future__ import annotations

import base64
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # so the page can import pages._common and vizcore
    sys.path.insert(0, str(ROOT))

from vizcore import i18n, vi  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

PAGE = str(ROOT / "pages" / "variational.py")
CHARTS = {"vi_chart_bar", "vi_chart_q", "vi_chart_heat", "vi_chart_sga_path", "vi_chart_sga_trace", "vi_chart_mix",
          "vi_chart_mix_gaps", "vi_chart_iwae_k", "vi_chart_iwae_theta", "vi_chart_mf", "vi_chart_mf_elbo",
          "vi_chart_vem_slice", "vi_chart_vem_contour", "vi_chart_vem_trace"}


TABS = ["Gaussian q by hand", "Maximising the ELBO", "A richer family", "Tighter bounds (IWAE)", "Mean-field",
        "Variational EM"]
TAB_CHARTS = {"Gaussian q by hand": {"vi_chart_bar", "vi_chart_q", "vi_chart_heat"},
              "Maximising the ELBO": {"vi_chart_sga_path", "vi_chart_sga_trace"},
              "A richer family": {"vi_chart_mix", "vi_chart_mix_gaps"},
              "Tighter bounds (IWAE)": {"vi_chart_iwae_k", "vi_chart_iwae_theta"},
              "Mean-field": {"vi_chart_mf", "vi_chart_mf_elbo"},
              "Variational EM": {"vi_chart_vem_slice", "vi_chart_vem_contour", "vi_chart_vem_trace"}}


def run_page(tab: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    if tab is not None:
        at.session_state["vi_tab"] = tab
    at.run()
    ok(at)
    return at


def open_tab(at: AppTest, tab: str) -> AppTest:
    """Switch tabs as a click does: only the open tab's content runs."""
    at.session_state["vi_tab"] = tab
    at.run()
    ok(at)
    return at


def every_tab(at: AppTest, labels=None) -> dict:
    """What the page shows over all its tabs (each opened in turn), then back on the first one."""
    seen = {"charts": {}, "metrics": {}, "text": [], "latex": 0, "success": 0, "per_tab": {}}
    for tab in labels or TABS:
        open_tab(at, tab)
        found = charts(at)
        seen["per_tab"][tab] = set(found)
        seen["charts"].update(found)
        seen["metrics"].update(metrics(at))
        seen["text"].append(text(at))
        seen["latex"] += len(at.latex)
        seen["success"] += len(at.success)
    open_tab(at, (labels or TABS)[0])
    seen["text"] = "\n".join(seen["text"])
    return seen


def ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest) -> dict[str, dict]:
    return {c.key: json.loads(c.proto.spec) for c in charts_of(at)}


def data(at: AppTest, key: str) -> str:
    return json.dumps(charts(at)[key]["data"])


def arr(value) -> np.ndarray:
    """A plotly data array: a list, or plotly's base64 typed-array encoding ({'bdata', 'dtype'})."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).astype(float)
    return np.array([np.nan if v is None else v for v in value], dtype=float)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def text(at: AppTest) -> str:
    parts = [el.value for kind in ("markdown", "caption", "latex", "info", "success") for el in getattr(at, kind)]
    return "\n".join(parts)


def counts_shown(at: AppTest) -> tuple:
    found = re.search(r"x = \(([^)]*)\)", text(at))
    return tuple(int(v) for v in found.group(1).split(","))


def f4(v: float) -> str:
    return f"{v:.4f}"


@pytest.fixture(scope="module")
def default():
    return run_page()


def test_page_runs_and_draws_every_chart(default):
    assert [tab.label for tab in default.tabs] == TABS
    assert set(charts(default)) == TAB_CHARTS[TABS[0]], "only the open tab runs"
    seen = every_tab(default)
    assert seen["per_tab"] == TAB_CHARTS
    specs = seen["charts"]
    assert set(specs) == CHARTS
    for key, spec in specs.items():
        assert spec["data"], key
    words = seen["text"].lower()
    for idea in ("mean-field", "importance-weighted (iwae)", "variational em", "reparameterisation"):
        assert idea in words
    assert seen["latex"] >= 10


def test_numbers_shown_match_vizcore(default):
    x = counts_shown(default)
    assert x == tuple(int(c) for c in np.random.default_rng(0).poisson(1.0, 3))
    model = vi.PoissonLogNormal(x, prior_mean=0.0, prior_var=4.0)
    ev = vi.evidence(model)
    elbo = vi.elbo_gaussian(model, 0.5, 1.2)
    fit = vi.fit_gaussian_q(model, ev)
    mix = vi.fit_mixture_q(model, ev, fit)
    shown = every_tab(default)["metrics"]
    assert shown["ELBO"] == f4(elbo)
    assert shown["log p(x)"] == f4(ev.log_evidence)
    assert shown["KL(q‖p(z|x))"] == f4(ev.log_evidence - elbo)
    assert shown["best Gaussian ELBO"] == f4(fit.elbo)
    assert shown["gap the best Gaussian leaves"] == f4(fit.gap)
    assert float(shown["gap the best Gaussian leaves"]) > 0.01
    assert shown["gap closed by the mixture"] == f"{100 * mix.closed_fraction:.1f} %"
    groups = vi.PoissonGroups.sample(10, 0.0, 1.5 ** 2, 1, np.random.default_rng(0))
    vem = vi.variational_em(groups, -1.0, 4.0, 40)
    em = vi.exact_em(groups, -1.0, 4.0)
    assert shown["variational EM end point (μ₀, σ₀²)"] == f"({vem.prior_means[-1]:.3f}, {vem.prior_vars[-1]:.3f})"
    assert shown["maximum likelihood (exact EM)"] == f"({em.prior_means[-1]:.3f}, {em.prior_vars[-1]:.3f})"
    # the stacked bar holds the same three numbers
    bar_spec = charts(default)["vi_chart_bar"]
    bar = bar_spec["data"][0]
    assert arr(bar["y"]) == pytest.approx([elbo, ev.log_evidence - elbo, ev.log_evidence], abs=1e-9)
    # the KL bar stands on the ELBO and reaches log p(x); its hover reads the KL, not the level it reaches
    assert arr(bar["base"]) + arr(bar["y"]) == pytest.approx([elbo, ev.log_evidence, ev.log_evidence], abs=1e-9)
    assert "%{customdata" in bar["hovertemplate"]
    assert arr(bar["customdata"]) == pytest.approx(arr(bar["y"]), abs=1e-12)
    levels = sorted(sh["y0"] for sh in bar_spec["layout"]["shapes"])
    assert levels == pytest.approx(sorted([elbo, ev.log_evidence]), abs=1e-9)   # the dotted joins


def test_q_sliders_change_the_numbers_and_the_charts():
    at = run_page()
    before, shown = every_tab(at)["charts"], metrics(at)
    at.slider(key="vi_q_m").set_value(-1.0).run()
    ok(at)
    model = vi.PoissonLogNormal(counts_shown(at), 0.0, 4.0)
    assert metrics(at)["ELBO"] == f4(vi.elbo_gaussian(model, -1.0, 1.2)) != shown["ELBO"]
    after = every_tab(at)["charts"]     # the hand-set q is the start of SGA, also while its tab is closed
    for key in ("vi_chart_bar", "vi_chart_q", "vi_chart_sga_path"):
        assert json.dumps(before[key]["data"]) != json.dumps(after[key]["data"]), key
    # the heatmap circles the new q: its shape moves, its data (the browser keeps them) do not
    assert json.dumps(before["vi_chart_heat"]["data"]) == json.dumps(after["vi_chart_heat"]["data"])
    ring = [sh for sh in after["vi_chart_heat"]["layout"]["shapes"] if sh.get("name") == "your q"]
    assert ring and all(sh["visible"] is True for sh in ring)
    for sh in ring:
        assert (sh["xanchor"], sh["yanchor"]) == pytest.approx((-1.0, math.log(1.2)))
    assert json.dumps(before["vi_chart_mix"]["data"]) == json.dumps(after["vi_chart_mix"]["data"])
    assert at.slider(key="vi_q_m").value == -1.0, "kept across tab switches"
    at.slider(key="vi_q_s").set_value(0.3).run()
    ok(at)
    assert metrics(at)["ELBO"] == f4(vi.elbo_gaussian(model, -1.0, 0.3))


def test_best_gaussian_button_moves_the_sliders_to_the_optimum():
    at = run_page()
    at.button(key="vi_q_best").click().run()
    ok(at)
    model = vi.PoissonLogNormal(counts_shown(at), 0.0, 4.0)
    fit = vi.fit_gaussian_q(model)
    assert at.slider(key="vi_q_m").value == pytest.approx(round(fit.mean, 2))
    assert at.slider(key="vi_q_s").value == pytest.approx(round(fit.sd, 2))
    kl = float(metrics(at)["KL(q‖p(z|x))"])
    assert fit.gap - 1e-4 <= kl <= fit.gap + 2e-3     # rounded to the slider step


def test_data_sliders_change_the_model():
    at = run_page()
    before = metrics(at)["log p(x)"]
    at.slider(key="vi_pois_sd0").set_value(1.0).run()
    ok(at)
    model = vi.PoissonLogNormal(counts_shown(at), 0.0, 1.0)
    assert metrics(at)["log p(x)"] == f4(vi.evidence(model).log_evidence) != before
    at.slider(key="vi_pois_n").set_value(6).run()
    ok(at)
    assert len(counts_shown(at)) == 6


def test_linear_gaussian_model_closes_the_gap():
    at = run_page()
    at.radio(key="vi_model").set_value("linear_gaussian").run()
    ok(at)
    seen = every_tab(at)
    shown = seen["metrics"]
    assert float(shown["gap the best Gaussian leaves"]) < 1e-8
    assert shown["gap closed by the mixture"] == "—"
    assert seen["success"], "the page says that the gap closes"
    at.slider(key="vi_lin_w").set_value(1.5).run()
    ok(at)
    assert float(every_tab(at)["metrics"]["gap the best Gaussian leaves"]) < 1e-8


def test_sga_controls_change_the_path_and_the_numbers_match():
    at = run_page(tab="Maximising the ELBO")
    before = data(at, "vi_chart_sga_path"), data(at, "vi_chart_sga_trace")
    at.slider(key="vi_sga_L").set_value(40).run()
    at.select_slider(key="vi_sga_eta").set_value(0.01).run()
    ok(at)
    after = data(at, "vi_chart_sga_path"), data(at, "vi_chart_sga_trace")
    assert before[0] != after[0] and before[1] != after[1]
    model = vi.PoissonLogNormal(counts_shown(at), 0.0, 4.0)
    path = vi.sga(model, 0.5, 1.2, step_size=0.01, n_samples=40, n_steps=150, rng=np.random.default_rng(1))
    assert metrics(at)["ELBO after the last step"] == f4(path.elbo[-1])
    at.number_input(key="vi_sga_seed").set_value(7).run()
    ok(at)
    assert data(at, "vi_chart_sga_path") != after[0]


def test_iwae_controls_redraw_the_bounds():
    at = run_page(tab="Tighter bounds (IWAE)")
    k_before, th_before = data(at, "vi_chart_iwae_k"), data(at, "vi_chart_iwae_theta")
    at.radio(key="vi_iw_q").set_value("prior").run()
    ok(at)
    spec = charts(at)["vi_chart_iwae_k"]["data"][0]
    assert json.dumps(spec) != k_before
    means, ses = arr(spec["y"]), arr(spec["error_y"]["array"]) / 2
    assert means[-1] > means[0] + 3 * math.hypot(ses[0], ses[-1])     # L_1000 well above L_1
    log_p = vi.evidence(vi.PoissonLogNormal(counts_shown(at), 0.0, 4.0)).log_evidence
    assert np.all(means <= log_p + 3 * ses + 1e-4)
    at.radio(key="vi_iw_refit").set_value("refit").run()
    ok(at)
    assert data(at, "vi_chart_iwae_theta") != th_before


def test_cavi_buttons_step_and_the_elbo_never_falls():
    at = run_page(tab="Mean-field")
    for _ in range(3):
        at.button(key="vi_mf_step").click().run()
        ok(at)
    ys = arr(charts(at)["vi_chart_mf_elbo"]["data"][0]["y"])
    assert len(ys) == 4 and np.all(np.diff(ys) >= -1e-12)
    at.button(key="vi_mf_run").click().run()
    ys = arr(charts(at)["vi_chart_mf_elbo"]["data"][0]["y"])
    assert len(ys) == 14 and np.all(np.diff(ys) >= -1e-12)
    # by hand: factor 1, 2, 1, … set to N(μ_j − Λ_jk/Λ_jj (m_k − μ_k), 1/Λ_jj) from q0 = N((−2, 2), I), and
    # the ELBO of q against the normalised target is −KL(q ‖ N(0, Σ)), Σ = [[1, .8], [.8, 1]]
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    lam = np.linalg.inv(cov)
    m, v = np.array([-2.0, 2.0]), np.array([1.0, 1.0])
    def neg_kl(m, v):
        return -0.5 * (np.sum(np.diag(lam) * v) + m @ lam @ m - 2 + np.log(np.linalg.det(cov)) - np.log(v).sum())
    expected = [neg_kl(m, v)]
    for i in range(13):
        j, k = i % 2, 1 - i % 2
        m[j], v[j] = -lam[j, k] / lam[j, j] * m[k], 1 / lam[j, j]
        expected.append(neg_kl(m, v))
    np.testing.assert_allclose(ys, expected, rtol=1e-10, atol=1e-12)
    gaps = 0.5 * math.log(1 - 0.8 ** 2) - ys                   # to −KL at the mean-field optimum: ≥ 0, shrinking
    assert np.all(gaps >= -1e-12) and np.all(np.diff(gaps) <= 1e-12) and gaps[-1] < 0.1 * gaps[1]
    before = data(at, "vi_chart_mf")
    at.slider(key="vi_mf_rho").set_value(-0.5).run()
    ok(at)
    assert data(at, "vi_chart_mf") != before
    at.button(key="vi_mf_reset").click().run()
    ok(at)
    assert len(arr(charts(at)["vi_chart_mf_elbo"]["data"][0]["y"])) == 1


@pytest.mark.parametrize("rho", [0.0, -0.95 + 19 * 0.05])  # the slider's 0, as a user reaches it: about 1e-16
def test_cavi_on_an_uncorrelated_target_says_equal_and_reaches_zero(rho):
    """At ρ = 0 the target factorises: the variances are equal (not "<") and the ELBO reaches 0 = log p."""
    at = run_page(tab="Mean-field")
    at.slider(key="vi_mf_rho").set_value(rho).run()
    at.button(key="vi_mf_run").click().run()
    ok(at)
    fixed = next(el.value for el in at.latex if "Var}_q[z_1]" in el.value)
    assert "<" not in fixed and re.search(r"\{1\.000\}\\ =\\ .*= \{1\.000\}", fixed), fixed
    ys = arr(charts(at)["vi_chart_mf_elbo"]["data"][0]["y"])
    assert abs(ys[-1]) < 1e-12
    captions = " ".join(el.value for el in at.caption)
    assert "levels off below 0" not in captions and "q = p" in captions
    alt = next(c.alt for c in charts_of(at) if c.key == "vi_chart_mf_elbo")  # the chart's accessible name
    assert "reaching 0" in alt and "below 0" not in alt, alt
    at.slider(key="vi_mf_rho").set_value(0.5).run()
    assert "<" in next(el.value for el in at.latex if "Var}_q[z_1]" in el.value)
    assert "levels off below 0" in " ".join(el.value for el in at.caption)


def test_variational_em_buttons_and_scrubber():
    at = run_page(tab="Variational EM")
    slice0 = data(at, "vi_chart_vem_slice")
    at.button(key="vi_vem_next").click().run()
    ok(at)
    assert at.slider(key="vi_vem_t").value == 1
    assert data(at, "vi_chart_vem_slice") != slice0
    at.button(key="vi_vem_run").click().run()
    ok(at)
    assert at.slider(key="vi_vem_t").value == 40
    trace = charts(at)["vi_chart_vem_trace"]["data"]
    bound = arr(trace[2]["y"])
    assert np.all(np.diff(bound) >= -1e-9)                      # the bound rises every iteration
    assert np.all(arr(trace[1]["y"]) - bound > 1e-3)      # and never touches log p
    at.slider(key="vi_vem_J").set_value(6).run()
    ok(at)


def non_finite(node, path="") -> list[str]:
    """Paths of numeric arrays in a plotly spec that hold NaN, ±inf or None (a gap)."""
    bad = []
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            values = arr(node)
            return [path] if not np.all(np.isfinite(values)) else []
        for k, v in node.items():
            bad += non_finite(v, f"{path}.{k}")
    elif isinstance(node, list):
        numeric = [v for v in node if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if numeric and all(v is None or isinstance(v, (int, float)) for v in node):
            if len(numeric) != len(node) or not np.all(np.isfinite(numeric)):
                bad.append(path)
        else:
            for i, v in enumerate(node):
                bad += non_finite(v, f"{path}[{i}]")
    elif isinstance(node, float) and not math.isfinite(node):
        bad.append(path)
    return bad


def assert_clean(at: AppTest) -> None:
    ok(at)
    for key, spec in charts(at).items():
        assert not non_finite(spec["data"]), (key, non_finite(spec["data"]))
    words = (text(at) + " ".join(metrics(at).values())).lower()
    assert not re.search(r"\bnan\b|\binf\b", words), words


DATA_SLIDERS = ("vi_pois_n", "vi_pois_rate", "vi_pois_mu0", "vi_pois_sd0", "vi_lin_n", "vi_lin_w", "vi_lin_sigma",
                "vi_q_m", "vi_q_s")


@pytest.mark.parametrize("end", ["min", "max"])
def test_data_and_q_slider_extremes_render_cleanly(end):
    at = run_page()
    for kind in ("poisson", "linear_gaussian"):
        at.radio(key="vi_model").set_value(kind).run()
        for slider in at.slider:
            if slider.key in DATA_SLIDERS:
                slider.set_value(getattr(slider, end))
        at.run()
        for tab in TABS:
            open_tab(at, tab)
            assert_clean(at)
        open_tab(at, TABS[0])


@pytest.mark.parametrize("end", ["min", "max"])
def test_method_slider_extremes_render_cleanly(end):
    at = run_page()
    moved = 0
    for tab in TABS:
        open_tab(at, tab)
        for slider in at.slider:
            if slider.key not in DATA_SLIDERS:
                slider.set_value(getattr(slider, end))
                moved += 1
        if tab == "Maximising the ELBO":
            at.select_slider(key="vi_sga_eta").set_value(0.5 if end == "max" else 0.001)
        at.run()
        assert_clean(at)
    assert moved >= 8


NOTATION = {"ELBO", "log p(x)", "KL(q‖p(z|x))"}      # metric labels that are formulas, not words


def test_every_user_facing_string_goes_through_t(monkeypatch):
    class Marked(dict):
        def get(self, key, default=None):
            return f"⟦{key}⟧"

    monkeypatch.setitem(i18n._TABLES, "xx", Marked())
    labels = [tab.label for tab in run_page(lang="xx").tabs]
    for tab in labels[:]:
        at = run_page(tab=tab, lang="xx")  # a fresh session per tab: one run each
        labels += ([w.label for kind in ("slider", "button", "radio", "number_input", "select_slider")
                    for w in getattr(at, kind)] + [m.value for m in at.markdown] + [c.value for c in at.caption]
                   + [i.value for i in at.info] + [e.value for e in at.title])
        labels += [m.label for m in at.metric if m.label not in NOTATION]
    missing = [s for s in labels if "⟦" not in s]
    assert not missing, missing
    assert len(labels) > 40
