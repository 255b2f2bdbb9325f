"""Benchmarks of the numeric core, each reported as a ratio against a reference
measured in the same process (never an absolute time).

    python bench/bench_core.py

1. One EM iteration (E + M) on 2-D data, N = 200,000, K = 3, full covariances,
   against scikit-learn's GaussianMixture E- and M-step on the same data from the
   same parameters (the iterates are checked to be identical). Target: ratio ≤ 0.5.
2. A 400-point bound curve L(q, θ) at N = 10^6 against the same at N = 10^3.
   Target: ratio ≤ 1.5 (its cost does not grow with N).
3. log p(X|θ) over 400 grid points at N = 10,000, K = 3, against one vectorised
   logsumexp over the same (grid, N, K) array. Target: ratio ≤ 1.5.
4. A 300-point log p curve (one mean of two moving, N = 10,000: 3 million terms
   log(e^a + e^b)) against numpy's exp of 3 million numbers: the curve's cost in exps per
   term. Exact work cannot do with fewer than one exp per term; the log per term is what
   ``vizcore.inference.sum_log`` avoids (with it, about 3.2; without, 2.5). Target: ≤ 3.
5. 20 EM iterations, 1-D, K = 2, N = 10,000 (E-step, M-step, both bounds), against numpy's
   exp of 20·N·K numbers: an E-step needs one exp per (point, component); going through log q
   took two and a log per point (about 6.5 then, 5.3 without; the rest is the iteration's other
   passes over the data). Target: ≤ 6.

Items 4 and 5 are in units of this machine's exp, so they read alike on machines whose exp
speeds differ (float64 exp is several times faster with AVX-512 than without).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import vizcore as vc  # noqa: E402
from vizcore.inference import _e_step  # noqa: E402


def timeit(fn, repeat=7, number=1):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def paired(fa, fb, rounds=7, number=1):
    """Median over rounds of time(fa)/time(fb), alternating A and B so drift cancels."""
    fa(), fb()
    ratios, ta, tb = [], [], []
    for _ in range(rounds):
        a = timeit(fa, repeat=1, number=number)
        b = timeit(fb, repeat=1, number=number)
        ratios.append(a / b)
        ta.append(a)
        tb.append(b)
    return statistics.median(ratios), statistics.median(ta), statistics.median(tb)


def bench_em_vs_sklearn(n=200_000, rounds=7):
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    m = vc.get_model("gmm2d")
    truth = m.make_params(weights=[0.3, 0.5, 0.2], means=[[0, 0], [4, 1], [1, 5]],
                          covariances=[[[1, 0.3], [0.3, 1]], [[2, -0.5], [-0.5, 1]], [[0.5, 0], [0, 1.5]]])
    x, _ = m.sample(truth, n, rng)
    start = m.make_params(weights=[1 / 3] * 3, means=[[-1, 0], [3, 0], [0, 4]],
                          covariances=[np.eye(2).tolist()] * 3)
    masks = m.parse_fixed(start, ())

    def ours():
        q, _, _ = _e_step(m, x, start)  # run_em's E-step
        return m.m_step_from_stats(m.expected_stats(x, q), start, masks)

    gm = GaussianMixture(3, covariance_type="full", reg_covar=0.0)
    gm.weights_, gm.means_, gm.covariances_ = start.weights.copy(), start.means.copy(), start.covariances.copy()
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(start.covariances)).copy()

    def sklearn():
        _, log_resp = gm._e_step(x)
        g = GaussianMixture(3, covariance_type="full", reg_covar=0.0)
        g.weights_, g.means_, g.covariances_ = gm.weights_, gm.means_, gm.covariances_
        g.precisions_cholesky_ = gm.precisions_cholesky_
        g._m_step(x, log_resp)
        return g

    a, b = ours(), sklearn()
    same = (np.allclose(a.weights, b.weights_, rtol=1e-9, atol=0) and np.allclose(a.means, b.means_, rtol=1e-9)
            and np.allclose(a.covariances, b.covariances_, rtol=1e-9))
    r, ta, tb = paired(ours, sklearn, rounds=rounds)
    return f"EM iteration, 2-D, N={n:,}, K=3: vizcore / scikit-learn", r, 0.5, f"identical iterates: {same}"


def bench_bound_flat_in_n(n_small=10**3, n_big=10**6, rounds=7, number=50):
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=[0.4, 0.6], means=[55, 80], variances=[36, 36])
    rng = np.random.default_rng(1)
    grid = vc.vary(m, p, "means[0]", np.linspace(40, 90, 400))
    bounds = {}
    for n in (n_small, n_big):
        x, _ = m.sample(p, n, rng)
        bounds[n] = vc.posterior_bound(m, x, p)
    r, _, _ = paired(lambda: bounds[n_big].over(m, grid), lambda: bounds[n_small].over(m, grid), rounds=rounds,
                     number=number)
    return f"bound curve, 400 points: N={n_big:.0e} / N={n_small:.0e}", r, 1.5, ""


def bench_log_marginal_grid(n=10_000, grid_points=400, rounds=7):
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=[0.3, 0.4, 0.3], means=[50, 65, 80], variances=[30, 30, 30])
    x, _ = m.sample(p, n, np.random.default_rng(2))
    grid = vc.vary(m, p, "means[0]", np.linspace(40, 90, grid_points))
    arr = np.random.default_rng(3).standard_normal((grid_points, n, 3))

    def reference():  # one vectorised logsumexp over a (grid, N, K) array
        mx = arr.max(-1, keepdims=True)
        return (np.log(np.exp(arr - mx).sum(-1)) + mx[..., 0]).sum(-1)

    r, _, _ = paired(lambda: vc.log_marginal_batch(m, x, grid), reference, rounds=rounds)
    return f"log p(X|θ) over {grid_points} grid points, N={n:,}, K=3 / one logsumexp", r, 1.5, ""


def _two_means(n, rng):
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=[0.35, 0.65], means=[54.0, 80.0], variances=[36.0, 36.0])
    x, _ = m.sample(p, n, rng)
    return m, p, x


def bench_curve_in_exps(n=10_000, grid_points=300, rounds=7):
    m, p, x = _two_means(n, np.random.default_rng(4))
    grid = vc.vary(m, p, "means[0]", np.linspace(40, 90, grid_points))
    arr = np.random.default_rng(5).uniform(-30.0, 0.0, grid_points * n)
    r, _, _ = paired(lambda: vc.log_marginal_batch(m, x, grid), lambda: np.exp(arr), rounds=rounds)
    return f"log p curve, {grid_points} points, N={n:,}, 2 terms / {grid_points * n:,} exps", r, 3.0, ""


def bench_em_iteration_in_exps(n=10_000, iterations=20, rounds=7):
    m, p, x = _two_means(n, np.random.default_rng(6))
    start = m.make_params(weights=[0.5, 0.5], means=[50.0, 60.0], variances=[50.0, 50.0])
    arr = np.random.default_rng(7).uniform(-30.0, 0.0, iterations * 2 * n)
    r, _, _ = paired(lambda: vc.run_em(m, x, start, max_iter=iterations, tol=None), lambda: np.exp(arr),
                     rounds=rounds)
    return f"EM, 1-D, N={n:,}, K=2, {iterations} iterations / {iterations * 2 * n:,} exps", r, 6.0, ""


def run(quick: bool = False) -> list[tuple]:
    """Every core benchmark: rows of (name, ratio, target, note). ``quick``: smaller sizes, fewer rounds."""
    if quick:
        return [bench_em_vs_sklearn(n=50_000, rounds=5), bench_bound_flat_in_n(n_big=10**5, rounds=5, number=20),
                bench_log_marginal_grid(rounds=5), bench_curve_in_exps(rounds=5), bench_em_iteration_in_exps(rounds=5)]
    return [bench_em_vs_sklearn(), bench_bound_flat_in_n(), bench_log_marginal_grid(), bench_curve_in_exps(),
            bench_em_iteration_in_exps()]


def main():
    rows = run()
    print(f"{'benchmark':62} {'ratio':>7} {'target':>7}  verdict")
    for name, r, target, note in rows:
        verdict = "ok" if r <= target else "OVER"
        print(f"{name:62} {r:7.2f} {('≤ ' + str(target)):>7}  {verdict} {note}")


if __name__ == "__main__":
    main()
