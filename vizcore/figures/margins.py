"""Margins that already fit a chart's labels, so that plotly draws it once.

Streamlit's chart theme (and presenter mode) turn on ``automargin``. When the margins a figure asks
for are smaller than its tick labels, axis titles, legend or colour bar need, plotly draws the chart,
measures those, and draws it all again with wider margins. The specs used to ask for 10 px, so every
chart a slider move changed was plotted twice; with margins that fit, ``Plotly.react`` takes 0.48-0.82 of
the time it took per move on the seven pages (``bench/margins.py``, bench/README.md item 38).

:func:`fit_margins` raises each of a spec's margins to an estimate of what plotly would settle on,
from what the spec holds: the data's extent on each axis (hence the tick labels plotly will choose),
the axis titles, the legend's entries, colour bars and the chart title. The estimate is generous by a
few pixels; where it falls short (in a narrower window a legend wraps to more rows than at the width
the page expects, ``width``), plotly still widens the margin itself, as it did before: a chart can be
drawn twice, never clipped; where it is too generous, a chart has a little more white space. ``tests/test_browser_pages.py`` checks in Chromium that no chart of any
page's first view, plain or in presenter mode, has its margins pushed.

Pure numpy on a figure's plotly JSON (arrays as lists, numpy arrays or plotly's typed arrays);
no plotly, no streamlit.
"""
from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fonts:
    """Text sizes (px) the browser draws a chart with, and the pixels around them (measured in Chromium)."""
    tick: float            # tick labels
    axis_title: float      # axis titles
    legend: float          # legend entries
    title_room: float      # the height a chart title takes at the top of the figure
    standoff: float        # tick labels to the plot and the axis line, and again to an axis title
    em: float = 1.0        # text widths × this: presenter mode's font is wider than Source Sans


# Streamlit 1.67's chart theme: 12 px ticks and legend, 14 px axis titles (read from ``_fullLayout``).
STREAMLIT = Fonts(tick=12, axis_title=14, legend=12, title_room=40, standoff=16)
# presenter mode (vizcore.figures.display): drawn without Streamlit's theme, 20-28 px text.
PRESENTER = Fonts(tick=20, axis_title=22, legend=20, title_room=42, standoff=15, em=1.08)
# px a chart is wide when nobody says: half of Streamlit's main column (940 px in a 1400-px window with
# the sidebar open). A legend wraps at the plot's width, so the page says how wide a chart is drawn
# (pages/_common.show's ``share``).
WIDTH = 470

_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")
_TAGS = re.compile(r"<[^>]+>")
_AXIS = re.compile(r"^([xy])axis(\d*)$")
_NARROW = frozenset(".,:;'!|()[]ijlrtfI ")


def text_px(text: str, size: float) -> float:
    """The width of ``text`` drawn at ``size`` px, a few per cent generous on average: CJK characters
    square, narrow letters and punctuation 0.3 em, the rest 0.56 em (legends' entries in Chromium: 0.95-1.1
    of their drawn widths in Source Sans and in presenter mode's font)."""
    text = _TAGS.sub("", str(text))
    return size * sum(1.0 if _CJK.match(c) else 0.3 if c in _NARROW else 0.56 for c in text)


def _numbers(v) -> np.ndarray | None:
    """A trace array's finite values as float64, or None when it holds text (a categorical axis)."""
    if v is None:
        return None
    if isinstance(v, dict):  # plotly's typed array: {"dtype": "f8", "bdata": base64, "shape": ...}
        if "bdata" not in v:
            return None
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v.get("dtype", "f8")))
    else:
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            return None
    a = a.astype(float, copy=False).ravel()
    return a[np.isfinite(a)]


def _texts(v) -> list[str]:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(t) for t in v]
    return []


def _number_label(v: float, decimals: int) -> str:
    """The tick label plotly writes for ``v`` (exponentformat "B": k, M, B above 9999)."""
    a = abs(v)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= 10 * scale or (scale > 1e3 and a >= scale):
            return _number_label(v / scale, max(0, decimals - int(math.log10(scale)))) + suffix
    s = f"{v:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s.replace("-", "\u2212")


def tick_labels(lo: float, hi: float, length_px: float, vertical: bool) -> list[str]:
    """The labels of plotly's automatic ticks on a linear axis spanning [lo, hi] over ``length_px``:
    about one tick per 40 px on a y axis and per 80 px on an x axis (4 to 9, plus one), the step rounded
    up to 2, 5 or 10 times a power of ten (plotly.js ``autoTicks``)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [_number_label(lo, 6)]
    nt = min(9.0, max(4.0, length_px / (40 if vertical else 80))) + 1
    rough = (hi - lo) / nt
    base = 10.0 ** math.floor(math.log10(rough))
    step = base * next(m for m in (2, 5, 10) if m >= rough / base - 1e-9)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    if last - first > 40:  # not an automatic axis after all; the ends are the widest labels
        return [_number_label(lo, decimals), _number_label(hi, decimals)]
    return [_number_label(k * step, decimals) for k in range(first, last + 1)]


def _axis_ref(name: str) -> str:
    """"xaxis2" -> "x2", the way a trace names its axis."""
    m = _AXIS.match(name)
    return m.group(1) + m.group(2) if m else name


def _extent(spec: dict, ref: str, letter: str, category: bool = False) -> tuple[list[str], float, float]:
    """Texts on an axis (categories; every value on a ``category`` axis) and the numeric extent of what
    its traces draw on it."""
    texts: list[str] = []
    lo, hi = math.inf, -math.inf
    for trace in spec.get("data") or []:
        if not isinstance(trace, dict) or trace.get("visible") is False:
            continue
        if (trace.get(f"{letter}axis") or letter) != ref:
            continue
        kind = trace.get("type", "scatter")
        horizontal = trace.get("orientation") == "h"
        values = trace.get(letter)
        if kind == "histogram" or (kind == "bar" and (letter == "x") == horizontal):
            nums = _numbers(values)
            base = _numbers(trace.get("base"))
            parts = [np.zeros(1)] + [a for a in (nums, base) if a is not None and a.size]
            if nums is not None and base is not None and nums.size and base.size == nums.size:
                parts.append(nums + base)
            allv = np.concatenate(parts)
            lo, hi = min(lo, float(allv.min())), max(hi, float(allv.max()))
            continue
        nums = None if category else _numbers(values)
        if nums is None:
            texts += _texts(values)
        elif nums.size:
            lo, hi = min(lo, float(nums.min())), max(hi, float(nums.max()))
    return texts, lo, hi


def _axis_labels(spec: dict, name: str, axis: dict, length_px: float, vertical: bool) -> list[str]:
    """The widest labels an axis will show: its tick texts, categories, or automatic ticks."""
    if axis.get("showticklabels") is False or axis.get("visible") is False:
        return []
    if axis.get("ticktext") is not None:
        return _texts(axis["ticktext"])
    if axis.get("tickvals") is not None:
        return [v if isinstance(v, str) else _number_label(float(v), 6) for v in axis["tickvals"]]
    category = axis.get("type") in ("category", "multicategory")
    texts, lo, hi = _extent(spec, _axis_ref(name), name[0], category)
    if texts or category:
        return texts
    if axis.get("type") == "log":
        return ["0.0001", "1000"]  # labels like 2, 5, 0.001 or 1000: a few digits
    ranges = [_range(axis.get("range"))] + [_range(((f.get("layout") or {}).get(name) or {}).get("range"))
                                            for f in spec.get("frames") or [] if isinstance(f, dict)]
    ranges = [r for r in ranges if r is not None]
    if ranges:  # set by the spec (and by each animation frame): plotly draws exactly these
        return [t for lo, hi in ranges for t in tick_labels(lo, hi, length_px, vertical)]
    if axis.get("rangemode") == "tozero" and math.isfinite(lo):
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
        pad = 0.05 * (hi - lo)  # markers and bars: plotly pads the range
        lo, hi = lo - pad, hi + pad
    return tick_labels(lo, hi, length_px, vertical)


def _range(rng) -> tuple[float, float] | None:
    if isinstance(rng, (list, tuple)) and len(rng) == 2 and all(isinstance(r, (int, float)) for r in rng):
        return float(min(rng)), float(max(rng))
    return None


def _title_text(node) -> str:
    if isinstance(node, dict):
        t = node.get("title")
        t = t.get("text") if isinstance(t, dict) else t
        return str(t) if t else ""
    return ""


def _legend_rows(spec: dict, layout: dict, fonts: Fonts, room: float) -> int:
    """Rows of a horizontal legend ``room`` px wide (the plot's width): one when all entries fit, else a
    grid of equal columns as wide as the widest entry (plotly.js ``computeLegendDimensions``)."""
    seen: set[str] = set()
    widths = []
    asked = False
    for t in spec.get("data") or []:
        if not isinstance(t, dict) or t.get("showlegend") is False or not t.get("name"):
            continue
        if t.get("showlegend") is None and t.get("type") in ("heatmap", "contour", "histogram2d"):
            continue  # plotly leaves these out of the legend unless asked
        group = t.get("legendgroup")
        if group and group in seen:
            continue
        if group:
            seen.add(group)
        asked = asked or t.get("showlegend") is True
        widths.append(40 + text_px(t["name"], fonts.em * _legend_font(layout, fonts)))
    if not widths or (len(widths) == 1 and not asked and layout.get("showlegend") is None):
        return 0  # plotly shows a legend for a single trace only when asked
    if sum(widths) + 5 * (len(widths) - 1) <= room:
        return 1
    cols = max(1, int(room // max(widths)))
    return -(-len(widths) // cols)


def _legend_font(layout: dict, fonts: Fonts) -> float:
    return max(_font_size(layout.get("legend"), fonts.legend), _font_size(layout, 0.0))


def _font_size(node, default: float) -> float:
    font = node.get("font") if isinstance(node, dict) else None
    size = font.get("size") if isinstance(font, dict) else None
    return max(default, float(size)) if isinstance(size, (int, float)) else default


def _colorbar_px(trace: dict, fonts: Fonts) -> float:
    """Room a trace's vertical colour bar takes to the right of the plot, with its labels and title."""
    cb = trace.get("colorbar") if isinstance(trace.get("colorbar"), dict) else {}
    labels = _texts(cb.get("ticktext")) or tick_labels(*_z_range(trace), 300, True) or ["0.000"]
    size = _font_size(cb.get("tickfont") and {"font": cb["tickfont"]}, fonts.tick)
    px = 10 + (cb.get("thickness") or 30) + 8 + max(text_px(t, fonts.em * size) for t in labels) + 21
    title = cb.get("title")
    if isinstance(title, dict) and title.get("text") and title.get("side") == "right":
        px += 1.4 * _font_size(title, fonts.axis_title) + 24
    return px


def _z_range(trace: dict) -> tuple[float, float]:
    lo, hi = trace.get("zmin"), trace.get("zmax")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        return float(lo), float(hi)
    z = _numbers(trace.get("z"))
    if z is None or not z.size:
        return math.nan, math.nan
    return float(z.min()), float(z.max())


def fit_margins(spec: dict, fonts: Fonts = STREAMLIT, width: float = WIDTH) -> dict:
    """``spec`` (changed in place) with each margin raised to what its labels need, for a chart ``width``
    px wide; returns it.

    Never lowers a margin the spec asks for. Left: the widest tick label of every y axis on the left
    plus its title; bottom: tick labels and title of the x axes; right: y axes on the right and vertical
    colour bars; top: the chart title and a horizontal legend above the plot (or bottom, below it).
    """
    layout = spec.setdefault("layout", {})
    margin = layout.get("margin")
    margin = dict(margin) if isinstance(margin, dict) else {}
    height = layout.get("height") if isinstance(layout.get("height"), (int, float)) else 450
    axes = {k: (v if isinstance(v, dict) else {}) for k, v in layout.items() if _AXIS.match(k)}
    axes.setdefault("xaxis", {})
    axes.setdefault("yaxis", {})
    need = {"l": 0.0, "r": 0.0, "t": 0.0, "b": 0.0}
    base = _font_size(layout, 0.0)  # the figure's own font, where it sets one, for every text
    tick = max(fonts.tick, base)
    title_font = max(fonts.axis_title, base)
    two_d = any(isinstance(t, dict) and t.get("type") in ("heatmap", "contour", "histogram2d")
                for t in spec.get("data") or [])
    bar = False
    for name, axis in axes.items():
        if axis.get("overlaying") or axis.get("anchor") == "free":
            continue
        size = _font_size(axis.get("tickfont") and {"font": axis["tickfont"]}, tick)
        title = 1.4 * _font_size(axis.get("title"), title_font) if _title_text(axis) else 0.0
        if name[0] == "y":
            labels = _axis_labels(spec, name, axis, _domain_share(axis) * (height - 120), True)
            widest = max((text_px(t, fonts.em * size) for t in labels), default=0.0)
            # a heatmap's or contour's y axis sits 8-9 px further out (measured in Chromium)
            px = fonts.standoff * (2 if title else 1) + widest + title + 3 + (10 if two_d else 0)
            side = "r" if axis.get("side") == "right" else "l"
            need[side] = max(need[side], px)
        else:
            labels = _axis_labels(spec, name, axis, 400, False)
            px = fonts.standoff * 2 + (1.25 * size if labels else 0) + title
            side = "t" if axis.get("side") == "top" else "b"
            need[side] = max(need[side], px)
            if labels:  # the last label is centred on the plot's right edge at most
                need["r"] = max(need["r"], 0.5 * text_px(labels[-1], fonts.em * size) + 12)
    for trace in spec.get("data") or []:
        if isinstance(trace, dict) and trace.get("type") in ("heatmap", "contour", "histogram2d") \
                and trace.get("showscale", True) is not False and trace.get("visible") is not False:
            need["r"] = max(need["r"], _colorbar_px(trace, fonts))
            bar = True
    if bar:  # a colour bar reaches a little past the plot, above and below
        need["b"] += 8
        need["t"] = max(need["t"], 16.0)
    title = layout.get("title")
    title_text = title.get("text") if isinstance(title, dict) else title
    above = fonts.title_room if title_text else 0.0
    legend = layout.get("legend") if isinstance(layout.get("legend"), dict) else {}
    if layout.get("showlegend") is not False and legend.get("orientation") == "h":
        room = width - max(need["l"], margin.get("l") or 0) - max(need["r"], margin.get("r") or 0)
        rows = _legend_rows(spec, layout, fonts, max(room, 100.0))
        if rows:
            legend_px = rows * 1.65 * _legend_font(layout, fonts) + 12
            y = legend.get("y") if isinstance(legend.get("y"), (int, float)) else 1.02
            if y >= 1:
                above += legend_px + 16
            elif y < 0:
                # its top sits |y| plot heights below the plot: b >= legend + |y| (height - t - b)
                t = max(need["t"], above, margin.get("t") or 0)
                need["b"] = max(need["b"], (legend_px + abs(y) * (height - t)) / (1 + abs(y)) + 10)
    need["t"] = max(need["t"], above)
    for side, px in need.items():
        asked = margin.get(side)
        asked = asked if isinstance(asked, (int, float)) else 0
        margin[side] = max(asked, int(math.ceil(px)))
    layout["margin"] = margin
    return spec


def _domain_share(axis: dict) -> float:
    dom = axis.get("domain")
    if isinstance(dom, (list, tuple)) and len(dom) == 2:
        return max(0.1, float(dom[1]) - float(dom[0]))
    return 1.0
