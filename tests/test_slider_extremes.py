"""Every slider, number input and select slider of every page, pushed to its ends.

The pages are discovered from ``app.py``. For each widget, a fresh run of the page
sets that one widget to its minimum (then, in another fresh run, to its maximum) with
every other widget at its default, and checks: no exception, no ``st.error``, no NaN
or infinity in any plotly chart (see ``plotly_checks``) and no "nan" shown as a number.

``test_extremes_for_every_model`` (marked ``slow``) repeats this for every model of
the pages with the shared model controls.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import SelectSlider  # noqa: E402

from plotly_checks import chart_problems, text_problems  # noqa: E402

KINDS = ("slider", "number_input", "select_slider")
TIMEOUT = 180


def app_pages() -> list[str]:
    """The page files registered in app.py, in navigation order."""
    pages = re.findall(r'st\.Page\(\s*"([^"]+)"', (ROOT / "app.py").read_text())
    assert pages, "no st.Page(...) found in app.py"
    return pages


def model_control_pages() -> list[tuple[str, str]]:
    """(page, prefix) of every page that calls model_controls("<prefix>", ...)."""
    out = []
    for page in app_pages():
        m = re.search(r'model_controls\(\s*"([a-z]+_)"', (ROOT / page).read_text())
        if m:
            out.append((page, m.group(1)))
    return out


def _label_slider(label: str):
    """A select slider that sends one of its formatted options, as the browser does.

    AppTest only knows the formatted options of a select slider, not the values behind
    them; the browser sends the formatted option and so does this.
    """
    class LabelSlider(SelectSlider):
        @property
        def _widget_state(self):
            ws = WidgetState()
            ws.id = self.id
            ws.string_array_value.data[:] = [label]
            return ws
    return LabelSlider


def _widget(at, kind: str, key: str):
    found = [w for w in at.get(kind) if w.key == key]
    assert found, f"{kind} {key!r} not drawn"
    return found[0]


def _fresh(page: str, setup=()):
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    at.run()
    for kind, key, value in setup:
        getattr(at, kind)(key=key).set_value(value)
        at.run()
    return at


def _assert_clean(at, what: str):
    assert not at.exception, f"{what}: " + "; ".join(e.message for e in at.exception)
    assert not at.error, f"{what}: " + "; ".join(e.value for e in at.error)
    bad = chart_problems(at)
    assert not bad, f"{what}: " + "; ".join(bad[:5])
    bad = text_problems(at)
    assert not bad, f"{what}: " + "; ".join(bad[:5])


def _widgets(at) -> list[tuple[str, str]]:
    return [(kind, w.key) for kind in KINDS for w in at.get(kind) if w.key]


def _set(at, kind: str, key: str, end: str):
    """Move one widget to its "min", "max" or back to ``end`` = ("value", v); return what it should show."""
    w = _widget(at, kind, key)
    if kind == "select_slider":
        if isinstance(end, tuple):
            label = w.format_func(end[1])
        else:
            label = w.options[0 if end == "min" else -1]
        w.__class__ = _label_slider(label)
        return ("label", label)
    if isinstance(end, tuple):
        target = end[1]
    else:
        target = w.min if end == "min" else w.max
        if isinstance(w.value, (list, tuple)):  # a range slider: both handles to the end
            target = (target, target)
    w.set_value(target)
    return ("value", target)


def _shows(at, kind: str, key: str, want) -> bool:
    w = _widget(at, kind, key)
    return (w.format_func(w.value) if want[0] == "label" else w.value) == want[1]


def _check_all_extremes(page: str, setup=()):
    """One run per end of every widget; the widget goes back to its default with the next one's move.

    A widget that a previous move made disappear, or that a callback of the widget going back
    to its default moved, is checked in a fresh run of the page.
    """
    at = _fresh(page, setup)
    _assert_clean(at, f"{page} at its defaults")
    widgets = _widgets(at)
    assert widgets, f"no slider or number input on {page}"
    defaults = {(kind, key): _widget(at, kind, key).value for kind, key in widgets}
    restore = None
    for kind, key in widgets:
        if not any(w.key == key for w in at.get(kind)):
            at, restore = _fresh(page, setup), None
        for end in ("min", "max"):
            if restore is not None and end == "min":
                _set(at, *restore)
            want = _set(at, kind, key, end)
            at.run()
            what = f"{page}: {kind} {key} at its {end}"
            if not _shows(at, kind, key, want):  # a callback of the restored widget moved it: start afresh
                at = _fresh(page, setup)
                want = _set(at, kind, key, end)
                at.run()
            assert _shows(at, kind, key, want), f"{what}: the widget did not move to {want[1]!r}"
            _assert_clean(at, what)
        restore = (kind, key, ("value", defaults[(kind, key)]))
        if not any(w.key == key for w in at.get(kind)):
            at, restore = _fresh(page, setup), None
    return widgets


@pytest.mark.parametrize("page", app_pages())
def test_every_slider_at_both_ends(page):
    _check_all_extremes(page)


def test_the_discovery_finds_every_page_and_its_widgets():
    pages = app_pages()
    assert "pages/home.py" in pages and len(pages) >= 6
    at = _fresh("pages/lower_bounds.py")
    keys = [k for _, k in _widgets(at)]
    assert "lb_anchors" in keys and any(k.startswith("lb_th_") for k in keys)


def test_the_check_catches_a_nan_in_a_chart():
    """The checker is not blind: a page that draws NaN, infinity or an error fails it."""
    at = AppTest.from_string(
        "import numpy as np, plotly.graph_objects as go, streamlit as st\n"
        "v = st.slider('v', 0.0, 1.0, 0.5, key='v')\n"
        "y = np.array([1.0, 2.0, 3.0])\n"
        "if v == 0: y[:2] = np.nan\n"
        "if v == 1: y[0] = np.inf\n"
        "from pages import _chart\n"
        "_chart.chart(go.Figure(go.Scatter(x=[0.0, 1.0, 2.0], y=y)).to_dict(), key='c', config={})\n"
        "st.metric('m', f'{y[1]:.3f}')\n", default_timeout=30)
    at.run()
    assert not chart_problems(at) and not text_problems(at)
    at.slider(key="v").set_value(0.0).run()
    assert chart_problems(at) and text_problems(at)  # two NaN in a row, and "nan" in a metric
    at.slider(key="v").set_value(1.0).run()
    assert any("infinity" in p for p in chart_problems(at))


@pytest.mark.slow
@pytest.mark.parametrize("page,prefix", model_control_pages())
@pytest.mark.parametrize("model", ["gmm2d", "coins", "linkage"])
def test_extremes_for_every_model(page, prefix, model):
    _check_all_extremes(page, setup=[("selectbox", f"{prefix}model", model)])
