"""vizcore.densities against scipy.stats and quadrature."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import vizcore as vc  # noqa: E402
from vizcore import densities as dens  # noqa: E402


def gmm1d():
    return vc.get_model("gmm1d").make_params(weights=[0.2, 0.5, 0.3], means=[-4.0, 0.5, 6.0],
                                             variances=[0.04, 2.25, 1.0])


def test_gmm1d_matches_scipy_and_integrates_to_one():
    p = gmm1d()
    sds = np.sqrt(p.variances)
    grid = dens.grid_1d(-30, 30, p.means, sds, n=4000, per_component=200)
    g = dens.on_grid("gmm1d", p, grid)
    comps = np.stack([w * stats.norm.pdf(grid, m, s) for w, m, s in zip(p.weights, p.means, sds)], 1)
    np.testing.assert_allclose(g.joint, comps, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(g.marginal, comps.sum(1), rtol=1e-10, atol=1e-300)
    assert integrate.trapezoid(g.marginal, grid) == pytest.approx(1.0, abs=1e-4)
    for k in range(3):  # each π_k p(x|z=k) integrates to π_k
        assert integrate.trapezoid(g.joint[:, k], grid) == pytest.approx(p.weights[k], abs=1e-4)
    np.testing.assert_allclose(g.resp.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(g.resp, comps / comps.sum(1, keepdims=True), atol=1e-12)


def test_page_sized_grid_resolves_the_narrowest_component():
    """The page's grid (300 even points + 16 per component on [-12, 12]) integrates a sd = 0.2 bump."""
    p = vc.get_model("gmm1d").make_params(weights=[1.0], means=[3.3], variances=[0.04])
    grid = dens.grid_1d(-12, 12, [3.3], [0.2], n=300, per_component=16)
    assert len(grid) <= 400 and np.all(np.diff(grid) > 0)
    g = dens.on_grid("gmm1d", p, grid)
    assert integrate.trapezoid(g.marginal, grid) == pytest.approx(1.0, abs=5e-3)
    assert g.marginal.max() == pytest.approx(stats.norm.pdf(0, 0, 0.2), rel=0.02)


def test_gmm2d_matches_scipy_and_integrates_to_one():
    covs = [dens.covariance_2d(1.0, 0.5, 0.7), dens.covariance_2d(0.8, 1.5, -0.4)]
    p = vc.get_model("gmm2d").make_params(weights=[0.35, 0.65], means=[[-1.0, 0.5], [2.0, -1.0]], covariances=covs)
    gx, gy, pts = dens.grid_2d((-9, 9), (-9, 9), n=301)
    g = dens.on_grid("gmm2d", p, pts)
    ref = sum(w * stats.multivariate_normal(m, c).pdf(pts) for w, m, c in zip(p.weights, p.means, covs))
    np.testing.assert_allclose(g.marginal, ref, rtol=1e-9, atol=1e-300)
    z = g.marginal.reshape(len(gy), len(gx))
    assert integrate.trapezoid(integrate.trapezoid(z, gx, axis=1), gy) == pytest.approx(1.0, abs=1e-4)
    # row-major: point (i, j) is (gx[j], gy[i])
    assert tuple(pts[1 * len(gx) + 2]) == (gx[2], gy[1])


def test_coins_pmf_sums_to_one_and_matches_binomial():
    p = vc.get_model("coins").make_params(weights=[0.3, 0.7], heads_probs=[0.2, 0.9])
    m = 12
    h = np.arange(m + 1.0)
    g = dens.on_grid("coins", p, np.column_stack([h, np.full_like(h, m)]))
    ref = np.stack([w * stats.binom.pmf(h, m, q) for w, q in zip(p.weights, p.heads_probs)], 1)
    np.testing.assert_allclose(g.joint, ref, rtol=1e-10)
    assert g.marginal.sum() == pytest.approx(1.0, abs=1e-12)


def test_linkage_posterior_is_binomial():
    y = vc.load_dataset("genetic_linkage")
    theta = 0.37
    g = dens.on_grid("linkage", {"theta": [theta]}, y)
    y1 = int(y[0, 0])
    np.testing.assert_allclose(g.resp[0], stats.binom.pmf(np.arange(y1 + 1), y1, theta / (2 + theta)), atol=1e-12)
    cells = [0.5 + theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4]
    assert np.log(g.marginal[0]) == pytest.approx(stats.multinomial.logpmf(y[0], y[0].sum(), cells), rel=1e-10)


def test_normalise_weights():
    w, fb = dens.normalise_weights([0.2, 0.0, 0.6])
    np.testing.assert_allclose(w, [0.25, 0.0, 0.75])
    assert not fb and w.sum() == 1.0
    w, fb = dens.normalise_weights([0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(w, 0.25)
    assert fb
    with pytest.raises(ValueError, match="weights"):
        dens.normalise_weights([0.5, -0.1])


def test_covariance_2d():
    c = dens.covariance_2d(2.0, 0.5, -0.9)
    np.testing.assert_allclose(c, [[4.0, -0.9], [-0.9, 0.25]])
    assert np.all(np.linalg.eigvalsh(c) > 0)
    for bad in [(0.0, 1.0, 0.0), (1.0, 1.0, 1.0), (1.0, 1.0, -1.5)]:
        with pytest.raises(ValueError):
            dens.covariance_2d(*bad)


def test_histogram_density():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 5000)
    centres, heights = dens.histogram_density(x, -10, 10, 50)
    ref, edges = np.histogram(x, bins=50, range=(-10, 10), density=True)
    np.testing.assert_allclose(heights, ref)
    np.testing.assert_allclose(centres, 0.5 * (edges[1:] + edges[:-1]))
    # points outside the range still count in N: the bars then hold only the inside fraction
    _, h2 = dens.histogram_density(np.r_[x, [100.0] * 5000], -10, 10, 50)
    assert h2.sum() * 0.4 == pytest.approx(0.5)


def test_grid_validation():
    with pytest.raises(ValueError, match="grid"):
        dens.grid_1d(1, 1)


def test_numeric_module_imports_neither_streamlit_nor_plotly():
    code = ("import sys, vizcore.densities; "
            "print(any(m.split('.')[0] in ('streamlit', 'plotly') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
