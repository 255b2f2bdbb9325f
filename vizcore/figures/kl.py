"""Figures for the KL-divergence page: arrays in, plotly figures out.

No streamlit here: every builder also works in a notebook or a script. Each
takes ``lang`` and passes its words (never its notation) through
:func:`vizcore.i18n.tr`.
"""
from __future__ import annotations

import math

import numpy as np

from vizcore.i18n import tr

from ._style import KL, OKABE_ITO, P, Q, VIRIDIS, figure_of, hline, layout_of, spec_of

POSITIVE = KL                 # q > p: the integrand adds to KL
NEGATIVE = OKABE_ITO[5]       # q < p: the integrand subtracts (sky blue)
REVERSE = OKABE_ITO[3]        # fit minimising KL(q‖p)
FORWARD = OKABE_ITO[2]        # fit minimising KL(p‖q)


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of True in a 1-D mask (stop inclusive)."""
    runs, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def density_spec(x, p_pdf, q_pdf, *, lang: str = "en", height: int = 340) -> dict:
    """p (filled) and q (line) on a common x-grid. (As plotly JSON; :func:`density_figure` gives the figure.)

    Parameters
    ----------
    x : array_like, shape (N,)
    p_pdf, q_pdf : array_like, shape (N,)
        Densities of p and q at ``x``.
    """
    data = [dict(type="scatter", x=x, y=p_pdf, name=f"p(x) · {tr('target', lang)}", mode="lines",
                 line=dict(color=P, width=2.5), fill="tozeroy", fillcolor=_rgba(P, 0.15)),
            dict(type="scatter", x=x, y=q_pdf, name=f"q(x) · {tr('approximation', lang)}", mode="lines",
                 line=dict(color=Q, width=2.5, dash="dash"))]
    return spec_of(data, layout_of(xtitle="x", ytitle=tr("density", lang), height=height))


density_figure = figure_of(density_spec, "density_figure")


def integrand_spec(x, integrand, *, lang: str = "en", height: int = 340) -> dict:
    """The integrand q(x) log(q(x)/p(x)), its positive and negative areas in two colours.
    (As plotly JSON; :func:`integrand_figure` gives the figure.)

    Parameters
    ----------
    x : array_like, shape (N,)
    integrand : array_like, shape (N,)
        Values of q log(q/p); ``inf`` marks where q > 0 = p and is drawn as
        a shaded band.
    """
    x = np.asarray(x, dtype=float)
    f = np.asarray(integrand, dtype=float)
    infinite = np.isinf(f)
    # The fills use 0 inside an infinite band (drawn as a shaded band instead):
    # a NaN would make plotly's fill jump across the gap.
    filled = np.where(infinite, 0.0, f)
    data = [
        dict(type="scatter", x=x, y=np.maximum(filled, 0.0), mode="lines", name=tr("adds to KL where q > p", lang),
             line=dict(color=POSITIVE, width=0), fill="tozeroy", fillcolor=_rgba(POSITIVE, 0.55), hoverinfo="skip"),
        dict(type="scatter", x=x, y=np.minimum(filled, 0.0), mode="lines", name=tr("subtracts where q < p", lang),
             line=dict(color=NEGATIVE, width=0), fill="tozeroy", fillcolor=_rgba(NEGATIVE, 0.65), hoverinfo="skip"),
        dict(type="scatter", x=x, y=np.where(infinite, np.nan, f), mode="lines", name="q log(q/p)",
             line=dict(color="#000000", width=1.5),
             hovertemplate="x = %{x:.3f}<br>q log(q/p) = %{y:.4f}<extra></extra>"),
    ]
    runs = _runs(infinite)
    shapes = [dict(type="rect", x0=x[start], x1=x[stop], xref="x", y0=0, y1=1, yref="y domain",
                   fillcolor=_rgba(POSITIVE, 0.25), line=dict(width=0)) for start, stop in runs]
    if runs:
        data.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=f"+∞: {tr('q > 0 but p = 0', lang)}",
                         marker=dict(symbol="square", size=14, color=_rgba(POSITIVE, 0.25))))
    shapes.append(hline(0.0, line=dict(color="#666666", width=1)))
    return spec_of(data, layout_of(xtitle="x", ytitle="q(x) log q(x)/p(x)", height=height, shapes=shapes))


integrand_figure = figure_of(integrand_spec, "integrand_figure")


def discrete_spec(labels, p, q, *, lang: str = "en", height: int = 340) -> dict:
    """Bar chart of two probability vectors p and q over the same categories.
    (As plotly JSON; :func:`discrete_figure` gives the figure.)"""
    labels = [str(v) for v in labels]
    data = [dict(type="bar", x=labels, y=p, name=f"p · {tr('target', lang)}", marker=dict(color=P),
                 text=[f"{v:.2f}" for v in p], textposition="outside"),
            dict(type="bar", x=labels, y=q, name=f"q · {tr('approximation', lang)}",
                 # hatched: q differs from p by more than its colour
                 marker=dict(color=Q, pattern=dict(shape="/", fillmode="overlay")),
                 text=[f"{v:.2f}" for v in q], textposition="outside")]
    return spec_of(data, layout_of(xtitle=tr("outcome", lang), ytitle=tr("probability", lang), height=height,
                                   barmode="group", yaxis=dict(range=[0, 1.15])))


discrete_figure = figure_of(discrete_spec, "discrete_figure")


def discrete_integrand_spec(labels, terms, *, lang: str = "en", height: int = 340) -> dict:
    """Bars of the terms q_k log(q_k/p_k): positive and negative in two colours, +∞ hatched.
    (As plotly JSON; :func:`discrete_integrand_figure` gives the figure.)"""
    labels = [str(v) for v in labels]
    t = np.asarray(terms, dtype=float)
    infinite = np.isinf(t)
    finite_abs = np.abs(t[~infinite])
    cap = 1.15 * float(finite_abs.max()) if finite_abs.size and finite_abs.max() > 0 else 1.0
    pos = [v if (not inf and v >= 0) else None for v, inf in zip(t, infinite)]
    neg = [v if (not inf and v < 0) else None for v, inf in zip(t, infinite)]
    data = [dict(type="bar", x=labels, y=pos, name=tr("adds to KL where q > p", lang), marker=dict(color=POSITIVE),
                 text=[f"{v:.3f}" if v is not None else "" for v in pos], textposition="outside"),
            dict(type="bar", x=labels, y=neg, name=tr("subtracts where q < p", lang), marker=dict(color=NEGATIVE),
                 text=[f"{v:.3f}" if v is not None else "" for v in neg], textposition="outside")]
    if infinite.any():
        data.append(dict(type="bar", x=[lab for lab, inf in zip(labels, infinite) if inf], y=[cap] * int(infinite.sum()),
                         name=f"+∞ ({tr('q > 0 but p = 0', lang)})",
                         marker=dict(color=_rgba(POSITIVE, 0.3), pattern=dict(shape="/", fgcolor=POSITIVE)),
                         text=["+∞"] * int(infinite.sum()), textposition="outside"))
    lowest = min(float(t[~infinite].min()) if (~infinite).any() else 0.0, 0.0)
    return spec_of(data, layout_of(xtitle=tr("outcome", lang), ytitle="q log(q/p)", height=height, barmode="overlay",
                                   shapes=[hline(0.0, line=dict(color="#666666", width=1))],
                                   yaxis=dict(range=[1.35 * lowest - 0.08 * cap, 1.3 * cap])))


discrete_integrand_figure = figure_of(discrete_integrand_spec, "discrete_integrand_figure")


def _decade_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    vals = list(range(math.floor(lo), math.ceil(hi) + 1))
    return [float(v) for v in vals], [f"{10.0 ** v:g}" for v in vals]


def kl_heatmap_spec(means, sds, values, *, title: str, minimum: tuple[float, float, float] | None = None,
                    lang: str = "en", floor: float = 1e-3, ceiling: float = 1e3, height: int = 400) -> dict:
    """Heatmap of a KL divergence over Gaussian q = N(mean, sd²), log10 colour scale.
    (As plotly JSON; :func:`kl_heatmap` gives the figure.)

    Parameters
    ----------
    means : array_like, shape (M,)
    sds : array_like, shape (S,)
    values : array_like, shape (S, M)
        KL at each (sd, mean); clipped to [floor, ceiling] for the colours
        (the hover shows the exact value).
    title : str
        Figure title, already in the reader's language (it carries notation).
    minimum : (mean, sd, kl), optional
        Marked with a cross.
    """
    v = np.asarray(values, dtype=float)
    z = np.log10(np.clip(np.where(np.isfinite(v), v, ceiling), floor, ceiling))
    z_lo, z_hi = float(np.nanmin(z)), float(np.nanmax(z))
    if z_hi - z_lo < 1e-9:
        z_hi = z_lo + 1.0
    tickvals, ticktext = _decade_ticks(z_lo, z_hi)
    data = [dict(  # z is colour only (the hover reads customdata): 32-bit floats, half its bytes
        type="heatmap", x=means, y=sds, z=z.astype(np.float32), customdata=np.where(np.isfinite(v), v, np.nan),
        colorscale=VIRIDIS, zmin=z_lo, zmax=z_hi, zsmooth="fast",  # "best" costs 40–60 ms more per redraw
        colorbar=dict(title=dict(text="KL", side="top"), tickvals=tickvals, ticktext=ticktext, thickness=14),
        hovertemplate="μ = %{x:.2f}<br>σ = %{y:.2f}<br>KL = %{customdata:.4f}<extra></extra>",
    )]
    subtitle = None
    if minimum is not None and math.isfinite(minimum[2]):
        m, s, k = minimum
        subtitle = f"× {tr('minimum', lang)}: KL = {k:.3f} {tr('at', lang)} μ = {round(m, 2) + 0.0:.2f}, σ = {s:.2f}"
        data.append(dict(type="scatter", x=[m], y=[s], mode="markers", showlegend=False, name=tr("minimum", lang),
                         marker=dict(symbol="x", size=14, color="#FFFFFF", line=dict(color="#000000", width=2)),
                         hovertemplate=f"{tr('minimum', lang)}<br>μ = %{{x:.2f}}<br>σ = %{{y:.2f}}<br>"
                                       f"KL = {k:.4f}<extra></extra>"))
    layout = layout_of(xtitle=f"{tr('mean', lang)} μ", ytitle=f"{tr('standard deviation', lang)} σ", height=height,
                       margin=dict(t=75 if subtitle else 50))
    layout["title"] = dict(text=title, subtitle=dict(text=subtitle) if subtitle else None)  # not base_layout's
    layout["xaxis"]["range"] = [float(np.min(means)), float(np.max(means))]
    layout["yaxis"]["range"] = [float(np.min(sds)), float(np.max(sds))]
    return spec_of(data, layout)


kl_heatmap = figure_of(kl_heatmap_spec, "kl_heatmap")


def gaussian_fit_spec(x, p_pdf, reverse_pdf, forward_pdf, *, lang: str = "en", height: int = 360) -> dict:
    """p with the two best Gaussian q's: reverse (mode-seeking) and forward (mass-covering).
    (As plotly JSON; :func:`gaussian_fit_figure` gives the figure.)"""
    data = [dict(type="scatter", x=x, y=p_pdf, name=f"p(x) · {tr('bimodal target', lang)}", mode="lines",
                 line=dict(color=P, width=2.5), fill="tozeroy", fillcolor=_rgba(P, 0.15)),
            dict(type="scatter", x=x, y=reverse_pdf, mode="lines", line=dict(color=REVERSE, width=3),
                 name=f"{tr('reverse', lang)} KL(q‖p): {tr('mode-seeking', lang)}"),
            dict(type="scatter", x=x, y=forward_pdf, mode="lines", line=dict(color=FORWARD, width=3, dash="dash"),
                 name=f"{tr('forward', lang)} KL(p‖q): {tr('mass-covering', lang)}")]
    return spec_of(data, layout_of(xtitle="x", ytitle=tr("density", lang), height=height))


gaussian_fit_figure = figure_of(gaussian_fit_spec, "gaussian_fit_figure")
