"""vizcore against independent references.

* naive scipy.stats densities for every model's joint and marginal;
* numerical quadrature / exhaustive sums: the marginal is a normalised density;
* scikit-learn's GaussianMixture EM iterates from the same start;
* worked examples from published papers:
  - Do & Batzoglou, "What is the expectation maximization algorithm?",
    Nature Biotechnology 26, 897–899 (2008), Figure 1b (two coins);
  - Dempster, Laird & Rubin, "Maximum likelihood from incomplete data via the
    EM algorithm", JRSS B 39, 1–38 (1977), §1 and Table 1 (genetic linkage);
  - Benaglia, Chauveau, Hunter & Young, "mixtools: An R package for analyzing
    finite mixture models", J. Statistical Software 32(6) (2009), the
    ``normalmixEM(waiting, lambda = .5, mu = c(55, 80), sigma = 5)`` example on
    Old Faithful waiting times.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

import vizcore as vc


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


# ---------------------------------------------------------------------------------
# the log-sum-exp every marginal goes through, against scipy.special.logsumexp
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 6, 7, 12])  # both branches: slices (K ≤ 6) and numpy's reduce
@pytest.mark.parametrize("shape", [(), (5,), (4, 37)])
def test_logsumexp_last_against_scipy(k, shape):
    from vizcore.inference import logsumexp_last
    rng = np.random.default_rng(k)
    a = rng.normal(0.0, 300.0, shape + (k,))  # spreads far beyond exp's range
    if a.ndim > 1:
        a[..., 0][rng.random(shape) < 0.3] = -np.inf  # impossible components
    got = logsumexp_last(a.copy())
    want = logsumexp(a, axis=-1)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-12)
    assert got.shape == shape


def test_logsumexp_last_edge_rows():
    from vizcore.inference import logsumexp_last
    inf = np.inf
    rows = np.array([[-inf, -inf], [inf, 1.0], [np.nan, 1.0], [-inf, 3.0], [1000.0, 1000.0]])
    got = logsumexp_last(rows)
    assert got[0] == -inf and got[1] == inf and np.isnan(got[2]) and got[3] == 3.0
    assert got[4] == pytest.approx(1000.0 + np.log(2.0), abs=1e-12)


@pytest.mark.parametrize("top", [2.0, 3.0, 7.0, 1000.0])
def test_sum_log_by_block_products(top):
    """Σ log y from the logs of block products: the sum of the logs to rounding, for every length around
    a block's size, and no overflow at the top of the range (every y = top: the largest products)."""
    from vizcore.inference import sum_log
    rng = np.random.default_rng(int(top))
    block = int(1000 / np.log2(top))
    for n in (1, block - 1, block, block + 1, 3 * block + 5, 10_000):
        y = 1.0 + (top - 1.0) * rng.random((3, n))
        y[1] = top  # the largest product a block can have
        y[2, ::2] = 1.0
        got = sum_log(y, top)
        want = np.log(y).sum(-1)
        assert got.shape == (3,)
        np.testing.assert_allclose(got, want, rtol=1e-13)
        assert np.all(np.isfinite(got))


def test_sum_log_edge_values_mean_what_the_logs_mean():
    from vizcore.inference import sum_log
    y = np.ones((4, 2500))
    y[0, 7] = 0.0            # a point impossible under every term: −∞
    y[1, 1800] = np.nan      # an invalid θ: NaN
    y[2, 30] = np.inf        # +∞
    y[3] = 2.0
    got = sum_log(y, 2.0)
    assert got[0] == -np.inf and np.isnan(got[1]) and got[2] == np.inf
    assert got[3] == pytest.approx(2500 * np.log(2.0), rel=1e-14)


@pytest.mark.parametrize("k", [1, 2, 3, 6, 7, 12])
def test_sum_logsumexp_last_against_scipy(k):
    from vizcore.inference import logsumexp_last, sum_logsumexp_last
    rng = np.random.default_rng(k)
    a = rng.normal(0.0, 300.0, (4, 2345, k))
    a[..., 0][rng.random((4, 2345)) < 0.3] = -np.inf
    extra = rng.normal(0.0, 300.0, 2345)
    np.testing.assert_allclose(sum_logsumexp_last(a), logsumexp(a, axis=-1).sum(-1), rtol=1e-13)
    both = np.concatenate([np.broadcast_to(extra[:, None], a.shape[:-1] + (1,)), a], -1)
    np.testing.assert_allclose(sum_logsumexp_last(a, extra), logsumexp(both, axis=-1).sum(-1), rtol=1e-13)
    a[1, 5] = -np.inf  # every term of one point −∞: the row is −∞, as the per-point sum says
    a[2, 9, -1] = np.nan
    got, want = sum_logsumexp_last(a), logsumexp_last(a).sum(-1)
    assert got[1] == want[1] == -np.inf and np.isnan(got[2]) and np.isnan(want[2])


# ---------------------------------------------------------------------------------
# log_joint and log_marginal against naive scipy.stats
# ---------------------------------------------------------------------------------
def test_gmm1d_against_scipy_norm():
    m = vc.get_model("gmm1d")
    rng = np.random.default_rng(0)
    x = rng.normal(0, 5, 60)
    w, mu, var = np.array([0.2, 0.5, 0.3]), np.array([-4.0, 0.5, 6.0]), np.array([1.5, 4.0, 0.7])
    p = m.make_params(weights=w, means=mu, variances=var)
    naive = np.array([[np.log(w[k]) + stats.norm(mu[k], np.sqrt(var[k])).logpdf(xi) for k in range(3)] for xi in x])
    np.testing.assert_allclose(m.log_joint(x, p), naive, rtol=1e-12)
    per_point = np.log(sum(w[k] * stats.norm.pdf(x, mu[k], np.sqrt(var[k])) for k in range(3)))
    np.testing.assert_allclose(vc.log_marginal(m, x, p, per_sample=True), per_point, rtol=1e-12)
    assert _rel(vc.log_marginal(m, x, p), per_point.sum()) < 1e-12
    np.testing.assert_allclose(np.asarray(m.log_prior(x, p)), np.broadcast_to(np.log(w), (60, 3)), rtol=1e-15)


def test_gmm2d_against_scipy_multivariate_normal():
    m = vc.get_model("gmm2d")
    rng = np.random.default_rng(1)
    x = rng.normal(0, 3, (50, 2))
    w = np.array([0.3, 0.7])
    mu = np.array([[-1.0, 2.0], [2.5, -0.5]])
    cov = np.array([[[2.0, 0.8], [0.8, 1.0]], [[0.5, -0.3], [-0.3, 3.0]]])
    p = m.make_params(weights=w, means=mu, covariances=cov)
    naive = np.stack([np.log(w[k]) + stats.multivariate_normal(mu[k], cov[k]).logpdf(x) for k in range(2)], 1)
    np.testing.assert_allclose(m.log_joint(x, p), naive, rtol=1e-12)
    dens = sum(w[k] * stats.multivariate_normal(mu[k], cov[k]).pdf(x) for k in range(2))
    np.testing.assert_allclose(vc.log_marginal(m, x, p, per_sample=True), np.log(dens), rtol=1e-12)


def test_coins_against_scipy_binom():
    m = vc.get_model("coins")
    x = np.array([[5, 10], [9, 10], [0, 7], [12, 12], [3, 20]], dtype=float)
    w, pr = np.array([0.4, 0.6]), np.array([0.35, 0.8])
    p = m.make_params(weights=w, heads_probs=pr)
    naive = np.stack([np.log(w[k]) + stats.binom.logpmf(x[:, 0], x[:, 1], pr[k]) for k in range(2)], 1)
    np.testing.assert_allclose(m.log_joint(x, p), naive, rtol=1e-12)
    dens = sum(w[k] * stats.binom.pmf(x[:, 0], x[:, 1], pr[k]) for k in range(2))
    np.testing.assert_allclose(vc.log_marginal(m, x, p, per_sample=True), np.log(dens), rtol=1e-12)


@pytest.mark.parametrize("theta", [0.05, 0.5, 0.626821498, 0.93])
def test_linkage_against_scipy_multinomial(theta):
    m = vc.get_model("linkage")
    y = np.asarray(vc.load_dataset("genetic_linkage"))
    p = m.make_params(theta=[theta])
    y1, y2, y3, y4 = y[0]
    n = int(y.sum())
    # complete data: five cells (y1 − z, z, y2, y3, y4) with probabilities (1/2, θ/4, (1−θ)/4, (1−θ)/4, θ/4)
    cells = [0.5, theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4]
    naive = np.array([stats.multinomial.logpmf([y1 - z, z, y2, y3, y4], n, cells) for z in range(int(y1) + 1)])
    np.testing.assert_allclose(m.log_joint(y, p)[0], naive, rtol=1e-11)
    # observed data: four cells (1/2 + θ/4, (1−θ)/4, (1−θ)/4, θ/4)
    four = stats.multinomial.logpmf(y[0], n, [0.5 + theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4])
    assert _rel(vc.log_marginal(m, y, p), four) < 1e-12
    # posterior of z is Binomial(y1, θ / (2 + θ)) (DLR 1977, §1)
    post = vc.posterior(m, y, p)[0]
    np.testing.assert_allclose(post, stats.binom.pmf(np.arange(int(y1) + 1), int(y1), theta / (2 + theta)),
                               rtol=1e-9, atol=1e-300)
    # the prior of z is the complete-data marginal Binomial(n, θ/4) on z = 0..y1
    np.testing.assert_allclose(np.asarray(m.log_prior(y, p))[0],
                               stats.binom.logpmf(np.arange(int(y1) + 1), n, theta / 4), rtol=1e-11)


def test_linkage_several_rows_against_scipy():
    m = vc.get_model("linkage")
    y = np.array([[125, 18, 20, 34], [10, 3, 1, 6], [0, 2, 5, 1]], dtype=float)
    theta = 0.4
    p = m.make_params(theta=[theta])
    cells = [0.5 + theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4]
    per_row = [stats.multinomial.logpmf(r, int(r.sum()), cells) for r in y]
    np.testing.assert_allclose(vc.log_marginal(m, y, p, per_sample=True), per_row, rtol=1e-12)
    post = vc.posterior(m, y, p)
    for i, r in enumerate(y):
        y1 = int(r[0])
        np.testing.assert_allclose(post[i, :y1 + 1], stats.binom.pmf(np.arange(y1 + 1), y1, theta / (2 + theta)),
                                   rtol=1e-9, atol=1e-300)
        assert np.all(post[i, y1 + 1:] == 0)


def test_linkage_prior_q_is_the_prior_restricted_to_the_allowed_z():
    """The t = 0 q of the ELBO page (prior_resp) is Binomial(n, θ/4) given z ≤ y₁; the mass it leaves out is
    scipy's survival function above y₁, and KL(q ‖ p(Z|θ)) at that q is −log(1 − that mass)."""
    m = vc.get_model("linkage")
    y = np.array([[3, 9, 7, 1], [125, 18, 20, 34]], dtype=float)
    theta = 0.5
    p = m.make_params(theta=[theta])
    n = y.sum(1)
    out = stats.binom.sf(y[:, 0], n, theta / 4)
    np.testing.assert_allclose(vc.prior_mass_ruled_out(m, y, p), out, rtol=1e-12, atol=1e-14)  # 1 − Σ: rounding
    q = vc.prior_resp(m, y, p)
    for i in range(len(y)):
        z = np.arange(int(y[i, 0]) + 1)
        np.testing.assert_allclose(q[i, z], stats.binom.pmf(z, n[i], theta / 4) / (1 - out[i]), rtol=1e-12)
    d = vc.decompose(m, y[:1], p, q[:1, :4])  # the first row alone: z = 0..3
    assert d.kl_prior == pytest.approx(-np.log1p(-out[0]), rel=1e-12)
    g = vc.get_model("gmm1d")
    assert np.all(vc.prior_mass_ruled_out(g, np.array([1.0, 50.0]), g.make_params(
        weights=[0.3, 0.7], means=[0.0, 1.0], variances=[1.0, 1.0])) < 1e-15)


# ---------------------------------------------------------------------------------
# the marginal is normalised
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("w,mu,var", [
    ([0.5, 0.5], [55.0, 80.0], [25.0, 25.0]),
    ([0.1, 0.6, 0.3], [-3.0, 0.0, 10.0], [0.01, 4.0, 100.0]),
])
def test_gmm1d_marginal_integrates_to_one(w, mu, var):
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=w, means=mu, variances=var)
    sd = np.sqrt(var)

    def density(t):
        return float(np.exp(vc.log_marginal(m, np.array([t]), p)))

    lo, hi = min(np.array(mu) - 40 * sd), max(np.array(mu) + 40 * sd)
    total, err = integrate.quad(density, lo, hi, points=sorted(mu), limit=500, epsabs=1e-12, epsrel=1e-12)
    assert abs(total - 1.0) < 1e-8, (total, err)


def test_coins_marginal_sums_to_one_over_heads():
    m = vc.get_model("coins")
    p = m.make_params(weights=[0.3, 0.7], heads_probs=[0.2, 0.9])
    for tosses in (1, 10, 37):
        x = np.stack([np.arange(tosses + 1), np.full(tosses + 1, tosses)], 1).astype(float)
        assert abs(np.exp(vc.log_marginal(m, x, p, per_sample=True)).sum() - 1) < 1e-12


def test_linkage_marginal_sums_to_one_over_all_tables():
    m = vc.get_model("linkage")
    p = m.make_params(theta=[0.37])
    n = 9
    rows = np.array([(a, b, c, n - a - b - c) for a in range(n + 1) for b in range(n + 1 - a)
                     for c in range(n + 1 - a - b)], dtype=float)
    assert abs(np.exp(vc.log_marginal(m, rows, p, per_sample=True)).sum() - 1) < 1e-12


# ---------------------------------------------------------------------------------
# scikit-learn's GaussianMixture: identical EM iterates from the same start
# ---------------------------------------------------------------------------------
def _sklearn_iterates(X, weights, means, covariances, n_iter):
    """θ_1..θ_n from sklearn, one EM iteration per ``fit`` call (warm start, no regularisation)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    k = len(weights)
    gm = GaussianMixture(n_components=k, covariance_type="full", reg_covar=0.0, max_iter=1, tol=0.0,
                         warm_start=True, init_params="random_from_data", random_state=0,
                         weights_init=np.asarray(weights), means_init=np.asarray(means),
                         precisions_init=np.linalg.inv(np.asarray(covariances)))
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(n_iter):
            gm.fit(X)
            out.append((gm.weights_.copy(), gm.means_.copy(), gm.covariances_.copy(), gm.lower_bound_))
    return out


def test_gmm1d_em_iterates_equal_sklearn():
    m = vc.get_model("gmm1d")
    x = np.asarray(vc.load_dataset("faithful_waiting"))
    init = m.make_params(weights=[0.3, 0.7], means=[50.0, 70.0], variances=[30.0, 60.0])
    n = 25
    tr = vc.run_em(m, x, init, max_iter=n, tol=None)
    sk = _sklearn_iterates(x[:, None], init.weights, init.means[:, None], init.variances[:, None, None], n)
    for t, (w, mu, cov, lower) in enumerate(sk, start=1):
        p = tr.params[t]
        np.testing.assert_allclose(p.weights, w, rtol=1e-8)
        np.testing.assert_allclose(p.means, mu[:, 0], rtol=1e-8)
        np.testing.assert_allclose(p.variances, cov[:, 0, 0], rtol=1e-8)
        # sklearn's lower_bound_ after iteration t is the mean log-likelihood at θ_{t-1}
        assert _rel(tr.log_likelihood[t - 1] / len(x), lower) < 1e-10


def test_gmm2d_em_iterates_equal_sklearn():
    m = vc.get_model("gmm2d")
    x = np.asarray(vc.load_dataset("old_faithful"))
    init = m.make_params(weights=[0.5, 0.5], means=[[2.0, 60.0], [4.0, 75.0]],
                         covariances=[[[1.0, 2.0], [2.0, 50.0]], [[0.8, -1.0], [-1.0, 40.0]]])
    n = 25
    tr = vc.run_em(m, x, init, max_iter=n, tol=None)
    sk = _sklearn_iterates(x, init.weights, init.means, init.covariances, n)
    for t, (w, mu, cov, lower) in enumerate(sk, start=1):
        p = tr.params[t]
        np.testing.assert_allclose(p.weights, w, rtol=1e-8)
        np.testing.assert_allclose(p.means, mu, rtol=1e-8)
        np.testing.assert_allclose(p.covariances, cov, rtol=1e-8, atol=1e-8 * np.abs(cov).max())
        assert _rel(tr.log_likelihood[t - 1] / len(x), lower) < 1e-10


def test_gmm2d_synthetic_three_components_equal_sklearn():
    m = vc.get_model("gmm2d")
    truth = m.make_params(weights=[0.2, 0.5, 0.3], means=[[0, 0], [4, 1], [1, 5]],
                          covariances=[[[1, 0.3], [0.3, 0.5]], [[0.7, -0.2], [-0.2, 1.2]], [[2, 0], [0, 0.4]]])
    x, _ = vc.synthetic("gmm2d", truth, 300, seed=5)
    init = m.make_params(weights=[1 / 3, 1 / 3, 1 / 3], means=[[1, 1], [3, 0], [0, 4]],
                         covariances=[np.eye(2)] * 3)
    tr = vc.run_em(m, x, init, max_iter=15, tol=None)
    sk = _sklearn_iterates(x, init.weights, init.means, init.covariances, 15)
    for t, (w, mu, cov, _) in enumerate(sk, start=1):
        p = tr.params[t]
        np.testing.assert_allclose(p.weights, w, rtol=1e-8)
        np.testing.assert_allclose(p.means, mu, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(p.covariances, cov, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------------------
# published worked examples
# ---------------------------------------------------------------------------------
def test_two_coins_do_batzoglou_2008():
    """Fig. 1b: start θA = 0.60, θB = 0.50, each coin equally likely (weights fixed at 1/2).

    After one iteration the figure prints θA ≈ 0.71, θB ≈ 0.58; after ten, θA ≈ 0.80, θB ≈ 0.52.
    """
    m = vc.get_model("coins")
    x = vc.load_dataset("two_coins")
    init = m.make_params(weights=[0.5, 0.5], heads_probs=[0.6, 0.5])
    tr = vc.run_em(m, x, init, fixed=["weights"], max_iter=10, tol=None)
    assert tr.n_iter == 10
    np.testing.assert_allclose(tr.params[1].heads_probs, [0.71, 0.58], rtol=0, atol=0.005)
    np.testing.assert_allclose(tr.params[10].heads_probs, [0.80, 0.52], rtol=0, atol=0.005)
    # Fig. 1b E-step, first set (HTTTHHTHTH, 5 heads): coin A takes 0.45 of it
    q = vc.posterior(m, x, init)
    np.testing.assert_allclose(q[:, 0], [0.45, 0.80, 0.73, 0.35, 0.65], rtol=0, atol=0.005)


# DLR 1977 Table 1: θ^(p) for p = 1..8, starting from θ^(0) = 0.5.
DLR_TABLE_1 = [0.608247423, 0.624321051, 0.626488879, 0.626777323, 0.626815632, 0.626820719,
               0.626821395, 0.626821484]


def test_genetic_linkage_dlr_1977_table_1():
    m = vc.get_model("linkage")
    y = vc.load_dataset("genetic_linkage")
    tr = vc.run_em(m, y, m.make_params(theta=[0.5]), max_iter=8, tol=None)
    got = [float(p.theta[0]) for p in tr.params[1:]]
    np.testing.assert_allclose(got, DLR_TABLE_1, rtol=0, atol=1e-8)


def test_genetic_linkage_mle_is_root_of_quadratic():
    """DLR 1977 §1: the MLE solves 197θ² − 15θ − 68 = 0 (positive root)."""
    roots = np.roots([197.0, -15.0, -68.0])
    mle = float(roots[roots > 0][0])
    m = vc.get_model("linkage")
    y = vc.load_dataset("genetic_linkage")
    tr = vc.run_em(m, y, m.make_params(theta=[0.5]), max_iter=60, tol=None)
    assert abs(float(tr.params[-1].theta[0]) - mle) < 1e-10
    # and log p is maximal there among nearby θ (by scipy's multinomial)
    def lp(t):
        return stats.multinomial.logpmf(y[0], int(y.sum()), [0.5 + t / 4, (1 - t) / 4, (1 - t) / 4, t / 4])
    assert lp(mle) > lp(mle - 1e-4) and lp(mle) > lp(mle + 1e-4)
    assert _rel(tr.log_likelihood[-1], lp(mle)) < 1e-12


def test_old_faithful_waiting_mixtools_normalmixEM():
    """mixtools (Benaglia et al. 2009, JSS 32(6)): normalmixEM(waiting, lambda=.5, mu=c(55, 80), sigma=5).

    Printed summary: lambda 0.361 0.639, mu 54.61 80.09, sigma 5.87 5.87, log-lik −1034.002
    (mixtools stops when log-lik rises by less than 1e-8, the same rule as run_em's tol).
    """
    m = vc.get_model("gmm1d")
    x = vc.load_dataset("faithful_waiting")
    init = m.make_params(weights=[0.5, 0.5], means=[55.0, 80.0], variances=[25.0, 25.0])
    tr = vc.run_em(m, x, init, max_iter=1000, tol=1e-8)
    assert tr.converged
    p = tr.params[-1]
    np.testing.assert_allclose(p.weights, [0.361, 0.639], rtol=0, atol=0.0005)
    np.testing.assert_allclose(p.means, [54.61, 80.09], rtol=0, atol=0.005)
    np.testing.assert_allclose(np.sqrt(p.variances), [5.87, 5.87], rtol=0, atol=0.005)
    assert abs(tr.log_likelihood[-1] - (-1034.002)) < 0.0005


@pytest.mark.parametrize("model", ["gmm1d", "gmm2d", "coins", "linkage"])
def test_e_step_equals_bayes_log_marginal_and_entropy(model):
    """run_em's E-step (K exps per point, no log per point) gives the posterior by Bayes' rule in log
    space, log p(X|θ) as log_marginal sums it, and H(q) = −Σ q log q (scipy's xlogy), zeros included."""
    from vizcore.inference import _e_step, _entropy, _log_posterior
    m = vc.get_model(model)
    x = np.asarray(vc.load_dataset({"gmm1d": "faithful_waiting", "gmm2d": "old_faithful", "coins": "two_coins",
                                    "linkage": "genetic_linkage"}[model]))
    p = m.make_params({"gmm1d": dict(weights=[.5, .5], means=[55, 80], variances=[25, 25]),
                       "gmm2d": dict(weights=[.4, .6], means=[[2.0, 55.0], [4.5, 80.0]],
                                     covariances=[[[0.3, 0.5], [0.5, 40.0]], [[0.3, 0.5], [0.5, 40.0]]]),
                       "coins": dict(weights=[.5, .5], heads_probs=[.6, .5]),
                       "linkage": dict(theta=[0.3])}[model])
    lq, lm = _log_posterior(m, x, p)
    q, log_p, h = _e_step(m, x, p)
    np.testing.assert_allclose(q, np.exp(lq), rtol=1e-12, atol=1e-300)
    assert log_p == pytest.approx(logsumexp(m.log_joint(x, p), axis=-1).sum(), rel=1e-13)
    assert np.isfinite(h) and h >= 0
    assert h == pytest.approx(_entropy(q), rel=1e-12, abs=1e-12)


def test_e_step_with_an_impossible_component_and_an_impossible_point():
    """A component with probability 0 everywhere adds 0 to H (0·log 0 = 0); a point no component can
    explain makes log p −∞, as log_marginal says."""
    from vizcore.inference import _e_step, _entropy
    m = vc.get_model("coins")
    x = np.asarray(vc.load_dataset("two_coins"))
    p = m.make_params(weights=[0.5, 0.5, 0.0], heads_probs=[0.6, 0.5, 0.3])
    q, log_p, h = _e_step(m, x, p)
    assert np.all(q[:, 2] == 0.0)
    assert log_p == pytest.approx(vc.log_marginal(m, x, p), rel=1e-13)
    assert h == pytest.approx(_entropy(q), rel=1e-12)
    p1 = m.make_params(weights=[1.0, 0.0], heads_probs=[1.0, 0.5])  # every toss heads: the data have tails
    _, log_p1, _ = _e_step(m, x, p1)
    assert log_p1 == -np.inf == vc.log_marginal(m, x, p1)
