"""The fast layout updates of ``vizcore.figures._style.Figure`` give the figure plotly's own give.

``Figure.update_layout`` / ``update_xaxes`` / ``update_yaxes`` write into the layout instead of
going through plotly's batch-update machinery (the layout about three times faster). Here every figure of the
catalogue, for every model, is built both ways and compared as JSON; and the merge rules are
checked one by one against ``go.Figure``.
"""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from plotly_checks import NOTATION_UNDERSCORE
from vizcore.figures import _style
from vizcore.figures import catalog
from vizcore.figures._style import Figure, base_layout

MODELS = ("gmm1d", "gmm2d", "coins", "linkage")


def _json(fig) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


@pytest.fixture
def slow_updates(monkeypatch):
    def build(fn):
        monkeypatch.setattr(_style, "FAST_UPDATES", False)
        try:
            return fn()
        finally:
            monkeypatch.setattr(_style, "FAST_UPDATES", True)
    return build


# The only figures the catalogue does not draw for a model (any other ValueError is a failure, not a skip).
NOT_DRAWN = {("bound-plane", "linkage"): "one free coordinate: no plane",
             ("mixture-density", "gmm2d"): "a 2-D mixture is drawn by em-data",
             ("mixture-density", "linkage"): "linkage has no mixture density"}


def _skip_if_not_drawn(name: str, model: str) -> None:
    if (name, model) in NOT_DRAWN:
        with pytest.raises(ValueError, match="--model"):
            catalog.build(name, model=model)
        pytest.skip(f"{name} is not drawn for {model}: {NOT_DRAWN[name, model]}")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", list(catalog.FIGURES))
def test_every_catalogue_figure_is_the_same_built_either_way(name, model, slow_updates):
    _skip_if_not_drawn(name, model)
    fast = catalog.build(name, model=model)
    slow = slow_updates(lambda: catalog.build(name, model=model))
    assert _json(fast) == _json(slow)


UPDATES = [
    dict(title=dict(text="t", font=dict(size=13)), legend=dict(x=0.5)),      # merge into set objects
    dict(title=None),                                                          # None for an object
    dict(title="a plain string"),                                             # coerced by the validator
    dict(title_text="underscore", legend_font_size=9),                        # magic underscores
    dict(annotations=[dict(text="a", x=1, y=2)]),                             # assign an empty array
    dict(annotations=[dict(text="b")]),                                       # merge element-wise
    dict(xaxis=dict(range=[0, 1]), yaxis=dict(title=dict(text="y"), type="log")),
    dict(xaxis2=dict(title=dict(text="second"))),                             # a new subplot axis
    dict(colorway=["#000000", "#ffffff"], height=300, margin=dict(l=1)),
]


def _apply(cls):
    fig = cls(go.Scatter(x=[1, 2], y=[3, 4]))
    base_layout(fig, title="T", xaxis="x", yaxis="y", height=300)
    for u in UPDATES:
        fig.update_layout(**u)
    fig.update_xaxes(range=[0, 2], title=dict(font=dict(size=11)))
    fig.update_yaxes(dict(rangemode="tozero"), tickformat=".2f")
    fig.update_xaxes(showgrid=False, overwrite=True)
    return fig


def test_merge_rules_match_plotly_one_by_one():
    assert _json(_apply(Figure)) == _json(_apply(go.Figure))


def test_a_wrong_property_is_refused_like_plotly_does():
    with pytest.raises(ValueError):
        Figure().update_layout(no_such_property=1)
    with pytest.raises(ValueError):
        Figure().update_layout(height=3)  # below plotly's minimum of 10
    with pytest.raises(ValueError):
        Figure().update_xaxes(range="not a range")


def test_figure_arrays_are_unchanged():
    x = np.linspace(0, 1, 5)
    fig = Figure(go.Scatter(x=x, y=x ** 2)).update_layout(height=200)
    assert np.array_equal(np.asarray(fig.data[0].y), x ** 2)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", list(catalog.FIGURES))
def test_release_dict_is_to_dict_without_the_copies(name, model):
    """The page hands a freshly built figure's own properties over (no deep copy): the same spec."""
    _skip_if_not_drawn(name, model)
    kept = catalog.build(name, model=model)
    released = catalog.build(name, model=model)
    if not isinstance(released, Figure):  # make_subplots' figures: the page takes to_dict()
        pytest.skip(f"{name} is a plain go.Figure")
    def dump(spec):
        return json.dumps(spec, sort_keys=True, default=lambda a: np.asarray(a).tolist())

    want = dump(kept.to_dict())
    assert dump(released.release_dict()) == want
    assert dump(kept.to_dict()) == want  # to_dict leaves the figure as it was


ARRAYS = [
    np.linspace(0, 1, 7), np.linspace(0, 1, 7).astype(np.float32), np.arange(5), np.arange(-200, 200, 7),
    np.arange(0, 70_000, 1000), np.array([2 ** 40, -3]), np.array([2 ** 63 - 1, 0]),
    np.arange(10, dtype=np.uint64), np.array([2 ** 33], dtype=np.uint64), np.arange(6.0).reshape(2, 3),
    np.arange(12.0).reshape(3, 4)[:, ::2], np.linspace(0, 1, 9)[::-2], np.zeros(0), np.zeros(0, dtype=np.int64),
    np.arange(4, dtype=np.float16), np.array([True, False]), np.array(["a", "b"]), np.array([1, "a"], dtype=object),
    np.int64(3), np.float64(2.5), np.arange(3.0).astype(">f8"), np.arange(3).astype(">i4"),  # big-endian: lists
]


def test_convert_to_base64_is_plotlys():
    """The fast encoder gives plotly's typed-array specs for every kind of array (and leaves the rest)."""
    from _plotly_utils.utils import convert_to_base64 as plotlys

    def spec():
        return {"data": [{"x": a, "marker": {"color": a}} for a in ARRAYS] + [{"y": [1, 2], "range": np.arange(3)}]}

    def dump(d):
        return json.dumps(d, sort_keys=True, default=lambda a: [repr(np.asarray(a).dtype), np.asarray(a).tolist()])

    mine, theirs = spec(), spec()
    _style.convert_to_base64(mine)
    plotlys(theirs)
    assert dump(mine) == dump(theirs)
    assert mine["data"][0]["x"]["dtype"] == "f8"  # something was encoded at all


def test_the_keys_left_alone_are_plotlys():
    from _plotly_utils.utils import is_skipped_key
    assert all(is_skipped_key(k) for k in _style._SKIPPED)
    assert not any(is_skipped_key(k) for k in ("x", "y", "z", "ranges", "customdata", "bdata", "dtype"))


# ---- subscripts in plot text ------------------------------------------------------------------------
@pytest.mark.parametrize("text,want", [
    ("touch at θ_old", "touch at θ<sub>old</sub>"),
    ("log p(X|θ_new)", "log p(X|θ<sub>new</sub>)"),
    ("θ_{t−1}", "θ<sub>t−1</sub>"),
    ("u along θ(u) = θ_t−1 + u (θ_t − θ_t−1)", "u along θ(u) = θ<sub>t−1</sub> + u (θ<sub>t</sub> − θ<sub>t−1</sub>)"),
    ("M-step: θ_t+1", "M-step: θ<sub>t+1</sub>"),
    ("bounds L(q_θ′, θ)", "bounds L(q<sub>θ′</sub>, θ)"),
    ("π_k N(x | μ_k, σ²_k)", "π<sub>k</sub> N(x | μ<sub>k</sub>, σ²<sub>k</sub>)"),
    ("θ_0 → θ_12", "θ<sub>0</sub> → θ<sub>12</sub>"),
    ("E_q[log p(X,Z|θ)]", "E<sub>q</sub>[log p(X,Z|θ)]"),
    # identifiers, hover placeholders and plain words are left alone
    ("p₁   (heads_probs[0])", "p₁   (heads_probs[0])"),
    ("faithful_waiting", "faithful_waiting"),
    ("L = %{y:.3f}<extra></extra>", "L = %{y:.3f}<extra></extra>"),
    ("_k at the start, k_ at the end", "_k at the start, k_ at the end"),
])
def test_subscripted_writes_notation_with_sub(text, want):
    assert _style.subscripted(text) == want
    assert _style.subscripted(want) == want  # a second pass changes nothing


def test_typeset_touches_only_what_plotly_draws_as_text():
    spec = {"data": [{"name": "θ_old", "legendgroup": "θ_old", "meta": "x_n", "text": ["π_k = 0.4", 3.0],
                      "hovertemplate": "L(q_t, θ) = %{y}"}],
            "layout": {"title": {"text": "θ_t"}, "xaxis": {"title": "x_n", "ticktext": ["μ_k"]},
                       "sliders": [{"steps": [{"label": "θ_1", "args": [["frame_1"]]}]}]},
            "frames": [{"name": "a_b", "layout": {"title": {"text": "q_t"}}}]}
    _style.typeset(spec)
    assert spec["data"][0] == {"name": "θ<sub>old</sub>", "legendgroup": "θ_old", "meta": "x_n",
                               "text": ["π<sub>k</sub> = 0.4", 3.0], "hovertemplate": "L(q<sub>t</sub>, θ) = %{y}"}
    assert spec["layout"]["title"]["text"] == "θ<sub>t</sub>" and spec["layout"]["xaxis"]["title"] == "x<sub>n</sub>"
    assert spec["layout"]["xaxis"]["ticktext"] == ["μ<sub>k</sub>"]
    assert spec["layout"]["sliders"][0]["steps"][0] == {"label": "θ<sub>1</sub>", "args": [["frame_1"]]}
    # a frame's name is what its slider step refers to: an identifier, left alone ("a_b" would convert as text)
    assert spec["frames"][0] == {"name": "a_b", "layout": {"title": {"text": "q<sub>t</sub>"}}}


_TEXT_KEYS = ("name", "text", "title", "hovertemplate", "label", "prefix", "ticktext")


def _drawn_texts(obj, key=None):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _drawn_texts(v, k)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _drawn_texts(v, key)
    elif isinstance(obj, str) and key in _TEXT_KEYS + ("y", "x"):  # categories are drawn as tick labels
        yield obj


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", list(catalog.FIGURES))
def test_no_catalogue_figure_draws_an_underscore_for_a_subscript(name, model, lang):
    _skip_if_not_drawn(name, model)
    fig = catalog.build(name, model=model, lang=lang)
    bad = [t for t in _drawn_texts(fig.to_dict()) if NOTATION_UNDERSCORE.search(t)]
    assert not bad, bad
