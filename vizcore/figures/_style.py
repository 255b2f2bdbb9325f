"""Shared look of every figure: the Okabe-Ito palette and a common layout."""
from __future__ import annotations

import base64
import functools
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.basevalidators import CompoundArrayValidator, CompoundValidator, is_homogeneous_array
from _plotly_utils.utils import plotlyjsShortTypes, to_typed_array_spec

from .speccache import mark_shared

# Okabe & Ito (2008), colour-blind safe.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
LOG_P = "#000000"       # log p(X|theta), the objective
ELBO = "#0072B2"        # the lower bound
KL = "#D55E00"          # the gap
Q = "#E69F00"           # the approximation q
P = "#0072B2"           # the target p
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
# Second cues besides colour (colour is never the only difference between two series):
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "triangle-down", "star", "hexagon")
PATTERNS = ("", "/", ".", "x", "\\", "+")   # bar fill patterns


def component_colour(k: int) -> str:
    return OKABE_ITO[k % len(OKABE_ITO)]


def component_dash(k: int) -> str:
    """Line dash of component k (solid, dash, dot, ...): the same z looks the same on every chart."""
    return DASHES[k % len(DASHES)]


def component_symbol(k: int) -> str:
    """Marker symbol of component k."""
    return SYMBOLS[k % len(SYMBOLS)]


def linear_axis(x) -> tuple[float, float] | None:
    """(x0, dx) when ``x[i]`` is exactly ``x0 + i·dx`` in float64, else None.

    plotly.js computes a trace's x from ``x0`` and ``dx`` in that order of operations
    (``makeCalcdata``: ``v0 + i * dv``), so a trace given (x0, dx) instead of ``x`` draws its points at
    exactly these x, and sends two numbers instead of an array (:func:`vizcore.teaching.anchored_grid`
    builds such grids)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2 or not np.isfinite(x).all():
        return None
    x0 = float(x[0])
    est = float((x[-1] - x[0]) / (x.size - 1))  # within a few units in the last place of the dx used
    if not est > 0:
        return None
    steps, ulp = np.arange(x.size), float(np.spacing(est))
    for k in (0, -1, 1, -2, 2, -3, 3, -4, 4):
        if np.array_equal(x0 + steps * (est + k * ulp), x):
            return x0, est + k * ulp
    return None


def visible_only(y, yr, x=None, xr=None) -> np.ndarray:
    """``y`` with NaN wherever a point draws nothing in the view ``yr`` (and ``xr`` over ``x``, if given).

    A point is kept when a line segment from it to a neighbour can cross the view: the segment's ends
    are not both beyond the same edge and neither is NaN. plotly draws no part of a segment beyond one
    edge, so the picture is the same (only a dash pattern may start at another phase), and the NaN runs
    deflate to almost nothing on the compressed websocket. What the figure's own view cannot show, e.g. a
    bound far below log p, or most of a curve in an EM frame zoomed in on one iteration, is not sent.
    plotly's "autoscale" button then shows the curves only as far as that view.
    """
    y = np.asarray(y, dtype=float)
    if y.size < 2:
        return y
    with np.errstate(invalid="ignore"):
        sides = [y < yr[0], y > yr[1]]
        if xr is not None:
            x = np.asarray(x, dtype=float)
            sides += [x < xr[0], x > xr[1]]
    nan = np.isnan(y)
    hidden = nan[:-1] | nan[1:]
    for side in sides:
        hidden |= side[:-1] & side[1:]
    keep = np.zeros(y.size, dtype=bool)
    keep[:-1] |= ~hidden
    keep[1:] |= ~hidden
    return np.where(keep, y, np.nan)


# ---- subscripts in plot text -------------------------------------------------------------------
# Plot text is written the way the docstrings write it ("θ_old", "q_θ′", "π_k", "θ_{t−1}") and drawn with
# plotly's <sub>: a legend reading "touch at θ_old" looks like code on a projector. A subscript is one
# letter or digit string, "old", "new" or "θ′" (possibly "t−1", "t+1"), or anything in braces, after a
# letter, "²" or "′"; a longer word after "_" (an identifier such as "heads_probs") is left alone.
_SUBSCRIPT = re.compile(r"(?<=[^\W\d_]|[²′])_(?:\{([^{}<>]+)\}|((?:old|new|θ′|[0-9]+|[^\W\d_])(?:[−+]1)?)(?![\w′]))")
# The properties whose strings plotly draws as text (trace names, titles, hover templates, labels of
# buttons and slider steps, tick labels, bar text). Not "args", "legendgroup", "uid", "meta" and the like:
# those are identifiers, and a frame's name is what its slider step refers to.
_TEXT_KEYS = frozenset(("name", "text", "title", "hovertemplate", "texttemplate", "label", "prefix", "suffix",
                        "ticktext"))


def subscripted(text: str) -> str:
    """``text`` with each ``a_b`` subscript written as plotly's ``a<sub>b</sub>``: "touch at θ_old" →
    "touch at θ<sub>old</sub>", "θ_{t−1}" and "θ_t−1" → "θ<sub>t−1</sub>", "σ²_k" → "σ²<sub>k</sub>"."""
    if "_" not in text:
        return text
    return _SUBSCRIPT.sub(lambda m: f"<sub>{m.group(1) or m.group(2)}</sub>", text)


def typeset(obj, key: str | None = None):
    """Every plotted string in a figure's dict (``data``, ``layout``, ``frames``) through
    :func:`subscripted`, in place; returns ``obj``. Only the properties plotly draws as text
    (:data:`_TEXT_KEYS`) are touched."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, str):
                if k in _TEXT_KEYS and "_" in v:
                    obj[k] = subscripted(v)
            elif k == "frames" and isinstance(v, list):  # a frame's own name is an identifier: its contents only
                for frame in v:
                    typeset(frame.get("data"))
                    typeset(frame.get("layout"))
            elif isinstance(v, (dict, list)):
                typeset(v, k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, str):
                if key in _TEXT_KEYS and "_" in v:
                    obj[i] = subscripted(v)
            elif isinstance(v, (dict, list)):
                typeset(v, key)
    return obj


def _merge(obj, update: dict) -> None:
    """``obj.update(update)`` with plotly's merge rules, written straight into ``obj``.

    The rules of ``BaseFigure._perform_update``: a dict into a compound property merges, a list
    into an empty array of objects (annotations, shapes, ...) is assigned, anything else is
    assigned. What this does not handle itself (a key that is no direct property, such as
    ``title_text`` or a new ``xaxis2``; None for an object; a list merged element-wise into an
    existing array) goes through plotly's own ``update``.
    """
    for key, val in update.items():
        if key not in obj._valid_props:
            obj.update({key: val})
            continue
        validator = obj._get_prop_validator(key)
        if isinstance(validator, CompoundValidator) and isinstance(val, dict):
            if (obj._props or {}).get(key):
                _merge(obj[key], val)
            else:  # nothing there yet: merging into it is assigning it (one validation, not one per leaf)
                obj[key] = val
        elif (isinstance(validator, CompoundValidator) and val is None) or \
                (isinstance(validator, CompoundArrayValidator) and obj[key]):
            obj.update({key: val})
        else:
            obj[key] = val


# Off: every update goes through plotly's own machinery (tests compare both ways).
FAST_UPDATES = True

_SKIPPED = frozenset(("geojson", "layer", "layers", "range"))  # plotly's is_skipped_key
_PLAIN = (str, int, float, type(None))  # never arrays (plotly asks each whether it is one)
_NARROW = {"int64": (np.int8, np.int16, np.int32), "uint64": (np.uint8, np.uint16, np.uint32)}


def _typed_array(v: np.ndarray):
    """plotly's ``to_typed_array_spec`` of a numeric numpy array, without its detour through narwhals
    (which checks every array for a dataframe) and its defensive copy: the same ``{dtype, bdata[, shape]}``,
    64-bit integers narrowed the same way. Anything else goes to plotly's own."""
    if not v.dtype.isnative:  # big-endian bytes would be read as little-endian: plotly sends a list
        return to_typed_array_spec(v)
    dtype = v.dtype.name
    if dtype in _NARROW and v.size:
        lo, hi = v.min(), v.max()
        for small in _NARROW[dtype]:
            info = np.iinfo(small)
            if info.min <= lo and hi <= info.max:
                v, dtype = v.astype(small), np.dtype(small).name
                break
        else:
            return to_typed_array_spec(v)
    if dtype not in plotlyjsShortTypes or v.size == 0:
        return to_typed_array_spec(v)
    spec = {"dtype": plotlyjsShortTypes[dtype], "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}
    if v.ndim > 1:
        spec["shape"] = str(v.shape)[1:-1]
    return spec


def convert_to_base64(obj) -> None:
    """plotly's ``convert_to_base64`` (every array in a spec becomes a typed-array spec, in place), with
    numeric numpy arrays encoded by :func:`_typed_array`: a fifth of a chart's build went to plotly's
    per-array checks. ``tests/test_figure_style.py`` compares the two on every chart and on odd arrays."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(value, _PLAIN) or key in _SKIPPED:
                continue
            if isinstance(value, np.ndarray) and value.dtype.kind in "uif":
                obj[key] = _typed_array(value)
            elif isinstance(value, (dict, list, tuple)):
                convert_to_base64(value)
            elif is_homogeneous_array(value):
                obj[key] = to_typed_array_spec(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            convert_to_base64(value)


class Figure(go.Figure):
    """A ``go.Figure`` whose ``update_layout``, ``update_xaxes`` and ``update_yaxes`` write into the
    layout directly: the same figure, its layout set about three times faster (a whole chart,
    traces and ``to_dict`` included, 1.4–1.7 times faster).

    plotly runs every update through the figure's batch-update machinery and re-parses each
    property path on the way (5–10 ms for :func:`base_layout`, about half a chart's build); a figure
    here is built once, before anything listens to it, so there is nothing to batch. Row, column,
    selector and ``overwrite`` updates go through plotly unchanged. ``tests/test_figure_style.py``
    checks that both ways give the same figure.
    """

    def update_layout(self, dict1=None, overwrite=False, **kwargs):
        if overwrite or not FAST_UPDATES:
            return super().update_layout(dict1, overwrite, **kwargs)
        _merge(self.layout, {**(dict1 or {}), **kwargs})
        return self

    def _update_axes(self, which: str, patch, selector, overwrite, row, col, kwargs):
        if overwrite or selector is not None or row is not None or col is not None or not FAST_UPDATES:
            slow = go.Figure.update_xaxes if which == "x" else go.Figure.update_yaxes
            return slow(self, patch, selector, overwrite, row, col, **kwargs)
        update = {**(patch or {}), **kwargs}
        for axis in (self.select_xaxes() if which == "x" else self.select_yaxes()):
            _merge(axis, update)
        return self

    def to_dict(self):
        return self._as_dict(copy=True)

    def release_dict(self) -> dict:
        """``to_dict()`` of a figure that is not used afterwards: plotly's ``to_dict`` deep-copies every
        property (10–20 % of building a chart) so that the figure stays usable; this hands its own
        property dicts over instead (arrays become base64 in place). Do not use the figure again."""
        return self._as_dict(copy=False)

    def _as_dict(self, copy: bool) -> dict:
        if copy:
            return typeset(go.Figure.to_dict(self))
        res = {"data": list(self._data), "layout": self._layout}  # plotly's to_dict, minus the deep copies
        frames = [frame._props for frame in self._frame_objs]
        if frames:
            res["frames"] = frames
        convert_to_base64(res)
        return typeset(res)

    def update_xaxes(self, patch=None, selector=None, overwrite=False, row=None, col=None, **kwargs):
        return self._update_axes("x", patch, selector, overwrite, row, col, kwargs)

    def update_yaxes(self, patch=None, selector=None, overwrite=False, row=None, col=None, **kwargs):
        return self._update_axes("y", patch, selector, overwrite, row, col, kwargs)


def _common_layout(title: str | None, height: int) -> dict:
    return dict(
        colorway=OKABE_ITO,  # traces without an explicit colour take the palette, not the theme's colours
        # the title sits at the top of the figure, the legend just above the plot: room for both
        title=dict(text=title, y=0.98, yanchor="top") if title else None, height=height,
        margin=dict(l=10, r=10, t=90 if title else 30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        hovermode="closest",
    )


# ---- figures written as plotly JSON -------------------------------------------------------------
# A chart redrawn on every slider move is written as its plotly JSON (a ``*_spec`` builder) and handed
# to the browser as it is: building it through plotly's graph objects (every property validated and
# copied, the template deep-copied) took 5–15 ms for a handful of bars, 20–50 times the dict. The builder
# of the old name (``evidence_bar_figure`` for ``evidence_bar_spec``) gives ``Figure(spec)``, validated by
# plotly, for notebooks, the command line and the tests; ``tests/test_figure_specs.py`` checks that
# plotly's validation leaves every spec as written.
def named_scale(name: str) -> list:
    """A named colour scale as plotly's validator spells it out (plotly.js's own named scales have other stops)."""
    return [list(stop) for stop in go.Heatmap(colorscale=name).colorscale]


VIRIDIS = named_scale("Viridis")


def layout_of(*, title: str | None = None, xtitle: str | None = None, ytitle: str | None = None,
              height: int = 380, **more) -> dict:
    """``base_layout(fig, title=title, xaxis=xtitle, yaxis=ytitle, height=height)``'s layout as a dict, then
    ``more`` merged into it (plotly's merge: dicts into dicts). Both axes are there, for the caller to add to."""
    layout = _common_layout(title, height)
    layout["xaxis"] = {"title": {"text": xtitle}} if xtitle is not None else {}
    layout["yaxis"] = {"title": {"text": ytitle}} if ytitle is not None else {}
    return merged(layout, more)


def vline(x: float, **props) -> dict:
    """The shape of ``add_vline(x, **props)`` on a figure without subplots: a line across the plot's height."""
    return dict(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="y domain", **props)


def hline(y: float, **props) -> dict:
    """The shape of ``add_hline(y, **props)`` on a figure without subplots: a line across the plot's width."""
    return dict(type="line", x0=0, x1=1, xref="x domain", y0=y, y1=y, yref="y", **props)


def merged(base: dict, update: dict) -> dict:
    """``base`` with ``update`` merged into it (a new dict): nested dicts merge, anything else replaces."""
    out = dict(base)
    for key, val in update.items():
        if isinstance(val, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], val)
        else:
            out[key] = val
    return out


def _drop_none(obj, top: bool = False, key: str | None = None):
    """Dict entries that are None left out, at any depth (plotly leaves an unset property out), and the
    layout's axes when nothing was set on them; in the same walk, the drawn text subscripted (as :func:`typeset`)."""
    if isinstance(obj, dict):
        return {k: _drop_none(v, key=k) for k, v in obj.items()
                if v is not None and not (top and v == {} and k in ("xaxis", "yaxis"))}
    if isinstance(obj, list):
        return [_drop_none(v, key=key) for v in obj]
    if isinstance(obj, str) and key in _TEXT_KEYS and "_" in obj:
        return subscripted(obj)
    return obj


def spec_of(data: list, layout: dict) -> dict:
    """A figure's plotly JSON from trace dicts (each with its ``type``) and a layout dict, its text
    subscripted (:func:`typeset`)."""
    return {"data": [_drop_none(t) for t in data], "layout": _drop_none(layout, top=True)}


def figure_of(spec_builder, name: str):
    """The builder ``name`` of a validated :class:`Figure`: ``Figure(spec_builder(...))``, with the spec
    builder's signature and docstring."""
    @functools.wraps(spec_builder)
    def build(*args, **kwargs) -> go.Figure:
        return Figure(spec_builder(*args, **kwargs))
    build.__name__ = build.__qualname__ = name
    return build


_TEMPLATES: dict[str, dict] = {}


def finished(spec: dict) -> dict:
    """``spec`` (changed in place) as ``Figure(spec).to_dict()`` gives it: plotly's default template in the
    layout (shared, never changed), arrays as typed arrays."""
    name = pio.templates.default
    if name not in _TEMPLATES:
        _TEMPLATES[name] = go.Figure().layout.template.to_plotly_json() if name else {}
    convert_to_base64(spec)  # before the template goes in: it holds no arrays, and is long to walk
    layout = spec.setdefault("layout", {})
    if "template" not in layout and _TEMPLATES[name]:
        layout["template"] = _TEMPLATES[name]
        mark_shared(_TEMPLATES[name])
    return spec


def base_layout(fig: go.Figure, *, title: str | None = None, xaxis: str | None = None,
                yaxis: str | None = None, height: int = 380) -> go.Figure:
    """Apply the common layout: compact margins, legend on top, titled axes."""
    layout = _common_layout(title, height)
    if isinstance(fig, Figure) and FAST_UPDATES:
        _merge(fig.layout, layout)
    else:  # e.g. make_subplots' figure
        fig.update_layout(**layout)
    if xaxis is not None:
        fig.update_xaxes(title=dict(text=xaxis))
    if yaxis is not None:
        fig.update_yaxes(title=dict(text=yaxis))
    return fig
