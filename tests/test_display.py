"""Presenter mode and colour contrast (vizcore/figures/display.py) on every chart the pages draw.

Each page is run by AppTest; every plotly spec it sends goes through the transforms that
``pages._common.show`` applies in the browser, and the result is checked:

* presenter: every axis (subplots included) has tick labels ≥ 20 px and a larger title,
  the legend and the chart title are larger, every drawn line is at least 3 px;
* contrast: every line, marker and text colour meets WCAG AA against the light and the
  dark background (3:1 for marks, 4.5:1 for text), with the plotly template untouched.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from vizcore.figures import display
from vizcore.figures._style import OKABE_ITO
from plotly_checks import charts as charts_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("home", "latent_models", "lower_bounds", "kl_divergence", "elbo_gap", "em", "variational")
TABS = {"variational": ("Maximising the ELBO", "A richer family", "Tighter bounds (IWAE)", "Mean-field",
                        "Variational EM")}


@pytest.fixture(scope="module")
def specs() -> dict[str, dict]:
    out = {}
    for page in PAGES:
        for tab in (None, *TABS.get(page, ())):  # a page with tabs runs only the open one: open each
            at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120)
            if tab is not None:
                at.session_state["vi_tab"] = tab
            at.run()
            assert not at.exception, [e.value for e in at.exception]
            for i, chart in enumerate(charts_of(at)):
                out[f"{page}/{tab or ''}/{i}"] = json.loads(chart.proto.spec)
    assert len(out) >= 34
    return out


def _colours(node, path=(), text=False):
    """(path, colour, is_text) of every ``color`` the contrast check covers."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "template" or "colorscale" in k.lower() or k in ("fillcolor", "bgcolor", "plot_bgcolor",
                                                                      "paper_bgcolor", "gridcolor"):
                continue
            sub = text or "font" in k.lower()
            if k == "color" and isinstance(v, str):
                yield path + (k,), v, sub
            elif k == "color" and isinstance(v, list) and all(isinstance(c, str) for c in v):
                for c in v:
                    yield path + (k,), c, sub
            else:
                yield from _colours(v, path + (k,), sub)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _colours(item, path + (i,), text)


@pytest.mark.parametrize("background", [display.LIGHT_BG, display.DARK_BG])
def test_every_chart_colour_meets_wcag_aa(specs, background):
    light = background == display.LIGHT_BG
    checked = 0
    for name, spec in specs.items():
        fixed = display.ensure_contrast(copy.deepcopy(spec), background)
        assert fixed["layout"].get("template") == spec["layout"].get("template"), name
        for path, colour, is_text in _colours(fixed):
            parsed = display.parse_colour(colour)
            if parsed is None or parsed[1] < 0.9:  # named/unknown colours, faint context marks
                continue
            if light and display.luminance(parsed[0]) > 0.8:  # white outlined marks over heatmaps
                continue
            checked += 1
            need = 4.5 if is_text else 3.0
            assert display.contrast_ratio(colour, background) >= need - 1e-9, (name, path, colour)
    assert checked > 100


def _boxes(node, path=()):
    """(path, bgcolor, font colour or None) of everything drawn on its own box: legends, notes, buttons."""
    if isinstance(node, dict):
        if isinstance(node.get("bgcolor"), str):
            font = node.get("font") if isinstance(node.get("font"), dict) else {}
            yield path, node["bgcolor"], font.get("color")
        for k, v in node.items():
            if k != "template":
                yield from _boxes(v, path + (k,))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _boxes(item, path + (i,))


@pytest.mark.parametrize("kind,background", [("light", display.LIGHT_BG), ("dark", display.DARK_BG)])
def test_text_on_a_box_stays_readable_in_either_theme(specs, kind, background):
    """A box behind text (the EM figure's Play button, a legend or note on a white veil) is light on a light
    page and dark on a dark one, so the text the theme makes dark or light reads on it; its text has 4.5:1
    against the box as seen on the page (its own colour in either theme, the theme's in the dark one)."""
    theme_ink = display.streamlit_theme()[kind]["font"]["color"]
    bg = display.parse_colour(background)[0]
    checked = 0
    for name, spec in specs.items():
        fixed = display.ensure_contrast(copy.deepcopy(spec), background)
        for path, box, ink in _boxes(fixed["layout"]):
            parsed = display.parse_colour(box)
            assert parsed is not None, (name, path, box)
            (rgb, alpha) = parsed
            seen = tuple(alpha * c + (1 - alpha) * b for c, b in zip(rgb, bg))
            checked += 1
            assert (display.luminance(seen) > 0.18) == (kind == "light"), (name, path, box)
            # the theme's grey on the light page itself is Streamlit's choice; a box of another colour is ours
            if ink is not None or kind == "dark" or display.contrast_ratio(seen, bg) > 1.01:
                assert display.contrast_ratio(ink or theme_ink, seen) >= 4.5, (name, path, box, ink)
    assert checked >= 3


def test_text_in_a_box_is_raised_against_the_box():
    """A dark box on the light page: its dark grey text is lightened against the box, not kept for the page."""
    spec = {"data": [], "layout": {"legend": {"bgcolor": "#1F1F1F", "font": {"color": "#444444"}},
                                   "annotations": [{"text": "a", "bgcolor": "rgba(255,255,255,0.5)",
                                                    "font": {"color": "#999999"}}]}}
    fixed = display.ensure_contrast(copy.deepcopy(spec), display.LIGHT_BG)
    assert display.contrast_ratio(fixed["layout"]["legend"]["font"]["color"], "#1F1F1F") >= 4.5
    assert display.contrast_ratio(fixed["layout"]["annotations"][0]["font"]["color"], display.LIGHT_BG) >= 4.5
    assert display.seen_on("rgba(0,0,0,0.5)", "#FFFFFF") in ("#7F7F7F", "#808080")


def test_contrast_keeps_passing_colours_and_hue():
    assert display.with_contrast("#0072B2", display.LIGHT_BG) == "#0072B2"
    darker = display.parse_colour(display.with_contrast("#E69F00", display.LIGHT_BG))[0]
    assert darker[0] > darker[1] > darker[2]  # still orange: red > green > blue
    assert display.with_contrast("rgba(230,159,0,0.3)", display.LIGHT_BG) == "rgba(230,159,0,0.3)"
    spec = {"data": [{"line": {"color": "#000000"}}], "layout": {}}
    assert display.ensure_contrast(spec, display.DARK_BG)["data"][0]["line"]["color"] == display.DARK_INK


def _axes(layout):
    return {k: v for k, v in layout.items() if re.match(r"^[xy]axis\d*$", k)}


def test_presenter_mode_enlarges_every_chart(specs):
    for name, spec in specs.items():
        out = display.presenter(copy.deepcopy(spec))
        layout = out["layout"]
        axes = _axes(layout)
        assert axes, name
        for k, ax in axes.items():
            assert ax["tickfont"]["size"] >= 20, (name, k)
            assert ax["title"]["font"]["size"] >= 22, (name, k)
            assert ax["automargin"] is True
        assert layout["legend"]["font"]["size"] >= 20
        assert layout["font"]["size"] >= 20
        if (layout.get("title") or {}).get("text"):
            assert layout["title"]["font"]["size"] >= 28, name
        for trace in out["data"]:
            w = (trace.get("line") or {}).get("width")
            if w:
                assert w >= 3.0, (name, trace.get("name"), w)
        assert out["layout"]["template"]["layout"]["paper_bgcolor"] == "white"
        if spec["layout"].get("height"):
            assert layout["height"] >= spec["layout"]["height"]


def test_presenter_keeps_frames_and_data():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 2], line=dict(width=1)), frames=[go.Frame(data=[go.Scatter(y=[2, 3])])])
    fig.update_layout(height=300, xaxis=dict(tickfont=dict(size=11)))
    out = display.presenter(fig.to_dict())
    assert out["data"][0]["y"] == [1, 2] and out["data"][0]["line"]["width"] == 3.0
    assert out["frames"][0]["data"][0]["y"] == [2, 3] and "width" not in out["frames"][0]["data"][0].get("line", {})
    assert out["layout"]["xaxis"]["tickfont"]["size"] == 20 and out["layout"]["yaxis"]["tickfont"]["size"] == 20
    assert out["layout"]["height"] == 375


def test_frame_slider_starts_after_its_buttons_in_any_font():
    """The slider's left padding (px) covers the buttons on its row: wider for a larger font and for longer
    labels, in one row with the buttons (``x``), spanning it (``len`` = 1); a lone slider is left alone."""
    def layout(size, labels):
        return {"updatemenus": [{"type": "buttons", "direction": "left", "x": 0, "y": 0, "font": {"size": size},
                                 "buttons": [{"label": lab} for lab in labels]}],
                "sliders": [{"x": 0.3, "len": 0.7, "y": 0, "pad": {"t": 60}}]}
    small = display.slider_beside_buttons(layout(12, ["▶ Play", "❚❚ Pause"]))["sliders"][0]
    big = display.slider_beside_buttons(layout(18, ["▶ Play", "❚❚ Pause"]))["sliders"][0]
    longer = display.slider_beside_buttons(layout(12, ["▶ Play it again", "❚❚ Pause"]))["sliders"][0]
    assert small["x"] == 0 and small["len"] == 1 and small["pad"]["t"] == 60
    # plotly.js draws "▶ Play" 60 px and "❚❚ Pause" 82 px wide at 12 px (Chromium), 2 px apart
    assert 144 + 4 <= small["pad"]["l"] <= 144 + 40
    assert big["pad"]["l"] > small["pad"]["l"] + 40 and longer["pad"]["l"] > small["pad"]["l"] + 30
    lone = {"sliders": [{"x": 0.3, "len": 0.7, "y": 0}]}
    assert display.slider_beside_buttons(copy.deepcopy(lone)) == lone
    pres = display.presenter({"data": [], "layout": layout(12, ["▶ Play", "❚❚ Pause"])})
    assert pres["layout"]["sliders"][0]["pad"]["l"] > small["pad"]["l"]   # presenter mode moves it along


def test_figures_default_to_the_okabe_ito_palette(specs):
    for name, spec in specs.items():
        assert tuple(spec["layout"].get("colorway") or ()) == OKABE_ITO, name


def test_streamlit_themed_puts_the_theme_in_the_template_and_keeps_the_figures_own_settings():
    import json as _json
    from vizcore.figures._style import finished
    spec = finished({"data": [{"type": "scatter", "x": [0, 1], "y": [1, 2], "line": {"color": "#0072B2"}}],
                     "layout": {"title": {"text": "log p"}, "paper_bgcolor": "#123456"}})
    plotly_data = spec["layout"]["template"]["data"]
    stored = _json.loads((Path(display.__file__).with_name("streamlit_theme.json")).read_text(encoding="utf-8"))
    for kind in ("light", "dark"):
        out = display.streamlit_themed(_json.loads(_json.dumps(spec)), kind)
        assert out["layout"]["template"]["layout"] == stored[kind]
        assert out["layout"]["template"]["data"] == plotly_data     # plotly's per-trace defaults stay
        assert out["layout"]["title"]["text"] == "<b>log p</b>"       # as Streamlit draws a title
        assert out["layout"]["paper_bgcolor"] == "#123456"            # the figure's own setting wins
        assert out["data"][0]["line"]["color"] == "#0072B2"
    assert stored["light"]["paper_bgcolor"].upper() == display.LIGHT_BG
    assert stored["dark"]["paper_bgcolor"].upper() == display.DARK_BG
    twice = display.streamlit_themed(display.streamlit_themed(_json.loads(_json.dumps(spec))))
    assert twice["layout"]["title"]["text"] == "<b>log p</b>"
    with pytest.raises(ValueError, match="kind"):
        display.streamlit_themed(spec, "sepia")
