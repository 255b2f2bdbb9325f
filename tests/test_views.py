"""Views of θ-space: vary, line, plane; bounds over a batch; bound families.

Reference values come from the per-point, data-based functions of
vizcore.inference (log_marginal, elbo, posterior) evaluated one θ at a time,
and from the defining inequalities of the bound.
"""
from __future__ import annotations

import numpy as np
import pytest

import vizcore as vc
from vizcore import views as vv


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


def _case(name):
    m = vc.get_model(name)
    if name == "gmm1d":
        return m, np.asarray(vc.load_dataset("faithful_waiting")), m.make_params(
            weights=[.5, .5], means=[55, 80], variances=[25, 25])
    if name == "gmm2d":
        return m, np.asarray(vc.load_dataset("old_faithful")), m.make_params(
            weights=[.4, .6], means=[[2.0, 55.0], [4.5, 80.0]],
            covariances=[[[0.3, 0.5], [0.5, 40.0]], [[0.3, 0.5], [0.5, 40.0]]])
    if name == "coins":
        return m, np.asarray(vc.load_dataset("two_coins")), m.make_params(weights=[.5, .5], heads_probs=[.6, .5])
    if name == "linkage":
        return m, np.asarray(vc.load_dataset("genetic_linkage")), m.make_params(theta=[0.3])
    raise AssertionError(name)


MODELS = ("gmm1d", "gmm2d", "coins", "linkage")
# one coordinate per model with a grid on which every θ is valid
COORDS = {
    "gmm1d": [("means[0]", np.linspace(40, 90, 201)), ("variances[1]", np.geomspace(2, 400, 151)),
              ("weights[0]", np.linspace(0.02, 0.98, 97))],
    "gmm2d": [("means[0][1]", np.linspace(40, 90, 151)), ("covariances[1][1][1]", np.geomspace(5, 200, 101)),
              ("weights[1]", np.linspace(0.05, 0.95, 91))],
    "coins": [("heads_probs[0]", np.linspace(0.01, 0.99, 99)), ("weights[0]", np.linspace(0.02, 0.98, 97))],
    "linkage": [("theta[0]", np.linspace(0.01, 0.99, 99))],
}
COORD_CASES = [(m, n, v) for m in MODELS for n, v in COORDS[m]]
COORD_IDS = [f"{m}-{n}" for m, n, _ in COORD_CASES]


def _batch_list(model, batch):
    return [vv.take(model, batch, i) for i in range(vv.batch_size(model, batch))]


# ---------------------------------------------------------------------------------
# vary / line / plane
# ---------------------------------------------------------------------------------
def test_vary_keeps_weights_on_the_simplex():
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=[0.2, 0.3, 0.5], means=[0, 1, 2], variances=[1, 1, 1])
    v = np.linspace(0.0, 1.0, 41)
    b = vc.vary(m, p, "weights[1]", v)
    np.testing.assert_allclose(b.weights.sum(1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(b.weights[:, 1], v)
    # the other weights keep their ratio 0.2 : 0.5
    np.testing.assert_allclose(b.weights[:, 0] * 0.5, b.weights[:, 2] * 0.2, atol=1e-15)
    # nothing else moves
    assert np.all(b.means == p.means) and np.all(b.variances == p.variances)


def test_vary_single_weight_cannot_leave_the_simplex():
    """With one component its weight is 1, not a coordinate: moving it is refused by name."""
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=[1.0], means=[0.0], variances=[1.0])
    assert "weights[0]" not in m.coordinates(p)
    with pytest.raises(ValueError, match="weights\\[0\\]"):
        vc.vary(m, p, "weights[0]", [0.3, 1.0])


def test_vary_sets_only_the_named_coordinate_and_symmetric_pairs():
    m = vc.get_model("gmm2d")
    _, _, p = _case("gmm2d")
    b = vc.vary(m, p, "covariances[0][0][1]", [0.1, -0.2])
    np.testing.assert_array_equal(b.covariances[:, 0, 0, 1], [0.1, -0.2])
    np.testing.assert_array_equal(b.covariances[:, 0, 1, 0], [0.1, -0.2])
    np.testing.assert_array_equal(b.covariances[:, 1], np.broadcast_to(p.covariances[1], (2, 2, 2)))
    b = vc.vary(m, p, "means[1][0]", [7.0])
    np.testing.assert_array_equal(b.means[0], [[2.0, 55.0], [7.0, 80.0]])
    with pytest.raises(ValueError, match="coordinate"):
        vc.vary(m, p, "means[2][0]", [1.0])


@pytest.mark.parametrize("name", MODELS)
def test_line_endpoints(name):
    m, x, pa = _case(name)
    pb = vc.run_em(m, x, pa, max_iter=3, tol=None).params[-1]
    b = vc.line(m, pa, pb, [0.0, 0.5, 1.0])
    first, mid, last = _batch_list(m, b)
    assert first == pa
    for f in m.param_names:
        np.testing.assert_allclose(getattr(last, f), getattr(pb, f), rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(getattr(mid, f), 0.5 * (getattr(pa, f) + getattr(pb, f)), rtol=1e-15)


def test_plane_shape_and_values():
    m, x, p = _case("gmm1d")
    vx = np.array([50.0, 55.0, 60.0, 65.0])
    vy = np.array([10.0, 20.0, 30.0])
    b = vc.plane(m, p, "means[0]", vx, "variances[1]", vy)
    assert vv.batch_size(m, b) == 12
    grid_mu = b.means[:, 0].reshape(len(vy), len(vx))
    grid_var = b.variances[:, 1].reshape(len(vy), len(vx))
    np.testing.assert_array_equal(grid_mu, np.broadcast_to(vx, (3, 4)))
    np.testing.assert_array_equal(grid_var, np.broadcast_to(vy[:, None], (3, 4)))
    assert np.all(b.means[:, 1] == 80) and np.all(b.variances[:, 0] == 25) and np.all(b.weights == 0.5)
    lm = vc.log_marginal_batch(m, x, b).reshape(3, 4)
    for i, vyy in enumerate(vy):
        for j, vxx in enumerate(vx):
            q = p.replace(means=np.array([vxx, 80.0]), variances=np.array([25.0, vyy]))
            assert _rel(lm[i, j], vc.log_marginal(m, x, q)) < 1e-12


def test_plane_with_a_weight_axis_keeps_the_simplex():
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=[0.2, 0.3, 0.5], means=[0, 1, 2], variances=[1, 1, 1])
    vx, vy = np.array([-1.0, 0.0, 1.0]), np.array([0.1, 0.6])
    b = vc.plane(m, p, "means[2]", vx, "weights[0]", vy)
    np.testing.assert_allclose(b.weights.sum(1), 1.0, atol=1e-14)
    np.testing.assert_array_equal(b.weights[:, 0].reshape(2, 3), np.broadcast_to(vy[:, None], (2, 3)))
    np.testing.assert_allclose(b.weights[:, 1] / b.weights[:, 2], 0.3 / 0.5)
    with pytest.raises(ValueError):
        vc.plane(m, p, "weights[0]", vx, "weights[1]", vy)
    with pytest.raises(ValueError):
        vc.plane(m, p, "means[0]", vx, "means[0]", vy)


# ---------------------------------------------------------------------------------
# log p over a batch
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model,name,values", COORD_CASES, ids=COORD_IDS)
def test_log_marginal_batch_equals_per_point(model, name, values, monkeypatch):
    m, x, p = _case(model)
    b = vc.vary(m, p, name, values)
    full = vc.log_marginal_batch(m, x, b)
    expected = np.array([vc.log_marginal(m, x, q) for q in _batch_list(m, b)])
    np.testing.assert_allclose(full, expected, rtol=1e-12)
    # force many small chunks: same numbers
    monkeypatch.setattr(vv, "CHUNK_ELEMENTS", 3 * len(x))
    monkeypatch.setattr(vv, "TWO_TERM_CHUNK", 3 * len(x))
    np.testing.assert_allclose(vc.log_marginal_batch(m, x, b), expected, rtol=1e-12)
    # blocks smaller than one θ: the data in blocks of rows, summed
    monkeypatch.setattr(vv, "CHUNK_ELEMENTS", 50)
    monkeypatch.setattr(vv, "TWO_TERM_CHUNK", 50)
    np.testing.assert_allclose(vc.log_marginal_batch(m, x, b), expected, rtol=1e-12)


@pytest.mark.parametrize("name,values", [("means[0]", np.linspace(40, 90, 31)),
                                         ("variances[0]", np.geomspace(0.5, 400, 29))])
def test_a_1d_mixtures_curve_exponent_in_three_passes_against_scipy(name, values, monkeypatch):
    """Along a mean or a variance, GaussianMixture1D.log_joint_minus rewrites the exponent
    log π + log N(x_n | μ_g, σ²_g) − b_n so that it takes three passes: the same numbers as scipy's
    normal log density, and it does not hand the curve to the base method."""
    from scipy.stats import norm

    m, x, p = _case("gmm1d")
    one = vc.vary(m, m.make_params(weights=[.3, .7], means=[55, 80], variances=[25, 36]), name, values)
    one = m.Params(**{n: getattr(one, n)[:, :1] for n in m.param_names})
    b = np.random.default_rng(3).normal(-5.0, 2.0, x.size)
    want = np.log(0.3) + norm.logpdf(x[None, :], one.means, np.sqrt(one.variances)) - b
    monkeypatch.setattr(vc.models.Model, "log_joint_minus", lambda *a: pytest.fail("took the base method"))
    got = m.log_joint_minus(x, one, b)
    assert got.shape == (values.size, x.size)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_1d_mixtures_other_batches_take_the_base_exponent():
    """A batch that moves two fields at once (a line through θ space), or a variance of 0, is not a curve
    the rewrite covers: the base method's log_joint − b, with its conventions (NaN for a negative variance)."""
    m, x, _ = _case("gmm1d")
    b = np.linspace(-3.0, -1.0, x.size)
    line = m.Params(weights=np.full((4, 1), .4), means=np.linspace(50, 60, 4)[:, None],
                    variances=np.linspace(20, 30, 4)[:, None])
    np.testing.assert_allclose(m.log_joint_minus(x, line, b), m.log_joint(x, line)[..., 0] - b, rtol=1e-14)
    bad = m.Params(weights=np.full((3, 1), .4), means=np.full((3, 1), 55.0), variances=np.array([[0.0], [-1.0], [25.0]]))
    with np.errstate(all="ignore"):
        got, want = m.log_joint_minus(x, bad, b), m.log_joint(x, bad)[..., 0] - b
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.all(np.isnan(got[1])) and np.all(np.isfinite(got[2]))
    np.testing.assert_allclose(got[2], want[2], rtol=1e-14)


def test_sum_of_log_one_plus_exp_against_numpy_with_the_edge_conventions():
    """Σ_n log(1 + e^t_n) per row, in blocks of products while e^t cannot overflow and entry by entry when
    it can: numpy's logaddexp(0, t) summed, with +∞, −∞ and NaN where it gives them."""
    rng = np.random.default_rng(5)
    t = rng.normal(scale=40.0, size=(6, 500))
    want = np.logaddexp(0.0, t).sum(-1)
    np.testing.assert_allclose(vv._sum_log1p_exp(t.copy()), want, rtol=1e-13)
    t[1, 7] = 705.0         # e^t overflows: the per-entry form
    t[2, :] = -np.inf       # the moving term impossible everywhere: log 1 = 0
    t[3, 9] = np.nan
    t[4, 2] = np.inf
    t[5, :] = -800.0        # 1 + e^t rounds to 1
    with np.errstate(over="ignore", invalid="ignore"):
        want = np.logaddexp(0.0, t).sum(-1)
    got = vv._sum_log1p_exp(t.copy())
    assert got[2] == 0.0 and got[5] == 0.0 and np.isnan(got[3]) and got[4] == np.inf
    ok = np.isfinite(want)
    assert ok.sum() == 4
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-13)


@pytest.mark.parametrize("model", ["gmm1d", "gmm2d", "coins"])
def test_a_weights_curve_without_exps_equals_theta_by_theta(model, monkeypatch):
    """A batch that moves only the weights is summed from each component's density computed once
    (a matrix product per block, no exp), including weights at 0 and 1, a weight tiny enough that the other
    component's underflowed density would count, an invalid θ, and a point no component explains."""
    m, x, p = _case(model)
    name = "weights[1]" if model == "gmm2d" else "weights[0]"
    values = np.array([0.0, 1e-300, 1e-12, 0.2, 0.5, 0.9, 1.0 - 1e-12, 1.0, 0.5])
    b = vc.vary(m, p, name, values)
    with np.errstate(all="ignore"):
        want = np.array([vc.log_marginal(m, x, q) for q in _batch_list(m, b)])
    w = np.array(b.weights)
    w[-1] = np.nan  # an invalid θ
    b = b.replace(weights=w)
    want[-1] = np.nan
    calls = []
    real = vv._weights_curve
    monkeypatch.setattr(vv, "_weights_curve", lambda *a: calls.append(1) or real(*a))
    with np.errstate(all="ignore"):
        got = vc.log_marginal_batch(m, x, b)
    assert calls
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    ok = np.isfinite(want)
    assert ok.sum() >= 6
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12)
    if model == "gmm1d":  # a datum that no component explains: −∞ for every θ
        with np.errstate(all="ignore"):
            far = np.append(x, 1e200)
            got = vc.log_marginal_batch(m, far, b)
        assert np.all(np.isneginf(got[:-1])) and np.isnan(got[-1])


def test_a_mean_curve_through_a_point_the_still_components_cannot_explain():
    """A datum that the component held still gives density 0 (its squared distance overflows) while the
    moving one explains it at one grid value: log p is finite there and −∞ elsewhere, as θ by θ, and an
    invalid θ on the same curve is NaN."""
    m = vc.get_model("gmm1d")
    x = np.array([0.0, 0.1, 1e200])
    p = m.make_params(weights=[.5, .5], means=[0.0, 1.0], variances=[1.0, 1.0])
    b = vc.vary(m, p, "means[1]", [1e200, 0.5, 2.0, 3.0])
    means = np.array(b.means)
    means[3, 1] = np.nan
    b = m.Params(weights=b.weights, means=means, variances=b.variances)
    with np.errstate(all="ignore"):
        got = vc.log_marginal_batch(m, x, b)
        want = [vc.log_marginal(m, x, q) for q in _batch_list(m, b)[:3]]
    assert np.isnan(got[3])
    assert np.isfinite(got[0]) and np.all(np.isneginf(got[1:3]))
    np.testing.assert_array_equal(np.isneginf(got[:3]), np.isneginf(want))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)


def test_two_term_log_sum_against_scipy_with_the_edge_conventions():
    """The one-exp sum of two terms (a curve moving one of two components, or one component with the
    others summed once) gives scipy's log-sum-exp, and −∞ / NaN exactly where logsumexp_last does."""
    from scipy.special import logsumexp

    from vizcore.inference import logsumexp_last
    rng = np.random.default_rng(11)
    a, b = rng.normal(scale=300.0, size=(2, 7, 40))
    a[1, 3] = -np.inf                 # impossible under one term: the other one carries the point
    a[2, 4] = b[2, 4] = -np.inf       # impossible under both: the row is −∞
    a[3, 5] = np.nan                  # an invalid θ: NaN
    a[4], b[4] = 700.0, 705.0         # near exp's overflow: shifted, so still exact
    a[5], b[5] = -1e300, -1e300 + 1e285  # huge magnitudes
    lj = np.stack([a, b], -1)
    got = vv._log_add_rows(lj, None)
    want = logsumexp_last(lj).sum(-1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    assert np.isneginf(got[2]) and np.isnan(got[3])
    ok = np.isfinite(want)
    assert ok.sum() == 5
    np.testing.assert_allclose(got[ok], logsumexp(lj[ok], axis=-1).sum(-1), rtol=1e-13)
    # one moving component and the still ones' log-sum (one row of it, shared by every θ)
    extra = b[0]
    got = vv._log_add_rows(lj[..., :1], extra)
    want = logsumexp_last(lj[..., :1], extra).sum(-1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = np.isfinite(want)
    assert ok.sum() == 6
    both = np.stack([a[ok], np.broadcast_to(extra, a[ok].shape)], -1)
    np.testing.assert_allclose(got[ok], logsumexp(both, axis=-1).sum(-1), rtol=1e-13)


def test_log_marginal_batch_of_a_point_impossible_under_every_component():
    """A datum that every component gives density 0 (its squared distance overflows): log p = −∞ along
    the curve, as log_marginal says, whichever path (two terms or more) sums it."""
    m = vc.get_model("gmm1d")
    x = np.array([0.0, 0.1, 1e200])
    for k in (2, 3):
        p = m.make_params(weights=np.full(k, 1.0 / k), means=np.arange(k, dtype=float), variances=np.ones(k))
        b = vc.vary(m, p, "means[0]", [-1.0, 0.5, 2.0])
        got = vc.log_marginal_batch(m, x, b)
        assert np.all(np.isneginf(got))
        np.testing.assert_array_equal(got, [vc.log_marginal(m, x, q) for q in _batch_list(m, b)])
        # without the far point: finite, and equal to the per-θ computation
        got = vc.log_marginal_batch(m, x[:2], b)
        np.testing.assert_allclose(got, [vc.log_marginal(m, x[:2], q) for q in _batch_list(m, b)], rtol=1e-13)


PER_COMPONENT_PLANES = [
    # (model, parameters, x-axis, its values, y-axis, its values): the two axes in different components
    ("gmm1d", dict(weights=[.5, .5], means=[55, 80], variances=[25, 25]), "means[0]", np.linspace(45, 90, 7),
     "means[1]", np.linspace(45, 90, 6)),
    ("gmm1d", dict(weights=[.3, .3, .4], means=[50, 65, 80], variances=[25, 30, 36]), "means[0]",
     np.linspace(45, 90, 5), "variances[2]", np.linspace(4, 90, 4)),  # the third component summed once
    ("gmm1d", dict(weights=[.5, .5], means=[55, 80], variances=[1e-4, 1e-4]), "means[0]", np.linspace(50, 90, 5),
     "means[1]", np.linspace(50, 90, 5)),  # every term tiny somewhere: summed in log space
    ("gmm1d", dict(weights=[.5, .5], means=[55, 80], variances=[1e-4, 1e-4]), "variances[0]",
     np.array([1e-4, 1e-2, 1.0, 100.0]), "variances[1]", np.array([1e-4, 1e-2, 1.0, 100.0])),  # some rows each way
    ("gmm2d", dict(weights=[.4, .6], means=[[2.0, 55.0], [4.5, 80.0]],
                   covariances=[[[0.3, 0.5], [0.5, 40.0]], [[0.3, 0.5], [0.5, 40.0]]]),
     "means[0][0]", np.linspace(1.5, 5, 5), "means[1][1]", np.linspace(50, 90, 4)),
    ("coins", dict(weights=[.5, .5], heads_probs=[.6, .5]), "heads_probs[0]", np.linspace(.05, .95, 6),
     "heads_probs[1]", np.linspace(.05, .95, 5)),
]


@pytest.mark.parametrize("case", range(len(PER_COMPONENT_PLANES)))
def test_plane_over_two_components_equals_per_point(case, monkeypatch):
    """A plane whose axes belong to two components tabulates each component once per value and adds the
    tables (in linear space, or in log space where a term is tiny): the same log p as θ by θ."""
    name, params, nx, vx, ny, vy = PER_COMPONENT_PLANES[case]
    m, x, _ = _case(name)
    p = m.make_params(**params)
    coords = m.coordinates(p)
    assert nx in coords and ny in coords, (name, nx, ny, coords)
    b = vc.plane(m, p, nx, vx, ny, vy)
    calls = []
    real = vv._combine
    monkeypatch.setattr(vv, "_combine", lambda *a: calls.append(1) or real(*a))
    got = vc.log_marginal_batch(m, x, b)
    assert calls, "the plane did not take the per-component path"
    expected = np.array([vc.log_marginal(m, x, q) for q in _batch_list(m, b)])
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_plane_over_two_components_keeps_nan_for_an_invalid_theta():
    m, x, p = _case("gmm1d")
    b = vc.plane(m, p, "means[0]", np.linspace(45, 90, 4), "means[1]", np.linspace(45, 90, 4))
    means = np.array(b.means)
    means[5, 0] = np.nan  # one invalid θ (its value of μ₁ is shared by no other grid point)
    b = m.Params(weights=b.weights, means=means, variances=b.variances)
    got = vc.log_marginal_batch(m, x, b)
    assert np.isnan(got[5]) and np.all(np.isfinite(np.delete(got, 5)))
    expected = np.array([vc.log_marginal(m, x, q) for q in _batch_list(m, b)])
    np.testing.assert_allclose(np.delete(got, 5), np.delete(expected, 5), rtol=1e-12)


# ---------------------------------------------------------------------------------
# bounds over a batch
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model,name,values", COORD_CASES, ids=COORD_IDS)
def test_bound_over_equals_elbo_per_point(model, name, values):
    m, x, p = _case(model)
    rng = np.random.default_rng(3)
    q = vc.posterior(m, x, p)
    # a non-posterior q: mix the posterior with random rows on the same support
    noise = rng.dirichlet(np.ones(q.shape[1]), size=q.shape[0]) * (q > 0)
    noise /= noise.sum(1, keepdims=True)
    for resp in (q, 0.5 * q + 0.5 * noise):
        b = vc.vary(m, p, name, values[::7])
        got = vc.bound_from_resp(m, x, resp).over(m, b)
        expected = np.array([vc.elbo(m, x, th, resp) for th in _batch_list(m, b)])
        np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize("model,name,values", COORD_CASES, ids=COORD_IDS)
def test_bound_family_below_log_p_and_touching_at_anchors(model, name, values):
    m, x, p = _case(model)
    anchors = values[[5, len(values) // 3, len(values) // 2, -6]]
    fam = vc.bound_family(m, x, p, name, values, anchors)
    assert fam.bounds.shape == (4, len(values)) and fam.log_marginal.shape == (len(values),)
    np.testing.assert_array_equal(fam.values, values)
    tol = 1e-10 * np.abs(fam.log_marginal)
    assert np.all(fam.bounds <= fam.log_marginal[None, :] + tol)
    for a, av in enumerate(anchors):
        g = int(np.flatnonzero(values == av)[0])
        assert abs(fam.bounds[a, g] - fam.log_marginal[g]) <= 1e-10 * abs(fam.log_marginal[g])
        # anchor_log_marginal from an independent per-point evaluation
        th = vv.take(m, vc.vary(m, p, name, [av]), 0)
        assert _rel(fam.anchor_log_marginal[a], vc.log_marginal(m, x, th)) < 1e-12
        # away from the anchor the bound is strictly below (a KL gap opens)
        far = int(np.argmax(np.abs(values - av)))
        assert fam.bounds[a, far] < fam.log_marginal[far] - 1e-9 * abs(fam.log_marginal[far])
    np.testing.assert_array_equal(fam.envelope, fam.bounds.max(0))


@pytest.mark.parametrize("model,name,values", COORD_CASES, ids=COORD_IDS)
def test_envelope_approaches_log_p_as_anchors_get_denser(model, name, values):
    m, x, p = _case(model)
    gaps = []
    for step in (32, 8, 2):  # nested anchor sets, each 4× denser
        fam = vc.bound_family(m, x, p, name, values, values[::step])
        gap = fam.log_marginal - fam.envelope
        assert np.all(gap >= -1e-10 * np.abs(fam.log_marginal))
        gaps.append(float(gap.max()))
    assert gaps[0] > 0
    assert gaps[1] <= gaps[0] and gaps[2] <= gaps[1]
    # the gap near an anchor is second order in the distance, so 4× denser anchors cut it a lot
    assert gaps[2] < 0.2 * gaps[0], gaps


@pytest.mark.parametrize("model,name,values", COORD_CASES, ids=COORD_IDS)
def test_bound_from_prior_q_is_strictly_below(model, name, values):
    m, x, p = _case(model)
    q = vc.prior_resp(m, x, p)
    np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-12)
    b = vc.vary(m, p, name, values)
    bound = vc.bound_from_resp(m, x, q).over(m, b)
    lm = vc.log_marginal_batch(m, x, b)
    # L(q, θ) = log p − KL(q ‖ p(Z|X, θ)): strictly below wherever the posterior at θ differs from q.
    # (Where the components coincide, e.g. means[0] = means[1] with equal weights, the posterior IS the
    # prior and the bound touches: checked too.)
    differs = np.array([np.abs(vc.posterior(m, x, th) - q).max() > 1e-6 for th in _batch_list(m, b)])
    assert differs.sum() >= len(values) - 1
    assert np.all(bound[differs] < lm[differs] - 1e-9 * np.abs(lm[differs]))
    assert np.all(np.abs(bound[~differs] - lm[~differs]) <= 1e-9 * np.abs(lm[~differs]))


# ---------------------------------------------------------------------------------
# the EM step along its line: the textbook figure, exactly, in any dimension
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("step", [0, 2])
def test_bound_along_em_step_touches_at_0_and_peaks_at_1(name, step):
    m, x, p0 = _case(name)
    tr = vc.run_em(m, x, p0, max_iter=step + 1, tol=None)
    pa, pb = tr.params[step], tr.params[step + 1]
    ts = np.linspace(0.0, 1.5, 1501)
    batch = vc.line(m, pa, pb, ts)
    bound = vc.posterior_bound(m, x, pa).over(m, batch)
    lm = vc.log_marginal_batch(m, x, batch)
    ok = np.isfinite(bound) & np.isfinite(lm)
    assert ok[: 1001].all()  # the segment [0, 1] is convex in every parameter, so valid
    # touches at t = 0
    assert abs(bound[0] - lm[0]) <= 1e-10 * abs(lm[0])
    assert _rel(lm[0], tr.log_likelihood[step]) < 1e-12
    # below log p everywhere on the grid
    assert np.all(bound[ok] <= lm[ok] + 1e-10 * np.abs(lm[ok]))
    # peaks at t = 1 (θ_t+1 is the argmax over all θ, so over the line too)
    i_max = int(np.nanargmax(np.where(ok, bound, -np.inf)))
    assert abs(ts[i_max] - 1.0) <= 0.0015, ts[i_max]
    assert _rel(bound[1000], tr.elbo_after_m[step]) < 1e-10
    # and at t = 1 the bound is still below the new log p, which is higher than the old
    assert bound[1000] <= lm[1000] + 1e-10 * abs(lm[1000])
    assert lm[1000] >= lm[0]


# ---------------------------------------------------------------------------------
# cost independence: a bound curve is computed from q's statistics only
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model,name,values", COORD_CASES, ids=COORD_IDS)
def test_bound_over_uses_statistics_only(model, name, values):
    m, x, p = _case(model)
    q = vc.posterior(m, x, p)
    b = vc.vary(m, p, name, values)
    bound = vc.posterior_bound(m, x, p)
    reps = 3
    big = vc.bound_from_resp(m, np.concatenate([x] * reps), np.concatenate([q] * reps))
    # the data repeated r times: every statistic, the entropy and the bound scale by r
    np.testing.assert_allclose(big.over(m, b), reps * bound.over(m, b), rtol=1e-10)
    # the statistics are small: their size does not depend on N
    size = sum(np.size(v) for v in bound.stats.values())
    size_big = sum(np.size(v) for v in big.stats.values())
    assert size == size_big
    # a Bound rebuilt from copies of its statistics (no data anywhere) gives identical numbers
    clone = vv.Bound({k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in bound.stats.items()},
                     bound.entropy)
    np.testing.assert_array_equal(clone.over(m, b), bound.over(m, b))


@pytest.mark.parametrize("model", ["gmm1d", "gmm2d", "coins"])
def test_log_marginal_batch_components_held_still(model, monkeypatch):
    """Components a batch does not move are summed once: the same numbers as summing all of them,
    for one, several or none moving, with invalid θ_g (NaN, a negative variance) in the batch."""
    m, x, p = _case(model)
    names = m.param_names
    rng = np.random.default_rng(11)
    k = p.n_components
    thetas = []
    for g in range(7):
        q = {n: np.array(getattr(p, n), dtype=float) for n in names}
        if g % 3:  # move component 0 only (its mean, or its heads probability)
            field = "heads_probs" if model == "coins" else "means"
            q[field][0] = q[field][0] + (0.05 if model == "coins" else 1.0) * rng.normal()
        thetas.append(q)
    thetas[3][names[1]][0] = np.nan  # invalid at one θ_g
    batch = m.Params(**{n: np.stack([t[n] for t in thetas]) for n in names})
    moving = vv._moving_components(m, batch)
    assert moving.tolist() == [True] + [False] * (k - 1)
    expected = np.array([vc.log_marginal(m, x, q) if i != 3 else np.nan
                         for i, q in enumerate(_batch_list(m, batch))])
    got = vc.log_marginal_batch(m, x, batch)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.isnan(got[3])
    # the split taken away: the same numbers
    monkeypatch.setattr(vv, "_moving_components", lambda model, batch: None)
    np.testing.assert_allclose(vc.log_marginal_batch(m, x, batch), got, rtol=1e-13)
    # nothing moves: every θ_g equal, one value repeated
    same = m.Params(**{n: np.repeat(np.asarray(getattr(p, n))[None], 4, axis=0) for n in names})
    monkeypatch.undo()
    assert not vv._moving_components(m, same).any()
    np.testing.assert_allclose(vc.log_marginal_batch(m, x, same), vc.log_marginal(m, x, p), rtol=1e-12)


def test_log_marginal_batch_two_of_four_components_moving():
    m = vc.get_model("gmm1d")
    x = np.asarray(vc.load_dataset("faithful_waiting"))
    p = m.make_params(weights=[.1, .2, .3, .4], means=[50, 60, 70, 80], variances=[20, 30, 40, 50])
    b = vc.plane(m, p, "means[0]", np.linspace(45, 90, 9), "variances[2]", np.geomspace(5, 300, 7))
    assert vv._moving_components(m, b).tolist() == [True, False, True, False]
    expected = np.array([vc.log_marginal(m, x, q) for q in _batch_list(m, b)])
    np.testing.assert_allclose(vc.log_marginal_batch(m, x, b), expected, rtol=1e-12)
