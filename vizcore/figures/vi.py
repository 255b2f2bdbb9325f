"""Figures for "Beyond EM: variational inference" (plotly only; no streamlit).

Every builder takes plain arrays and numbers, usually from :mod:`vizcore.vi`,
and a ``lang`` argument for its words; notation is not translated. Each curve
carries at most 400 points and each heatmap at most 60 × 60 cells, so a
figure stays small enough for a projector over a slow network.

    >>> import numpy as np
    >>> from vizcore import vi
    >>> from vizcore.figures.vi import elbo_heatmap
    >>> m = vi.PoissonLogNormal((0, 1), prior_mean=0.0, prior_var=4.0)
    >>> g = vi.elbo_grid(m, np.linspace(-4, 4, 50), np.linspace(-3, 1, 50))
    >>> fit = vi.fit_gaussian_q(m)
    >>> fig = elbo_heatmap(g.means, g.log_sds, g.elbo, g.log_evidence, optimum=(fit.mean, fit.sd))
"""
from __future__ import annotations

import math

import numpy as np

from ..i18n import tr
from ._style import ELBO, KL, LOG_P, OKABE_ITO, P, Q, VIRIDIS, figure_of, layout_of, named_scale, spec_of, vline

MIXTURE = OKABE_ITO[2]     # the richer family
FORWARD = OKABE_ITO[4]     # forward-KL fit
EXACT = OKABE_ITO[3]       # exact EM
PATH = "#FFFFFF"
MAX_POINTS = 400
K_COLOURS = (ELBO, OKABE_ITO[2], OKABE_ITO[4], OKABE_ITO[3], OKABE_ITO[5])


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _list(a) -> list:
    """A list with non-finite entries as None (plotly draws a gap)."""
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, None).tolist()


def thin(n: int, cap: int = MAX_POINTS) -> np.ndarray:
    """At most ``cap`` indices out of range(n), always keeping the first and last."""
    if n <= cap:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, cap)).astype(int))


def fmt(v: float, digits: int = 4) -> str:
    """A number for labels; '—' for NaN, scientific when tiny but not zero."""
    v = float(v)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v != 0 and abs(v) < 10 ** (-digits + 1):
        return f"{v:.2e}"
    return f"{v:.{digits}f}"


GREYS = named_scale("Greys")


def densities_spec(z, curves, *, lang: str = "en", height: int = 340, xaxis: str = "z") -> dict:
    """Several densities over a common z-grid. (As plotly JSON; :func:`densities_figure` gives the figure.)

    Parameters
    ----------
    z : array_like, shape (N,)
    curves : sequence of dict
        Each with ``name`` (already translated; None keeps the curve out of the
        legend), ``y`` (shape (N,)), ``colour``, and optional ``dash``,
        ``fill`` (bool), ``width``.
    """
    z = np.asarray(z, dtype=float)
    idx = thin(z.size)
    data = []
    for c in curves:
        y = np.asarray(c["y"], dtype=float)[idx]
        name = c["name"] or ""
        data.append(dict(type="scatter", x=z[idx], y=_list(y), name=name, mode="lines", showlegend=c["name"] is not None,
                         line=dict(color=c["colour"], width=c.get("width", 2.5), dash=c.get("dash", "solid")),
                         fill="tozeroy" if c.get("fill") else None,
                         fillcolor=_rgba(c["colour"], 0.15) if c.get("fill") else None,
                         hovertemplate="z = %{x:.3f}<br>%{y:.4f}<extra>" + name + "</extra>"))
    return spec_of(data, layout_of(xtitle=xaxis, ytitle=tr("density", lang), height=height,
                                   yaxis=dict(rangemode="tozero")))


densities_figure = figure_of(densities_spec, "densities_figure")


def decomposition_spec(elbo: float, kl: float, log_p: float, *, lang: str = "en", height: int = 300) -> dict:
    """log p(x) = ELBO + KL as a stacked (waterfall) bar, zoomed on the part that differs.

    The ELBO bar comes down to its value, the KL bar stacks on it up to
    log p(x), and the total bar is log p(x) itself; dotted lines join the levels. Drawn as bars with a
    base (plotly's ``waterfall`` trace is not in the plotly.js bundle the app serves, ``pages/_chart.py``).
    (As plotly JSON; :func:`decomposition_figure` gives the figure.)
    """
    bars = dict(
        type="bar", x=["ELBO", "KL(q‖p(z|x))", "log p(x)"], y=[elbo, kl, log_p], base=[0.0, elbo, 0.0],
        marker=dict(color=[ELBO, KL, LOG_P]), text=[fmt(elbo), "+" + fmt(kl), fmt(log_p)], textposition="outside",
        # the hover reads each term (a bar's y with a base would read its top: the KL bar's is log p(x))
        customdata=[elbo, kl, log_p], cliponaxis=False, hovertemplate="%{x}: %{customdata:.4f}<extra></extra>",
        showlegend=False,
    )
    # the bars' edges on the category axis (bars at 0, 1, 2, each 1 − bargap wide): ELBO → KL's foot,
    # KL's top → log p(x)
    bargap = 0.35
    half = (1 - bargap) / 2
    connector = dict(color="#888888", dash="dot", width=2)
    shapes = [dict(type="line", xref="x", yref="y", x0=i + half, x1=i + 1 - half, y0=level, y1=level,
                   line=dict(connector))
              for i, level in ((0, elbo), (1, elbo + kl))]
    # the absolute bars start at 0; show the window where ELBO and log p differ
    lo, hi = min(elbo, log_p), max(elbo, log_p)
    span = max(hi - lo, 0.02 * max(abs(log_p), 1.0), 0.05)
    return spec_of([bars], layout_of(ytitle=tr("nats", lang), height=height, bargap=bargap, shapes=shapes,
                                     yaxis=dict(range=[lo - 0.6 * span, hi + 0.6 * span])))


decomposition_figure = figure_of(decomposition_spec, "decomposition_figure")


def elbo_heatmap_spec(means, log_sds, elbo, log_evidence: float, *, optimum=None, current=None, path=None,
                      mark_q: bool = False, lang: str = "en", floor: float = 1e-4, ceiling: float = 1e2,
                      height: int = 420) -> dict:
    """The ELBO over Gaussian q = N(m, s²), coloured by the gap log p(x) − ELBO on a log scale.
    (As plotly JSON; :func:`elbo_heatmap` gives the figure.)

    Parameters
    ----------
    means : array_like, shape (M,)
    log_sds : array_like, shape (S,)
    elbo : array_like, shape (S, M)
    log_evidence : float
        Exact log p(x); the colour is log10(log p − ELBO), clipped to [floor, ceiling].
    optimum : (mean, sd), optional
        The best Gaussian, marked with a cross.
    current : (mean, sd), optional
        The q chosen by hand, marked with a circle (:func:`mark_current`).
    mark_q : bool
        Room for that circle, hidden, for :func:`mark_current` to place (implied by ``current``).
    path : (means, log_sds), optional
        A path of iterates (e.g. stochastic gradient ascent), drawn as a line
        (at most 400 points).
    """
    means = np.asarray(means, dtype=float)
    log_sds = np.asarray(log_sds, dtype=float)
    elbo = np.asarray(elbo, dtype=float)
    gap = np.maximum(log_evidence - elbo, 0.0)
    z = np.log10(np.clip(gap, floor, ceiling))
    z_lo, z_hi = float(z.min()), float(z.max())
    if z_hi - z_lo < 1e-9:
        z_hi = z_lo + 1.0
    ticks = list(range(math.ceil(z_lo), math.floor(z_hi) + 1))
    data = [dict(
        # z is colour only (the hover reads customdata): 32-bit floats, half its bytes
        type="heatmap", x=means, y=log_sds, z=z.astype(np.float32), customdata=np.round(np.stack([elbo, gap], axis=-1), 5),
        colorscale=VIRIDIS, zmin=z_lo, zmax=z_hi, zsmooth="fast",  # "best": +50 ms per redraw
        colorbar=dict(title=dict(text=tr("gap", lang), side="top"), tickvals=ticks,
                      ticktext=[f"{10.0 ** v:g}" for v in ticks], thickness=14),
        hovertemplate=("m = %{x:.2f}<br>log s = %{y:.2f}<br>ELBO = %{customdata[0]:.4f}<br>"
                       "log p − ELBO = %{customdata[1]:.4f}<extra></extra>"),
    )]
    if path is not None:
        pm, pl = (np.asarray(a, dtype=float) for a in path)
        idx = thin(pm.size)
        data.append(dict(type="scatter", x=pm[idx], y=pl[idx], mode="lines", name=tr("stochastic gradient ascent", lang),
                         line=dict(color=Q, width=2), hovertemplate="m = %{x:.3f}<br>log s = %{y:.3f}<extra></extra>"))
        data.append(dict(type="scatter", x=[pm[-1]], y=[pl[-1]], mode="markers", name=tr("last iterate", lang),
                         marker=dict(symbol="diamond", size=11, color=Q, line=dict(color="#000000", width=1.5))))
    if optimum is not None:
        data.append(dict(type="scatter", x=[optimum[0]], y=[math.log(optimum[1])], mode="markers",
                         name=tr("best Gaussian q", lang),
                         marker=dict(symbol="x", size=14, color="#FFFFFF", line=dict(color="#000000", width=2)),
                         hovertemplate="m = %{x:.3f}<br>log s = %{y:.3f}<extra></extra>"))
    layout = layout_of(xtitle=f"{tr('mean', lang)} m", ytitle=f"log s ({tr('log standard deviation', lang)})",
                       height=height, xaxis=dict(range=[float(means.min()), float(means.max())]),
                       yaxis=dict(range=[float(log_sds.min()), float(log_sds.max())]))
    if mark_q or current is not None:
        ring, entry = _your_q(lang)
        data.append(entry)
        layout["shapes"] = [*(layout.get("shapes") or []), *ring]
    spec = spec_of(data, layout)
    return spec if current is None else mark_current(spec, current)


elbo_heatmap = figure_of(elbo_heatmap_spec, "elbo_heatmap")

_YOUR_Q = 6.5   # px, the radius of the circle that marks the chosen q


def _your_q(lang: str) -> tuple[list[dict], dict]:
    """The ring around the chosen q (layout shapes, hidden until :func:`mark_current` places them: a white ring
    edged in black, seen on any colour of the heatmap) and its legend entry (a trace with no points)."""
    def circle(r, colour, width):
        return dict(type="circle", xref="x", yref="y", xsizemode="pixel", ysizemode="pixel", xanchor=0.0,
                    yanchor=0.0, x0=-r, x1=r, y0=-r, y1=r, line=dict(color=colour, width=width), name="your q",
                    visible=False)
    ring = [circle(_YOUR_Q + 2.0, "#000000", 1), circle(_YOUR_Q, PATH, 3), circle(_YOUR_Q - 2.0, "#000000", 1)]
    entry = dict(type="scatter", x=[None], y=[None], mode="markers", name=tr("your q", lang), hoverinfo="skip",
                 marker=dict(symbol="circle-open", size=2 * _YOUR_Q, color="#000000", line=dict(width=2)))
    return ring, entry


def mark_current(spec: dict, current) -> dict:
    """:func:`elbo_heatmap_spec`'s figure (built with ``mark_q=True``) with the chosen q = N(m, s²),
    ``current = (m, s)``, circled.

    The circle is a ring of layout shapes (13 px across wherever the axes put it) with a legend entry that
    does not move: a page builds, styles and caches the heatmap once and circles each q with this, and a q move then
    changes only the layout's shapes, which the app's chart element moves without drawing the heatmap again
    (static/vlb_chart.js). Hovering there reads the heatmap's own cell (m, log s, ELBO, gap). A new dict;
    ``spec`` is shared, not changed.
    """
    m, sd = (float(v) for v in current)
    if not (math.isfinite(m) and math.isfinite(sd) and sd > 0):
        raise ValueError(f"current: expected (mean, standard deviation > 0), both finite, got {tuple(current)!r}")
    shapes = (spec.get("layout") or {}).get("shapes") or []
    if not any(isinstance(sh, dict) and sh.get("name") == "your q" for sh in shapes):
        raise ValueError("spec: expected a heatmap built with mark_q=True (it has no circle to place)")
    layout = dict(spec["layout"])
    layout["shapes"] = [{**sh, "xanchor": m, "yanchor": math.log(sd), "visible": True}
                        if isinstance(sh, dict) and sh.get("name") == "your q" else sh for sh in shapes]
    return {**spec, "layout": layout}


def elbo_trace_spec(elbo, log_evidence: float, best_elbo: float, *, lang: str = "en", height: int = 340) -> dict:
    """The exact ELBO of each SGA iterate, with log p(x) and the best Gaussian's ELBO as lines.

    The y-axis shows the last three quarters of the run and both lines, so the
    gap that remains is visible. (As plotly JSON; :func:`elbo_trace_figure` gives the figure.)
    """
    elbo = np.asarray(elbo, dtype=float)
    steps = np.arange(elbo.size)
    idx = thin(elbo.size)
    ends = [0, max(int(steps[-1]), 1)]
    data = [dict(type="scatter", x=steps[idx], y=_list(elbo[idx]), mode="lines", name=tr("ELBO of the iterate", lang),
                 line=dict(color=ELBO, width=2), hovertemplate="t = %{x}<br>ELBO = %{y:.4f}<extra></extra>"),
            dict(type="scatter", x=ends, y=[log_evidence] * 2, mode="lines", name=f"log p(x) = {fmt(log_evidence)}",
                 line=dict(color=LOG_P, width=2), hoverinfo="skip"),
            dict(type="scatter", x=list(ends), y=[best_elbo] * 2, mode="lines",
                 name=f"{tr('best Gaussian', lang)}: {fmt(best_elbo)}", line=dict(color=KL, width=2, dash="dash"),
                 hoverinfo="skip")]
    tail = elbo[elbo.size // 4:] if elbo.size > 4 else elbo
    tail = tail[np.isfinite(tail)]
    lo = min(float(tail.min()) if tail.size else best_elbo, best_elbo)
    hi = max(log_evidence, float(tail.max()) if tail.size else log_evidence)
    span = max(hi - lo, 1e-3)
    return spec_of(data, layout_of(xtitle=tr("step t", lang), ytitle="ELBO", height=height,
                                   yaxis=dict(range=[lo - 0.15 * span, hi + 0.25 * span])))


elbo_trace_figure = figure_of(elbo_trace_spec, "elbo_trace_figure")


def gap_bars_spec(labels, gaps, colours, *, lang: str = "en", height: int = 300) -> dict:
    """Horizontal bars of the gap log p(x) − ELBO left by each family.
    (As plotly JSON; :func:`gap_bars_figure` gives the figure.)"""
    bars = dict(type="bar", y=list(labels), x=[float(g) for g in gaps], orientation="h", marker=dict(color=list(colours)),
                text=[fmt(g) for g in gaps], textposition="outside", cliponaxis=False,
                hovertemplate="%{y}: %{x:.5f}<extra></extra>")
    return spec_of([bars], layout_of(xtitle=f"{tr('gap', lang)} log p(x) − ELBO = KL(q‖p(z|x))", height=height,
                                     xaxis=dict(range=[0, 1.3 * max(max(float(g) for g in gaps), 1e-6)]),
                                     yaxis=dict(autorange="reversed")))


gap_bars_figure = figure_of(gap_bars_spec, "gap_bars_figure")


def iwae_k_spec(ks, means, ses, log_evidence: float, elbo: float, *, lang: str = "en", height: int = 380) -> dict:
    """L_K against K (log axis) with ±2 standard-error bars, log p(x) and the exact ELBO as lines.
    (As plotly JSON; :func:`iwae_k_figure` gives the figure.)"""
    ks = np.asarray(ks, dtype=float)
    ends = [float(ks.min()), float(ks.max())]
    data = [dict(type="scatter", x=ks, y=_list(means), mode="lines+markers", name=f"L_K ({tr('mean ± 2 SE', lang)})",
                 line=dict(color=ELBO, width=2), marker=dict(size=8),
                 error_y=dict(type="data", array=_list(2.0 * np.asarray(ses)), visible=True, thickness=1.5),
                 hovertemplate="K = %{x}<br>L_K = %{y:.4f}<extra></extra>"),
            dict(type="scatter", x=ends, y=[log_evidence] * 2, mode="lines", name=f"log p(x) = {fmt(log_evidence)}",
                 line=dict(color=LOG_P, width=2), hoverinfo="skip"),
            dict(type="scatter", x=list(ends), y=[elbo] * 2, mode="lines", name=f"ELBO = L_1 = {fmt(elbo)}",
                 line=dict(color=KL, width=1.5, dash="dash"), hoverinfo="skip")]
    return spec_of(data, layout_of(xtitle=tr("number of samples K (log scale)", lang), ytitle=tr("nats", lang),
                                   height=height, xaxis=dict(type="log", tickvals=[int(k) for k in ks],
                                                             ticktext=[str(int(k)) for k in ks])))


iwae_k_figure = figure_of(iwae_k_spec, "iwae_k_figure")


def iwae_theta_spec(thetas, ks, bounds, log_evidence, *, current: float | None = None, theta_label: str = "θ",
                    lang: str = "en", height: int = 380) -> dict:
    """L_K(θ) curves for several K against the exact log p(x|θ).
    (As plotly JSON; :func:`iwae_theta_figure` gives the figure.)"""
    thetas = np.asarray(thetas, dtype=float)
    idx = thin(thetas.size)
    data = [dict(type="scatter", x=thetas[idx], y=_list(np.asarray(log_evidence)[idx]), mode="lines", name="log p(x|θ)",
                 line=dict(color=LOG_P, width=3), hovertemplate="θ = %{x:.3f}<br>log p = %{y:.4f}<extra></extra>")]
    for a, k in enumerate(ks):
        name = "L_1 = ELBO" if int(k) == 1 else f"L_{int(k)}"
        data.append(dict(type="scatter", x=thetas[idx], y=_list(np.asarray(bounds[a])[idx]), mode="lines", name=name,
                         line=dict(color=K_COLOURS[a % len(K_COLOURS)], width=2,
                                   dash=("dash", "dot", "dashdot", "longdash")[a % 4]),  # log p alone is solid
                         hovertemplate="θ = %{x:.3f}<br>" + name + " = %{y:.4f}<extra></extra>"))
    lp = np.asarray(log_evidence, dtype=float)
    lo = float(np.nanmin(np.asarray(bounds, dtype=float)))
    hi = float(np.nanmax(lp))
    span = max(hi - float(np.nanmin(lp)), 1e-3)
    layout = layout_of(xtitle=theta_label, ytitle=tr("nats", lang), height=height,
                       yaxis=dict(range=[max(lo, float(np.nanmin(lp)) - 0.6 * span) - 0.05 * span, hi + 0.1 * span]))
    if current is not None:
        layout["shapes"] = [vline(current, line=dict(color="#888888", dash="dot"))]
    return spec_of(data, layout)


iwae_theta_figure = figure_of(iwae_theta_spec, "iwae_theta_figure")


def mean_field_spec(post, q, forward, path_means, *, lang: str = "en", height: int = 460) -> dict:
    """The posterior's ellipses, the mean-field q's axis-aligned ellipse, the forward-KL fit and the CAVI path.
    (As plotly JSON; :func:`mean_field_figure` gives the figure.)

    Parameters
    ----------
    post, q, forward : dict
        Each with ``x``, ``y`` (2-sd ellipse coordinates) and ``mean`` (2,);
        ``post`` may also carry ``x1``, ``y1`` (1-sd ellipse).
    path_means : array_like, shape (T+1, 2)
        q's mean after each CAVI update (a zig-zag, one coordinate at a time).
    """
    data = [dict(type="scatter", x=post["x"], y=post["y"], mode="lines", name=f"p(z) · {tr('target', lang)} (2 sd)",
                 line=dict(color=P, width=3), fill="toself", fillcolor=_rgba(P, 0.10), hoverinfo="skip")]
    if "x1" in post:
        data.append(dict(type="scatter", x=post["x1"], y=post["y1"], mode="lines", showlegend=False,
                         line=dict(color=P, width=1.5, dash="dot"), hoverinfo="skip"))
    data.append(dict(type="scatter", x=forward["x"], y=forward["y"], mode="lines",
                     name=f"{tr('forward', lang)} KL(p‖q): {tr('marginals', lang)}",
                     line=dict(color=FORWARD, width=2, dash="dash"), hoverinfo="skip"))
    data.append(dict(type="scatter", x=q["x"], y=q["y"], mode="lines", name=f"q₁q₂ · {tr('mean-field', lang)} KL(q‖p)",
                     line=dict(color=Q, width=3), hoverinfo="skip"))
    pm = np.asarray(path_means, dtype=float)[-MAX_POINTS:]
    data.append(dict(type="scatter", x=pm[:, 0], y=pm[:, 1], mode="lines+markers", name=tr("CAVI path of q's mean", lang),
                     line=dict(color="#000000", width=1.5), marker=dict(size=6, color="#000000"),
                     hovertemplate="m₁ = %{x:.3f}<br>m₂ = %{y:.3f}<extra></extra>"))
    data.append(dict(type="scatter", x=[pm[-1, 0]], y=[pm[-1, 1]], mode="markers", showlegend=False,
                     marker=dict(size=12, color=Q, line=dict(color="#000000", width=1.5)), hoverinfo="skip"))
    return spec_of(data, layout_of(xtitle="z₁", ytitle="z₂", height=height, yaxis=dict(scaleanchor="x", scaleratio=1)))


mean_field_figure = figure_of(mean_field_spec, "mean_field_figure")


def cavi_elbo_spec(elbo, *, limit: float, lang: str = "en", height: int = 300) -> dict:
    """ELBO = −KL(q‖p) after each CAVI update; the dashed line is its limit.
    (As plotly JSON; :func:`cavi_elbo_figure` gives the figure.)"""
    elbo = np.asarray(elbo, dtype=float)
    ends = [0, max(elbo.size - 1, 1)]
    data = [dict(type="scatter", x=np.arange(elbo.size), y=elbo, mode="lines+markers", name="ELBO = −KL(q‖p)",
                 line=dict(color=ELBO, width=2, shape="hv"), marker=dict(size=7),
                 hovertemplate=tr("update", lang) + " %{x}<br>ELBO = %{y:.4f}<extra></extra>"),
            dict(type="scatter", x=ends, y=[0.0, 0.0], mode="lines",
                 name="log p = 0 (" + tr("normalised target", lang) + ")", line=dict(color=LOG_P, width=2),
                 hoverinfo="skip"),
            dict(type="scatter", x=list(ends), y=[limit, limit], mode="lines", name=f"{tr('limit', lang)}: {fmt(limit)}",
                 line=dict(color=KL, width=1.5, dash="dash"), hoverinfo="skip")]
    lo = float(np.min(elbo[1:])) if elbo.size > 1 else float(elbo[0])
    lo = min(lo, limit)
    return spec_of(data, layout_of(xtitle=tr("CAVI updates (one factor each)", lang), ytitle="ELBO", height=height,
                                   xaxis=dict(rangemode="tozero"),
                                   yaxis=dict(range=[lo - 0.25 * max(-lo, 0.05), 0.15 * max(-lo, 0.05)])))


cavi_elbo_figure = figure_of(cavi_elbo_spec, "cavi_elbo_figure")


def vem_slice_spec(mus, log_p, bound, *, mu_t: float, mu_next: float, lang: str = "en", height: int = 400) -> dict:
    """log p(X|μ0, σ0²_t) and the restricted bound L(q_t, μ0, σ0²_t) along μ0: the bound no longer touches.
    (As plotly JSON; :func:`vem_slice_figure` gives the figure.)

    Parameters
    ----------
    mus : array_like, shape (G,)
    log_p, bound : array_like, shape (G,)
    mu_t : float
        θ_t's μ0 (where EM's bound would touch).
    mu_next : float
        θ_{t+1}'s μ0 (the bound's maximum on this slice).
    """
    mus = np.asarray(mus, dtype=float)
    lp = np.asarray(log_p, dtype=float)
    bd = np.asarray(bound, dtype=float)
    idx = thin(mus.size)
    lp_t, bd_t = float(np.interp(mu_t, mus, lp)), float(np.interp(mu_t, mus, bd))
    data = [dict(type="scatter", x=mus[idx], y=_list(lp[idx]), mode="lines", name="log p(X|θ)",
                 line=dict(color=LOG_P, width=3), hovertemplate="μ₀ = %{x:.3f}<br>log p = %{y:.4f}<extra></extra>"),
            dict(type="scatter", x=mus[idx], y=_list(bd[idx]), mode="lines",
                 name=tr("restricted bound", lang) + " L(q_t, θ)", line=dict(color=ELBO, width=2.5, dash="dash"),
                 hovertemplate="μ₀ = %{x:.3f}<br>L = %{y:.4f}<extra></extra>"),
            dict(type="scatter", x=[mu_t, mu_t], y=[bd_t, lp_t], mode="lines+markers",
                 name=tr("gap at θ_t = {gap}", lang).format(gap=fmt(lp_t - bd_t)), line=dict(color=KL, width=3),
                 marker=dict(size=8, color=KL)),
            dict(type="scatter", x=[mu_next], y=[float(np.interp(mu_next, mus, bd))], mode="markers",
                 name=tr("M-step: θ_t+1", lang),
                 marker=dict(symbol="triangle-up", size=12, color=ELBO, line=dict(color="#000000", width=1)))]
    window = lp[np.isfinite(lp)]
    hi = float(window.max())
    lo = float(min(np.nanmin(bd), hi - 2.0))
    return spec_of(data, layout_of(xtitle="μ₀", ytitle=tr("nats", lang), height=height,
                                   yaxis=dict(range=[max(lo, hi - 6.0), hi + 0.4])))


vem_slice_figure = figure_of(vem_slice_spec, "vem_slice_figure")


def vem_trace_spec(vem_log_p, vem_bound, em_log_p, *, current: int | None = None, lang: str = "en",
                   height: int = 340) -> dict:
    """Per iteration: log p(X|θ_t) for variational EM and exact EM, and the variational bound L(q_t, θ_t).
    (As plotly JSON; :func:`vem_trace_figure` gives the figure.)"""
    data = []
    for y, name, colour, dash in ((em_log_p, f"{tr('exact EM', lang)}: log p(X|θ_t)", EXACT, "dot"),
                                  (vem_log_p, f"{tr('variational EM', lang)}: log p(X|θ_t)", LOG_P, "solid"),
                                  (vem_bound, f"{tr('variational EM', lang)}: L(q_t, θ_t)", ELBO, "dash")):
        y = np.asarray(y, dtype=float)[:MAX_POINTS]
        data.append(dict(type="scatter", x=np.arange(y.size), y=_list(y), mode="lines+markers", name=name,
                         line=dict(color=colour, width=2, dash=dash), marker=dict(size=4),
                         hovertemplate="t = %{x}<br>%{y:.4f}<extra></extra>"))
    allv = np.concatenate([np.asarray(a, dtype=float) for a in (vem_log_p, vem_bound, em_log_p)])
    hi = float(np.nanmax(allv))
    lo = float(np.nanmin(np.asarray(vem_bound, dtype=float)[1:])) if len(vem_bound) > 1 else float(np.nanmin(allv))
    span = max(hi - lo, 0.05)
    layout = layout_of(xtitle=tr("iteration t", lang), ytitle=tr("nats", lang), height=height,
                       yaxis=dict(range=[max(float(np.nanmin(allv)), lo - 0.1 * span, hi - 4.0), hi + 0.1 * span]))
    if current is not None:
        layout["shapes"] = [vline(current, line=dict(color="#888888", dash="dot"))]
    return spec_of(data, layout)


vem_trace_figure = figure_of(vem_trace_spec, "vem_trace_figure")


def vem_contour_spec(mus, sds, log_p, vem_path, em_path, *, current: int | None = None, lang: str = "en",
                     height: int = 440) -> dict:
    """Contours of the exact log p(X|μ0, σ0) with the paths of variational and exact EM.
    (As plotly JSON; :func:`vem_contour_figure` gives the figure.)

    Parameters
    ----------
    mus : array_like, shape (M,)
    sds : array_like, shape (S,)
        σ0 (standard deviation) values.
    log_p : array_like, shape (S, M)
    vem_path, em_path : (mus, sds)
        θ_t along each run; the last point of exact EM is the maximum-likelihood θ.
    current : int, optional
        Index of the variational-EM iterate to highlight.
    """
    lp = np.asarray(log_p, dtype=float)
    top = float(np.nanmax(lp))
    data = [dict(
        type="contour", x=mus, y=sds, z=np.round(np.maximum(lp, top - 30.0), 4), colorscale=GREYS, reversescale=True,
        ncontours=24, contours=dict(coloring="heatmap", showlines=True), line=dict(width=0.5),
        colorbar=dict(title=dict(text="log p(X|θ)", side="top"), thickness=14), opacity=0.7,
        hovertemplate="μ₀ = %{x:.3f}<br>σ₀ = %{y:.3f}<br>log p = %{z:.4f}<extra></extra>",
    )]
    em_m, em_s = (np.asarray(a, dtype=float)[-MAX_POINTS:] for a in em_path)
    v_m, v_s = (np.asarray(a, dtype=float)[:MAX_POINTS] for a in vem_path)
    data.append(dict(type="scatter", x=em_m, y=em_s, mode="lines+markers", name=tr("exact EM", lang),
                     line=dict(color=EXACT, width=2), marker=dict(size=4),
                     hovertemplate="μ₀ = %{x:.3f}<br>σ₀ = %{y:.3f}<extra></extra>"))
    data.append(dict(type="scatter", x=v_m, y=v_s, mode="lines+markers", name=tr("variational EM", lang),
                     line=dict(color=ELBO, width=2, dash="dash"), marker=dict(size=4),
                     hovertemplate="μ₀ = %{x:.3f}<br>σ₀ = %{y:.3f}<extra></extra>"))
    data.append(dict(type="scatter", x=[em_m[-1]], y=[em_s[-1]], mode="markers",
                     name=tr("maximum likelihood (exact EM)", lang),
                     marker=dict(symbol="star", size=16, color=EXACT, line=dict(color="#000000", width=1))))
    data.append(dict(type="scatter", x=[v_m[-1]], y=[v_s[-1]], mode="markers", name=tr("variational EM end point", lang),
                     marker=dict(symbol="diamond", size=12, color=ELBO, line=dict(color="#000000", width=1))))
    if current is not None and 0 <= current < v_m.size:
        data.append(dict(type="scatter", x=[v_m[current]], y=[v_s[current]], mode="markers", name="θ_t",
                         marker=dict(symbol="circle-open", size=16, color=Q, line=dict(width=3))))
    return spec_of(data, layout_of(xtitle="μ₀", ytitle="σ₀", height=height,
                                   legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0),
                                   margin=dict(l=10, r=10, t=20, b=10),
                                   xaxis=dict(range=[float(np.min(mus)), float(np.max(mus))]),
                                   yaxis=dict(range=[float(np.min(sds)), float(np.max(sds))])))


vem_contour_figure = figure_of(vem_contour_spec, "vem_contour_figure")
