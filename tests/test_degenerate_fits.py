"""Degenerate fits: finite numbers everywhere, and the variance floor said out loud.

Cases: a component collapsing onto one point, a component with no data, all points
equal, K above N, a single point. EM (``vizcore.run_em``) must keep every number finite,
never lower log p(X|θ), report ``floored`` exactly when the floor was needed, and the
posterior, the decomposition of the ELBO and the curves over θ at the end of the run
must be finite too. Then the same data go through the pages as uploads.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from streamlit.testing.v1 import AppTest  # noqa: E402

import vizcore as vc  # noqa: E402
from plotly_checks import chart_problems, text_problems  # noqa: E402
from vizcore import models as vm  # noqa: E402
from vizcore import teaching  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

RNG = np.random.default_rng(0)
FAITHFUL = np.asarray(vc.load_dataset("faithful_waiting"))
OLD_FAITHFUL = np.asarray(vc.load_dataset("old_faithful"))

# name, model, data, init, floored (True/False)
CASES = [
    ("gmm1d: a component collapses onto an outlier", "gmm1d", np.append(FAITHFUL, 250.0),
     dict(weights=[0.9, 0.1], means=[70.0, 250.0], variances=[180.0, 1e-4]), True),
    ("gmm2d: a component collapses onto an outlier", "gmm2d", np.vstack([OLD_FAITHFUL, [[20.0, 300.0]]]),
     dict(weights=[0.95, 0.05], means=[[3.5, 70.0], [20.0, 300.0]],
          covariances=[[[1.3, 14.0], [14.0, 184.0]], [[1e-3, 0.0], [0.0, 1e-3]]]), True),
    ("gmm1d: a component with no data", "gmm1d", FAITHFUL,
     dict(weights=[0.4, 0.4, 0.2], means=[55.0, 80.0, 1e4], variances=[36.0, 36.0, 1.0]), False),
    ("gmm2d: a component with no data", "gmm2d", OLD_FAITHFUL,
     dict(weights=[0.4, 0.4, 0.2], means=[[2.0, 55.0], [4.3, 80.0], [1e3, 1e3]],
          covariances=[np.diag([0.1, 36.0]), np.diag([0.2, 36.0]), np.eye(2)]), False),
    ("coins: a component no row prefers", "coins", np.array([[9, 10], [8, 10], [9, 10]], float),
     dict(weights=[0.5, 0.5], heads_probs=[0.85, 0.01]), False),
    ("gmm1d: all points equal", "gmm1d", np.full(25, 3.0),
     dict(weights=[0.5, 0.5], means=[2.0, 4.5], variances=[1.0, 2.0]), True),
    ("gmm2d: all points equal", "gmm2d", np.tile([3.0, 4.0], (20, 1)),
     dict(weights=[0.5, 0.5], means=[[2.0, 3.0], [4.0, 5.0]], covariances=[np.eye(2), 2 * np.eye(2)]), True),
    ("coins: all rows equal", "coins", np.tile([5.0, 10.0], (6, 1)),
     dict(weights=[0.5, 0.5], heads_probs=[0.3, 0.7]), False),
    ("gmm1d: K = 4 above N = 2", "gmm1d", np.array([1.0, 5.0]),
     dict(weights=[0.25] * 4, means=[0.0, 2.0, 4.0, 6.0], variances=[1.0] * 4), True),
    ("gmm2d: K = 3 above N = 2", "gmm2d", np.array([[1.0, 2.0], [5.0, 7.0]]),
     dict(weights=[1 / 3] * 3, means=[[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]], covariances=[np.eye(2)] * 3), True),
    ("coins: K = 3 above N = 2", "coins", np.array([[0.0, 10.0], [10.0, 10.0]]),
     dict(weights=[1 / 3] * 3, heads_probs=[0.2, 0.5, 0.8]), False),
    ("gmm1d: a single point", "gmm1d", np.array([42.0]),
     dict(weights=[0.5, 0.5], means=[40.0, 45.0], variances=[4.0, 4.0]), True),
]


def _rel_le(a, b, tol=1e-9):
    return a <= b + tol * max(1.0, abs(a), abs(b))


def _check_params(model, p):
    for name, arr in p.to_dict().items():
        assert np.all(np.isfinite(arr)), f"{name} not finite: {arr}"
    w = np.asarray(p.weights) if hasattr(p, "weights") else None
    if w is not None:
        assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-9
    if model.name == "gmm1d":
        assert np.all(p.variances > 0)
    if model.name == "gmm2d":
        assert np.all(np.linalg.eigvalsh(p.covariances) > 0)
    if model.name == "coins":
        assert np.all((p.heads_probs >= 0) & (p.heads_probs <= 1))


@pytest.mark.parametrize("name,model_name,x,init,floored", CASES, ids=[c[0] for c in CASES])
def test_em_stays_finite_and_reports_the_floor(name, model_name, x, init, floored):
    m = vc.get_model(model_name)
    x = m.validate_data(x)
    tr = vc.run_em(m, x, m.make_params(init), max_iter=60, tol=None)
    ll = np.asarray(tr.log_likelihood)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(tr.elbo_after_e)) and np.all(np.isfinite(tr.elbo_after_m))
    for t in range(tr.n_iter):  # the EM sandwich, to rounding
        assert _rel_le(ll[t], ll[t + 1]) and _rel_le(tr.elbo_after_e[t], tr.elbo_after_m[t])
        assert _rel_le(tr.elbo_after_m[t], ll[t + 1])
    for p in tr.params:
        _check_params(m, p)
    assert tr.floored is floored
    end = tr.params[-1]
    if floored:  # the floor is where the documentation says: 1e-6 × the data's variance (1e-6 if none)
        data_var = float(np.mean(np.var(np.reshape(x, (len(x), -1)), axis=0))) if model_name == "gmm1d" else None
        if model_name == "gmm1d":
            floor = vm.VARIANCE_FLOOR_RELATIVE * data_var if data_var > 0 else vm.VARIANCE_FLOOR_ABSOLUTE
            assert end.variances.min() >= floor * (1 - 1e-9)
        if model_name == "gmm2d":  # eigenvalues with each axis scaled by the data's spread along it
            axis_var = np.var(x, axis=0)
            scale = np.sqrt(np.where(axis_var > 0, axis_var, vm.VARIANCE_FLOOR_ABSOLUTE / vm.VARIANCE_FLOOR_RELATIVE))
            scaled = end.covariances / np.outer(scale, scale)
            assert np.linalg.eigvalsh(scaled).min() >= vm.VARIANCE_FLOOR_RELATIVE * (1 - 1e-6)
    post = vc.posterior(m, x, end)
    assert np.all(np.isfinite(post)) and np.allclose(post.sum(1), 1)
    d = vc.decompose(m, x, end, post)
    for field in ("log_marginal", "elbo", "kl_posterior", "energy", "entropy", "expected_log_lik", "kl_prior"):
        assert np.isfinite(getattr(d, field)), field
    assert abs(d.kl_posterior) <= 1e-7 * max(1.0, abs(d.log_marginal))
    # a curve over one coordinate at the end of the run: log p and the bound are finite wherever θ is valid
    coord = teaching.selectable_coordinates(m, end)[0]
    lo, hi = teaching.coordinate_range(m, x, end, coord)
    assert np.isfinite(lo) and np.isfinite(hi) and lo < hi
    values = np.linspace(lo, hi, 41)
    batch = vc.vary(m, end, coord, values)
    f = vc.log_marginal_batch(m, x, batch)
    b = vc.posterior_bound(m, x, end).over(m, batch)
    assert not np.any(np.isinf(f)) and np.isfinite(f).sum() >= 30
    assert np.all(np.isfinite(b[np.isfinite(f)]))
    assert np.all(b[np.isfinite(f)] <= f[np.isfinite(f)] + 1e-7 * np.maximum(1.0, np.abs(f[np.isfinite(f)])))


def test_a_component_with_no_data_gets_weight_zero_and_keeps_its_place():
    m = vc.get_model("gmm1d")
    init = m.make_params(weights=[0.4, 0.4, 0.2], means=[55.0, 80.0, 1e4], variances=[36.0, 36.0, 1.0])
    tr = vc.run_em(m, FAITHFUL, init, max_iter=5, tol=None)
    end = tr.params[-1]
    assert end.weights[2] == 0.0 and end.means[2] == 1e4 and end.variances[2] == 1.0  # README: "keeps its mean"
    assert abs(end.weights[:2].sum() - 1) < 1e-12


def test_a_component_whose_share_underflows_keeps_the_m_step_monotone():
    """Found by the fuzz test: a weight of 2e-311 leaves a responsibility near 1e-323, and N_k / N then
    underflows to 0. The M-step keeps that weight at the smallest positive number, so L(q, θ) does not
    fall to −∞ (the bound after the M-step is at least the one after the E-step, and at most log p)."""
    m = vc.get_model("gmm1d")
    init = m.make_params(weights=[0.0, 0.0, 1.0, 0.0, 2.225073858507e-311, 0.0], means=[0.0, 0.0, 6.0, 0.0, 546.0, 0.0],
                         variances=[1.0, 1.0, 4.0, 1.0, 4987.0, 1.0])
    x = np.array([0.0, 1.0, 1.0])
    q = vc.posterior(m, x, init)
    assert 0 < q[:, 4].sum() < 1e-320  # the case: a share N_k that N_k / N loses
    tr = vc.run_em(m, x, init, max_iter=5)
    assert np.all(np.isfinite(tr.elbo_after_m)) and np.all(np.isfinite(tr.elbo_after_e))
    for t in range(tr.n_iter):
        assert tr.elbo_after_e[t] <= tr.elbo_after_m[t] + 1e-12
        assert tr.elbo_after_m[t] <= tr.log_likelihood[t + 1] + 1e-12
    assert np.all(tr.params[1].weights[q.sum(0) > 0] > 0)


def test_a_heads_probability_that_underflows_keeps_the_m_step_monotone():
    """Found by the fuzz test (CI's derandomised run): a coin with heads probability 5e-324 explains one
    toss's head with responsibility 5e-324, so the M-step's heads / tosses is 2.5e-324, which rounds to 0.
    That coin keeps the smallest positive probability instead, so L(q, θ) does not fall to −∞."""
    m = vc.get_model("coins")
    init = m.make_params(weights=[0.0, 0.5, 0.5, 0.0, 0.0, 0.0], heads_probs=[0.0, 1.0, 5e-324, 0.0, 0.0, 0.0])
    x = np.array([[1.0, 1.0], [0.0, 2.0]])
    q = vc.posterior(m, x, init)
    assert 0 < q[0, 2] < 1e-320  # the case: the only head of coin 3 carried by a vanishing share
    tr = vc.run_em(m, x, init, max_iter=5)
    assert np.all(np.isfinite(tr.elbo_after_m)) and np.all(np.isfinite(tr.elbo_after_e))
    for t in range(tr.n_iter):
        assert tr.elbo_after_e[t] <= tr.elbo_after_m[t] + 1e-12
        assert tr.elbo_after_m[t] <= tr.log_likelihood[t + 1] + 1e-12
    assert tr.params[1].heads_probs[2] > 0


@pytest.mark.parametrize("model_name,x", [
    ("gmm1d", np.full(10, 7.0)), ("gmm2d", np.tile([1.0, -2.0], (10, 1))), ("gmm1d", np.array([1.0, 5.0])),
    ("gmm2d", np.stack([np.arange(6.0), 2 * np.arange(6.0) + 1], 1)), ("coins", np.tile([3.0, 10.0], (4, 1))),
])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_pages_starting_points_are_valid_on_degenerate_data(model_name, x, k):
    """The sliders' ranges and the default θ the pages build from the data: finite, valid, non-empty."""
    m = vc.get_model(model_name)
    ranges = teaching.data_ranges(m, x) if model_name != "coins" else []
    assert ranges or model_name == "coins"
    for lo, hi, var in ranges:
        assert np.isfinite([lo, hi, var]).all() and lo < hi and var > 0
    p = teaching.default_params(m, x, k)
    _check_params(m, p)
    assert np.isfinite(vc.log_marginal(m, x, p))


# ---------------------------------------------------------------------------------------------
# the same data through the pages, as uploads
# ---------------------------------------------------------------------------------------------
UPLOADS = {
    "gmm1d": {"all equal": b"3\n3\n3\n3\n3\n", "two points": b"1\n5\n", "outlier": b"50\n52\n55\n54\n58\n75\n78\n80\n500\n"},
    "gmm2d": {"all equal": b"3,4\n3,4\n3,4\n3,4\n", "two points": b"1,2\n5,7\n", "on a line": b"0,1\n1,3\n2,5\n3,7\n4,9\n"},
    "coins": {"all equal": b"5,10\n5,10\n5,10\n", "two rows": b"0,10\n10,10\n"},
}


def _upload_page(page: str, prefix: str, model: str, raw: bytes, k: int):
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=180)
    at.run()
    if model != "gmm1d":
        at.selectbox(key=f"{prefix}model").set_value(model).run()
    at.selectbox(key=f"{prefix}data_{model}").set_value("upload").run()
    at.selectbox(key=f"{prefix}k_{model}").set_value(k).run()
    at.file_uploader(key=f"{prefix}upload_{model}").set_value(("data.csv", raw, "text/csv")).run()
    return at


@pytest.mark.parametrize("page,prefix", [("lower_bounds", "lb_"), ("elbo_gap", "eg_"), ("em", "em_")])
@pytest.mark.parametrize("model,case", [(m, c) for m in UPLOADS for c in UPLOADS[m]])
def test_degenerate_uploads_render_finite(page, prefix, model, case):
    k = 3  # K above N for the two-point files
    at = _upload_page(page, prefix, model, UPLOADS[model][case], k)
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert charts_of(at), "nothing drawn"
    assert not chart_problems(at), chart_problems(at)[:3]
    assert not text_problems(at), text_problems(at)[:3]


def test_em_page_says_when_the_variance_floor_was_used():
    at = _upload_page("em", "em_", "gmm1d", UPLOADS["gmm1d"]["all equal"], 2)
    assert not at.exception and not at.error
    assert any("Variance floor used" in w.value for w in at.warning)


def test_floor_notice_shows_only_when_floored():
    at = AppTest.from_string(
        "import streamlit as st\nfrom pages._common import floor_notice\n"
        "floor_notice(st.checkbox('f', key='f'))\n", default_timeout=30)
    at.run()
    assert not at.warning
    at.checkbox(key="f").check().run()
    assert len(at.warning) == 1 and "Variance floor used" in at.warning[0].value
    assert "10⁻⁶" in at.warning[0].value
