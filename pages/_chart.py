"""The app's chart element: one plotly.js plot per key, kept across reruns and updated in place.

``st.plotly_chart`` (Streamlit 1.67) makes a new element whenever a figure changes, and a new element
draws its plot twice: once before its width is measured and once more when its theme is applied on
mount (bench/README.md, item 39). A slider move that changes four charts drew eight plots from
scratch. This element keeps its ``<div>`` for as long as the page shows its key, and hands each new
figure to ``Plotly.react``, which redraws only what changed: one draw per changed chart.

What it keeps from ``st.plotly_chart``: the width of its column (it follows the column when the
window or the sidebar changes), the figure's height, plotly's mode bar (with the PNG download
the page configures; not on a screen without hover, where it would sit over the title and legend) and a
full-screen button, the accessible name (``alt``), and Streamlit's chart theme, which the server now
applies to the spec (:func:`vizcore.figures.display.streamlit_themed`).

What it does besides: a chart drawn before and now off the screen (below the fold, in a closed expander)
takes a new figure when it comes into view (an ``IntersectionObserver``, 100 px ahead of the edge) or when
the page is printed, not on every move of a slider above it; only the newest figure is drawn then
(bench/README.md, item 51). A first draw is never put off. And, as the app's one piece of code in the page, it
keeps a change of the address that the server asks for (a widget the page set itself) in the current history
entry, as Streamlit does for a widget the user moves, so that Back leaves the page (tests/test_browser_address.py).

The element's code (``static/vlb_chart.js``) and plotly.js (``static/plotly-cartesian.min.js``: plotly's
own "cartesian" bundle of the plotly.js version the pinned ``plotly`` wheel ships, see ``static/README.md``)
are served by Streamlit's static file serving (``server.enableStaticServing`` in
``.streamlit/config.toml``) and loaded once per tab; :func:`preload` starts loading them with the page.

The figure travels as JSON bytes, written by plotly's encoder (NaN as null, numpy scalars) once, as
``st.plotly_chart`` writes it. Handed a dict, Streamlit's component element would also dump it sorted
and hash that, for an identity the key already gives.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import plotly.io.json as pjson
import streamlit as st

NAME = "vlb_chart"
STATIC = Path(__file__).resolve().parents[1] / "static"   # served at app/static/ (server.enableStaticServing)


def _versioned(name: str) -> str:
    """``app/static/<name>?v=<its content hash>``: a new file is a new address, so no browser keeps running
    an old copy after a deploy (Streamlit's static serving sends no cache lifetime of its own)."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"app/static/{name}?v={digest}"


PLOTLY_BUNDLE = "plotly-cartesian.min.js"
# The trace types that bundle holds (its README; tests/test_browser_chart.py asks the bundle itself): a chart
# spec may use no other (tests/test_figure_specs.py). The full plotly.js is three times its size, and running
# it was the longest task of a page's first load (bench/README.md, item 40).
PLOTLY_TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
                           "image", "pie", "scatter", "scatterternary", "violin"})
PLOTLY_JS = _versioned(PLOTLY_BUNDLE)
MODULE_JS = _versioned("vlb_chart.js")
THEME_JSON = _versioned("streamlit_theme.json")   # vizcore/figures/streamlit_theme.json (tests/test_static.py)

# What each chart element carries: a loader of the element's module (static/vlb_chart.js), which the
# browser fetches once per tab. The whole module inline would be 7 KB in every changed chart's message.
JS = """export default function (component) {
  return import(new URL(%(module)s, document.baseURI).href)
    .then((m) => m.mount(component, {plotly: %(plotly)s, theme: %(theme)s}));
}
""" % {"module": json.dumps(MODULE_JS), "plotly": json.dumps(PLOTLY_JS), "theme": json.dumps(THEME_JSON)}

PRELOAD_KEY = "vlb_chart_preload"

CSS = """
div.vlb-chart { width: 100%%; }
div.vlb-chart:fullscreen { width: 100vw; height: 100vh; }
.st-key-%s { display: none; }
""" % PRELOAD_KEY


@functools.cache
def _component():
    return st.components.v2.component(NAME, js=JS, css=CSS, isolate_styles=False)


def chart(spec: dict, *, key: str, config: dict, alt: str | None = None, labels: dict | None = None) -> None:
    """Draw ``spec`` (plotly JSON, styled) in the element ``key``; a later rerun with the same key updates it.

    ``labels``: the element's own words, translated: ``fullscreen`` (the mode bar button's tooltip) and
    ``failed`` (shown if plotly.js cannot be loaded). A spec in Streamlit's chart theme
    (:func:`vizcore.figures.display.streamlit_themed`) follows the page's theme: when the system's
    theme switches (Streamlit follows it; the app's minimal toolbar has no theme menu), the element
    asks once for a rerun, which styles it again; ``st.plotly_chart`` re-themed in the browser, without
    the server. A theme changed any other way is seen at the element's next update.
    """
    spec, template = _theme_by_name(spec)
    _component()(data=payload(spec, config=config, alt=alt, labels=labels, template=template),
                 key=key, on_theme_change=_theme_switched)


def payload(spec: dict, *, config: dict, alt: str | None = None, labels: dict | None = None,
            template: str | None = None) -> bytes:
    """The element's message: ``{"spec": spec, "config", "alt", "labels", "template", "datakey"}`` as JSON bytes.

    ``datakey`` names the figure's data and frames (a hash of their JSON). When a rerun changes only where the
    figure's lines and markers *drawn over the data* stand (``layout.shapes``: em's "current half-step"
    line, latent_models' x₀), the browser keeps the plot and moves them (``Plotly.relayout``) instead of
    handing plotly a figure whose data arrays are all new objects, which it draws again from scratch
    (bench/README.md, item 50). Each part is written once, by plotly's encoder, as before.
    """
    def encoded(obj) -> bytes:
        return pjson.to_json_plotly(obj).encode("utf-8")
    data = encoded(spec.get("data") or [])          # the bulk of the bytes: encoded once, hashed, joined
    frames = encoded(spec["frames"]) if spec.get("frames") else None
    digest = hashlib.sha256(data)
    if frames is not None:
        digest.update(b"\0" + frames)
    rest = encoded({k: v for k, v in spec.items() if k not in ("data", "frames")})   # layout, b"{...}"
    head = encoded({"config": config, "alt": alt or "", "labels": labels or {}, "template": template,
                    "datakey": digest.hexdigest()[:16]})
    return b"".join([b'{"spec":{"data":', data, b"" if frames is None else b',"frames":' + frames,
                     b"," + rest[1:] if rest != b"{}" else b"}", b",", head[1:]])


def preload() -> None:
    """Start loading plotly.js and the chart theme now, in a hidden element at the top of the page.

    A chart element asks for plotly.js when the browser runs its code, after rendering the elements
    before it. Drawn first (``app.py``), this one asks once the browser has rendered the page's first
    messages. On a page whose script computes for a while before its first chart (em), plotly.js then runs
    while the browser waits for the rest (bench/README.md, item 42); on the others the page's messages
    arrive together and it gains little; on a slow network its download starts sooner. In a tab that has
    plotly.js already it does nothing.
    """
    _component()(data=b'{"preload": true}', key=PRELOAD_KEY)


def _theme_by_name(spec: dict) -> tuple[dict, str | None]:
    """``spec`` without Streamlit's theme in its template, and the theme's name ("light", "dark"), when it
    holds one (:func:`vizcore.figures.display.streamlit_themed`): the browser has the theme already
    (``static/streamlit_theme.json``, fetched once), so each message leaves out its 3.4 KB. ``spec`` itself
    (shared with the spec cache and the export) is not changed."""
    from vizcore.figures import display
    layout = spec.get("layout") or {}
    template = layout.get("template")
    inner = template.get("layout") if isinstance(template, dict) else None
    for kind, theme in display.streamlit_theme().items():
        if inner is theme:
            rest = {k: v for k, v in template.items() if k != "layout"}
            return {**spec, "layout": {**layout, "template": rest}}, kind
    return spec, None


def _theme_switched() -> None:
    """The page's theme changed: nothing to do here, the rerun that follows styles the charts anew."""

