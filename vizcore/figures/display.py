"""How a finished figure is drawn for its audience: presenter mode and colour contrast.

Pure functions on a figure's plotly JSON (a ``dict`` as from ``fig.to_dict()``), no
streamlit, so they also work in a notebook:

* :func:`presenter` makes every text large enough for the back of a lecture hall
  (tick labels ≥ 20 px, larger titles and legends), lines thicker, markers bigger,
  and puts the chart on a plain white background with dark axes;
* :func:`ensure_contrast` darkens (on a light background) or lightens (on a dark one)
  every line, marker and text colour that misses WCAG AA against the background:
  3:1 for graphics (WCAG 1.4.11), 4.5:1 for text (WCAG 1.4.3). Hue is kept (the colour
  is mixed towards black or white only as far as needed), so the Okabe–Ito colours keep
  their meaning; semi-transparent fills, colour scales and white marks (drawn over
  heatmaps, always outlined) are left alone.

:func:`ensure_contrast` never touches the plotly template. :func:`streamlit_themed` puts Streamlit's
chart theme there (its fonts, greys and backgrounds, light or dark), which Streamlit's own chart
element would apply in the browser; :func:`presenter` puts plotly's ``plotly_white`` there instead.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import plotly.io as pio

LIGHT_BG = "#FFFFFF"
DARK_BG = "#171614"          # Streamlit 1.67's dark theme background (measured in Chromium)
DARK_INK = "#E8E8E8"         # black ink (log p, outlines) becomes light ink on a dark background
DARK_BOX = "#2B2A27"         # a light box behind text (a button, a legend) becomes this in a dark theme

PRESENT_TICK = 20            # px, tick labels
PRESENT_AXIS_TITLE = 22      # px, axis titles
PRESENT_TITLE = 28           # px, the chart title
PRESENT_LEGEND = 20          # px, legend entries
PRESENT_TEXT = 18            # px, text on bars and annotations (minimum)
PRESENT_HEIGHT = 1.25        # taller, so that the larger text leaves room for the data
PRESENT_MIN_HEIGHT = 340     # px: a short strip of bars needs room for 20 px ticks and titles
PRESENT_LINE = 1.6           # line widths × this, at least 3 px
PRESENT_MARKER = 1.4         # marker sizes × this
TEXT_INK = "#000000"
AXIS_INK = "#000000"
GRID = "#C8C8C8"

_NAMED = {"black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128), "gray": (128, 128, 128)}
_RGB = re.compile(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$")
_AXIS = re.compile(r"^[xy]axis\d*$")


# ---- colours ------------------------------------------------------------------------------------
def parse_colour(colour) -> tuple[tuple[float, float, float], float] | None:
    """``((r, g, b), alpha)`` for ``#rgb``, ``#rrggbb``, ``rgb()``, ``rgba()`` and a few names; else None."""
    if not isinstance(colour, str):
        return None
    c = colour.strip().lower()
    if c in _NAMED:
        return tuple(float(v) for v in _NAMED[c]), 1.0
    if c.startswith("#") and len(c) in (4, 7):
        h = c[1:] if len(c) == 7 else "".join(ch * 2 for ch in c[1:])
        try:
            return tuple(float(int(h[i:i + 2], 16)) for i in (0, 2, 4)), 1.0
        except ValueError:
            return None
    m = _RGB.match(c)
    if m:
        return tuple(float(m.group(i)) for i in (1, 2, 3)), float(m.group(4)) if m.group(4) else 1.0
    return None


def luminance(rgb) -> float:
    """WCAG relative luminance of an (r, g, b) triple in 0..255."""
    out = []
    for v in rgb:
        s = v / 255.0
        out.append(s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4)
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2]


def contrast_ratio(a, b) -> float:
    """WCAG contrast ratio of two colours (strings or (r, g, b) triples)."""
    la = luminance(parse_colour(a)[0] if isinstance(a, str) else a)
    lb = luminance(parse_colour(b)[0] if isinstance(b, str) else b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(round(min(max(v, 0), 255))):02X}" for v in rgb)


def with_contrast(colour: str, background: str, target: float = 3.0) -> str:
    """``colour`` mixed towards black (light background) or white (dark one) until it reaches ``target``.

    Colours that already pass, that cannot be parsed, or that are semi-transparent
    (alpha < 0.9: faint context lines and fills) come back unchanged.
    """
    parsed, bg = parse_colour(colour), parse_colour(background)
    if parsed is None or bg is None:
        return colour
    rgb, alpha = parsed
    if alpha < 0.9 or contrast_ratio(rgb, bg[0]) >= target:
        return colour
    towards = (0.0, 0.0, 0.0) if luminance(bg[0]) > 0.18 else (255.0, 255.0, 255.0)
    for step in range(1, 101):
        f = step / 100
        mixed = tuple((1 - f) * c + f * t for c, t in zip(rgb, towards))
        if contrast_ratio(mixed, bg[0]) >= target:
            break
    return _hex(mixed)


def dark_box(colour: str) -> str:
    """A light box behind text (``bgcolor`` of a legend, an annotation, a button) for a dark theme.

    The text in it is made light for the dark page, so a light box would hide it: an opaque one becomes
    :data:`DARK_BOX`, a see-through one the page's own :data:`DARK_BG` with the same opacity. A dark box,
    or a colour that cannot be parsed, comes back unchanged.
    """
    parsed = parse_colour(colour)
    if parsed is None or luminance(parsed[0]) <= 0.18:
        return colour
    if parsed[1] >= 0.9:
        return DARK_BOX
    r, g, b = parse_colour(DARK_BG)[0]
    return f"rgba({r:.0f},{g:.0f},{b:.0f},{parsed[1]:g})"


def seen_on(colour: str, background: str) -> str:
    """``colour`` as it looks over ``background`` (its opacity applied), as #rrggbb; ``background`` when
    ``colour`` cannot be parsed."""
    top, under = parse_colour(colour), parse_colour(background)
    if top is None or under is None:
        return background
    (rgb, alpha), (base, _) = top, under
    return _hex(tuple(alpha * c + (1 - alpha) * b for c, b in zip(rgb, base)))


def ensure_contrast(spec: dict, background: str = LIGHT_BG, *, graphics: float = 3.0, text: float = 4.5) -> dict:
    """Raise every ``color`` in ``spec`` (traces, layout, frames) to WCAG AA against ``background``.

    Text colours (under a ``font``/``textfont``) get ``text``:1, marks get ``graphics``:1.
    White marks on a light background are kept (they are outlined symbols over heatmaps); black
    ink on a dark background becomes :data:`DARK_INK`, as text does in a dark theme. On a dark
    background a light box behind text becomes dark too (:func:`dark_box`): the Play button of the EM
    figure, the legends and notes drawn on a white veil. Colours inside such a box are raised against
    the box as it is seen on the page (:func:`seen_on`), not against the page.
    The dict is changed in place and returned.
    """
    light = luminance(parse_colour(background)[0]) > 0.18

    def fix(value, is_text, under):
        p = parse_colour(value)
        if p is None:
            return value
        if light and luminance(p[0]) > 0.8:
            return value
        if not light and luminance(p[0]) < 0.01 and p[1] >= 0.9:  # black ink: swap, as for text
            return DARK_INK
        return with_contrast(value, under, text if is_text else graphics)

    def walk(node, is_text=False, under=background):
        if isinstance(node, dict):
            box = node.get("bgcolor")
            if isinstance(box, str):  # a legend, a note, a button: its text is read against its own box
                if not light:
                    node["bgcolor"] = box = dark_box(box)
                under = seen_on(box, under)
            for k, v in node.items():
                if k == "template" or "colorscale" in k.lower() or k in ("fillcolor", "bgcolor", "plot_bgcolor",
                                                                          "paper_bgcolor", "gridcolor"):
                    continue
                sub_text = is_text or "font" in k.lower()
                if k == "color" and isinstance(v, str):
                    node[k] = fix(v, sub_text, under)
                elif k == "color" and isinstance(v, (list, tuple)) and v and all(isinstance(c, str) for c in v):
                    node[k] = [fix(c, sub_text, under) for c in v]
                else:
                    walk(v, sub_text, under)
        elif isinstance(node, (list, tuple)):
            for item in node:
                if isinstance(item, (dict, list, tuple)):
                    walk(item, is_text, under)

    walk(spec)
    return spec


# ---- presenter mode -----------------------------------------------------------------------------
def _bigger_font(node: dict, key: str, size: int, colour: str | None = None) -> None:
    font = node.get(key)
    font = dict(font) if isinstance(font, dict) else {}
    font["size"] = max(size, font.get("size") or 0)
    if colour is not None:
        font["color"] = colour
    node[key] = font


def _thicker(trace: dict, in_frame: bool = False) -> None:
    line = trace.get("line")
    if isinstance(line, dict):
        w = line.get("width")
        if w is None:
            if not in_frame:  # a frame that leaves the width out keeps the trace's own
                line["width"] = 3
        elif w > 0:
            line["width"] = max(w * PRESENT_LINE, 3.0)
    marker = trace.get("marker")
    if isinstance(marker, dict) and isinstance(marker.get("size"), (int, float)):
        marker["size"] = marker["size"] * PRESENT_MARKER
    if isinstance(marker, dict) and isinstance(marker.get("line"), dict):
        w = marker["line"].get("width")
        if isinstance(w, (int, float)) and w > 0:
            marker["line"]["width"] = max(w * PRESENT_LINE, 1.5)
    if "textfont" in trace or trace.get("text") is not None or trace.get("texttemplate") is not None:
        _bigger_font(trace, "textfont", PRESENT_TEXT)
    for bar in ("colorbar",):
        cb = trace.get(bar)
        if isinstance(cb, dict):
            _bigger_font(cb, "tickfont", PRESENT_TICK)
            title = cb.get("title")
            if isinstance(title, dict):
                _bigger_font(title, "font", PRESENT_AXIS_TITLE)
    if trace.get("type") in ("heatmap", "contour") and "colorbar" not in trace and trace.get("showscale", True):
        trace["colorbar"] = {"tickfont": {"size": PRESENT_TICK}}


_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")
_TAGS = re.compile(r"<[^>]+>")
PRESENT_LEGEND_WIDTH = 430   # px a horizontal legend may span: a ~560-px chart on a projector, less the y axis


def _text_px(text: str, size: float) -> float:
    """Rough width of a label (slightly generous): CJK characters are square, Latin ones about half as wide."""
    text = _TAGS.sub("", text)
    return sum(size if _CJK.match(c) else 0.5 * size for c in text)


@functools.cache
def streamlit_theme() -> dict:
    """``{"light": template layout, "dark": template layout}`` of Streamlit's chart theme (see the JSON's
    ``_source``), loaded once; each is one object shared by every themed spec (never change it in place)."""
    from .speccache import mark_shared
    theme = json.loads((Path(__file__).with_name("streamlit_theme.json")).read_text(encoding="utf-8"))
    for kind in ("light", "dark"):
        mark_shared(theme[kind])
    return {"light": theme["light"], "dark": theme["dark"]}


def streamlit_themed(spec: dict, kind: str = "light") -> dict:
    """``spec`` (changed in place) in Streamlit's chart theme, ``kind`` "light" or "dark": the template's
    layout becomes the theme's (its data part, plotly's defaults per trace type, stays), and a title is
    bold, as ``st.plotly_chart(theme="streamlit")`` draws it. Colours the spec sets itself win, as there."""
    if kind not in ("light", "dark"):
        raise ValueError(f"kind: expected 'light' or 'dark', got {kind!r}")
    layout = spec.setdefault("layout", {})
    template = layout.get("template")
    data = template.get("data") if isinstance(template, dict) else None
    layout["template"] = {"layout": streamlit_theme()[kind], **({"data": data} if data else {})}
    title = layout.get("title")
    if isinstance(title, str):
        title = {"text": title}
    if isinstance(title, dict) and isinstance(title.get("text"), str) and title["text"] \
            and not title["text"].startswith("<b>"):
        layout["title"] = {**title, "text": f"<b>{title['text']}</b>"}
    return spec


def _room_above(spec: dict) -> int:
    """Top margin that fits the large title and a horizontal legend drawn above the plot, without overlap.

    Plotly does not move a legend placed above the plot out of the title's way, and presenter
    mode makes both larger. Plotly lays a horizontal legend out in one row when it fits, else in
    a grid of equal columns as wide as its widest entry; the rows are estimated the same way at
    the width a chart has on a projector (:data:`PRESENT_LEGEND_WIDTH`).
    """
    layout = spec.get("layout") or {}
    title = layout.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    room = int(1.5 * PRESENT_TITLE) if text else 0
    legend = layout.get("legend") if isinstance(layout.get("legend"), dict) else {}
    above = legend.get("orientation") == "h" and (legend.get("y") or 0) >= 1 and layout.get("showlegend") is not False
    widths = [40 + _text_px(str(t["name"]), PRESENT_LEGEND) for t in spec.get("data") or []
              if isinstance(t, dict) and t.get("showlegend") is not False and t.get("name")]
    if not above or not widths:
        return room
    if sum(widths) <= PRESENT_LEGEND_WIDTH:
        rows = 1
    else:
        cols = max(1, int(PRESENT_LEGEND_WIDTH // max(widths)))
        rows = -(-len(widths) // cols)
    return room + int(rows * 1.5 * PRESENT_LEGEND) + 10


# plotly.js 4's button row (src/components/updatemenus/constants.js): a button is its label plus 24 px, at
# least 30 px wide, and buttons stand 2 px apart
_BUTTON_TEXT_PAD = 24
_BUTTON_MIN = 30
_BUTTON_GAP = 2
SLIDER_GAP = 10              # px between the last button and the frame slider's grip


def _label_px(text: str, size: float) -> float:
    """Generous width of a button label: Latin letters half an em, anything else (CJK, ▶, ❚) one em."""
    text = _TAGS.sub("", text)
    return sum(0.5 * size if ord(c) < 0x2000 else size for c in text)


def slider_beside_buttons(layout: dict) -> dict:
    """Start each frame slider where the Play/Pause buttons on its row end (``layout`` changed in place).

    The buttons' width is in pixels (their labels and font), a slider's ``x`` a fraction of the plot's
    width: a slider placed at a fraction starts under the buttons on a narrow chart, in a wider font
    (presenter mode) or in another language, and its grip at the first frames hides behind "Pause". Here
    the slider spans the row (``x`` = the buttons' ``x``, ``len`` = 1) and its left padding, in pixels,
    clears the buttons, whatever the chart's width. Only a row of buttons (``type="buttons"``,
    ``direction="left"``) at the slider's ``y`` counts; the slider then starts at the row's ``x``.
    """
    menus = [m for m in layout.get("updatemenus") or [] if isinstance(m, dict)
             and m.get("type") == "buttons" and m.get("direction", "left") == "left"]
    sliders = layout.get("sliders") or []
    for i, sl in enumerate(sliders):
        if not isinstance(sl, dict):
            continue
        row = [m for m in menus if m.get("y", 0) == sl.get("y", 0)]
        if not row:
            continue
        menu = row[0]
        size = ((menu.get("font") or {}).get("size")) or 12
        pad = menu.get("pad") or {}
        width = (pad.get("l") or 0) + sum(max(_BUTTON_MIN, _label_px(str(b.get("label", "")), size) + _BUTTON_TEXT_PAD)
                                          for b in menu.get("buttons") or []) \
            + _BUTTON_GAP * max(len(menu.get("buttons") or []) - 1, 0)
        sliders[i] = {**sl, "x": menu.get("x", 0), "xanchor": "left", "len": 1,
                      "pad": {**(sl.get("pad") or {}), "l": int(round(width + SLIDER_GAP))}}
    return layout


def presenter(spec: dict) -> dict:
    """Presenter mode: large text (ticks ≥ 20 px), thick lines, a white background, black axes.

    Changes ``spec`` (a plotly figure as a dict, frames included) in place and returns it.
    """
    layout = spec.setdefault("layout", {})
    # drawn without Streamlit's chart theme: its template holds placeholder colours, so use plotly's white one
    layout["template"] = pio.templates["plotly_white"].to_plotly_json()
    _bigger_font(layout, "font", PRESENT_TICK, TEXT_INK)
    layout["paper_bgcolor"] = LIGHT_BG
    layout["plot_bgcolor"] = LIGHT_BG
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        _bigger_font(title, "font", PRESENT_TITLE, TEXT_INK)
    legend = layout.get("legend")
    legend = dict(legend) if isinstance(legend, dict) else {}
    _bigger_font(legend, "font", PRESENT_LEGEND, TEXT_INK)
    layout["legend"] = legend
    axes = [k for k in layout if _AXIS.match(k)] or ["xaxis", "yaxis"]
    for k in set(axes) | {"xaxis", "yaxis"}:
        ax = layout.get(k)
        ax = dict(ax) if isinstance(ax, dict) else {}
        _bigger_font(ax, "tickfont", PRESENT_TICK, TEXT_INK)
        t = ax.get("title")
        t = {"text": t} if isinstance(t, str) else (dict(t) if isinstance(t, dict) else {})
        _bigger_font(t, "font", PRESENT_AXIS_TITLE, TEXT_INK)
        ax["title"] = t
        ax.update(linecolor=AXIS_INK, linewidth=2, showline=True, gridcolor=GRID, zerolinecolor="#888888",
                  automargin=True)
        layout[k] = ax
    for ann in layout.get("annotations") or []:
        if isinstance(ann, dict):
            _bigger_font(ann, "font", PRESENT_TEXT)
    for key in ("sliders", "updatemenus"):
        for item in layout.get(key) or []:
            if isinstance(item, dict):
                _bigger_font(item, "font", PRESENT_TEXT)
                cv = item.get("currentvalue")
                if isinstance(cv, dict):
                    _bigger_font(cv, "font", PRESENT_TEXT, TEXT_INK)
    if layout.get("sliders") and layout.get("updatemenus"):
        slider_beside_buttons(layout)   # the buttons grew with their font: move the slider along
    for shape in layout.get("shapes") or []:
        line = shape.get("line") if isinstance(shape, dict) else None
        if isinstance(line, dict) and isinstance(line.get("width"), (int, float)):
            line["width"] = max(line["width"] * PRESENT_LINE, 2.0)
    if isinstance(layout.get("height"), (int, float)):
        layout["height"] = max(int(layout["height"] * PRESENT_HEIGHT), PRESENT_MIN_HEIGHT)
    margin = layout.get("margin")
    if isinstance(margin, dict):
        margin["l"] = max(margin.get("l") or 0, 20)
        margin["b"] = max(margin.get("b") or 0, 20)
        if layout.get("sliders") and isinstance(margin.get("b"), (int, float)):
            margin["b"] = int(margin["b"] * 1.12)  # a frame slider's larger labels
        if isinstance(margin.get("t"), (int, float)):
            margin["t"] = max(int(margin["t"] * 1.35), _room_above(spec))
    for trace in spec.get("data") or []:
        if isinstance(trace, dict):
            _thicker(trace)
    for frame in spec.get("frames") or []:
        for trace in frame.get("data") or []:
            if isinstance(trace, dict):
                _thicker(trace, in_frame=True)
        flayout = frame.get("layout")
        if isinstance(flayout, dict) and isinstance(flayout.get("title"), dict):
            _bigger_font(flayout["title"], "font", PRESENT_TITLE, TEXT_INK)
    return spec
