"""Shared look of every figure: the Okabe-Ito palette and a common layout."""
from __future__ import annotations

import plotly.graph_objects as go

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


def base_layout(fig: go.Figure, *, title: str | None = None, xaxis: str | None = None,
                yaxis: str | None = None, height: int = 380) -> go.Figure:
    """Apply the common layout: compact margins, legend on top, titled axes."""
    fig.update_layout(
        colorway=OKABE_ITO,  # traces without an explicit colour take the palette, not the theme's colours
        # the title sits at the top of the figure, the legend just above the plot: room for both
        title=dict(text=title, y=0.98, yanchor="top") if title else None, height=height,
        margin=dict(l=10, r=10, t=90 if title else 30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        hovermode="closest",
    )
    if xaxis is not None:
        fig.update_xaxes(title_text=xaxis)
    if yaxis is not None:
        fig.update_yaxes(title_text=yaxis)
    return fig
