"""Figures of the latent-variable-models page: the generative story, the joint,
the marginal, and the posterior p(z|x) by Bayes' rule.

Every builder takes plain arrays (no streamlit), returns a plotly Figure (its ``*_spec`` twin, the
same chart as plotly JSON, is what the page sends) and translates its strings with :func:`vizcore.i18n.tr`. Component k is drawn in
``component_colour(k)`` everywhere, so a colour means the same z on every chart;
the marginal p(x) is the thick black line.
"""
from __future__ import annotations

import numpy as np

from ..i18n import tr
from ._style import (LOG_P, component_colour, component_dash, component_symbol, figure_of,
                     layout_of, spec_of)

HIST = "rgba(120,120,120,0.35)"


def _z_label(k: int) -> str:
    return f"z = {k + 1}"


def _f32(a) -> np.ndarray:
    """Halve the payload of long arrays; the pictures need no more precision."""
    return np.asarray(a, dtype=np.float32)


# ---- the prior p(z) -----------------------------------------------------------------
def prior_bars_spec(weights, *, lang: str = "en", height: int = 300) -> dict:
    """p(z = k) = π_k as one bar per component, its value written on the bar.
    (As plotly JSON; :func:`prior_bars` gives the figure.)"""
    w = np.asarray(weights, dtype=float)
    labels = [str(k + 1) for k in range(w.size)]
    bar = dict(type="bar", x=labels, y=w, marker=dict(color=[component_colour(k) for k in range(w.size)]),
               text=[f"{v:.2f}" for v in w] if w.size <= 3 else None, textposition="outside", cliponaxis=False,
               textfont=dict(size=11), hovertemplate="p(z = %{x}) = %{y:.3f}<extra></extra>", showlegend=False)
    layout = layout_of(title=tr("Prior p(z)", lang), xtitle="z", ytitle="p(z)", height=height, margin=dict(r=24),
                       xaxis=dict(type="category", tickmode="array", tickvals=labels), yaxis=dict(range=[0, 1.12]))
    return spec_of([bar], layout)


prior_bars = figure_of(prior_bars_spec, "prior_bars")


def prior_posterior_bars_spec(prior, post, *, where: str = "x", lang: str = "en", height: int = 300) -> dict:
    """The prior p(z) next to the posterior p(z|x): how seeing x moves belief about z.
    (As plotly JSON; :func:`prior_posterior_bars` gives the figure.)"""
    prior, post = np.asarray(prior, dtype=float), np.asarray(post, dtype=float)
    labels = [_z_label(k) for k in range(prior.size)]
    data = [
        dict(type="bar", x=labels, y=prior, name=tr("prior p(z)", lang),
             marker=dict(color=[component_colour(k) for k in range(prior.size)], opacity=0.35),
             hovertemplate="p(%{x}) = %{y:.3f}<extra></extra>"),
        dict(type="bar", x=labels, y=post, name=f"{tr('posterior', lang)} p(z | {where})",
             marker=dict(color=[component_colour(k) for k in range(prior.size)]),
             text=[f"{v:.3f}" for v in post], textposition="outside", cliponaxis=False,
             hovertemplate=f"p(%{{x}} | {where}) = %{{y:.4f}}<extra></extra>"),
    ]
    return spec_of(data, layout_of(title=f"p(z)  →  p(z | {where})", ytitle=tr("probability", lang), height=height,
                                   barmode="group", legend=dict(x=1, xanchor="right", font=dict(size=13)),
                                   yaxis=dict(range=[0, 1.15])))


prior_posterior_bars = figure_of(prior_posterior_bars_spec, "prior_posterior_bars")


# ---- one observed dimension: components, marginal, histogram ------------------------
def mixture_density_spec(grid, joint, marginal, *, hist=None, x0=None, stacked: bool = False, discrete: bool = False,
                         var: str = "x", xlabel: str | None = None, lang: str = "en", height: int = 380) -> dict:
    """Each π_k p(x|z=k), the marginal p(x) = Σ_k π_k p(x|z=k) (thick), and the data.

    Parameters
    ----------
    grid : (G,) x values; joint : (G, K) π_k p(x_g|z=k); marginal : (G,)
    hist : optional (centres, heights) of the sampled data, normalised like the density
    x0 : optional x at which to mark each term of Bayes' rule
    stacked : stack the components so that their top edge is the marginal
    discrete : x takes whole values (a pmf): markers at each value, no smoothing
    var : the name of the observed variable in the legend (``x``, or ``h`` for heads)

    The components are drawn over the marginal, so each stays visible where it is the marginal.
    (As plotly JSON; :func:`mixture_density` gives the figure.)
    """
    grid, joint, marginal = np.asarray(grid, float), np.asarray(joint, float), np.asarray(marginal, float)
    K = joint.shape[1]
    mode = "lines+markers" if discrete else "lines"
    traces = []
    if hist is not None:
        centres, heights = hist
        width = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
        traces.append(dict(
            type="bar", x=_f32(centres), y=_f32(heights), width=width * (0.8 if discrete else 1.0),
            marker=dict(color=HIST, line=dict(width=0)), name=tr("samples (histogram)", lang),
            hovertemplate="%{x:.3g}: %{y:.3g}<extra></extra>",
        ))
    x = _f32(grid)
    traces.append(dict(
        type="scatter", x=x, y=_f32(marginal), mode=mode, name=f"p({var}) = Σₖ πₖ p({var} | z = k)",
        line=dict(color=LOG_P, width=5), marker=dict(size=9),
        hovertemplate=f"p({var})" + " = %{y:.4g}<extra>" + var + " = %{x:.3g}</extra>",
    ))
    for k in range(K):
        term = f"π{k + 1}·p({var} | z = {k + 1})"
        traces.append(dict(
            type="scatter", x=x, y=_f32(joint[:, k]), mode=mode, name=term,
            line=dict(color=component_colour(k), width=2.5, dash=None if stacked else component_dash(k)),
            marker=dict(size=5, symbol=component_symbol(k)),
            stackgroup="comp" if stacked else None,
            fillcolor=_rgba(component_colour(k), 0.45) if stacked else None,
            hovertemplate=term + " = %{y:.4g}<extra>" + var + " = %{x:.3g}</extra>",
        ))
    pad = 0.6 if discrete else 0.0
    layout = layout_of(xtitle=xlabel or var, ytitle=tr("probability" if discrete else "density", lang), height=height,
                       bargap=0, legend=dict(font=dict(size=13)), shapes=_vline(x0) or None,
                       xaxis=dict(range=[float(grid.min()) - pad, float(grid.max()) + pad]),
                       yaxis=dict(rangemode="tozero"))
    return spec_of(traces, layout)


mixture_density = figure_of(mixture_density_spec, "mixture_density")


def responsibilities_spec(grid, resp, *, x0=None, resp0=None, discrete: bool = False, var: str = "x",
                          xlabel: str | None = None, lang: str = "en", height: int = 340) -> dict:
    """p(z = k | x) across x, one curve per component (they sum to 1 at every x).
    (As plotly JSON; :func:`responsibilities` gives the figure.)"""
    grid, resp = np.asarray(grid, float), np.asarray(resp, float)
    K = resp.shape[1]
    x = _f32(grid)
    traces = []
    for k in range(K):
        traces.append(dict(
            type="scatter", x=x, y=_f32(resp[:, k]), mode="lines+markers" if discrete else "lines",
            name=f"p(z = {k + 1} | {var})", line=dict(color=component_colour(k), width=2.5, dash=component_dash(k)),
            marker=dict(size=5, symbol=component_symbol(k)),
            hovertemplate=f"p(z = {k + 1} | {var})" + " = %{y:.4f}<extra>" + var + " = %{x:.3g}</extra>",
        ))
    if x0 is not None and resp0 is not None:
        r0 = np.asarray(resp0, float)
        traces.append(dict(
            type="scatter", x=[float(x0)] * K, y=r0, mode="markers", showlegend=False,
            marker=dict(color=[component_colour(k) for k in range(K)], size=12, line=dict(color="white", width=1.5)),
            hovertemplate="%{y:.4f}<extra></extra>",
        ))
    pad = 0.6 if discrete else 0.0
    layout = layout_of(xtitle=xlabel or var, ytitle=f"p(z | {var})", height=height,
                       legend=dict(font=dict(size=13)), shapes=_vline(x0) or None,
                       xaxis=dict(range=[float(grid.min()) - pad, float(grid.max()) + pad]),
                       yaxis=dict(range=[-0.03, 1.03]))
    return spec_of(traces, layout)


responsibilities = figure_of(responsibilities_spec, "responsibilities")


# ---- two observed dimensions --------------------------------------------------------
def mixture_2d_spec(gx, gy, density, samples, z, *, point=None, means=None, lang: str = "en",
                    height: int = 460) -> dict:
    """Contours of p(x) on the plane, the samples coloured by the component z that drew them.
    (As plotly JSON; :func:`mixture_2d` gives the figure.)"""
    gx, gy = np.asarray(gx, float), np.asarray(gy, float)
    density = np.asarray(density, float)
    traces = [dict(
        type="contour", x=_f32(gx), y=_f32(gy), z=_f32(density), colorscale=[[0, "#bbbbbb"], [1, "#222222"]],
        ncontours=12, showscale=False, contours=dict(coloring="lines"), line=dict(width=1.3), name="p(x)",
        hovertemplate="p(x) = %{z:.3g}<extra></extra>",
    )]
    samples, z = np.asarray(samples, float), np.asarray(z, int)
    # frozen data may hold more components than the current θ: colour every z that occurs
    K = max(int(np.shape(means)[0]) if means is not None else 0, int(z.max()) + 1 if z.size else 0)
    for k in range(K):
        sel = z == k
        traces.append(dict(
            type="scatter", x=_f32(samples[sel, 0]), y=_f32(samples[sel, 1]), mode="markers", name=f"z = {k + 1}",
            marker=dict(color=component_colour(k), size=5, opacity=0.65, symbol=component_symbol(k)),
            hovertemplate=f"z = {k + 1}" + "<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
        ))
    if means is not None:
        m = np.asarray(means, float)
        traces.append(dict(
            type="scatter", x=m[:, 0], y=m[:, 1], mode="markers", name=tr("means", lang), showlegend=False,
            marker=dict(symbol="x-thin", size=14, line=dict(color="black", width=3)),
            hovertemplate="μ = (%{x:.2f}, %{y:.2f})<extra></extra>",
        ))
    if point is not None:
        traces.append(_star(point, lang))
    return spec_of(traces, layout_of(xtitle="x₁", ytitle="x₂", height=height, legend=dict(font=dict(size=13)),
                                     **_square_axes(gx, gy)))


mixture_2d = figure_of(mixture_2d_spec, "mixture_2d")


def posterior_map_2d_spec(gx, gy, resp, point=None, *, lang: str = "en", height: int = 380) -> dict:
    """The plane coloured by the most probable component argmax_k p(z = k | x), shaded by how sure.
    (As plotly JSON; :func:`posterior_map_2d` gives the figure.)"""
    gx, gy, resp = np.asarray(gx, float), np.asarray(gy, float), np.asarray(resp, float)
    n_y, n_x = len(gy), len(gx)
    K = resp.shape[1]
    best = resp.argmax(1).reshape(n_y, n_x)
    sure = resp.max(1).reshape(n_y, n_x)
    # one heatmap: the value k + s codes "component k, sureness s in [0, 0.98]"; the colour
    # scale runs from a pale to a deep version of component k's colour on [k, k + 0.98].
    s = (sure - 1.0 / K) / (1.0 - 1.0 / K) if K > 1 else np.ones_like(sure)
    code = (best + 0.98 * np.clip(s, 0.0, 1.0)).astype(np.float32)
    scale = []
    for k in range(K):
        c = component_colour(k)
        scale += [[k / K, _rgba(c, 0.06)], [(k + 0.98) / K, _rgba(c, 0.9)]]
    scale[-1][0] = 1.0 if K == 1 else scale[-1][0]
    if scale[-1][0] < 1.0:
        scale.append([1.0, scale[-1][1]])
    traces = [dict(type="heatmap", x=_f32(gx), y=_f32(gy), z=code, zmin=0, zmax=K, colorscale=scale, showscale=False,
                   hoverinfo="skip")]
    if point is not None:
        traces.append(_star(point, lang))
    # each region says which z it is: the map is not read by colour alone
    notes = []
    gxx, gyy = np.meshgrid(gx, gy)
    for k in range(K):
        cells = best == k
        if cells.sum() >= 0.01 * best.size:
            cx, cy = gxx[cells].mean(), gyy[cells].mean()  # the centroid, or the region's cell nearest to it
            i = int(np.argmin(np.where(cells, (gxx - cx) ** 2 + (gyy - cy) ** 2, np.inf)))
            notes.append(dict(x=float(gxx.flat[i]), y=float(gyy.flat[i]), text=f"<b>z = {k + 1}</b>",
                              showarrow=False, font=dict(size=14, color="black"), bgcolor="rgba(255,255,255,0.75)"))
    return spec_of(traces, layout_of(title=tr("Most probable z at each x (darker = surer)", lang), xtitle="x₁",
                                     ytitle="x₂", height=height, annotations=notes or None, **_square_axes(gx, gy)))


posterior_map_2d = figure_of(posterior_map_2d_spec, "posterior_map_2d")


def _star(point, lang) -> dict:
    return dict(
        type="scatter", x=[float(point[0])], y=[float(point[1])], mode="markers", name=tr("the point x", lang),
        showlegend=False, marker=dict(symbol="star", size=18, color="white", line=dict(color="black", width=2)),
        hovertemplate="x = (%{x:.2f}, %{y:.2f})<extra></extra>",
    )


# ---- genetic linkage ----------------------------------------------------------------
def linkage_cells_spec(theta: float, counts=None, *, lang: str = "en", height: int = 360) -> dict:
    """The four cell probabilities (1/2 + θ/4, (1−θ)/4, (1−θ)/4, θ/4), the first split into its
    latent parts 1/2 and θ/4, and the observed proportions y/n as diamonds beside each bar.
    (As plotly JSON; :func:`linkage_cells` gives the figure.)"""
    th = float(theta)
    pos = np.arange(4.0)
    parts = [
        ([0.5, 0, 0, 0], tr("part 1/2 (not counted by z)", lang), component_colour(0), "1/2"),
        ([th / 4, 0, 0, th / 4], tr("part θ/4 (counted by z in cell 1)", lang), component_colour(1), "θ/4"),
        ([0, (1 - th) / 4, (1 - th) / 4, 0], "(1 − θ)/4", component_colour(2), "(1 − θ)/4"),
    ]
    traces = [dict(type="bar", x=pos, y=ys, width=0.55, name=name, marker=dict(color=colour),
                   text=[f"{v:.3f}" if v > 0 else "" for v in ys], textposition="inside", insidetextanchor="middle",
                   hovertemplate=f"{label} = " + "%{y:.4f}<extra></extra>")
              for ys, name, colour, label in parts]
    if counts is not None:
        c = np.asarray(counts, float).ravel()
        traces.append(dict(
            type="scatter", x=pos + 0.38, y=c / c.sum(), mode="markers", name=tr("observed proportion y/n", lang),
            marker=dict(symbol="diamond", size=12, color="black"),
            hovertemplate="y/n = %{y:.4f}<extra></extra>",
        ))
    return spec_of(traces, layout_of(ytitle=tr("probability", lang), height=height, barmode="stack",
                                     legend=dict(font=dict(size=13)),
                                     xaxis=dict(tickvals=pos, ticktext=["y₁", "y₂", "y₃", "y₄"], range=[-0.5, 3.65],
                                                tickfont=dict(size=15)),
                                     yaxis=dict(range=[0, 0.8])))


linkage_cells = figure_of(linkage_cells_spec, "linkage_cells")


def linkage_posterior_spec(z, post, *, z_true=None, lang: str = "en", height: int = 340) -> dict:
    """p(z | y) over the number z of first-cell counts in the θ/4 part: Binomial(y₁, θ/(2+θ)).
    (As plotly JSON; :func:`linkage_posterior` gives the figure.)"""
    z, post = np.asarray(z, float), np.asarray(post, float)
    bars = dict(type="bar", x=_f32(z), y=_f32(post), marker=dict(color=component_colour(1)), name="p(z | y)",
                hovertemplate="p(z = %{x} | y) = %{y:.4f}<extra></extra>")
    shapes, notes = None, None
    if z_true is not None:
        shapes = [dict(type="line", xref="x", yref="paper", x0=float(z_true), x1=float(z_true), y0=0, y1=1,
                       line=dict(color="black", width=2, dash="dash"))]
        notes = [dict(x=float(z_true), y=1, xref="x", yref="paper", text=tr("z that drew the data", lang),
                      showarrow=False, xanchor="left", yanchor="top", xshift=4)]
    return spec_of([bars], layout_of(title=tr("Posterior of the hidden split, p(z | y)", lang), xtitle="z",
                                     ytitle="p(z | y)", height=height, bargap=0.1, shapes=shapes, annotations=notes,
                                     yaxis=dict(rangemode="tozero")))


linkage_posterior = figure_of(linkage_posterior_spec, "linkage_posterior")


def _vline(x0) -> list:
    """A dotted vertical line at x0 across the plot (a layout shape; cheaper than add_vline)."""
    if x0 is None:
        return []
    return [dict(type="line", xref="x", yref="paper", x0=float(x0), x1=float(x0), y0=0, y1=1,
                 line=dict(color="#555", width=1.5, dash="dot"))]


def _square_axes(gx, gy) -> dict:
    return dict(xaxis=dict(range=[float(gx[0]), float(gx[-1])], constrain="domain"),
                yaxis=dict(range=[float(gy[0]), float(gy[-1])], scaleanchor="x", scaleratio=1, constrain="domain"))


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
