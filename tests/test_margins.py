"""Margins that fit a chart's labels (vizcore/figures/margins.py).

Whether plotly.js agrees is checked in Chromium (tests/test_browser_pages.py,
``test_charts_ask_for_margins_that_fit``: no chart of any page has its margins widened). These
check the estimate's own rules: it never lowers a margin a spec asks for, it grows with what it
must fit, and it reads every way a spec holds its numbers.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
from plotly.io.json import to_json_plotly

from vizcore.figures import margins as M
from vizcore.figures._style import convert_to_base64, layout_of, spec_of


def _line(y, *, ytitle="log p", names=("a",), height=380):
    x = np.linspace(0.0, 1.0, len(y))
    data = [dict(type="scatter", x=x, y=np.asarray(y, dtype=float), name=n) for n in names]
    return spec_of(data, layout_of(xtitle="θ", ytitle=ytitle, height=height))


def test_never_lowers_what_a_spec_asks_for():
    spec = _line([0.0, 1.0])
    spec["layout"]["margin"] = dict(l=300, r=200, t=150, b=120)
    out = M.fit_margins(spec)["layout"]["margin"]
    assert out == dict(l=300, r=200, t=150, b=120)


def test_wider_tick_labels_need_a_wider_left_margin():
    small = M.fit_margins(_line([0.0, 0.4]))["layout"]["margin"]["l"]
    big = M.fit_margins(_line([-1800.0, -1000.0]))["layout"]["margin"]["l"]
    untitled = M.fit_margins(_line([-1800.0, -1000.0], ytitle=None))["layout"]["margin"]["l"]
    assert small < big
    assert untitled < big  # no axis title, no room for one


def test_typed_arrays_and_lists_give_the_same_margins():
    """Plotly's typed arrays (base64, as specs are sent) are read like the numbers they hold."""
    spec = _line(np.linspace(-12345.0, 20.0, 50), names=("first", "second"))
    plain = M.fit_margins(copy.deepcopy(spec))["layout"]["margin"]
    typed = copy.deepcopy(spec)
    convert_to_base64(typed)
    assert "bdata" in to_json_plotly(typed)
    assert M.fit_margins(typed)["layout"]["margin"] == plain


def test_a_legend_that_wraps_needs_more_room_above():
    names = [f"a rather long legend entry {k}" for k in range(6)]
    wide = M.fit_margins(_line([0.0, 1.0], names=names), width=2000)["layout"]["margin"]["t"]
    narrow = M.fit_margins(_line([0.0, 1.0], names=names), width=400)["layout"]["margin"]["t"]
    none = M.fit_margins(_line([0.0, 1.0], names=()))["layout"]["margin"]["t"]
    one = M.fit_margins(_line([0.0, 1.0], names=("only",)))["layout"]["margin"]["t"]
    assert none == one < wide < narrow  # plotly draws no legend for a single trace unless asked


def test_presenter_text_needs_more_room_than_streamlit_text():
    a = M.fit_margins(_line([-1800.0, -1000.0], names=("x", "y")), M.STREAMLIT)["layout"]["margin"]
    b = M.fit_margins(_line([-1800.0, -1000.0], names=("x", "y")), M.PRESENTER)["layout"]["margin"]
    assert all(b[s] >= a[s] for s in "lrtb") and b["l"] > a["l"]


def test_a_colour_bar_needs_room_on_the_right():
    z = np.arange(12.0).reshape(3, 4) * 1000
    spec = spec_of([dict(type="heatmap", z=z)], layout_of(xtitle="μ", ytitle="σ"))
    hidden = copy.deepcopy(spec)
    hidden["data"][0]["showscale"] = False
    assert M.fit_margins(spec)["layout"]["margin"]["r"] > M.fit_margins(hidden)["layout"]["margin"]["r"] + 40


def test_categories_are_measured_as_text():
    labels = ["E_q[log p(X|Z,θ)] − KL(q‖p(Z|θ))", "log p"]
    bars = spec_of([dict(type="bar", orientation="h", x=[1.0, 2.0], y=labels)], layout_of(xtitle="nats"))
    l_long = M.fit_margins(bars)["layout"]["margin"]["l"]
    assert l_long >= M.text_px(labels[0], M.STREAMLIT.tick)


@pytest.mark.parametrize("lo, hi, expected", [
    (0.0, 1.0, ["0", "0.2", "0.4", "0.6", "0.8", "1"]),
    (-1850.0, -1000.0, ["−1800", "−1600", "−1400", "−1200", "−1000"]),
    (40.0, 100.0, ["40", "50", "60", "70", "80", "90", "100"]),
])
def test_tick_labels_follow_plotly_auto_ticks(lo, hi, expected):
    """Labels as plotly.js drew them on this app's charts (read from ``_fullLayout.yaxis._vals`` in
    Chromium): the step is 2, 5 or 10 times a power of ten, trailing zeros dropped, a real minus."""
    assert M.tick_labels(lo, hi, 260, True) == expected


def test_large_numbers_take_plotly_suffixes():
    """From 10,000 on, plotly writes 20k, not 20000 (exponentformat "B"); below, the estimate keeps every
    digit, which is never narrower than what plotly draws."""
    labels = M.tick_labels(-45000.0, -15000.0, 260, True)
    assert labels and all(t.startswith("−") and t.endswith("k") for t in labels)
    assert M.tick_labels(0.0, 5000.0, 260, True)[-1] == "5000"


def test_nothing_finite_asks_for_nothing_more():
    spec = _line([np.nan, np.inf])
    out = M.fit_margins(spec)["layout"]["margin"]
    assert all(isinstance(v, int) and v >= 0 for v in out.values())


def test_animation_frames_ranges_count():
    """A frame that sets a wider y range (the EM figure's frames do) needs the room its labels take."""
    spec = _line([0.0, 1.0])
    spec["layout"]["yaxis"]["range"] = [0.0, 1.0]
    alone = M.fit_margins(copy.deepcopy(spec))["layout"]["margin"]["l"]
    spec["frames"] = [dict(name="1", layout=dict(yaxis=dict(range=[-12000.5, -11000.0])))]
    assert M.fit_margins(spec)["layout"]["margin"]["l"] > alone
