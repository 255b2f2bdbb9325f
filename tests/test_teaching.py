"""vizcore.teaching: defaults, coordinate ranges, family summaries, q paths and plane views."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import vizcore as vc  # noqa: E402
from vizcore import teaching as T  # noqa: E402

CASES = [("gmm1d", "faithful_waiting"), ("gmm1d", "faithful_eruptions"), ("gmm2d", "old_faithful"),
         ("coins", "two_coins"), ("linkage", "genetic_linkage")]


def _case(name, data, k=2):
    m = vc.get_model(name)
    x = vc.load_dataset(data)
    return m, x, T.default_params(m, x, k)


def test_pure_numeric_module():
    code = "import sys, vizcore.teaching; assert 'streamlit' not in sys.modules and 'plotly' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("name,data", CASES)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_default_params_are_valid_and_finite(name, data, k):
    m, x, p = _case(name, data, k)
    assert np.isfinite(vc.log_marginal(m, x, p))
    if name != "linkage":
        assert p.weights.size == k


@pytest.mark.parametrize("name", ["gmm1d", "gmm2d", "coins", "linkage"])
@pytest.mark.parametrize("k", [1, 3])
def test_synthetic_truth_is_valid(name, k):
    m = vc.get_model(name)
    p = T.synthetic_truth(m, k)
    assert m.make_params(p) == p
    x, _ = vc.synthetic(name, p, 50, 0)
    assert np.isfinite(vc.log_marginal(m, x, p))


@pytest.mark.parametrize("name,data", CASES)
def test_every_coordinate_range_gives_finite_curves_and_bounds_below(name, data):
    m, x, p = _case(name, data)
    for c in T.selectable_coordinates(m, p):
        lo, hi = T.coordinate_range(m, x, p, c)
        assert lo < hi
        assert lo <= T.coordinate_value(m, p, c) <= hi
        values = T.grid_with(lo, hi, 60, T.anchor_positions(lo, hi, 4))
        fam = vc.bound_family(m, x, p, c, values, T.anchor_positions(lo, hi, 4))
        assert np.all(np.isfinite(fam.log_marginal)) and np.all(np.isfinite(fam.bounds)), c
        s = T.summarise_family(fam.values, fam.log_marginal, fam.bounds)
        assert s.overshoot <= 1e-9 * abs(s.max_f), c
        assert np.all(s.bound_max <= s.max_f + 1e-9 * abs(s.max_f))
        assert s.envelope_gap >= -1e-9


def test_covariance_ranges_keep_matrices_positive_definite():
    m = vc.get_model("gmm2d")
    x = vc.load_dataset("old_faithful")
    p = m.make_params(weights=[.5, .5], means=[[2, 55], [4.3, 80]],
                      covariances=[[[0.09, 1.5], [1.5, 36]], [[0.16, -2.0], [-2.0, 36]]])
    for c in ("covariances[0][0][0]", "covariances[0][0][1]", "covariances[1][1][1]", "covariances[1][0][1]"):
        lo, hi = T.coordinate_range(m, x, p, c)
        for v in (lo, hi):
            q = T.with_coordinate(m, p, c, v)  # validates: raises if not positive-definite
            assert np.all(np.linalg.eigvalsh(q.covariances) > 0)


def test_selectable_coordinates_drop_a_lone_weight():
    m = vc.get_model("gmm1d")
    p1 = m.make_params(weights=[1.0], means=[0.0], variances=[1.0])
    assert T.selectable_coordinates(m, p1) == ["means[0]", "variances[0]"]
    p2 = m.make_params(weights=[.5, .5], means=[0.0, 1.0], variances=[1.0, 1.0])
    assert "weights[1]" in T.selectable_coordinates(m, p2)


def test_coordinate_range_rejects_unknown_names():
    m, x, p = _case("gmm1d", "faithful_waiting")
    with pytest.raises(ValueError, match="coordinate"):
        T.coordinate_range(m, x, p, "means[7]")


def test_anchor_positions_and_grid():
    a = T.anchor_positions(0.0, 10.0, 5)
    np.testing.assert_allclose(a, [1, 3, 5, 7, 9])
    g = T.grid_with(0.0, 10.0, 11, [2.5, 3.0])
    assert 2.5 in g and g.size == 12 and np.all(np.diff(g) > 0)
    with pytest.raises(ValueError):
        T.anchor_positions(0, 1, 0)


def test_envelope_closes_as_anchors_get_dense():
    m = vc.get_model("gmm1d")
    x = vc.load_dataset("faithful_waiting")
    p = m.make_params(weights=[.5, .5], means=[55, 80], variances=[36, 36])
    lo, hi = T.coordinate_range(m, x, p, "means[0]")
    gaps = []
    for n in (2, 5, 20):
        a = T.anchor_positions(lo, hi, n)
        fam = vc.bound_family(m, x, p, "means[0]", T.grid_with(lo, hi, 300, a), a)
        gaps.append(T.summarise_family(fam.values, fam.log_marginal, fam.bounds).envelope_gap)
    assert gaps[0] > gaps[1] > gaps[2] > 0


def test_summarise_family_on_a_hand_made_family():
    v = np.linspace(-2, 2, 5)
    f = -v ** 2
    bounds = np.array([f - 1.0, f - (v - 1) ** 2])
    s = T.summarise_family(v, f, bounds)
    assert s.argmax_f == 0.0 and s.max_f == 0.0
    np.testing.assert_allclose(s.bound_max, [-1.0, -1.0])
    assert s.envelope_gap == pytest.approx(max(np.min([1 + 0 * v, (v - 1) ** 2], axis=0)))
    assert s.overshoot == pytest.approx(0.0)


def test_path_resp_endpoints_and_normalise():
    m, x, p = _case("gmm1d", "faithful_waiting")
    np.testing.assert_allclose(T.path_resp(m, x, p, 0.0), vc.prior_resp(m, x, p))
    np.testing.assert_allclose(T.path_resp(m, x, p, 1.0), vc.posterior(m, x, p))
    np.testing.assert_allclose(T.normalise([0.6, 0.2]), [0.75, 0.25])
    np.testing.assert_allclose(T.normalise([0, 0, 0]), [1 / 3] * 3)
    r = T.replace_row(np.full((3, 2), 0.5), 1, [1.0, 0.0])
    assert r[1].tolist() == [1.0, 0.0] and r[0].tolist() == [0.5, 0.5]


def test_binomial_row_matches_scipy_and_contains_the_linkage_posterior():
    np.testing.assert_allclose(T.binomial_row(10, 12, 0.3)[:11], stats.binom.pmf(np.arange(11), 10, 0.3))
    assert T.binomial_row(10, 12, 0.3)[11] == 0.0
    m = vc.get_model("linkage")
    x = vc.load_dataset("genetic_linkage")
    p = m.make_params(theta=[0.6])
    row = T.binomial_row(int(x[0, 0]), m.n_latent(x), 0.6 / 2.6)
    np.testing.assert_allclose(row, vc.posterior(m, x, p)[0], atol=1e-12)
    assert abs(vc.kl_gap(m, x, p, row[None, :])) < 1e-10


@pytest.mark.parametrize("name,data,nx,ny", [("gmm1d", "faithful_waiting", "means[0]", "means[1]"),
                                             ("gmm2d", "old_faithful", "means[0][1]", "covariances[0][0][1]"),
                                             ("coins", "two_coins", "heads_probs[0]", "weights[0]")])
def test_plane_view_bound_touches_at_the_anchor_and_stays_below(name, data, nx, ny):
    m, x, p = _case(name, data)
    view = T.plane_view(m, x, p, nx, ny, n=25)
    assert view.log_marginal.shape == (25, 25) == view.bound.shape
    ok = np.isfinite(view.log_marginal)
    assert ok.mean() > 0.9
    assert np.all(view.bound[ok] <= view.log_marginal[ok] + 1e-9 * np.abs(view.log_marginal[ok]))
    # at the anchor itself the bound equals log p (evaluate there directly)
    b = vc.posterior_bound(m, x, p).over(m, vc.vary(m, p, nx, [T.coordinate_value(m, p, nx)]))
    assert b[0] == pytest.approx(vc.log_marginal(m, x, p), rel=1e-10)


def test_plane_grid_is_the_same_for_anchors_that_differ_only_in_the_plotted_coordinates():
    """What lets the lower-bounds page cache the log p surface: moving the anchor along an axis keeps the grid."""
    m, x, p = _case("gmm1d", "faithful_waiting")
    moved = T.with_coordinate(m, p, "means[0]", T.coordinate_value(m, p, "means[0]") + 3.0)
    g1, g2 = T.plane_grid(m, x, p, "means[0]", "means[1]", 12), T.plane_grid(m, x, moved, "means[0]", "means[1]", 12)
    for a, b in zip(g1[:2], g2[:2]):
        np.testing.assert_array_equal(a, b)
    for n in m.param_names:
        np.testing.assert_array_equal(getattr(g1[2], n), getattr(g2[2], n))
    other = T.with_coordinate(m, p, "variances[0]", 1.5 * T.coordinate_value(m, p, "variances[0]"))
    assert not np.array_equal(T.plane_grid(m, x, other, "means[0]", "means[1]", 12)[2].variances, g1[2].variances)


def test_plane_view_takes_a_log_marginal_function_and_checks_its_shape():
    m, x, p = _case("gmm1d", "faithful_waiting")
    calls = []

    def f(batch):
        calls.append(1)
        return vc.log_marginal_batch(m, x, batch)
    a, b = T.plane_view(m, x, p, "means[0]", "means[1]", 10), T.plane_view(m, x, p, "means[0]", "means[1]", 10,
                                                                            log_marginal=f)
    assert calls == [1]
    np.testing.assert_array_equal(a.log_marginal, b.log_marginal)
    np.testing.assert_array_equal(a.bound, b.bound)
    with pytest.raises(ValueError, match="log_marginal: expected 100 values"):
        T.plane_view(m, x, p, "means[0]", "means[1]", 10, log_marginal=lambda batch: np.zeros(99))


@pytest.mark.parametrize("name,data", CASES)
@pytest.mark.parametrize("k", [2, 3])
def test_a_family_does_not_depend_on_its_coordinates_own_value(name, data, k):
    """What lets the lower-bounds and ELBO-gap pages key their curves on θ with the plotted coordinate held at
    the range's low end: the family (log p and every bound) over [lo, hi] is the same from any current value."""
    m, x, p = _case(name, data, k)
    for c in T.selectable_coordinates(m, p):
        lo, hi = T.coordinate_range(m, x, p, c)
        values, anchors = T.anchored_grid(lo, hi, 3, 30)
        held = T.with_coordinate(m, p, c, lo)
        a, b = vc.bound_family(m, x, p, c, values, anchors), vc.bound_family(m, x, held, c, values, anchors)
        for field in ("log_marginal", "anchor_log_marginal", "bounds"):
            np.testing.assert_allclose(getattr(b, field), getattr(a, field), rtol=1e-12, atol=1e-9, err_msg=c)
        other = next((o for o in T.selectable_coordinates(m, p) if o.split("[")[0] != c.split("[")[0]), None)
        if other is not None:  # and it does depend on the other coordinates: the key must keep them
            olo, ohi = T.coordinate_range(m, x, p, other)
            moved = T.with_coordinate(m, p, other, olo + 0.37 * (ohi - olo))
            assert not np.allclose(vc.bound_family(m, x, moved, c, values, anchors).log_marginal, a.log_marginal), c


def test_merge_samples_is_the_curve_on_grid_with():
    m, x, p = _case("gmm1d", "faithful_waiting")
    lo, hi = T.coordinate_range(m, x, p, "means[0]")
    grid = np.linspace(lo, hi, 40)
    f = vc.log_marginal_batch(m, x, vc.vary(m, p, "means[0]", grid))
    for extra in ([61.3], [grid[7]], [hi + 1.0, lo - 2.0]):
        want_v = T.grid_with(lo, hi, 40, extra)
        v, g = T.merge_samples(grid, f, extra, vc.log_marginal_batch(m, x, vc.vary(m, p, "means[0]", extra)))
        np.testing.assert_array_equal(v, want_v)
        np.testing.assert_allclose(g, vc.log_marginal_batch(m, x, vc.vary(m, p, "means[0]", want_v)), rtol=1e-13)
    v, g = T.merge_samples([0.0, 1.0], [-np.inf, np.nan], [0.5], [2.0])  # log p may be −inf or NaN
    np.testing.assert_array_equal(v, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(g, [-np.inf, 2.0, np.nan])
    with pytest.raises(ValueError, match="more_f"):
        T.merge_samples([0.0, 1.0], [1.0, 2.0], [0.5], [1.0, 2.0])
    with pytest.raises(ValueError, match="values"):
        T.merge_samples([0.0, np.nan], [1.0, 2.0], [0.5], [1.0])


def test_with_coordinate_validates_and_rescales_weights():
    m = vc.get_model("gmm1d")
    p = m.make_params(weights=[.2, .3, .5], means=[0, 1, 2], variances=[1, 1, 1])
    q = T.with_coordinate(m, p, "weights[0]", 0.6)
    np.testing.assert_allclose(q.weights, [0.6, 0.4 * 0.3 / 0.8, 0.4 * 0.5 / 0.8])
    with pytest.raises(ValueError):
        T.with_coordinate(m, p, "variances[0]", -1.0)


# ---- the 2-D grid's side for large data --------------------------------------------------------------
def test_grid_side_is_full_up_to_the_budget_then_keeps_the_cost_within_it():
    assert T.grid_side(1) == T.grid_side(272) == T.grid_side(1000) == 48
    sides = [T.grid_side(n) for n in range(1, 20001, 97)]
    assert all(a >= b for a, b in zip(sides, sides[1:])), "never more points for more data"
    for n in (1001, 2000, 5000, 8000):
        s = T.grid_side(n)
        assert s * s * n <= 48 * 48 * 1000 < (s + 1) ** 2 * n   # the largest side within the budget
    assert T.grid_side(5000) == 21
    assert T.grid_side(10**7) == 16                      # never below the smallest
    assert T.grid_side(10**7, smallest=4) == 4


@pytest.mark.parametrize("bad", [0, -3, 2.5, "100", None, True])
def test_grid_side_rejects_what_is_no_row_count(bad):
    with pytest.raises(ValueError, match="n_rows"):
        T.grid_side(bad)
