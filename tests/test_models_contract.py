"""One contract test suite, run over every model in vizcore.

What every discrete-latent model must satisfy, whatever its parameters:
responsibilities are distributions; L(q, θ) ≤ log p(X|θ) with equality at the
posterior and the gap equal to KL(q ‖ p(Z|X, θ)); the three decompositions of
the ELBO agree; the expected sufficient statistics reproduce Σ q·log p(x, z|θ)
at any θ; EM never decreases log p; the M-step is the argmax of
E_q[log p(X, Z|θ)] (checked by random perturbations, not by a formula);
fixed parameters stay put; a converged fit is a fixed point; the variance
floor keeps a collapsing Gaussian finite.

Expected values here are computed independently inside the test (direct sums
over the (N, K) joint, perturbation checks), never copied from the code's output.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.special import logsumexp, xlogy

import vizcore as vc
from vizcore import models as vm

MODEL_NAMES = ("gmm1d", "gmm2d", "coins", "linkage")


# ---------------------------------------------------------------------------------
# cases: realistic parameters on real data, and random parameters from a seed
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    model: object
    x: np.ndarray
    params: object
    fixed_options: tuple  # lists of names to hold fixed in EM tests


def _random_params(name: str, rng: np.random.Generator, k: int):
    m = vc.get_model(name)
    if name == "gmm1d":
        return m.make_params(weights=rng.dirichlet(np.full(k, 3.0)), means=rng.uniform(-10, 10, k),
                             variances=rng.uniform(0.5, 4.0, k))
    if name == "gmm2d":
        covs = []
        for _ in range(k):
            a = rng.normal(size=(2, 2))
            covs.append(a @ a.T + 0.3 * np.eye(2))
        return m.make_params(weights=rng.dirichlet(np.full(k, 3.0)), means=rng.uniform(-6, 6, (k, 2)),
                             covariances=np.array(covs))
    if name == "coins":
        return m.make_params(weights=rng.dirichlet(np.full(k, 3.0)), heads_probs=rng.uniform(0.1, 0.9, k))
    if name == "linkage":
        return m.make_params(theta=[rng.uniform(0.1, 0.9)])
    raise AssertionError(name)


def _random_data(name: str, rng: np.random.Generator, truth, n: int):
    m = vc.get_model(name)
    if name == "coins":
        # tosses vary by row, so the binomial coefficient matters
        z = rng.choice(truth.weights.size, size=n, p=truth.weights)
        tosses = rng.integers(3, 25, n)
        heads = rng.binomial(tosses, truth.heads_probs[z])
        return np.stack([heads, tosses], 1).astype(float)
    if name == "linkage":
        rows = [m.sample(truth, int(rng.integers(60, 250)), rng)[0][0] for _ in range(n)]
        return np.array(rows)
    return m.sample(truth, n, rng)[0]


FIXED_OPTIONS = {
    "gmm1d": ((), ("weights",), ("means[0]",), ("variances[1]",), ("weights[0]", "means")),
    "gmm2d": ((), ("weights",), ("means[0]",), ("covariances[1]",)),
    "coins": ((), ("weights",), ("heads_probs[0]",)),
    "linkage": ((), ("theta",)),
}


def _build_cases():
    cases = []
    g1, g2, co, li = (vc.get_model(n) for n in MODEL_NAMES)
    cases.append(Case("gmm1d-faithful", g1, np.asarray(vc.load_dataset("faithful_waiting")),
                      g1.make_params(weights=[.5, .5], means=[55, 80], variances=[25, 25]), FIXED_OPTIONS["gmm1d"]))
    cases.append(Case("gmm2d-faithful", g2, np.asarray(vc.load_dataset("old_faithful")),
                      g2.make_params(weights=[.5, .5], means=[[2.0, 55.0], [4.5, 80.0]],
                                     covariances=[[[0.5, 0.0], [0.0, 40.0]], [[0.5, 0.0], [0.0, 40.0]]]),
                      FIXED_OPTIONS["gmm2d"]))
    cases.append(Case("coins-do-batzoglou", co, np.asarray(vc.load_dataset("two_coins")),
                      co.make_params(weights=[.5, .5], heads_probs=[.6, .5]), FIXED_OPTIONS["coins"]))
    cases.append(Case("linkage-dlr", li, np.asarray(vc.load_dataset("genetic_linkage")),
                      li.make_params(theta=[0.5]), FIXED_OPTIONS["linkage"]))
    for seed, (name, k, n) in enumerate([("gmm1d", 3, 150), ("gmm2d", 3, 120), ("coins", 3, 40), ("linkage", 1, 3)]):
        rng = np.random.default_rng(1000 + seed)
        truth = _random_params(name, rng, k)
        x = _random_data(name, rng, truth, n)
        init = _random_params(name, rng, k)
        cases.append(Case(f"{name}-random-seed{1000 + seed}", vc.get_model(name), x, init, FIXED_OPTIONS[name]))
    return cases


CASES = _build_cases()
CASE_IDS = [c.id for c in CASES]
FIXED_CASES = [(c, f) for c in CASES for f in c.fixed_options]
FIXED_IDS = [f"{c.id}-fixed={'+'.join(f) or 'none'}" for c, f in FIXED_CASES]


# ---------------------------------------------------------------------------------
# independent helpers (direct sums over the (N, K) joint)
# ---------------------------------------------------------------------------------
def _support(case):
    """Boolean (N, K): latent values with p(x_n, z_n = k) > 0."""
    return np.isfinite(case.model.log_joint(case.x, case.params))


def _random_q(case, rng, alpha):
    """Dirichlet rows on the support of the joint (linkage: z ≤ y1 of each row)."""
    sup = _support(case)
    q = np.zeros(sup.shape)
    for n in range(sup.shape[0]):
        idx = np.flatnonzero(sup[n])
        q[n, idx] = rng.dirichlet(np.full(idx.size, alpha))
    return q


def _direct_energy(model, x, params, resp):
    lj = model.log_joint(x, params)
    return float(np.sum(np.where(resp > 0, resp * np.where(resp > 0, lj, 0.0), 0.0)))


def _direct_elbo(model, x, params, resp):
    return _direct_energy(model, x, params, resp) - float(np.sum(xlogy(resp, resp)))


def _direct_log_marginal(model, x, params):
    return float(np.sum(logsumexp(model.log_joint(x, params), axis=1)))


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


def _qs(case, n=12, seed=0):
    rng = np.random.default_rng(seed)
    return [_random_q(case, rng, alpha) for alpha in np.geomspace(0.05, 20, n)]


# ---------------------------------------------------------------------------------
# responsibilities, ELBO, KL, decompositions
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_responsibilities_are_distributions(case):
    resp = vc.posterior(case.model, case.x, case.params)
    lj = case.model.log_joint(case.x, case.params)
    assert resp.shape == lj.shape
    assert np.all(resp >= 0)
    np.testing.assert_allclose(resp.sum(1), 1.0, rtol=0, atol=1e-12)
    # Bayes' rule written out: p(z|x) = p(x, z) / Σ_z' p(x, z')
    expected = np.exp(lj - logsumexp(lj, axis=1, keepdims=True))
    np.testing.assert_allclose(resp, expected, rtol=1e-10, atol=1e-300)
    np.testing.assert_array_equal(vc.e_step(case.model, case.x, case.params), resp)
    # log_marginal per point agrees with the same direct logsumexp
    np.testing.assert_allclose(vc.log_marginal(case.model, case.x, case.params, per_sample=True),
                               logsumexp(lj, axis=1), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_elbo_below_log_marginal_for_random_q(case):
    lm = vc.log_marginal(case.model, case.x, case.params)
    assert np.isfinite(lm)
    assert _rel(lm, _direct_log_marginal(case.model, case.x, case.params)) < 1e-12
    for q in _qs(case):
        el = vc.elbo(case.model, case.x, case.params, q)
        assert _rel(el, _direct_elbo(case.model, case.x, case.params, q)) < 1e-10
        assert el <= lm + 1e-12 * abs(lm)
        gap = vc.kl_gap(case.model, case.x, case.params, q)
        assert gap >= 0
        # ELBO + KL(q ‖ posterior) = log p
        assert _rel(el + gap, lm) < 1e-10
        # a random Dirichlet q is not the posterior: the gap is strictly positive
        assert lm - el > 1e-9 * max(1.0, abs(lm))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_elbo_equals_log_marginal_at_posterior(case):
    lm = vc.log_marginal(case.model, case.x, case.params)
    post = vc.posterior(case.model, case.x, case.params)
    el = vc.elbo(case.model, case.x, case.params, post)
    assert abs(el - lm) <= 1e-10 * abs(lm)
    assert abs(vc.kl_gap(case.model, case.x, case.params, post)) <= 1e-10 * max(1.0, abs(lm))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_decompositions_agree(case):
    model, x, params = case.model, case.x, case.params
    lp = np.asarray(model.log_prior(x, params))
    lj = model.log_joint(x, params)
    lm = _direct_log_marginal(model, x, params)
    for q in _qs(case, n=6, seed=1) + [vc.posterior(model, x, params)]:
        d = vc.decompose(model, x, params, q)
        scale = max(1.0, abs(lm))
        assert abs(d.log_marginal - lm) <= 1e-12 * scale
        # independent pieces
        entropy = -float(np.sum(xlogy(q, q)))
        energy = _direct_energy(model, x, params, q)
        on = q > 0
        kl_prior = float(np.sum(q[on] * (np.log(q[on]) - lp[on])))
        exp_loglik = float(np.sum(q[on] * (lj[on] - lp[on])))
        assert abs(d.entropy - entropy) <= 1e-10 * max(1.0, entropy)
        assert abs(d.energy - energy) <= 1e-10 * scale
        assert abs(d.kl_prior - kl_prior) <= 1e-10 * scale
        assert abs(d.expected_log_lik - exp_loglik) <= 1e-10 * scale
        # three ways of writing the same L(q, θ)
        assert abs((d.energy + d.entropy) - d.elbo) <= 1e-10 * scale
        assert abs((d.expected_log_lik - d.kl_prior) - d.elbo) <= 1e-10 * scale
        assert abs((d.log_marginal - d.kl_posterior) - d.elbo) <= 1e-10 * scale
        assert abs(d.elbo - vc.elbo(model, x, params, q)) <= 1e-10 * scale
        assert d.kl_posterior >= -1e-12 * scale and d.kl_prior >= -1e-12 * scale


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_expected_stats_reproduce_expected_log_joint(case):
    """E_q[log p(X,Z|θ')] from the statistics of q equals Σ q·log p(x, z|θ') for any θ', not only θ."""
    model, x = case.model, case.x
    rng = np.random.default_rng(7)
    k = case.params.weights.size if hasattr(case.params, "weights") else 1
    thetas = [case.params] + [_random_params(model.name, rng, k) for _ in range(3)]
    qs = _qs(case, n=4, seed=2) + [vc.posterior(model, x, case.params)]
    for q in qs:
        stats = model.expected_stats(x, q)
        for th in thetas:
            direct = _direct_energy(model, x, th, q)
            via_stats = float(model.expected_log_joint(stats, th))
            assert _rel(via_stats, direct) < 1e-10, (th, via_stats, direct)


# ---------------------------------------------------------------------------------
# EM
# ---------------------------------------------------------------------------------
def _run(case, fixed, max_iter=40):
    return vc.run_em(case.model, case.x, case.params, fixed=list(fixed), max_iter=max_iter, tol=None)


@pytest.mark.parametrize("case,fixed", FIXED_CASES, ids=FIXED_IDS)
def test_em_log_likelihood_never_decreases_and_bounds_sandwich(case, fixed):
    tr = _run(case, fixed)
    ll = np.asarray(tr.log_likelihood)
    assert tr.n_iter == 40 and len(tr.params) == 41 and ll.shape == (41,)
    assert tr.elbo_after_e.shape == (40,) and tr.elbo_after_m.shape == (40,)
    assert np.all(np.isfinite(ll))
    tol = 1e-10 * np.maximum(1.0, np.abs(ll))
    assert np.all(np.diff(ll) >= -tol[1:]), np.diff(ll)
    for t in range(tr.n_iter):
        # the bound touches after the E-step ...
        assert abs(tr.elbo_after_e[t] - ll[t]) <= tol[t]
        # ... and the M-step lifts it, but never above the new log p
        assert ll[t] - tol[t] <= tr.elbo_after_m[t] <= ll[t + 1] + tol[t + 1]
    # the trace agrees with the generic, data-based functions
    for t in (0, 1, tr.n_iter - 1):
        assert _rel(ll[t], vc.log_marginal(case.model, case.x, tr.params[t])) < 1e-12
        q = vc.posterior(case.model, case.x, tr.params[t])
        assert _rel(tr.elbo_after_m[t], vc.elbo(case.model, case.x, tr.params[t + 1], q)) < 1e-10
        assert _rel(tr.elbo_after_e[t], vc.elbo(case.model, case.x, tr.params[t], q)) < 1e-10
        expected_next = vc.m_step(case.model, case.x, q, tr.params[t], fixed=list(fixed))
        for f in case.model.param_names:
            np.testing.assert_allclose(getattr(tr.params[t + 1], f), getattr(expected_next, f), rtol=1e-12, atol=0)


def _fixed_entries(model, params, fixed):
    """Boolean arrays per field (same shape as the field) of entries that must not move."""
    out = {}
    for f in model.param_names:
        arr = getattr(params, f)
        out[f] = np.zeros(arr.shape, dtype=bool)
    for item in fixed:
        if "[" in item:
            f, k = item[:-1].split("[")
            out[f][int(k)] = True
        else:
            out[item][...] = True
    return out


@pytest.mark.parametrize("case,fixed", [fc for fc in FIXED_CASES if fc[1]], ids=[i for i, fc in zip(FIXED_IDS, FIXED_CASES) if fc[1]])
def test_fixed_parameters_stay_exactly_unchanged(case, fixed):
    tr = _run(case, fixed, max_iter=15)
    mask = _fixed_entries(case.model, case.params, fixed)
    moved_free = False
    for p in tr.params[1:]:
        for f in case.model.param_names:
            a0, a = getattr(case.params, f), getattr(p, f)
            np.testing.assert_array_equal(a[mask[f]], a0[mask[f]])
            if np.any(a[~mask[f]] != a0[~mask[f]]):
                moved_free = True
    # holding some parameters fixed must not freeze the others (unless all are fixed)
    all_fixed = all(mask[f].all() for f in case.model.param_names)
    assert moved_free or all_fixed
    if all_fixed:
        assert all(p == case.params for p in tr.params)
    # weights still sum to one when some are fixed
    if hasattr(case.params, "weights"):
        for p in tr.params:
            assert abs(p.weights.sum() - 1) < 1e-12


def _perturb(model, params, fixed, rng, scale):
    """A random valid θ near ``params`` that moves only the free entries."""
    mask = _fixed_entries(model, params, fixed)
    new = {}
    for f in model.param_names:
        a = np.array(getattr(params, f), dtype=float)
        free = ~mask[f]
        if f == "weights":
            w = a.copy()
            if free.sum() >= 2:
                mass = w[free].sum()
                wf = w[free] * np.exp(scale * rng.normal(size=free.sum()))
                w[free] = mass * wf / wf.sum()
            new[f] = w
        elif f == "means":
            new[f] = np.where(free.reshape(free.shape), a + scale * (1 + np.abs(a)) * rng.normal(size=a.shape), a)
        elif f == "variances":
            new[f] = np.where(free, a * np.exp(scale * rng.normal(size=a.shape)), a)
        elif f == "covariances":
            out = a.copy()
            for k in range(a.shape[0]):
                if free[k, 0, 0]:
                    lo = np.linalg.cholesky(a[k])
                    lo = lo @ (np.eye(2) + scale * np.tril(rng.normal(size=(2, 2))))
                    out[k] = lo @ lo.T
            new[f] = out
        elif f in ("heads_probs", "theta"):
            logit = np.log(a) - np.log1p(-a)
            moved = 1 / (1 + np.exp(-(logit + scale * rng.normal(size=a.shape))))
            new[f] = np.where(free, moved, a)
        else:
            raise AssertionError(f)
    return model.make_params(new)


@pytest.mark.parametrize("case,fixed", FIXED_CASES, ids=FIXED_IDS)
def test_m_step_is_the_argmax(case, fixed):
    """No valid perturbation of the free parameters raises E_q[log p(X, Z|θ)] above the M-step's."""
    model, x = case.model, case.x
    q = vc.posterior(model, x, case.params)
    new = vc.m_step(model, x, q, case.params, fixed=list(fixed))
    model.make_params(new.to_dict())  # the M-step returns valid parameters
    best = _direct_energy(model, x, new, q)
    assert best >= _direct_energy(model, x, case.params, q) - 1e-12 * abs(best)
    rng = np.random.default_rng(11)
    for scale in (1e-4, 1e-3, 1e-2, 1e-1, 0.5):
        for _ in range(15):
            cand = _perturb(model, new, fixed, rng, scale)
            value = _direct_energy(model, x, cand, q)
            assert value <= best + 1e-12 * abs(best), (scale, cand, value - best)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_converged_fit_is_a_fixed_point(case):
    tr = vc.run_em(case.model, case.x, case.params, max_iter=20000, tol=1e-12)
    assert tr.converged
    last = tr.params[-1]
    q = vc.posterior(case.model, case.x, last)
    again = vc.m_step(case.model, case.x, q, last)
    for f in case.model.param_names:
        a, b = getattr(last, f), getattr(again, f)
        assert np.all(np.abs(a - b) <= 1e-6 * (1 + np.abs(a))), (f, a, b)
    # and the log-likelihood stops moving
    assert vc.log_marginal(case.model, case.x, again) - tr.log_likelihood[-1] < 1e-9 * abs(tr.log_likelihood[-1])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_em_does_not_mutate_inputs(case):
    before = case.params.to_dict()
    x_before = np.array(case.x, copy=True)
    vc.run_em(case.model, case.x, case.params, max_iter=3, tol=None)
    assert case.params.to_dict() == before
    np.testing.assert_array_equal(case.x, x_before)


# ---------------------------------------------------------------------------------
# variance floor
# ---------------------------------------------------------------------------------
def _assert_em_sane(tr):
    ll = np.asarray(tr.log_likelihood)
    assert np.all(np.isfinite(ll))
    assert np.all(np.diff(ll) >= -1e-10 * np.maximum(1.0, np.abs(ll[1:])))
    assert np.all(np.isfinite(tr.elbo_after_e)) and np.all(np.isfinite(tr.elbo_after_m))


def test_variance_floor_outlier_component_gmm1d():
    m = vc.get_model("gmm1d")
    x = np.append(np.asarray(vc.load_dataset("faithful_waiting")), 250.0)  # one far outlier
    init = m.make_params(weights=[0.9, 0.1], means=[70.0, 250.0], variances=[180.0, 1e-6])
    tr = vc.run_em(m, x, init, max_iter=10, tol=None)
    _assert_em_sane(tr)
    assert tr.floored is True
    floor = vm.VARIANCE_FLOOR_RELATIVE * np.var(x)  # independent: numpy's population variance
    for p in tr.params[1:]:
        assert np.all(p.variances > 0) and np.all(np.isfinite(p.variances))
        assert p.variances[1] >= floor * (1 - 1e-9)
    # the collapsing component sits on the outlier at exactly the floor
    assert abs(tr.params[-1].means[1] - 250.0) < 1e-9
    assert abs(tr.params[-1].variances[1] - floor) <= 1e-9 * floor


def test_variance_floor_all_equal_data_gmm1d():
    m = vc.get_model("gmm1d")
    x = np.full(25, 3.0)
    init = m.make_params(weights=[0.5, 0.5], means=[2.0, 4.5], variances=[1.0, 2.0])
    tr = vc.run_em(m, x, init, max_iter=5, tol=None)
    _assert_em_sane(tr)
    assert tr.floored is True
    p = tr.params[-1]
    np.testing.assert_allclose(p.means, 3.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.variances, vm.VARIANCE_FLOOR_ABSOLUTE, rtol=1e-12)
    # log p at the floor: every point at the mean of N(3, floor)
    expected = len(x) * (-0.5 * np.log(2 * np.pi * vm.VARIANCE_FLOOR_ABSOLUTE))
    assert _rel(tr.log_likelihood[-1], expected) < 1e-10


def test_variance_floor_collinear_data_gmm2d():
    m = vc.get_model("gmm2d")
    t = np.linspace(-3, 3, 40)
    x = np.stack([t, 2 * t + 1], 1)  # all on one line: a full-covariance fit is singular
    init = m.make_params(weights=[0.5, 0.5], means=[[-1, -1], [1, 3]], covariances=[np.eye(2), np.eye(2)])
    tr = vc.run_em(m, x, init, max_iter=10, tol=None)
    _assert_em_sane(tr)
    assert tr.floored is True
    for p in tr.params:
        lam = np.linalg.eigvalsh(p.covariances)
        assert np.all(lam > 0)


def test_variance_floor_not_reported_on_a_healthy_fit():
    m = vc.get_model("gmm1d")
    x = vc.load_dataset("faithful_waiting")
    tr = vc.run_em(m, x, m.make_params(weights=[.5, .5], means=[55, 80], variances=[25, 25]), max_iter=50)
    assert tr.floored is False
