"""vizcore.vi against independent references: closed forms, scipy.stats, brute-force
quadrature, and the inequalities that define a lower bound."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from vizcore import vi

LINEAR_CASES = [
    ((0.7, 1.9, -0.4), 1.3, 0.2, 0.8),
    ((2.5,), 0.5, 0.0, 2.0),
    ((-1.0, -0.2, 0.4, 1.1, 0.3), 2.0, -0.5, 0.6),
]
POISSON_CASES = [((1, 0, 0), 0.0, 4.0), ((0,), 0.0, 4.0), ((3, 5, 2, 4), 1.0, 0.5), ((0, 1), -1.0, 2.25)]
HYP = settings(max_examples=40, deadline=None)


def linear(case):
    x, w, b, v = case
    return vi.LinearGaussian(x, loading=w, offset=b, noise_var=v)


def poisson(case):
    x, mu, var = case
    return vi.PoissonLogNormal(x, prior_mean=mu, prior_var=var)


def brute_log_evidence(model, lo=-40.0, hi=12.0, n=400001):
    """log ∫ p(x, z) dz by a plain trapezoid on a huge grid, with scipy.stats densities."""
    z = np.linspace(lo, hi, n)
    if isinstance(model, vi.PoissonLogNormal):
        logj = stats.norm.logpdf(z, model.prior_mean, math.sqrt(model.prior_var))
        for c in model.x:
            logj = logj + stats.poisson.logpmf(c, np.exp(z))
    else:
        logj = stats.norm.logpdf(z)
        for xi in model.x:
            logj = logj + stats.norm.logpdf(xi, model.loading * z + model.offset, math.sqrt(model.noise_var))
    peak = logj.max()
    return peak + math.log(np.trapezoid(np.exp(logj - peak), z))


def closed_form_elbo(model, m, s):
    """ELBO of N(m, s²) written out by hand (no quadrature)."""
    ent = 0.5 * math.log(2 * math.pi * math.e * s * s)
    if isinstance(model, vi.PoissonLogNormal):
        x = np.array(model.x, dtype=float)
        mu, v = model.prior_mean, model.prior_var
        prior = -0.5 * math.log(2 * math.pi * v) - ((m - mu) ** 2 + s * s) / (2 * v)
        lik = x.sum() * m - x.size * math.exp(m + s * s / 2) - sum(math.lgamma(c + 1) for c in model.x)
        return prior + lik + ent
    x = np.array(model.x)
    w, b, v = model.loading, model.offset, model.noise_var
    prior = -0.5 * math.log(2 * math.pi) - (m * m + s * s) / 2
    lik = np.sum(-0.5 * math.log(2 * math.pi * v) - ((x - b - w * m) ** 2 + w * w * s * s) / (2 * v))
    return prior + lik + ent


# ---------------------------------------------------------------------------
# Exact answers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", LINEAR_CASES)
def test_quadrature_matches_the_closed_forms_on_the_gaussian_model(case):
    model = linear(case)
    x, w, b, v = case
    n = len(x)
    reference = stats.multivariate_normal(mean=np.full(n, b), cov=v * np.eye(n) + w * w * np.ones((n, n))).logpdf(x)
    ev = vi.evidence(model)
    assert ev.log_evidence == pytest.approx(reference, abs=1e-9)
    assert model.exact_log_evidence() == pytest.approx(reference, abs=1e-9)
    prec = 1 + n * w * w / v
    assert ev.mean == pytest.approx(w / v * (np.sum(x) - n * b) / prec, abs=1e-9)
    assert ev.var == pytest.approx(1 / prec, rel=1e-8)
    assert ev.rel_error < 1e-8


@pytest.mark.parametrize("case", POISSON_CASES)
def test_poisson_evidence_matches_brute_force_quadrature(case):
    model = poisson(case)
    ev = vi.evidence(model)
    assert ev.log_evidence == pytest.approx(brute_log_evidence(model), abs=1e-8)
    z = np.linspace(ev.lo, ev.hi, 200001)
    dens = vi.posterior_pdf(model, z, ev)
    assert np.trapezoid(dens, z) == pytest.approx(1.0, abs=1e-9)
    assert np.trapezoid(z * dens, z) == pytest.approx(ev.mean, abs=1e-8)
    assert ev.mean < ev.mode  # a long left tail: the posterior is skewed


def test_grid_and_quad_agree_on_the_group_marginal():
    groups = vi.PoissonGroups(((0,), (3, 1), (7,), (1, 0, 2)))
    for mu, var in ((0.0, 1.0), (1.5, 0.2), (-1.0, 6.0)):
        quad = vi.group_log_marginal(groups, mu, var)
        grid = vi.group_log_marginal_grid(groups, [mu], [var])[0]
        brute = sum(brute_log_evidence(groups.group(j, mu, var)) for j in range(groups.n_groups))
        assert grid == pytest.approx(quad, abs=1e-8)
        assert quad == pytest.approx(brute, abs=1e-7)


# ---------------------------------------------------------------------------
# ELBO of a Gaussian q
# ---------------------------------------------------------------------------

def gauss_hermite_elbo(model, m, s, nodes=96):
    """E_q[log p(x, z)] + H(q) by Gauss–Hermite quadrature of the model's own log p(x, z)."""
    t, w = np.polynomial.hermite.hermgauss(nodes)
    z = m + s * math.sqrt(2.0) * t
    return float(w @ model.log_joint(z)) / math.sqrt(math.pi) + 0.5 * math.log(2 * math.pi * math.e * s * s)


def quad_elbo(model, m, s):
    """The same ELBO as ∫ q(z) [log p(x, z) − log q(z)] dz by scipy's adaptive quadrature."""
    from scipy import integrate
    q = stats.norm(m, s)
    val, _ = integrate.quad(lambda z: q.pdf(z) * (float(model.log_joint(z)) - q.logpdf(z)), m - 14 * s, m + 14 * s,
                            epsabs=1e-12, epsrel=1e-12, limit=400)
    return val


ELBO_MODELS = [linear(LINEAR_CASES[0]), linear(LINEAR_CASES[-1]), poisson(POISSON_CASES[0]), poisson(POISSON_CASES[2]),
               poisson(POISSON_CASES[3])]


@pytest.mark.parametrize("model", ELBO_MODELS)
def test_closed_form_elbo_matches_gauss_hermite_and_adaptive_quadrature(model):
    """``elbo_gaussian`` uses each model's closed-form E_q[log p(x, z)]; two quadratures of log p(x, z) check it."""
    for m, s in ((0.3, 0.5), (-2.0, 1.5), (1.0, 0.05), (0.0, 3.0), (2.5, 0.2)):
        got = vi.elbo_gaussian(model, m, s)
        assert got == pytest.approx(gauss_hermite_elbo(model, m, s), rel=1e-12, abs=1e-9)
        assert got == pytest.approx(quad_elbo(model, m, s), rel=1e-10, abs=1e-8)
    ms, ss = np.meshgrid(np.linspace(-4, 4, 9), np.exp(np.linspace(np.log(0.05), np.log(3.0), 7)))
    want = np.vectorize(lambda m, s: gauss_hermite_elbo(model, m, s))(ms, ss)
    np.testing.assert_allclose(vi.elbo_grid(model, ms[0], np.log(ss[:, 0])).elbo, want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("model", ELBO_MODELS + [poisson(POISSON_CASES[1])])  # one count: e^z alone overflows
def test_scalar_log_joint_is_the_array_log_joint(model):
    """Quadrature calls ``log_joint_scalar`` (math, not numpy); it must be the same function, overflow included."""
    z = np.concatenate([np.linspace(-30, 30, 241), [-800.0, 708.9, 709.5, 709.78, 709.79, 800.0, -1e200, 1e200]])
    with np.errstate(over="ignore", invalid="ignore"):
        want = model.log_joint(z)
    got = np.array([model.log_joint_scalar(float(v)) for v in z])
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    assert np.array_equal(np.isinf(got), np.isinf(want))


@pytest.mark.parametrize("model", [linear(LINEAR_CASES[0]), poisson(POISSON_CASES[0]), poisson(POISSON_CASES[2])])
def test_elbo_matches_the_closed_form_written_per_data_point(model):
    for m, s in ((0.3, 0.5), (-2.0, 1.5), (1.0, 0.05), (0.0, 3.0)):
        assert vi.elbo_gaussian(model, m, s) == pytest.approx(closed_form_elbo(model, m, s), abs=1e-9)
    grid = vi.elbo_grid(model, [-1.0, 0.5], np.log([0.2, 1.0, 2.0]))
    assert grid.elbo.shape == (3, 2)
    assert grid.elbo[2, 1] == pytest.approx(closed_form_elbo(model, 0.5, 2.0), abs=1e-9)


@HYP
@given(m=st.floats(-5, 5), s=st.floats(0.05, 3.0), which=st.sampled_from(["linear", "poisson", "poisson0"]))
def test_elbo_never_exceeds_log_evidence_and_the_gap_is_the_kl(m, s, which):
    model = {"linear": linear(LINEAR_CASES[0]), "poisson": poisson(POISSON_CASES[0]),
             "poisson0": poisson(POISSON_CASES[1])}[which]
    ev = _evidence(which)
    elbo = vi.elbo_gaussian(model, m, s)
    assert elbo <= ev.log_evidence + 1e-12
    kl = vi.kl_gaussian_q_quad(model, m, s, ev)
    assert kl >= -1e-10
    assert ev.log_evidence - elbo == pytest.approx(kl, abs=1e-7, rel=1e-8)


_EV = {}


def _evidence(which):
    if which not in _EV:
        model = {"linear": linear(LINEAR_CASES[0]), "poisson": poisson(POISSON_CASES[0]),
                 "poisson0": poisson(POISSON_CASES[1])}[which]
        _EV[which] = vi.evidence(model)
    return _EV[which]


@pytest.mark.parametrize("case", LINEAR_CASES)
def test_best_gaussian_closes_the_gap_on_the_gaussian_model(case):
    model = linear(case)
    fit = vi.fit_gaussian_q(model, start=(3.0, 2.0))
    mean, var = model.exact_posterior()
    assert model.exact_log_evidence() - fit.elbo == pytest.approx(0.0, abs=1e-8)
    assert fit.gap < 1e-8
    assert fit.mean == pytest.approx(mean, abs=1e-6)
    assert fit.sd ** 2 == pytest.approx(var, rel=1e-6)


@pytest.mark.parametrize("case", POISSON_CASES)
def test_best_gaussian_leaves_a_gap_that_the_mixture_partly_closes(case):
    model = poisson(case)
    ev = vi.evidence(model)
    fit = vi.fit_gaussian_q(model, ev)
    assert fit.gap > 1e-3                       # the posterior is not Gaussian
    # it is the maximum: no cell of a fine grid around it does better
    grid = vi.elbo_grid(model, np.linspace(fit.mean - 0.3, fit.mean + 0.3, 41),
                        np.linspace(math.log(fit.sd) - 0.3, math.log(fit.sd) + 0.3, 41), ev)
    assert grid.elbo.max() <= fit.elbo + 1e-12
    assert fit.gap == pytest.approx(vi.kl_gaussian_q_quad(model, fit.mean, fit.sd, ev), abs=1e-8)
    mix = vi.fit_mixture_q(model, ev, fit)
    assert 0.0 <= mix.gap < 0.5 * fit.gap       # closes more than half of it here
    assert mix.closed_fraction == pytest.approx((fit.gap - mix.gap) / fit.gap)
    assert mix.elbo <= ev.log_evidence + 1e-12
    assert mix.gap == pytest.approx(vi.kl_mixture_q_quad(model, mix, ev), abs=1e-8)
    assert mix.elbo == pytest.approx(vi.elbo_mixture(model, mix.weight, mix.means, mix.sds), abs=1e-12)


def test_mixture_is_the_gaussian_when_nothing_is_left_to_close():
    mix = vi.fit_mixture_q(linear(LINEAR_CASES[0]))
    assert math.isnan(mix.closed_fraction)
    assert mix.gap < 1e-8


def test_mixture_elbo_by_gauss_hermite_matches_plain_quadrature():
    model = poisson(POISSON_CASES[0])
    w, means, sds = 0.3, np.array([-2.0, -0.5]), np.array([1.1, 0.7])
    z = np.linspace(-20, 12, 400001)
    log_q = np.logaddexp(np.log(w) + stats.norm.logpdf(z, means[0], sds[0]),
                         np.log(1 - w) + stats.norm.logpdf(z, means[1], sds[1]))
    reference = np.trapezoid(np.exp(log_q) * (model.log_joint(z) - log_q), z)
    assert vi.elbo_mixture(model, w, means, sds) == pytest.approx(reference, abs=1e-8)
    assert vi.mixture_logpdf(0.1, w, means, sds) == pytest.approx(np.interp(0.1, z, log_q), abs=1e-6)


# ---------------------------------------------------------------------------
# Stochastic gradient ascent
# ---------------------------------------------------------------------------

def test_sga_is_reproducible_and_reports_the_exact_elbo_of_its_iterates():
    model = poisson(POISSON_CASES[0])
    a = vi.sga(model, 1.0, 1.0, step_size=0.02, n_samples=5, n_steps=50, rng=np.random.default_rng(3))
    b = vi.sga(model, 1.0, 1.0, step_size=0.02, n_samples=5, n_steps=50, rng=np.random.default_rng(3))
    c = vi.sga(model, 1.0, 1.0, step_size=0.02, n_samples=5, n_steps=50, rng=np.random.default_rng(4))
    assert np.array_equal(a.means, b.means) and not np.array_equal(a.means, c.means)
    assert a.means.shape == a.log_sds.shape == a.elbo.shape == (51,)
    assert a.grad_estimates.shape == (50, 2)
    assert a.means[0] == 1.0 and a.log_sds[0] == 0.0
    for t in (0, 17, 50):
        assert a.elbo[t] == pytest.approx(vi.elbo_gaussian(model, a.means[t], math.exp(a.log_sds[t])), abs=1e-12)


def test_sga_climbs_to_the_best_gaussian():
    model = poisson(POISSON_CASES[0])
    fit = vi.fit_gaussian_q(model)
    path = vi.sga(model, 2.0, 2.0, step_size=0.02, n_samples=50, n_steps=400, rng=np.random.default_rng(0))
    assert path.elbo[-1] > path.elbo[0] + 1.0
    assert fit.elbo - 0.01 < np.mean(path.elbo[-50:]) <= fit.elbo + 1e-12


def test_reparameterised_gradient_is_unbiased():
    model = poisson(POISSON_CASES[2])
    m, s = 0.8, 0.4
    path = vi.sga(model, m, s, step_size=1e-300, n_samples=10000, n_steps=1, rng=np.random.default_rng(1))
    h = 1e-5
    dm = (vi.elbo_gaussian(model, m + h, s) - vi.elbo_gaussian(model, m - h, s)) / (2 * h)
    dls = (vi.elbo_gaussian(model, m, s * math.exp(h)) - vi.elbo_gaussian(model, m, s * math.exp(-h))) / (2 * h)
    g = path.grad_estimates[0]
    assert g[0] == pytest.approx(dm, abs=0.05 * (abs(dm) + 1))
    assert g[1] == pytest.approx(dls, abs=0.05 * (abs(dls) + 1))


def test_sga_with_a_huge_step_stays_finite():
    model = poisson(POISSON_CASES[2])
    path = vi.sga(model, 3.0, 3.0, step_size=0.5, n_samples=1, n_steps=100, rng=np.random.default_rng(0))
    assert np.all(np.isfinite(path.means)) and np.all(np.isfinite(path.elbo))
    assert path.clipped > 0
    assert np.all(path.log_sds >= vi.LOG_SD_BOUNDS[0]) and np.all(path.log_sds <= vi.LOG_SD_BOUNDS[1])


# ---------------------------------------------------------------------------
# Importance-weighted bounds
# ---------------------------------------------------------------------------

def test_iwae_is_the_elbo_at_k1_rises_with_k_and_stays_below_log_p():
    model = poisson(POISSON_CASES[0])
    ev = vi.evidence(model)
    ks = [1, 2, 5, 10, 50, 200, 1000]
    res = vi.iwae(model, -0.3, 0.6, ks, 400, np.random.default_rng(0), ev)   # a poor q: big steps in K
    assert res.elbo == pytest.approx(vi.elbo_gaussian(model, -0.3, 0.6))
    assert abs(res.means[0] - res.elbo) < 3 * res.ses[0]
    assert np.all(res.means <= ev.log_evidence + 3 * res.ses)
    for a in range(len(ks) - 1):
        assert res.means[a + 1] >= res.means[a] - 3 * math.hypot(res.ses[a], res.ses[a + 1])
    assert res.means[-1] - res.means[0] > 5 * math.hypot(res.ses[0], res.ses[-1])
    assert ev.log_evidence - res.means[-1] < 0.2 * (ev.log_evidence - res.elbo)


def test_iwae_means_are_reproducible_and_seed_dependent():
    model = poisson(POISSON_CASES[2])
    a = vi.iwae(model, 1.0, 0.3, [1, 10], 50, np.random.default_rng(5))
    b = vi.iwae(model, 1.0, 0.3, [1, 10], 50, np.random.default_rng(5))
    c = vi.iwae(model, 1.0, 0.3, [1, 10], 50, np.random.default_rng(6))
    assert np.array_equal(a.means, b.means) and not np.array_equal(a.means, c.means)


@pytest.mark.parametrize("refit", [False, True])
def test_iwae_curves_over_theta(refit):
    model = poisson(POISSON_CASES[0])
    thetas = np.linspace(-2.0, 2.0, 9)
    cur = vi.iwae_over_theta(model, thetas, [1, 10, 100], refit=refit, n_replicates=100, rng=np.random.default_rng(0))
    assert cur.bounds.shape == (3, 9)
    for g, th in enumerate(thetas):
        mod = model.with_theta(th)
        assert cur.log_evidence[g] == pytest.approx(vi.evidence(mod).log_evidence, abs=1e-10)
        assert cur.bounds[0, g] == pytest.approx(vi.elbo_gaussian(mod, cur.q_means[g], cur.q_sds[g]), abs=1e-12)
    assert np.all(cur.bounds[0] < cur.log_evidence)          # the ELBO never touches on this model
    assert np.mean(cur.bounds[2] - cur.bounds[0]) > 0          # more samples, tighter
    if refit:
        fits = [vi.fit_gaussian_q(model.with_theta(th)) for th in thetas]
        assert np.allclose(cur.bounds[0], [f.elbo for f in fits], atol=1e-9)
    else:
        assert np.ptp(cur.q_means) == 0 and np.ptp(cur.q_sds) == 0


# ---------------------------------------------------------------------------
# Mean-field
# ---------------------------------------------------------------------------

def reverse_kl_by_hand(mean, cov, qm, qv):
    """KL(N(qm, diag qv) ‖ N(mean, cov)) written out with numpy (not kl_mvn)."""
    prec = np.linalg.inv(cov)
    d = np.asarray(mean) - np.asarray(qm)
    return 0.5 * (np.trace(prec @ np.diag(qv)) + d @ prec @ d - 2 + math.log(np.linalg.det(cov) / np.prod(qv)))


@settings(max_examples=25, deadline=None)
@given(rho=st.floats(-0.95, 0.95), m1=st.floats(-4, 4), m2=st.floats(-4, 4), v1=st.floats(0.05, 4),
       v2=st.floats(0.05, 4))
def test_cavi_never_lowers_the_elbo(rho, m1, m2, v1, v2):
    mean, cov = vi.correlated_gaussian(rho, sds=(1.0, 1.5), mean=(0.5, -1.0))
    tr = vi.cavi(mean, cov, (m1, m2), (v1, v2), 12)
    assert np.all(np.diff(tr.elbo) >= -1e-10)
    assert np.all(tr.elbo <= 1e-12)
    assert tr.elbo[5] == pytest.approx(-reverse_kl_by_hand(mean, cov, tr.means[5], tr.variances[5]), abs=1e-9)


@pytest.mark.parametrize("rho", [-0.9, 0.3, 0.8])
def test_cavi_finds_the_mean_and_underestimates_the_variance(rho):
    mean, cov = vi.correlated_gaussian(rho, sds=(1.0, 2.0), mean=(1.0, -0.5))
    tr = vi.cavi(mean, cov, (-3.0, 3.0), (1.0, 1.0), 200)
    assert np.allclose(tr.means[-1], mean, atol=1e-8)
    prec = np.linalg.inv(cov)
    assert np.allclose(tr.variances[-1], 1 / np.diag(prec))
    assert np.allclose(tr.variances[-1], np.diag(cov) * (1 - rho ** 2))
    assert np.all(tr.variances[-1] < np.diag(cov))
    assert tr.elbo[-1] == pytest.approx(0.5 * math.log(1 - rho ** 2), abs=1e-9)
    f_mean, f_var, f_kl = vi.forward_fit(mean, cov)
    assert np.allclose(f_var, np.diag(cov))
    assert f_kl == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=1e-12)
    assert list(tr.updated[:4]) == [0, 1, 0, 1]


def test_one_cavi_update_is_the_exact_conditional_optimum():
    mean, cov = vi.correlated_gaussian(0.7, sds=(1.0, 1.0))
    qm, qv = vi.cavi_update(mean, cov, (0.0, 2.0), (0.5, 0.5), 0)
    best = optimize.minimize(lambda p: reverse_kl_by_hand(mean, cov, (p[0], 2.0), (math.exp(p[1]), 0.5)),
                             x0=[0.0, 0.0]).x
    assert qm[0] == pytest.approx(best[0], abs=1e-5)
    assert qv[0] == pytest.approx(math.exp(best[1]), abs=1e-5)
    assert qm[1] == 2.0 and qv[1] == 0.5


def test_ellipse_lies_on_the_contour():
    mean, cov = vi.correlated_gaussian(-0.6, sds=(2.0, 0.5), mean=(1.0, 2.0))
    x, y = vi.ellipse(mean, cov, n_sd=2.0, n_points=50)
    d = np.stack([x, y], axis=1) - mean
    assert np.allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 4.0)
    assert x[0] == pytest.approx(x[-1]) and y[0] == pytest.approx(y[-1])


# ---------------------------------------------------------------------------
# Variational EM
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def groups():
    return vi.PoissonGroups.sample(10, 0.0, 1.5 ** 2, 1, np.random.default_rng(0))


@pytest.fixture(scope="module")
def vem(groups):
    return vi.variational_em(groups, -1.0, 4.0, 25)


@pytest.fixture(scope="module")
def exact(groups):
    return vi.exact_em(groups, -1.0, 4.0)


def test_variational_em_raises_its_bound_every_step(vem):
    bounds = vem.bounds
    assert bounds.shape == (51,)
    assert np.all(np.diff(bounds) >= -1e-10)
    assert bounds[-1] > bounds[0] + 0.1


def test_restricted_bound_no_longer_touches_log_p(groups, vem):
    gaps = vem.log_marginal - vem.bound_after_e
    assert np.all(gaps > 1e-3)
    for t in (0, 10, 25):
        assert vem.log_marginal[t] == pytest.approx(
            vi.group_log_marginal(groups, vem.prior_means[t], vem.prior_vars[t]), abs=1e-8)
        # the closed-form bound equals the sum of each group's Gauss–Hermite ELBO
        per_group = sum(vi.elbo_gaussian(groups.group(j, vem.prior_means[t], vem.prior_vars[t]),
                                         vem.q_means[t, j], vem.q_sds[t, j]) for j in range(groups.n_groups))
        assert vem.bound_after_e[t] == pytest.approx(per_group, abs=1e-9)


def test_m_step_maximises_the_bound_over_the_slice(groups, vem):
    t = 3
    mus = np.linspace(-2, 2, 4001)
    bound = vi.group_bound(groups, vem.q_means[t], vem.q_sds[t], mus, vem.prior_vars[t])
    assert mus[np.argmax(bound)] == pytest.approx(vem.prior_means[t + 1], abs=1e-3)


def test_exact_em_climbs_to_the_maximum_likelihood(groups, exact):
    assert exact.converged
    assert np.all(np.diff(exact.log_marginal) >= -1e-10)
    # direct maximisation of the exact log-likelihood, independent of EM's updates
    res = optimize.minimize(lambda p: -vi.group_log_marginal_grid(groups, [p[0]], [math.exp(p[1])])[0],
                            x0=[0.0, 0.0], method="Nelder-Mead", options=dict(xatol=1e-7, fatol=1e-11))
    assert exact.prior_means[-1] == pytest.approx(res.x[0], abs=2e-3)
    assert exact.prior_vars[-1] == pytest.approx(math.exp(res.x[1]), abs=5e-3)
    assert exact.log_marginal[-1] == pytest.approx(-res.fun, abs=1e-7)


def test_variational_em_ends_away_from_the_mle(groups, vem, exact):
    end_vem = vi.group_log_marginal(groups, vem.prior_means[-1], vem.prior_vars[-1])
    mle = vi.group_log_marginal(groups, exact.prior_means[-1], exact.prior_vars[-1])
    assert mle - end_vem > 1e-4
    assert vem.prior_vars[-1] < exact.prior_vars[-1] - 0.02   # the prior's spread is under-estimated here


# ---------------------------------------------------------------------------
# Validation at the public boundary
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: vi.PoissonLogNormal((1, -2), 0.0, 1.0), "x"),
    (lambda: vi.PoissonLogNormal((1.5,), 0.0, 1.0), "x"),
    (lambda: vi.PoissonLogNormal((1,), 0.0, 0.0), "prior_var"),
    (lambda: vi.LinearGaussian((), 1.0, 0.0, 1.0), "x"),
    (lambda: vi.LinearGaussian((1.0,), 1.0, 0.0, -1.0), "noise_var"),
    (lambda: vi.LinearGaussian((float("nan"),), 1.0, 0.0, 1.0), "x"),
    (lambda: vi.elbo_gaussian(vi.PoissonLogNormal((1,)), 0.0, 0.0), "sd"),
    (lambda: vi.elbo_gaussian("model", 0.0, 1.0), "model"),
    (lambda: vi.sga(vi.PoissonLogNormal((1,)), 0.0, 1.0, step_size=0.1, n_samples=1, n_steps=5, rng=0), "rng"),
    (lambda: vi.sga(vi.PoissonLogNormal((1,)), 0.0, 1.0, step_size=0.0, n_samples=1, n_steps=5,
                    rng=np.random.default_rng(0)), "step_size"),
    (lambda: vi.iwae(vi.PoissonLogNormal((1,)), 0.0, 1.0, [0, 5], 10, np.random.default_rng(0)), "ks"),
    (lambda: vi.correlated_gaussian(1.0), "rho"),
    (lambda: vi.cavi_update((0, 0), [[1, 0], [0, 1]], (0, 0), (1, 1), 2), "j"),
    (lambda: vi.PoissonGroups(()), "counts"),
    (lambda: vi.mixture_logpdf(0.0, 1.5, (0, 1), (1, 1)), "weight"),
])
def test_bad_input_raises_a_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()


def test_results_are_frozen():
    fit = vi.fit_gaussian_q(vi.PoissonLogNormal((1,)))
    with pytest.raises(Exception):
        fit.mean = 0.0
    grid = vi.elbo_grid(vi.PoissonLogNormal((1,)), [0.0, 1.0], [0.0])
    with pytest.raises(ValueError):
        grid.elbo[0, 0] = 1.0
    assert hash(vi.PoissonLogNormal((1, 2), 0.0, 1.0)) == hash(vi.PoissonLogNormal([1, 2], 0.0, 1.0))


def test_mark_current_places_the_circle_of_a_heatmap_built_for_it():
    """Circling q on the cached heatmap (``mark_q=True``) is the heatmap built with ``current``; only the layout's
    shapes differ between two q, so the browser moves the circle without drawing the heatmap again."""
    import plotly.io.json as pjson
    from vizcore.figures import vi as vifig
    means, log_sds = np.linspace(-2.0, 2.0, 7), np.linspace(-1.0, 0.5, 5)
    elbo = -1.0 - (means[None, :] ** 2 + log_sds[:, None] ** 2)
    base = vifig.elbo_heatmap_spec(means, log_sds, elbo, 0.0, optimum=(0.0, 1.0), mark_q=True)
    for q in ((0.5, 0.8), (-1.5, 1.3)):
        built = vifig.elbo_heatmap_spec(means, log_sds, elbo, 0.0, optimum=(0.0, 1.0), current=q)
        assert pjson.to_json_plotly(vifig.mark_current(base, q)) == pjson.to_json_plotly(built)
    a, b = vifig.mark_current(base, (0.5, 0.8)), vifig.mark_current(base, (-1.5, 1.3))
    assert a["data"] == b["data"] and {k for k in a["layout"] if a["layout"][k] != b["layout"][k]} == {"shapes"}
    ring = [sh for sh in b["layout"]["shapes"] if sh["name"] == "your q"]
    assert ring and all((sh["xanchor"], sh["yanchor"]) == pytest.approx((-1.5, np.log(1.3))) for sh in ring)
    assert any(sh["name"] == "your q" for sh in base["layout"]["shapes"])
    assert all(sh["visible"] is False for sh in base["layout"]["shapes"] if sh["name"] == "your q"), \
        "built for a circle, none placed yet"
    for bad in ((0.0, 0.0), (0.0, -1.0), (np.nan, 1.0), (0.0, np.inf)):
        with pytest.raises(ValueError, match="current"):
            vifig.mark_current(base, bad)
    with pytest.raises(ValueError, match="mark_q"):
        vifig.mark_current(vifig.elbo_heatmap_spec(means, log_sds, elbo, 0.0), (0.5, 0.8))
