"""The family-of-bounds figure sends each bound only where its view can show it, and draws the same.

``vizcore.figures.bounds.family_figure`` cuts every bound (and the envelope, and the dotted bound) to
the stretch of the grid whose line segments can cross the y-range it sets. Here the figure is built
from a real family (Old Faithful, 12 anchors) and compared with the full arrays: the kept part is a
contiguous stretch of the grid with the same values, and every segment that was dropped lies wholly
below the view (or touches a NaN), so plotly draws nothing of it.
"""
from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest

import vizcore as vc
from vizcore import teaching
from vizcore.figures.bounds import _in_view, family_figure


def _family(n_anchors=12, coord="means[0]"):
    m = vc.get_model("gmm1d")
    x = np.asarray(vc.load_dataset("faithful_waiting"))
    p = m.make_params(weights=[.5, .5], means=[55, 80], variances=[25, 25])
    lo, hi = teaching.coordinate_range(m, x, p, coord)
    anchors = teaching.anchor_positions(lo, hi, n_anchors)
    values = teaching.grid_with(lo, hi, 300, anchors)
    return vc.bound_family(m, x, p, coord, values, anchors)


def _invisible(y, lo, hi):
    """Segment i → i+1 of y cannot show in [lo, hi]."""
    below, above, nan = y < lo, y > hi, np.isnan(y)
    return (below[:-1] & below[1:]) | (above[:-1] & above[1:]) | nan[:-1] | nan[1:]


def _check_cut(full_x, full_y, sent_x, sent_y, lo, hi):
    i0 = int(np.flatnonzero(full_x == sent_x[0])[0])
    n = sent_x.size
    np.testing.assert_array_equal(full_x[i0:i0 + n], sent_x)
    np.testing.assert_array_equal(full_y[i0:i0 + n], sent_y)
    seg = _invisible(full_y, lo, hi)
    assert seg[:i0].all() and seg[i0 + n - 1:].all(), "a dropped segment could have shown"
    return full_x.size - n


def test_every_bound_is_cut_to_what_the_view_shows():
    fam = _family()
    fig = family_figure(fam.values, fam.log_marginal, fam.anchors, fam.anchor_log_marginal, fam.bounds,
                        extra_bound=0.5 * (fam.bounds[3] + fam.log_marginal), extra_label="q_s")
    lo, hi = fig.layout.yaxis.range
    sent = [t for t in fig.data if t.meta == "bound"]
    assert len(sent) == fam.bounds.shape[0]
    dropped = sum(_check_cut(fam.values, fam.bounds[a], np.asarray(t.x), np.asarray(t.y), lo, hi)
                  for a, t in enumerate(sent))
    env = next(t for t in fig.data if t.meta == "envelope")
    dropped += _check_cut(fam.values, fam.envelope, np.asarray(env.x), np.asarray(env.y), lo, hi)
    assert dropped > 0.3 * fam.values.size * fam.bounds.shape[0], "most of the far tails are not sent"
    f = next(t for t in fig.data if t.meta == "f")
    np.testing.assert_array_equal(np.asarray(f.x), fam.values)  # log p itself is whole


@pytest.mark.parametrize("y,expect", [
    ([-5, -4, 0.5, 0.6, -3, -9], slice(1, 5)),      # one point beyond the view kept on each side
    ([0.1, 0.2, 0.3], slice(0, 3)),                  # all inside: all kept
    ([-5, -6, -7, -8], slice(0, 2)),                 # nothing shows: two points kept for the legend
    ([-5, 5, -5, -6], slice(0, 3)),                  # a segment that crosses the whole view shows
    ([np.nan, 0.5, 0.4, np.nan, -9], slice(1, 3)),   # NaN ends hide their segments
])
def test_in_view_cases(y, expect):
    y = np.asarray(y, dtype=float)
    x = np.arange(y.size, dtype=float)
    cx, cy = _in_view(x, y, 0.0, 1.0)
    np.testing.assert_array_equal(cx, x[expect])
    np.testing.assert_array_equal(cy, y[expect])
