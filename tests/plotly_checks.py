"""Checks on what an AppTest run shows: plotly specs with no NaN/inf leaks, no "nan" in text.

Plotly encodes numpy arrays as typed arrays ``{"dtype", "bdata"[, "shape"]}`` (base64) and
turns a NaN or an infinity inside a plain list into ``null``. A page may use non-finite
values on purpose in two ways only, and both are allowed here:

* a *placeholder*: an array that is entirely NaN/null (an empty trace that animation
  frames fill in, e.g. the bound before the first E-step);
* a *separator*: an isolated NaN/null among finite values (plotly's way to break a line
  into segments: ``x0, x1, None, x2, x3, None``).

A third use is checked, not just allowed: *off-view blanking*
(``vizcore.figures._style.visible_only``). A curve's points that its view cannot show are
NaN, and then every finite point next to a NaN run lies beyond the view the trace is drawn
in: the y-range (and x-range) of its frame, or of the figure. A NaN run next to a point
inside the view is still a leak.

Anything else is a leak: an infinity anywhere, two NaN in a row inside a series with
finite values, a heatmap with no finite cell, or a non-finite typed array in the layout
(axis ranges, shapes, annotations). Null in ``layout.updatemenus`` (the
standard ``args: [null, {...}]`` of an animation's play button) is plotly's convention.
"""
from __future__ import annotations

import base64
import json
import math
import re

import numpy as np

_TYPED = ("dtype", "bdata")
# Notation written with an underscore ("θ_old", "x_n", "σ²_k") where plotly's <sub> belongs: found independently
# of vizcore.figures._style.subscripted's own pattern (tests/test_figure_style.py, tests/test_browser_pages.py).
NOTATION_UNDERSCORE = re.compile(r"[\u0370-\u03ff′²]_|(?<![A-Za-z])[A-Za-z]_(?![A-Za-z]{2})")


def decode(v) -> np.ndarray:
    """A typed array ``{dtype, bdata[, shape]}`` as a numpy array."""
    a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    if "shape" in v:
        a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
    return a


def _series_problem(values: np.ndarray) -> str | None:
    """None if the non-finite values of a 1-D float series are placeholders or separators."""
    if np.isinf(values).any():
        return "infinity"
    bad = np.isnan(values)
    if not bad.any() or bad.all():
        return None
    if (bad[1:] & bad[:-1]).any():
        return "consecutive NaN inside a series with finite values"
    return None


def _array(v) -> np.ndarray | None:
    if isinstance(v, dict) and all(k in v for k in _TYPED):
        return decode(v).astype(float)
    if isinstance(v, list):
        return _numbers(v)
    return None


def _off_view(y: np.ndarray, x: np.ndarray | None, xr, yr) -> bool:
    """Every finite point next to a NaN of ``y`` lies beyond the view ``xr`` × ``yr``."""
    nan = np.isnan(y)
    if not nan.any() or nan.all():
        return False
    edge = np.zeros(y.size, dtype=bool)
    edge[:-1] |= nan[1:]
    edge[1:] |= nan[:-1]
    edge &= ~nan
    out = (y < yr[0]) | (y > yr[1])
    if xr is not None and x is not None and x.shape == y.shape:
        out |= (x < xr[0]) | (x > xr[1])
    return bool(np.all(out[edge]))


def _ranges(layout: dict, fallback: dict):
    def rng(axis):
        r = (layout.get(axis) or {}).get("range") or (fallback.get(axis) or {}).get("range")
        return r if isinstance(r, list) and len(r) == 2 and all(isinstance(v, (int, float)) for v in r) else None
    return rng("xaxis"), rng("yaxis")


def _blanked_paths(spec: dict) -> set[str]:
    """Paths of the y arrays whose NaN runs are off-view blanking (see the module's docstring)."""
    allowed = set()
    layout = spec.get("layout") or {}
    base = spec.get("data") or []
    sets = [("data", base, layout, range(len(base)))]
    for f, frame in enumerate(spec.get("frames") or []):
        sets.append((f"frames[{f}].data", frame.get("data") or [], frame.get("layout") or {},
                     frame.get("traces", range(len(frame.get("data") or [])))))
    for path, traces, lay, idx in sets:
        xr, yr = _ranges(lay, layout)
        if yr is None:
            continue
        for pos, (j, tr) in enumerate(zip(idx, traces)):
            y = _array(tr.get("y"))
            own = base[j] if isinstance(j, int) and j < len(base) else {}
            x_src = tr.get("x", own.get("x"))
            x = _array(x_src) if x_src is not None else None
            x0, dx = tr.get("x0", own.get("x0")), tr.get("dx", own.get("dx"))
            if x is None and y is not None and isinstance(x0, (int, float)) and isinstance(dx, (int, float)):
                x = x0 + np.arange(y.size) * dx  # plotly.js's x of a trace given x0 and dx
            if y is not None and y.ndim == 1 and _off_view(y, x, xr, yr):
                allowed.add(f"{path}[{pos}].y")
    return allowed


def _numbers(v) -> np.ndarray | None:
    """A list of numbers/nulls (any depth) as a float array; None if it holds anything else."""
    try:
        a = np.array(v, dtype=float)  # None → nan
    except (TypeError, ValueError):
        return None
    return a if a.dtype.kind == "f" else None


def problems(spec: dict) -> list[str]:
    """Every non-finite value in a plotly spec that is not a placeholder or a separator."""
    out: list[str] = []
    if isinstance(spec, str):
        spec = json.loads(spec, parse_constant=float)
    blanked = _blanked_paths(spec)

    def check_array(path: str, a: np.ndarray, in_layout: bool, typed: bool = False):
        if a.dtype.kind not in "fc":
            return
        a = np.asarray(a, dtype=float)
        if in_layout:  # plain lists may hold null (e.g. range [null, 5]: plotly autoranges that end)
            if np.isinf(a).any() or (typed and np.isnan(a).any()):
                out.append(f"{path}: non-finite value in the layout")
            return
        if a.ndim >= 2:  # a heatmap/surface: NaN marks cells outside the valid region; not all of them
            if np.isinf(a).any():
                out.append(f"{path}: infinity")
            elif a.size > 1 and np.isnan(a).all():
                out.append(f"{path}: every cell NaN")
            return
        for r in a.reshape(1, -1):
            p = _series_problem(r)
            if p and p.startswith("consecutive NaN") and path in blanked:
                p = None
            if p:
                out.append(f"{path}: {p}")
                return

    def walk(o, path: str, in_layout: bool):
        if isinstance(o, dict):
            if all(k in o for k in _TYPED):
                check_array(path, decode(o), in_layout, typed=True)
                return
            for k, v in o.items():
                walk(v, f"{path}.{k}", in_layout)
        elif isinstance(o, list):
            if not o:
                return
            if all(isinstance(v, (int, float)) or v is None for v in o) and not all(isinstance(v, bool) for v in o):
                if path.split(".")[1:2] == ["updatemenus"] or ".updatemenus" in path:
                    return
                check_array(path, np.array([math.nan if v is None else float(v) for v in o]), in_layout)
                return
            nested = _numbers(o) if all(isinstance(v, list) for v in o) else None
            if nested is not None and nested.ndim == 2:
                check_array(path, nested, in_layout)
                return
            for i, v in enumerate(o):
                walk(v, f"{path}[{i}]", in_layout)
        elif isinstance(o, float) and not math.isfinite(o):
            if not (".updatemenus" in path):
                out.append(f"{path}: non-finite number {o}")

    def parse_constant(c):
        return float(c)  # NaN / Infinity / -Infinity literals, should a serializer write them

    if isinstance(spec, str):
        spec = json.loads(spec, parse_constant=parse_constant)
    walk(spec.get("data", []), "data", False)
    walk(spec.get("frames", []), "frames", False)
    walk(spec.get("layout", {}), "layout", True)
    return out


class Chart:
    """A chart an AppTest run drew (the app's chart element, ``pages/_chart.py``), read as the browser
    gets it: ``id`` (ends with ``-<key>``), ``key``, ``spec`` and ``config`` as JSON text, ``alt``.
    ``proto`` is the chart itself, so ``chart.proto.spec`` reads as it did for ``st.plotly_chart``."""

    def __init__(self, element):
        payload = bytes(element.proto.bytes).decode("utf-8")
        figure = json.loads(payload)
        if figure.get("template"):  # the theme the browser puts back in (pages/_chart.py, _theme_by_name)
            from vizcore.figures.display import streamlit_theme
            figure["spec"]["layout"]["template"]["layout"] = streamlit_theme()[figure["template"]]
        self.id = element.proto.id
        self.key = self.id.rsplit("-", 1)[-1]
        self.payload = payload
        self.spec = json.dumps(figure["spec"])
        self.config = json.dumps(figure["config"])
        self.alt = figure["alt"]
        self.labels = figure.get("labels") or {}
        self.proto = self


def charts(at) -> list[Chart]:
    """Every chart an AppTest run drew, in page order (main area and sidebar); not the hidden element
    that starts loading plotly.js (``pages/_chart.preload``), which draws none."""
    from pages._chart import PRELOAD_KEY
    return [Chart(el) for el in at.get("bidi_component")
            if el.proto.component_name == "vlb_chart" and not el.proto.id.endswith("-" + PRELOAD_KEY)]


def chart_problems(at) -> list[str]:
    """:func:`problems` for every plotly chart an AppTest run drew (prefixed with the chart's key)."""
    out = []
    for el in charts(at):
        key = el.proto.id.rsplit("-", 1)[-1]
        out += [f"{key} {p}" for p in problems(json.loads(el.proto.spec, parse_constant=float))]
    return out


_NAN_TEXT = re.compile(r"(?<![A-Za-z])(nan|NaN|NAN)(?![A-Za-z])")


def text_problems(at, allowed_lines=()) -> list[str]:
    """'nan' shown as a number in metrics, LaTeX or text (a NaN that reached the screen).

    ``allowed_lines``: regular expressions for lines known to show 'nan' (documented exceptions).
    """
    out = []
    for kind in ("metric", "latex", "markdown", "caption", "text", "info", "success", "warning", "toast"):
        for el in at.get(kind):
            value = getattr(el, "value", "") or ""
            if not isinstance(value, str):
                continue
            for line in value.splitlines():
                if _NAN_TEXT.search(line) and not any(re.search(p, line) for p in allowed_lines):
                    out.append(f"{kind}: {line[:120]!r}")
    return out
