"""The family-of-bounds figure sends each bound's numbers only where its view can show them.

``vizcore.figures.bounds.family_figure`` blanks (NaN) every point of a bound, of the envelope and of the
dotted bound from which no line segment can cross the y-range the figure sets
(``vizcore.figures._style.visible_only``, also used by the EM frames), and cuts the blanked stretches at
both ends away. Here the figure is built from a
real family (Old Faithful, 12 anchors) and compared with the full arrays: the numbers sent are the exact
values, and every blanked point's segments lie wholly beyond one edge of the view, so plotly draws the
same curves.
"""
from __future__ import annotations

import numpy as np
import pytest

import vizcore as vc
from vizcore import teaching
from vizcore.figures._style import linear_axis, visible_only
from vizcore.figures.bounds import family_figure


def _family(n_anchors=12, coord="means[0]", even=False):
    """A family on the pages' evenly spaced grid (``even``: teaching.anchored_grid) or on one with the
    anchors merged in (teaching.grid_with), which the figure must send with its x."""
    m = vc.get_model("gmm1d")
    x = np.asarray(vc.load_dataset("faithful_waiting"))
    p = m.make_params(weights=[.5, .5], means=[55, 80], variances=[25, 25])
    lo, hi = teaching.coordinate_range(m, x, p, coord)
    if even:
        values, anchors = teaching.anchored_grid(lo, hi, n_anchors, 300)
    else:
        anchors = teaching.anchor_positions(lo, hi, n_anchors)
        values = teaching.grid_with(lo, hi, 300, anchors)
    return vc.bound_family(m, x, p, coord, values, anchors)


def _check_blanked(x, full, sent, yr, xr=None):
    """``sent`` is ``full`` where it has a number; each blanked point's segments cannot show."""
    full = np.where(np.isfinite(full), full, np.nan)
    kept = ~np.isnan(sent)
    np.testing.assert_array_equal(sent[kept], full[kept])
    gone = np.flatnonzero(np.isnan(sent) & ~np.isnan(full))
    for i in gone:
        for k in (i - 1, i + 1):
            if 0 <= k < full.size and not np.isnan(full[k]):
                ys, xs = (full[i], full[k]), (x[i], x[k])
                beyond = max(ys) < yr[0] or min(ys) > yr[1]
                if xr is not None:
                    beyond = beyond or max(xs) < xr[0] or min(xs) > xr[1]
                assert beyond, (i, k)
    return gone.size


def _on_grid(trace, grid):
    """A bound is sent on a stretch of the grid (with its x), or on the whole of an evenly spaced grid as
    x0 + i·dx (plotly.js's order of operations): its y on the whole grid, NaN off the stretch."""
    y = np.asarray(trace.y, dtype=float)
    if trace.x is None:
        assert trace.x0 is not None and trace.dx is not None and y.size == grid.size
        np.testing.assert_array_equal(trace.x0 + np.arange(y.size) * trace.dx, grid)
        return y
    x = np.asarray(trace.x, dtype=float)
    i0 = int(np.flatnonzero(grid == x[0])[0])
    np.testing.assert_array_equal(grid[i0:i0 + x.size], x)
    out = np.full(grid.size, np.nan)
    out[i0:i0 + x.size] = y
    return out


@pytest.mark.parametrize("even", [True, False])
def test_every_bound_carries_numbers_only_where_the_view_shows_it(even):
    fam = _family(even=even)
    fig = family_figure(fam.values, fam.log_marginal, fam.anchors, fam.anchor_log_marginal, fam.bounds,
                        extra_bound=0.5 * (fam.bounds[3] + fam.log_marginal), extra_label="q_s")
    yr = fig.layout.yaxis.range
    sent = [t for t in fig.data if t.meta == "bound"]
    assert len(sent) == fam.bounds.shape[0]
    blanked = 0
    for a, t in enumerate(sent):
        blanked += _check_blanked(fam.values, fam.bounds[a], _on_grid(t, fam.values), yr)
    env = next(t for t in fig.data if t.meta == "envelope")
    blanked += _check_blanked(fam.values, fam.envelope, _on_grid(env, fam.values), yr)
    assert blanked > 0.3 * fam.values.size * fam.bounds.shape[0], "most of the far tails are not sent"
    f = next(t for t in fig.data if t.meta == "f")
    np.testing.assert_array_equal(np.asarray(f.y), fam.log_marginal)  # log p itself is whole
    np.testing.assert_array_equal(_on_grid(f, fam.values), fam.log_marginal)
    assert all((t.x is None) == even for t in fig.data if t.meta in ("bound", "envelope", "f"))


def test_anchored_grid_is_even_as_plotly_computes_it_with_the_anchors_at_the_cell_centres():
    for lo, hi, a in [(37.7, 101.3, 1), (37.7, 101.3, 5), (0.001, 0.999, 7), (-3e-4, 2e5, 20), (1.0, 1.0 + 1e-9, 13)]:
        values, anchors = teaching.anchored_grid(lo, hi, a, 300)
        assert 300 <= values.size <= 345 and values[0] == lo and values[-1] == pytest.approx(hi, rel=1e-12)
        x0, dx = linear_axis(values)
        np.testing.assert_array_equal(x0 + np.arange(values.size) * dx, values)
        assert np.isin(anchors, values).all()  # every bound touches log p at a drawn point
        np.testing.assert_allclose(anchors, teaching.anchor_positions(lo, hi, a), rtol=1e-12, atol=1e-12 * (hi - lo))
    with pytest.raises(ValueError, match="n_anchors"):
        teaching.anchored_grid(0.0, 1.0, 0)
    with pytest.raises(ValueError, match="lo, hi"):
        teaching.anchored_grid(1.0, 1.0, 3)


def test_linear_axis_accepts_only_what_x0_plus_i_dx_reproduces_exactly():
    assert linear_axis(np.linspace(0.0, 1.0, 7)) is not None
    assert linear_axis(np.array([0.0, 1.0, 2.5])) is None
    assert linear_axis(np.array([2.0, 1.0, 0.0])) is None  # decreasing: not what the figures draw
    assert linear_axis(np.array([1.0])) is None and linear_axis(np.array([0.0, np.nan, 2.0])) is None
    v = teaching.grid_with(0.0, 10.0, 11, [2.5])  # an anchor merged into an even grid
    assert linear_axis(v) is None
    rng = np.random.default_rng(1)
    for _ in range(300):
        lo = rng.uniform(-1e3, 1e3)
        values, _ = teaching.anchored_grid(lo, lo + 10 ** rng.uniform(-6, 4), int(rng.integers(1, 51)))
        x0, dx = linear_axis(values)
        assert np.array_equal(x0 + np.arange(values.size) * dx, values)


@pytest.mark.parametrize("y,kept", [
    ([-5, -4, 0.5, 0.6, -3, -9], [1, 2, 3, 4]),        # one point beyond the view kept on each side
    ([0.1, 0.2, 0.3], [0, 1, 2]),                       # all inside: all kept
    ([-5, -6, -7, -8], []),                             # nothing shows
    ([-5, 5, -5, -6], [0, 1, 2]),                       # a segment that crosses the whole view shows
    ([np.nan, 0.5, 0.4, np.nan, -9], [1, 2]),           # NaN ends hide their segments
    ([0.5, -4, -5, -6, 0.5], [0, 1, 3, 4]),             # a dip below between visible parts
])
def test_visible_only_cases(y, kept):
    y = np.asarray(y, dtype=float)
    got = visible_only(y, (0.0, 1.0))
    assert np.flatnonzero(~np.isnan(got)).tolist() == kept
    np.testing.assert_array_equal(got[kept], y[kept])


def test_visible_only_with_an_x_range():
    x = np.arange(10.0)
    y = np.full(10, 0.5)  # inside the y-range everywhere
    got = visible_only(y, (0.0, 1.0), x, (3.5, 5.5))
    assert np.flatnonzero(~np.isnan(got)).tolist() == [3, 4, 5, 6]


@pytest.mark.parametrize("even", [True, False])
def test_the_leak_check_accepts_off_view_blanking_and_nothing_more(even):
    """tests/plotly_checks.py allows a NaN run only where its finite neighbours lie beyond the view."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent))
    from plotly_checks import problems

    fam = _family(even=even)
    import json
    import plotly.io as pio
    spec = json.loads(pio.to_json(family_figure(fam.values, fam.log_marginal, fam.anchors,
                                                fam.anchor_log_marginal, fam.bounds)))
    bound_y = [t["y"] for t in spec["data"] if t.get("meta") == "bound"]
    assert all(isinstance(y, dict) and "bdata" in y for y in bound_y)  # typed arrays, as the page sends
    assert problems(spec) == []
    # the same NaN run, but inside the view: a leak
    j = next(i for i, t in enumerate(spec["data"]) if t.get("meta") == "f")
    y = np.array(fam.log_marginal, dtype=float)
    y[100:104] = np.nan
    spec["data"][j] = {**spec["data"][j], "y": y.tolist()}
    assert any("consecutive NaN" in p for p in problems(spec))
