"""AppTest of pages/latent_models.py: every model runs, widgets change the charts, the
numbers of Bayes' rule and of log p(X|θ) equal independent scipy computations, and the
slider extremes draw no NaN."""
from __future__ import annotations

import base64
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

import vizcore as vc  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

PAGE = "pages/latent_models.py"
MODELS = ["gmm1d", "gmm2d", "coins", "linkage"]


# ---- helpers ---------------------------------------------------------------------------------
def app(model: str = "gmm1d", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    at.session_state["lvm_model"] = model
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at) -> dict[str, dict]:
    """Plotly specs by chart key (the element id ends with the key)."""
    out = {}
    for e in charts_of(at):
        key = re.search(r"(lvm_fig_\w+)$", e.proto.id).group(1)
        out[key] = json.loads(e.proto.spec)
    return out


def decode(obj):
    """Replace plotly's typed arrays ({dtype, bdata[, shape]}) by numpy arrays, recursively."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if "shape" in obj:
                arr = arr.reshape([int(s) for s in str(obj["shape"]).split(",")])
            return arr
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def numbers(obj):
    """Every number in the decoded data of a spec (None counts as NaN)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fiu":
            yield from obj.astype(float).ravel()
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            if v is None:
                yield math.nan
            else:
                yield from numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield float(obj)


def trace_data(spec, i) -> dict:
    return decode(spec["data"][i])


def assert_clean(at):
    """No exception, no error box, and no NaN anywhere in the data of any chart."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    specs = charts(at)
    assert specs, "no chart drawn"
    for key, spec in specs.items():
        vals = np.array(list(numbers(decode(spec["data"]))), dtype=float)
        assert vals.size and np.all(np.isfinite(vals)), f"NaN/inf in {key}"
    for lx in at.latex:
        assert "nan" not in lx.value.lower() and "inf" not in lx.value.replace(r"\infty", "").lower()


def parse_num(s: str) -> float:
    s = s.strip()
    m = re.fullmatch(r"(-?[\d.]+)(?:\\times 10\^\{(-?\d+)\})?", s)
    assert m, f"not a number: {s!r}"
    return float(m.group(1)) * (10.0 ** int(m.group(2)) if m.group(2) else 1.0)


def parse_log10(s: str) -> float:
    """log10 of a shown positive number, also when it is far below the float range."""
    m = re.fullmatch(r"([\d.]+)(?:\\times 10\^\{(-?\d+)\})?", s.strip())
    assert m, f"not a number: {s!r}"
    return math.log10(float(m.group(1))) + (int(m.group(2)) if m.group(2) else 0)


def _braced(s: str, i: int) -> tuple[str, int]:
    """The content of the brace group opening at s[i] == '{', and the index after it."""
    assert s[i] == "{"
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return s[i + 1:j], j + 1
    raise AssertionError("unbalanced braces")


def bayes_rows(at) -> dict[int, tuple[float, float, float, float, float]]:
    """From the Bayes' rule LaTeX: k -> (π_k, p(x|z=k), evidence, posterior, log10 p(x|z=k)), as shown."""
    tex = next(lx.value for lx in at.latex if r"\frac{\pi_k" in lx.value)
    rows = {}
    for row in tex.split(r"\\[3pt]"):
        m = re.search(r"p\(z\{=\}(\d+) \\mid [^&]*&= \\frac", row)
        if not m:
            continue
        num, after = _braced(row, m.end())
        den, after = _braced(row, after)
        post = row[after:].split("=")[-1].replace(r"\end{aligned}", "").replace("$$", "").strip()
        w, like = num.split(r"\times", 1)
        rows[int(m.group(1))] = (float(w), parse_num(like), parse_num(den), parse_num(post), parse_log10(like))
    assert rows, tex
    return rows


def check_bayes(at, weights, log_like):
    """The rows shown equal π_k p(x|z=k) / Σ_j π_j p(x|z=j) computed here with scipy."""
    weights, log_like = np.asarray(weights, float), np.asarray(log_like, float)
    with np.errstate(divide="ignore"):
        lj = np.log(weights) + log_like
    post = np.exp(lj - logsumexp(lj))
    rows = bayes_rows(at)
    assert sorted(rows) == list(range(1, len(weights) + 1))
    for k, (w_shown, like_shown, ev_shown, post_shown, _) in rows.items():
        assert w_shown == pytest.approx(weights[k - 1], abs=6e-4)
        assert like_shown == pytest.approx(math.exp(log_like[k - 1]), rel=1e-3, abs=1e-300)
        assert ev_shown == pytest.approx(math.exp(logsumexp(lj)), rel=1e-3)
        assert post_shown == pytest.approx(post[k - 1], abs=6e-5, rel=1e-3)
    assert sum(r[3] for r in rows.values()) == pytest.approx(1.0, abs=5e-4 * len(rows))


def log_lik_shown(at) -> float:
    tex = next(lx.value for lx in at.latex if r"\log p_\theta(" in lx.value and re.search("[Nn] =", lx.value))
    m = re.search(r"= (-?[\d.]+)\s*\\quad \([Nn]", tex)
    return parse_num(m.group(1))


# ---- every model runs -----------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_each_model_runs_clean(model):
    at = app(model)
    assert_clean(at)
    assert at.title[0].value == "Latent-variable models"
    assert len(charts(at)) >= 2
    widgets = [w for kind in ("slider", "checkbox", "toggle", "radio", "button", "number_input", "selectbox")
               for w in at.get(kind)]
    assert len(widgets) >= 6
    for w in widgets:
        assert w.key and w.key.startswith("lvm_"), w


def test_switching_models_in_one_session():
    at = app("gmm1d")
    for model in ["gmm2d", "coins", "linkage", "gmm1d"]:
        at.radio(key="lvm_model").set_value(model).run()
        assert_clean(at)


# ---- widgets change the charts -------------------------------------------------------------------
@pytest.mark.parametrize("model, key, value, chart", [
    ("gmm1d", "lvm_g1_mu0", 1.5, "lvm_fig_density"),
    ("gmm1d", "lvm_g1_sd1", 0.5, "lvm_fig_resp"),
    ("gmm1d", "lvm_g1_k", 4, "lvm_fig_prior"),
    ("gmm2d", "lvm_g2_mx0", 3.0, "lvm_fig_2d"),
    ("gmm2d", "lvm_g2_rho1", 0.9, "lvm_fig_map"),
    ("coins", "lvm_c_p0", 0.6, "lvm_fig_density"),
    ("coins", "lvm_c_tosses", 25, "lvm_fig_resp"),
    ("linkage", "lvm_l_theta", 0.2, "lvm_fig_cells"),
    ("linkage", "lvm_l_theta", 0.9, "lvm_fig_post"),
])
def test_a_slider_changes_the_chart(model, key, value, chart):
    at = app(model)
    before = charts(at)[chart]
    at.slider(key=key).set_value(value).run()
    assert_clean(at)
    assert charts(at)[chart] != before


def test_movable_x_moves_the_marker():
    at = app("gmm1d")
    before = charts(at)["lvm_fig_resp"]
    at.slider(key="lvm_x0").set_value(-2.0).run()
    after = charts(at)["lvm_fig_resp"]
    marker = trace_data(after, len(after["data"]) - 1)
    np.testing.assert_allclose(np.asarray(marker["x"], float), -2.0)
    assert after != before


# ---- Bayes' rule numbers equal independent computations -------------------------------------------
def test_bayes_numbers_gmm1d_equal_scipy():
    at = app("gmm1d", lvm_g1_k=3)
    at.slider(key="lvm_g1_w0").set_value(0.3)
    at.slider(key="lvm_g1_w1").set_value(0.5)
    at.slider(key="lvm_g1_w2").set_value(0.9)
    at.slider(key="lvm_g1_mu2").set_value(1.7)
    at.slider(key="lvm_g1_sd2").set_value(0.7)
    at.slider(key="lvm_x0").set_value(0.8).run()
    assert_clean(at)
    raw = np.array([0.3, 0.5, 0.9])
    w = raw / raw.sum()
    means = [at.slider(key=f"lvm_g1_mu{k}").value for k in range(3)]
    sds = [at.slider(key=f"lvm_g1_sd{k}").value for k in range(3)]
    check_bayes(at, w, stats.norm.logpdf(0.8, means, sds))
    # the markers on the curves are vizcore.posterior at x0 and agree with scipy too
    spec = charts(at)["lvm_fig_resp"]
    marker = trace_data(spec, len(spec["data"]) - 1)
    lj = np.log(w) + stats.norm.logpdf(0.8, means, sds)
    np.testing.assert_allclose(np.asarray(marker["y"], float), np.exp(lj - logsumexp(lj)), atol=1e-9)


def test_bayes_numbers_far_in_a_tail_do_not_underflow():
    """p(x|z=k) ~ 1e-1000 is still a number; the posterior still sums to 1."""
    at = app("gmm1d")
    at.slider(key="lvm_g1_mu0").set_value(-8.0)
    at.slider(key="lvm_g1_sd0").set_value(0.2)
    at.slider(key="lvm_g1_mu1").set_value(-7.0)
    at.slider(key="lvm_g1_sd1").set_value(0.2)
    at.slider(key="lvm_x0").set_value(12.0).run()
    assert_clean(at)
    w = np.array([0.4, 0.6])
    log_like = stats.norm.logpdf(12.0, [-8.0, -7.0], 0.2)
    rows = bayes_rows(at)
    for k, (_, _, _, post, log10_like) in rows.items():
        assert log10_like == pytest.approx(log_like[k - 1] / math.log(10), abs=1e-3)
    lj = np.log(w) + log_like
    assert rows[2][3] == pytest.approx(1.0, abs=1e-4) and rows[1][3] < 1e-4
    assert rows[1][3] == pytest.approx(math.exp(lj[0] - logsumexp(lj)), rel=1e-3, abs=1e-300)


def test_bayes_numbers_gmm2d_equal_scipy():
    at = app("gmm2d")
    at.slider(key="lvm_px").set_value(0.5)
    at.slider(key="lvm_py").set_value(-1.0)
    at.slider(key="lvm_g2_rho0").set_value(-0.6).run()
    assert_clean(at)
    log_like = []
    for k in range(2):
        g = lambda name: at.slider(key=f"lvm_g2_{name}{k}").value  # noqa: E731
        sx, sy, rho = g("sx"), g("sy"), g("rho")
        cov = [[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]]
        log_like.append(stats.multivariate_normal([g("mx"), g("my")], cov).logpdf([0.5, -1.0]))
    check_bayes(at, [0.5, 0.5], log_like)
    spec = charts(at)["lvm_fig_post"]
    post = np.asarray(trace_data(spec, 1)["y"], float)
    lj = np.log([0.5, 0.5]) + np.array(log_like)
    np.testing.assert_allclose(post, np.exp(lj - logsumexp(lj)), atol=1e-9)


def test_bayes_numbers_coins_equal_scipy():
    at = app("coins")
    at.slider(key="lvm_c_w0").set_value(0.2)
    at.slider(key="lvm_c_p1").set_value(0.55)
    at.slider(key="lvm_c_tosses").set_value(20).run()
    at.slider(key="lvm_h0").set_value(13).run()
    assert_clean(at)
    w = np.array([0.2, 0.5]) / 0.7
    check_bayes(at, w, stats.binom.logpmf(13, 20, [0.3, 0.55]))


def test_linkage_bayes_and_posterior_bars_equal_binomial():
    at = app("linkage", lvm_l_data="dlr")
    at.slider(key="lvm_l_theta").set_value(0.42).run()
    assert_clean(at)
    assert any("y = (125, 18, 20, 34)" in lx.value for lx in at.latex)
    r = 0.42 / 2.42
    tex = next(lx.value for lx in at.latex if r"\frac{\theta/4}" in lx.value)
    assert float(re.search(r"= ([\d.]+) \\end\{aligned\}", tex).group(1)) == pytest.approx(r, abs=6e-5)
    assert any(rf"\mathrm{{Bin}}(125, {r:.4f})" in lx.value for lx in at.latex)
    bars = trace_data(charts(at)["lvm_fig_post"], 0)
    z, p = np.asarray(bars["x"], float), np.asarray(bars["y"], float)
    np.testing.assert_allclose(p, stats.binom.pmf(z, 125, r), atol=1e-6)
    assert stats.binom.pmf(z, 125, r).sum() > 0.9999  # the bars show (almost) all the mass
    # the four cell probabilities drawn
    cells = charts(at)["lvm_fig_cells"]
    tops = sum(np.asarray(trace_data(cells, i)["y"], float) for i in range(3))
    np.testing.assert_allclose(tops, [0.5 + 0.42 / 4, 0.58 / 4, 0.58 / 4, 0.42 / 4], atol=1e-12)


# ---- learning: log p(X|θ) of the sampled data ------------------------------------------------------
def test_log_likelihood_equals_scipy_on_the_same_sample():
    at = app("gmm1d")
    at.number_input(key="lvm_seed").set_value(7)
    at.slider(key="lvm_n").set_value(500).run()
    p = vc.get_model("gmm1d").make_params(weights=[0.4, 0.6], means=[-3.0, 2.5], variances=[1.0, 2.25])
    x, _ = vc.get_model("gmm1d").sample(p, 500, np.random.default_rng(7))
    ref = logsumexp(np.log([0.4, 0.6]) + stats.norm.logpdf(x[:, None], [-3.0, 2.5], [1.0, 1.5]), axis=1).sum()
    assert log_lik_shown(at) == pytest.approx(ref, abs=1e-3)


def test_log_likelihood_linkage_equals_multinomial():
    at = app("linkage", lvm_l_data="dlr")
    at.slider(key="lvm_l_theta").set_value(0.63).run()
    y = [125, 18, 20, 34]
    ref = stats.multinomial.logpmf(y, sum(y), [0.5 + 0.63 / 4, 0.37 / 4, 0.37 / 4, 0.63 / 4])
    assert log_lik_shown(at) == pytest.approx(ref, abs=6e-4)


# ---- resampling and freezing ---------------------------------------------------------------------
@pytest.mark.parametrize("model, chart, trace", [
    ("gmm1d", "lvm_fig_density", 0), ("gmm2d", "lvm_fig_2d", 1), ("coins", "lvm_fig_density", 0),
    ("linkage", "lvm_fig_cells", 3),
])
def test_resample_changes_the_samples(model, chart, trace):
    at = app(model)
    seed = at.number_input(key="lvm_seed").value
    before = trace_data(charts(at)[chart], trace)
    at.button(key="lvm_resample").click().run()
    assert_clean(at)
    assert at.number_input(key="lvm_seed").value == seed + 1
    after = trace_data(charts(at)[chart], trace)
    assert not np.array_equal(np.asarray(after["y"], float), np.asarray(before["y"], float))


def test_histogram_is_a_density():
    at = app("gmm1d")
    bars = trace_data(charts(at)["lvm_fig_density"], 0)
    x, h = np.asarray(bars["x"], float), np.asarray(bars["y"], float)
    assert h.sum() * (x[1] - x[0]) == pytest.approx(1.0, abs=1e-3)  # all samples lie in [-12, 12] here


def test_freeze_keeps_the_data_while_theta_moves():
    at = app("gmm1d")
    at.checkbox(key="lvm_freeze").check().run()
    hist0 = trace_data(charts(at)["lvm_fig_density"], 0)["y"]
    ll0 = log_lik_shown(at)
    at.slider(key="lvm_g1_mu0").set_value(-1.0).run()
    assert_clean(at)
    spec = charts(at)["lvm_fig_density"]
    np.testing.assert_array_equal(trace_data(spec, 0)["y"], hist0)  # same data
    assert log_lik_shown(at) != ll0                                # new θ
    assert any(r"\theta_\text{data}" in lx.value for lx in at.latex)
    at.checkbox(key="lvm_freeze").uncheck().run()                  # unfrozen: data follow θ again
    assert not np.array_equal(trace_data(charts(at)["lvm_fig_density"], 0)["y"], hist0)


# ---- extremes ------------------------------------------------------------------------------------
def test_extremes_gmm1d():
    at = app("gmm1d", lvm_g1_k=6)
    assert_clean(at)
    for k in range(6):
        at.slider(key=f"lvm_g1_sd{k}").set_value(0.2)
    at.slider(key="lvm_g1_w0").set_value(0.0)
    at.slider(key="lvm_g1_mu1").set_value(8.0)
    at.slider(key="lvm_g1_mu2").set_value(-8.0)
    at.slider(key="lvm_n").set_value(2000)
    at.slider(key="lvm_x0").set_value(-12.0).run()
    assert_clean(at)
    assert len(bayes_rows(at)) == 6
    assert bayes_rows(at)[1][3] == 0.0  # weight 0: posterior 0
    at.toggle(key="lvm_stack").set_value(True).run()
    assert_clean(at)
    for k in range(6):
        at.slider(key=f"lvm_g1_w{k}").set_value(0.0)
    at.slider(key="lvm_n").set_value(10).run()
    assert_clean(at)
    assert at.warning and "equal weights" in at.warning[0].value
    for spec in charts(at).values():  # payloads stay small
        for tr in spec["data"]:
            for axis in ("x", "y"):
                arr = decode(tr.get(axis))
                if isinstance(arr, (np.ndarray, list)):
                    assert len(arr) <= 400


def test_extremes_gmm2d():
    at = app("gmm2d", lvm_g2_k=6)
    for k in range(6):
        at.slider(key=f"lvm_g2_sx{k}").set_value(0.2)
        at.slider(key=f"lvm_g2_rho{k}").set_value(0.95 if k % 2 else -0.95)
    at.slider(key="lvm_g2_w3").set_value(0.0)
    at.slider(key="lvm_n").set_value(2000)
    at.slider(key="lvm_px").set_value(8.0)
    at.slider(key="lvm_py").set_value(-8.0).run()
    assert_clean(at)
    assert len(bayes_rows(at)) == 6
    assert len(charts_of(at)) == 4


def test_extremes_coins():
    at = app("coins", lvm_c_k=6)
    at.slider(key="lvm_c_p0").set_value(0.01)
    at.slider(key="lvm_c_p1").set_value(0.99)
    at.slider(key="lvm_c_w2").set_value(0.0)
    at.slider(key="lvm_c_tosses").set_value(50).run()
    at.slider(key="lvm_h0").set_value(50).run()
    assert_clean(at)
    at.slider(key="lvm_c_tosses").set_value(1).run()  # h is clamped to the new m
    assert_clean(at)
    assert at.slider(key="lvm_h0").value <= 1


@pytest.mark.parametrize("theta", [0.01, 0.99])
@pytest.mark.parametrize("source", ["sampled", "dlr"])
def test_extremes_linkage(theta, source):
    at = app("linkage", lvm_l_data=source, lvm_n=2000)
    at.slider(key="lvm_l_theta").set_value(theta).run()
    assert_clean(at)
    post = trace_data(charts(at)["lvm_fig_post"], 0)
    assert len(post["x"]) <= 401


def test_frozen_2d_data_keep_every_point_when_k_shrinks():
    at = app("gmm2d", lvm_g2_k=3)
    at.checkbox(key="lvm_freeze").check().run()
    at.slider(key="lvm_g2_k").set_value(1).run()
    assert_clean(at)
    spec = charts(at)["lvm_fig_2d"]
    drawn = sum(len(decode(tr)["x"]) for tr in spec["data"]
                if tr.get("type") == "scatter" and str(tr.get("name", "")).startswith("z = "))
    assert drawn == at.slider(key="lvm_n").value


@pytest.mark.parametrize("theme,word", [("light", "Black"), ("dark", "White"), (None, "Black")])
def test_captions_name_the_colour_the_marginal_is_drawn_in(monkeypatch, theme, word):
    """p(x) is drawn in black ink, which the dark theme draws light (display.DARK_INK): the captions say so."""
    import pages._common as common
    from vizcore.figures import display
    monkeypatch.setattr(common, "_theme_type", lambda: theme)
    at = app()
    text = " ".join(c.value for c in at.caption)
    assert f"{word}: their sum, the marginal p(x)" in text
    assert f"height of the {word.lower()} curve" in text
    spec = charts(at)["lvm_fig_density"]
    styled = common._styled(spec, theme or "plain", 600)
    marginal = next(d for d in styled["data"] if str(d.get("name", "")).startswith("p(x) = "))
    ink = display.parse_colour(marginal["line"]["color"])[0]
    assert (display.luminance(ink) > 0.5) == (word == "White")
