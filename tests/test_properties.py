"""Property tests (hypothesis) over random parameters, data and q, for every model.

For any q:   L(q, θ) ≤ log p(X|θ)                      (Jensen)
at q = p(Z|X, θ):  L = log p                          (to rounding)
KL(q ‖ p(Z|X, θ)) ≥ 0, and ≥ 2·TV² per point (Pinsker), so it is zero only at q = posterior
EM:          log p(X|θ_t) never decreases
views:       a bound from the posterior at θ touches log p at θ and never exceeds it on a grid
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vizcore as vc

REL = 1e-9
SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _tol(v):
    return REL * np.maximum(1.0, np.abs(v))


# ---------------------------------------------------------------------------------
# strategies: (model, x, params)
# ---------------------------------------------------------------------------------
def _weights(draw, k):
    raw = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=k, max_size=k)))
    return raw / raw.sum()


def _params(draw, name, k):
    m = vc.get_model(name)
    if name == "gmm1d":
        return m.make_params(weights=_weights(draw, k),
                             means=draw(st.lists(st.floats(-30, 30), min_size=k, max_size=k)),
                             variances=draw(st.lists(st.floats(0.1, 100.0), min_size=k, max_size=k)))
    if name == "gmm2d":
        covs = []
        for _ in range(k):
            a, d = draw(st.floats(0.5, 50.0)), draw(st.floats(0.5, 50.0))
            b = draw(st.floats(-0.9, 0.9)) * np.sqrt(a * d)
            covs.append([[a, b], [b, d]])
        means = np.array(draw(st.lists(st.floats(-20, 20), min_size=2 * k, max_size=2 * k))).reshape(k, 2)
        return m.make_params(weights=_weights(draw, k), means=means, covariances=covs)
    if name == "coins":
        return m.make_params(weights=_weights(draw, k),
                             heads_probs=draw(st.lists(st.floats(0.001, 0.999), min_size=k, max_size=k)))
    return m.make_params(theta=[draw(st.floats(0.01, 0.99))])


def _data(draw, name):
    if name == "gmm1d":
        n = draw(st.integers(1, 40))
        return np.array(draw(st.lists(st.floats(-60, 60), min_size=n, max_size=n)))
    if name == "gmm2d":
        n = draw(st.integers(1, 30))
        return np.array(draw(st.lists(st.floats(-30, 30), min_size=2 * n, max_size=2 * n))).reshape(n, 2)
    if name == "coins":
        n = draw(st.integers(1, 12))
        tosses = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n))
        heads = [draw(st.integers(0, t)) for t in tosses]
        return np.array([heads, tosses], dtype=float).T
    n = draw(st.integers(1, 3))
    rows = [draw(st.lists(st.integers(0, 60), min_size=4, max_size=4).filter(lambda r: sum(r) > 0))
            for _ in range(n)]
    return np.array(rows, dtype=float)


MAX_K = {"gmm1d": 4, "gmm2d": 3, "coins": 4, "linkage": 1}


@st.composite
def model_case(draw, name, n_params=1):
    """(model, x, params_1, ..., params_n) with every params of the same shape."""
    k = draw(st.integers(1, MAX_K[name]))
    return (vc.get_model(name), _data(draw, name)) + tuple(_params(draw, name, k) for _ in range(n_params))


def gmm1d_case():
    return model_case("gmm1d")


def gmm2d_case():
    return model_case("gmm2d")


def coins_case():
    return model_case("coins")


def linkage_case():
    return model_case("linkage")


CASES = st.one_of(gmm1d_case(), gmm2d_case(), coins_case(), linkage_case())


@st.composite
def case_and_q(draw):
    """A case and an arbitrary q on the support of the joint (with exact zeros allowed)."""
    m, x, p = draw(CASES)
    support = np.isfinite(m.log_joint(x, p))
    raw = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=support.size, max_size=support.size)))
    q = raw.reshape(support.shape) * support
    empty = q.sum(1) == 0
    q[empty] = support[empty]
    q /= q.sum(1, keepdims=True)
    return m, x, p, q


# ---------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------
@settings(max_examples=150, **SETTINGS)
@given(case_and_q())
def test_elbo_never_exceeds_log_marginal_and_gap_is_kl(case):
    m, x, p, q = case
    lm = vc.log_marginal(m, x, p)
    el = vc.elbo(m, x, p, q)
    gap = vc.kl_gap(m, x, p, q)
    assert np.isfinite(lm) and np.isfinite(el)
    assert el <= lm + _tol(lm)
    assert gap >= 0.0
    assert abs(el + gap - lm) <= _tol(lm)
    # Pinsker: KL(q_n ‖ p_n) ≥ 2·TV(q_n, p_n)², summed over points: zero only at q = posterior
    post = vc.posterior(m, x, p)
    tv = 0.5 * np.abs(q - post).sum(1)
    assert gap >= 2 * np.sum(tv ** 2) - _tol(lm)


@settings(max_examples=150, **SETTINGS)
@given(CASES)
def test_elbo_equals_log_marginal_at_posterior(case):
    m, x, p = case
    lm = vc.log_marginal(m, x, p)
    post = vc.posterior(m, x, p)
    assert np.all(post >= 0)
    np.testing.assert_allclose(post.sum(1), 1.0, rtol=0, atol=1e-12)
    assert abs(vc.elbo(m, x, p, post) - lm) <= _tol(lm)
    assert abs(vc.kl_gap(m, x, p, post)) <= _tol(lm)
    d = vc.decompose(m, x, p, post)
    assert abs(d.energy + d.entropy - lm) <= _tol(lm)
    assert abs(d.expected_log_lik - d.kl_prior - lm) <= _tol(lm)


@settings(max_examples=80, **SETTINGS)
@given(CASES)
def test_em_is_monotone(case):
    m, x, p = case
    tr = vc.run_em(m, x, p, max_iter=6, tol=None)
    ll = np.asarray(tr.log_likelihood)
    assert np.all(np.isfinite(ll))
    assert np.all(np.diff(ll) >= -_tol(ll[1:]))
    assert np.all(np.abs(tr.elbo_after_e - ll[:-1]) <= _tol(ll[:-1]))
    assert np.all(tr.elbo_after_m >= ll[:-1] - _tol(ll[:-1]))
    assert np.all(tr.elbo_after_m <= ll[1:] + _tol(ll[1:]))


def _grid_for(model, params, name):
    """Values of coordinate ``name`` around its current value, the current value included."""
    flat = model.flatten(params)
    now = float(flat[model.coordinates(params)[name][0]])
    if name.startswith(("weights", "heads_probs", "theta")):
        grid = np.linspace(0.001, 0.999, 60)
    elif name.startswith("means"):
        grid = now + np.linspace(-25, 25, 60)
    else:  # variances and covariances entries: multiplicative for diagonals, additive for off-diagonals
        parts = name.split("[")
        if len(parts) == 4 and parts[2] != parts[3]:
            grid = now + np.linspace(-5, 5, 60)
        else:
            grid = now * np.geomspace(0.05, 20, 60)
    return np.sort(np.append(grid, now)), now


@settings(max_examples=100, **SETTINGS)
@given(CASES, st.data())
def test_vary_bound_touches_at_anchor_and_stays_below(case, data):
    m, x, p = case
    name = data.draw(st.sampled_from(sorted(m.coordinates(p))), label="coordinate")
    grid, now = _grid_for(m, p, name)
    batch = vc.vary(m, p, name, grid)
    bound = vc.posterior_bound(m, x, p).over(m, batch)
    lm = vc.log_marginal_batch(m, x, batch)
    ok = np.isfinite(bound) & np.isfinite(lm)  # off-grid-validity (e.g. a non-PD covariance) gives NaN
    i = int(np.flatnonzero(grid == now)[0])
    assert ok[i]
    assert abs(bound[i] - lm[i]) <= _tol(lm[i])
    assert abs(lm[i] - vc.log_marginal(m, x, p)) <= _tol(lm[i])
    assert np.all(bound[ok] <= lm[ok] + _tol(lm[ok]))


@settings(max_examples=100, **SETTINGS)
@given(st.sampled_from(["gmm1d", "gmm2d", "coins", "linkage"]).flatmap(lambda n: model_case(n, n_params=2)))
def test_line_bound_touches_at_both_ends_and_stays_below(case):
    m, x, pa, pb = case
    ts = np.linspace(0.0, 1.0, 41)
    batch = vc.line(m, pa, pb, ts)
    lm = vc.log_marginal_batch(m, x, batch)
    assert np.all(np.isfinite(lm))  # the segment is convex in every parameter, so valid
    for anchor, i in ((pa, 0), (pb, -1)):
        bound = vc.posterior_bound(m, x, anchor).over(m, batch)
        assert abs(bound[i] - lm[i]) <= _tol(lm[i])
        assert np.all(bound <= lm + _tol(lm))


@settings(max_examples=60, **SETTINGS)
@given(case_and_q())
def test_expected_log_joint_from_stats_matches_direct_sum(case):
    m, x, p, q = case
    lj = m.log_joint(x, p)
    direct = float(np.sum(np.where(q > 0, q * np.where(q > 0, lj, 0.0), 0.0)))
    via = float(m.expected_log_joint(m.expected_stats(x, q), p))
    assert abs(via - direct) <= 1e-9 * max(1.0, abs(direct))
