"""AppTest of pages/elbo_gap.py: log p = ELBO + KL for a q set by the user, and the E-step."""
from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

import vizcore as vc  # noqa: E402
from vizcore import teaching  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

PAGE = str(ROOT / "pages" / "elbo_gap.py")
MODELS = ("gmm1d", "gmm2d", "coins", "linkage")
# The default θ of each model's built-in data set (pages/_model_controls.PRESETS).
DEFAULTS = {
    "gmm1d": ("faithful_waiting", dict(weights=[0.5, 0.5], means=[55.0, 80.0], variances=[36.0, 36.0])),
    "gmm2d": ("old_faithful", dict(weights=[0.5, 0.5], means=[[2.0, 55.0], [4.3, 80.0]],
                                   covariances=[[[0.09, 0.0], [0.0, 36.0]], [[0.16, 0.0], [0.0, 36.0]]])),
    "coins": ("two_coins", dict(weights=[0.5, 0.5], heads_probs=[0.6, 0.5])),
    "linkage": ("genetic_linkage", dict(theta=[0.5])),
}
LOGP, ELBO, KL = "log p(X|θ)", "ELBO L(q,θ)", "KL(q‖p(Z|X,θ)) = gap"


def _arr(v) -> np.ndarray:
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    return np.array(v, dtype=float)


def _spec(at, key: str) -> dict:
    for el in charts_of(at):
        if el.proto.id.endswith("-" + key):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart with key {key!r}")


def _traces(spec, meta):
    return [d for d in spec["data"] if d.get("meta") == meta]


def _metric(at, label: str) -> float:
    for m in at.metric:
        if m.label == label:
            return float(m.value)
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def _run(at):
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _page(name="gmm1d"):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    if name != "gmm1d":
        at.selectbox(key="eg_model").set_value(name)
    return _run(at)


def _reference(name):
    model = vc.get_model(name)
    data, p = DEFAULTS[name]
    x = vc.load_dataset(data)
    return model, x, model.make_params(p)


def _no_literal_nan(at):
    for el in charts_of(at):
        assert not re.search(r"[:\[,]\s*-?(NaN|Infinity)", el.proto.spec), "a literal NaN in a chart spec"
        for d in json.loads(el.proto.spec)["data"]:
            for axis in ("x", "y"):
                if axis in d and not (isinstance(d[axis], list) and d[axis] and isinstance(d[axis][0], str)):
                    assert np.all(np.isfinite(_arr(d[axis]))), (el.proto.id, d.get("meta"), axis)


# ---- numbers shown = vizcore computed independently ----------------------------------------------
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_numbers_equal_independent_computation(name, t):
    at = _page(name)
    at.slider(key="eg_t").set_value(t)
    _run(at)
    model, x, p = _reference(name)
    q = vc.interpolate_resp(vc.prior_resp(model, x, p), vc.posterior(model, x, p), t)
    assert _metric(at, LOGP) == pytest.approx(vc.log_marginal(model, x, p), abs=6e-5)
    assert _metric(at, ELBO) == pytest.approx(vc.elbo(model, x, p, q), abs=6e-5)
    kl = vc.kl_gap(model, x, p, q)
    assert _metric(at, KL) == pytest.approx(kl, abs=6e-5)
    assert kl >= -1e-9
    # the bar chart carries exact values: ELBO + KL bars are as long as the log p bar
    spec = _spec(at, "eg_bar_chart")
    lp, el, k = (_traces(spec, m)[0] for m in ("log_p", "elbo", "kl"))
    assert _arr(lp["base"])[0] + _arr(lp["x"])[0] == pytest.approx(vc.log_marginal(model, x, p), rel=1e-12)
    assert _arr(el["base"])[0] + _arr(el["x"])[0] == pytest.approx(vc.elbo(model, x, p, q), rel=1e-12)
    assert _arr(k["base"])[0] + _arr(k["x"])[0] == pytest.approx(vc.log_marginal(model, x, p), rel=1e-9, abs=1e-9)
    _no_literal_nan(at)


def test_decompositions_shown_match_vizcore():
    at = _page()
    model, x, p = _reference("gmm1d")
    q = vc.interpolate_resp(vc.prior_resp(model, x, p), vc.posterior(model, x, p), 0.3)
    d = vc.decompose(model, x, p, q)
    text = at.latex[1].value
    for v in (d.energy, d.entropy, d.expected_log_lik, d.kl_prior, d.log_marginal, d.kl_posterior, d.elbo):
        assert f"{v:.4f}" in text
    assert d.energy + d.entropy == pytest.approx(d.elbo)
    assert d.expected_log_lik - d.kl_prior == pytest.approx(d.elbo)


# ---- widgets change the picture -----------------------------------------------------------------
def test_t_slider_changes_specs_and_numbers():
    at = _page()
    bar, gap = _spec(at, "eg_bar_chart"), _spec(at, "eg_gap_chart")
    elbo = _metric(at, ELBO)
    at.slider(key="eg_t").set_value(0.8)
    _run(at)
    assert _spec(at, "eg_bar_chart") != bar
    assert _spec(at, "eg_gap_chart") != gap
    assert _metric(at, ELBO) > elbo, "closer to the posterior, a higher ELBO"


def test_coordinate_changes_the_gap_curve():
    at = _page()
    gap = _spec(at, "eg_gap_chart")
    at.selectbox(key="eg_coord_gmm1d_2").set_value("variances[0]")
    _run(at)
    assert _spec(at, "eg_gap_chart") != gap


@pytest.mark.parametrize("name", MODELS)
def test_gap_curve_bound_below_log_p_and_gap_at_current_theta_is_kl(name):
    at = _page(name)
    spec = _spec(at, "eg_gap_chart")
    f = _arr(_traces(spec, "f")[0]["y"])
    b = _arr(_traces(spec, "bound")[0]["y"])
    assert f.size <= 400
    assert np.all(b <= f + 1e-8 * np.maximum(1, np.abs(f)))
    cur = _arr(_traces(spec, "current")[0]["y"])
    assert cur[1] - cur[0] == pytest.approx(_metric(at, KL), abs=6e-5)


# ---- the E-step --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_e_step_button_closes_the_gap(name):
    at = _page(name)
    assert _metric(at, KL) > 1e-3
    at.button(key="eg_estep").click()
    _run(at)
    assert at.slider(key="eg_t").value == 1.0
    assert abs(_metric(at, KL)) < 1e-9
    assert _metric(at, ELBO) == pytest.approx(_metric(at, LOGP), abs=1e-9)
    spec = _spec(at, "eg_gap_chart")
    cur = _arr(_traces(spec, "current")[0]["y"])
    assert abs(cur[1] - cur[0]) < 1e-9 * max(1.0, abs(cur[1]))
    assert at.success, "the page says the bound touches"


def test_e_step_resets_a_custom_point_to_the_posterior():
    at = _page()
    at.slider(key="eg_q_gmm1d_2_0").set_value(1.0)
    _run(at)
    at.slider(key="eg_q_gmm1d_2_1").set_value(0.0)
    _run(at)
    assert _metric(at, KL) > 1.0
    at.button(key="eg_estep").click()
    _run(at)
    assert abs(_metric(at, KL)) < 1e-9
    model, x, p = _reference("gmm1d")
    post0 = vc.posterior(model, x, p)[0]
    assert at.slider(key="eg_q_gmm1d_2_0").value == pytest.approx(post0[0], abs=0.006)


# ---- per-point q ---------------------------------------------------------------------------------
def test_per_point_sliders_set_one_row_of_q():
    at = _page()
    at.number_input(key="eg_n").set_value(3)
    _run(at)
    at.slider(key="eg_q_gmm1d_2_0").set_value(0.6)
    _run(at)
    at.slider(key="eg_q_gmm1d_2_1").set_value(0.2)
    _run(at)
    model, x, p = _reference("gmm1d")
    q = vc.interpolate_resp(vc.prior_resp(model, x, p), vc.posterior(model, x, p), 0.3)
    q[2] = [0.75, 0.25]  # (0.6, 0.2) normalised
    assert _metric(at, ELBO) == pytest.approx(vc.elbo(model, x, p, q), abs=6e-5)
    assert _metric(at, KL) == pytest.approx(vc.kl_gap(model, x, p, q), abs=6e-5)
    # moving t returns the row to the path
    at.slider(key="eg_t").set_value(0.5)
    _run(at)
    q = vc.interpolate_resp(vc.prior_resp(model, x, p), vc.posterior(model, x, p), 0.5)
    assert _metric(at, ELBO) == pytest.approx(vc.elbo(model, x, p, q), abs=6e-5)


def test_per_point_sliders_all_zero_render_as_uniform():
    at = _page()
    at.slider(key="eg_q_gmm1d_2_0").set_value(0.0)
    _run(at)
    at.slider(key="eg_q_gmm1d_2_1").set_value(0.0)
    _run(at)
    model, x, p = _reference("gmm1d")
    q = vc.interpolate_resp(vc.prior_resp(model, x, p), vc.posterior(model, x, p), 0.3)
    q[0] = [0.5, 0.5]
    assert _metric(at, ELBO) == pytest.approx(vc.elbo(model, x, p, q), abs=6e-5)
    _no_literal_nan(at)


def test_linkage_binomial_q_and_its_posterior_member():
    at = _page("linkage")
    assert "restricted to z ≤ y₁" not in " ".join(c.value for c in at.caption)  # DLR's y₁ = 125: ~1e-15 left out
    at.slider(key="eg_rho").set_value(0.3)
    _run(at)
    model, x, p = _reference("linkage")
    q = teaching.binomial_row(int(x[0, 0]), model.n_latent(x), 0.3)[None, :]
    assert _metric(at, ELBO) == pytest.approx(vc.elbo(model, x, p, q), abs=6e-5)
    at.slider(key="eg_rho").set_value(0.2)  # θ/(2+θ) = 0.2 at θ = 0.5: the posterior
    _run(at)
    assert abs(_metric(at, KL)) < 1e-9


def test_linkage_with_a_small_first_count_still_counts_z_from_zero():
    """An uploaded row with y₁ = 3: z takes the values 0..3 (a count), so q is still the one Binomial slider ρ,
    not sliders named after components 1..4, and the chart of q(z_n) labels z from 0."""
    at = _page("linkage")
    at.selectbox(key="eg_data_linkage").set_value("upload").run()
    assert not at.exception
    at.file_uploader(key="eg_upload_linkage").set_value(("small.csv", b"3,9,7,1\n", "text/csv"))
    _run(at)
    assert not [s.key for s in at.slider if (s.key or "").startswith("eg_q_")]
    assert at.slider(key="eg_rho")
    spec = _spec(at, "eg_point_chart")
    assert [d["x"] for d in spec["data"] if d.get("type") == "bar"][0] == ["0", "1", "2", "3"]
    assert spec["layout"]["xaxis"]["title"]["text"] == "z"
    assert "restricted to z ≤ y₁" in " ".join(c.value for c in at.caption)  # Binomial(20, θ/4) can exceed 3
    at.button(key="eg_estep").click()
    _run(at)
    assert abs(_metric(at, KL)) < 1e-9


# ---- every model, synthetic data, extremes ----------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_every_model_runs_on_synthetic_data(name):
    at = _page(name)
    at.selectbox(key=f"eg_data_{name}").set_value("synthetic")
    _run(at)
    _no_literal_nan(at)
    at.button(key="eg_estep").click()
    _run(at)
    assert abs(_metric(at, KL)) < 1e-9


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("end", ["min", "max"])
def test_theta_and_t_extremes_render_finite(name, end):
    at = _page(name)
    moved = [s for s in at.slider if s.key.startswith("eg_th_") or s.key == "eg_t"]
    assert any(s.key.startswith("eg_th_") for s in moved), "no θ slider found"
    for s in moved:
        s.set_value(getattr(s, end))
    _run(at)
    _no_literal_nan(at)
    assert _metric(at, KL) >= -1e-9


# ---- caching keyed on what changed ----------------------------------------------------------------
def _count_log_marginal_batches(monkeypatch) -> list[int]:
    """The size of every θ batch whose log p(X|θ) is computed from now on (in this process)."""
    sizes: list[int] = []
    real = vc.views.log_marginal_batch

    def counted(model, x, batch):
        sizes.append(vc.views.batch_size(vc.get_model(model) if isinstance(model, str) else model, batch))
        return real(model, x, batch)
    for mod in (vc, vc.views, vc.teaching):
        monkeypatch.setattr(mod, "log_marginal_batch", counted)
    return sizes


def test_dragging_the_plotted_coordinate_reuses_the_log_p_grid(monkeypatch):
    """log p(X|θ) over μ₁ does not depend on μ₁'s own value: moving μ₁'s slider computes log p at the new θ
    only (one θ), and the curve drawn is still log p over μ₁ at the other parameters (checked with scipy)."""
    from scipy import stats
    from scipy.special import logsumexp
    at = _page()
    assert next(b for b in at.selectbox if b.key.startswith("eg_coord_")).value == "means[0]"
    sizes = _count_log_marginal_batches(monkeypatch)
    slider = at.slider(key="eg_th_gmm1d_faithful_waiting_2_m0")
    new = slider.value + 1.5
    slider.set_value(new)
    _run(at)
    assert max(sizes, default=0) <= 1, f"log p was computed on a grid again: batches of {sizes}"
    spec = _spec(at, "eg_gap_chart")
    f_trace = _traces(spec, "f")[0]
    v, f = _arr(f_trace["x"]), _arr(f_trace["y"])
    assert new in v  # the current θ is on the curve
    model, x, p = _reference("gmm1d")
    for i in (0, len(v) // 3, int(np.flatnonzero(v == new)[0]), len(v) - 1):
        means = [v[i], p.means[1]]
        want = logsumexp(np.log(p.weights) + stats.norm.logpdf(x[:, None], means, np.sqrt(p.variances)), axis=1).sum()
        assert f[i] == pytest.approx(want, rel=1e-11)
    cur = _arr(_traces(spec, "current")[0]["x"])
    assert cur[0] == new


@pytest.mark.parametrize("name", ["gmm1d", "coins"])
def test_the_chosen_data_point_is_shown_as_read(name):
    """x_n as the data set has it: a number for 1-D data (not a one-element tuple), a tuple for coins' rows."""
    at = _page(name)
    at.number_input(key="eg_n").set_value(3)
    _run(at)
    _, x, _ = _reference(name)
    row = np.ravel(x[2])
    values = ", ".join(f"{v:.4g}" for v in row)
    want = f"$x_n$ = {values}" if row.size == 1 else f"$x_n$ = ({values})"
    captions = [c.value for c in at.caption]
    assert want in captions, captions
