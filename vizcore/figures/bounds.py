"""Figures of log p(X|θ) and its lower bounds L(q, θ) (plotly only; no streamlit).

Every builder takes plain arrays and numbers (from :mod:`vizcore.views`,
:mod:`vizcore.inference` or :mod:`vizcore.teaching`) and a ``lang`` argument
for its words; mathematical notation is not translated. Usable from a notebook:

    >>> import numpy as np, vizcore as vc
    >>> from vizcore.figures.bounds import family_figure
    >>> m = vc.get_model("gmm1d"); x = vc.load_dataset("faithful_waiting")
    >>> p = m.make_params(weights=[.5, .5], means=[55, 80], variances=[36, 36])
    >>> fam = vc.bound_family(m, x, p, "means[0]", np.linspace(40, 90, 300), anchors=[50, 60, 70])
    >>> fig = family_figure(fam.values, fam.log_marginal, fam.anchors, fam.anchor_log_marginal, fam.bounds)
"""
from __future__ import annotations

import numpy as np

from ..i18n import tr
from ._style import (ELBO, KL, LOG_P, OKABE_ITO, Q, VIRIDIS, figure_of, layout_of, linear_axis, spec_of,
                     subscripted, visible_only, vline)

ENVELOPE = OKABE_ITO[2]
BOUND_MAX = OKABE_ITO[4]
TEXT_SIZE = 14


def _finite(a) -> np.ndarray:
    """A float array with NaN/±inf replaced by NaN (plotly draws gaps there; contours too). Sent as a
    typed array: half the bytes of a JSON list and no loss of precision."""
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def _yrange(*arrays, top_pad=0.06, bottom_pad=0.08):
    vals = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return None
    lo, hi = float(vals.min()), float(vals.max())
    span = hi - lo if hi > lo else max(1.0, abs(hi) * 1e-3)
    return [lo - bottom_pad * span, hi + top_pad * span]


def fmt(v: float) -> str:
    """A number for labels: 4 decimals, or scientific when tiny; '−∞' for −inf."""
    v = float(v)
    if not np.isfinite(v):
        return "−∞" if v < 0 else ("∞" if v > 0 else "NaN")
    if v != 0 and abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4f}"


def tex(v: float) -> str:
    """:func:`fmt` for LaTeX: braced so that a leading minus is a sign; 1.2e-05 as 1.2\\times10^{-5}."""
    text = fmt(v).replace("−∞", r"-\infty").replace("∞", r"\infty")
    if "e" in text:
        mant, exp = text.split("e")
        text = rf"{mant}\times 10^{{{int(exp)}}}"
    return "{" + text + "}"


# ---- the family of bounds ---------------------------------------------------------------------
def family_spec(values, log_marginal, anchors, anchor_log_marginal, bounds, *, x_label: str = "θ",
                show_envelope: bool = True, bound_argmax=None, bound_max=None, argmax_f=None, max_f=None,
                extra_bound=None, extra_label: str | None = None, extra_anchor=None, current=None,
                lang: str = "en", height: int = 460) -> dict:
    """f(θ) = log p(X|θ) over one coordinate with the bounds L(q_θ′, θ) touching it at each anchor θ′.

    Parameters
    ----------
    values, log_marginal : (G,) the grid of the coordinate and f on it.
    anchors, anchor_log_marginal : (A,) the anchors θ′ and f(θ′) (the touch points).
    bounds : (A, G) L(q_θ′, θ) with q_θ′ = p(Z|X, θ′).
    bound_argmax, bound_max : (A,) where each bound peaks and its peak (marked when given).
    argmax_f, max_f : where f peaks (marked when given).
    extra_bound : (G,) a bound from a q that is no posterior, drawn dashed.
    extra_anchor : (x, y) the point of f above which ``extra_bound``'s q was built.
    current : the coordinate's current value (a vertical dotted line).

    (As plotly JSON; :func:`family_figure` gives the figure.)
    """
    v = np.asarray(values, dtype=float)
    f = _finite(log_marginal)
    b = np.atleast_2d(_finite(bounds))
    yr, below_note = _yrange(f), None
    if yr is not None and extra_bound is not None and np.any(np.isfinite(extra_bound)):
        top = float(np.nanmax(_finite(extra_bound)))
        span = yr[1] - yr[0]
        if top < yr[0] and yr[0] - top <= 0.6 * span:  # near enough: widen the view to show it
            yr = _yrange(f, [top])
        elif top < yr[0]:  # far below: keep f readable and say where the dotted bound went
            below_note = top

    lin = linear_axis(v)

    def shown(y):
        """The x and y of a bound with numbers only where the view can show them (the same picture).
        On an evenly spaced grid (:func:`~vizcore.teaching.anchored_grid`) the x is x0 + i·dx and y keeps
        its length, NaN where hidden: two numbers and NaN runs, which deflate to almost nothing. Otherwise
        x is sent, and the blanked stretches before the first and after the last number are cut away (the
        websocket deflates with a 4 KB window, so a whole x grid per trace would cost its full size)."""
        y = np.asarray(y, dtype=float)
        z = y if yr is None else visible_only(y, yr)
        idx = np.flatnonzero(~np.isnan(z))
        if idx.size == 0 and yr is not None:  # nothing shows: two points below the view keep the trace
            z, idx = np.where(np.arange(y.size) < 2, y, np.nan), np.arange(min(2, y.size))  # (and its legend entry)
        if lin is not None:
            return dict(x0=lin[0], dx=lin[1], y=z)
        if yr is None or idx.size == 0:
            return dict(x=v, y=z)
        keep = slice(int(idx[0]), int(idx[-1]) + 1)
        return dict(x=v[keep], y=z[keep])

    data = []
    for a in range(b.shape[0]):
        data.append(dict(
            type="scatter", **shown(b[a]), mode="lines", line=dict(color=ELBO, width=1.4), opacity=0.75,
            name=tr("bounds L(q_θ′, θ)", lang), legendgroup="bounds", showlegend=a == 0,
            meta="bound", hovertemplate="L = %{y:.3f}<extra>θ′ = " + f"{float(anchors[a]):.4g}" + "</extra>",
        ))
    if show_envelope and b.shape[0] > 0:
        data.append(dict(type="scatter", **shown(np.max(b, axis=0)), mode="lines", meta="envelope",
                         line=dict(color=ENVELOPE, width=2.5, dash="dash"), name=tr("envelope (max of the bounds)", lang)))
    if extra_bound is not None:
        data.append(dict(type="scatter", **shown(_finite(extra_bound)), mode="lines", meta="extra",
                         line=dict(color=Q, width=2.5, dash="dot"),
                         name=extra_label or tr("bound from a q that is no posterior", lang)))
    data.append(dict(type="scatter", **(dict(x=v) if lin is None else dict(x0=lin[0], dx=lin[1])), y=f, mode="lines",
                     line=dict(color=LOG_P, width=3), meta="f",
                     name="f(θ) = log p(X|θ)", hovertemplate="log p = %{y:.3f}<extra></extra>"))
    data.append(dict(type="scatter", x=np.asarray(anchors, dtype=float), y=_finite(anchor_log_marginal), mode="markers",
                     meta="touch", marker=dict(size=9, color="white", line=dict(color=ELBO, width=2.5)),
                     name=tr("touch points θ′", lang)))
    if bound_argmax is not None and bound_max is not None:
        data.append(dict(type="scatter", x=np.asarray(bound_argmax, dtype=float), y=_finite(bound_max), mode="markers",
                         meta="bound_max", marker=dict(size=9, symbol="triangle-up", color=BOUND_MAX),
                         name=tr("max of each bound", lang)))
    if argmax_f is not None and max_f is not None:
        data.append(dict(type="scatter", x=[float(argmax_f)], y=[float(max_f)], mode="markers", meta="f_max",
                         marker=dict(size=16, symbol="star", color=LOG_P), name=tr("max of f", lang)))
    if extra_anchor is not None:
        data.append(dict(type="scatter", x=[float(extra_anchor[0])], y=[float(extra_anchor[1])], mode="markers",
                         meta="extra_anchor", marker=dict(size=11, symbol="diamond", color=Q),
                         name=tr("θ′ of the dotted bound", lang)))
    layout = layout_of(xtitle=x_label, ytitle="log p(X|θ)  /  L(q, θ)", height=height, font=dict(size=TEXT_SIZE),
                       legend=dict(font=dict(size=12)))
    if current is not None:
        layout["shapes"] = [vline(float(current), line=dict(color="#888888", width=1, dash="dot"))]
    if below_note is not None:
        layout["annotations"] = [dict(
            x=0.5, xref="paper", y=yr[0], yref="y", yanchor="bottom", showarrow=False,
            text="▼ " + tr("dotted bound below the view; its maximum:", lang) + f" {fmt(below_note)}",
            font=dict(color=Q, size=13), bgcolor="rgba(255,255,255,0.7)")]
    if yr is not None:
        layout["yaxis"]["range"] = yr
    layout["xaxis"]["range"] = [float(v.min()), float(v.max())]
    return spec_of(data, layout)


family_figure = figure_of(family_spec, "family_figure")


# ---- a plane of two coordinates -----------------------------------------------------------------
def plane_spec(values_x, values_y, log_marginal, bound=None, *, touch=None, argmax_f=None, argmax_bound=None,
               x_label: str = "θ₁", y_label: str = "θ₂", lang: str = "en", height: int = 460) -> dict:
    """Filled contours of log p(X|θ) over two coordinates; optional line contours of one bound.

    ``argmax_f`` is one point (x, y) or a list of tied maxima (e.g. the two labellings of a mixture).

    The colour scale starts at the 10th percentile of log p so that the region
    near the maximum is resolved; NaN (invalid θ) is left blank. (As plotly JSON; :func:`plane_figure` gives
    the figure.)
    """
    vx, vy = np.asarray(values_x, dtype=float), np.asarray(values_y, dtype=float)
    F = np.asarray(log_marginal, dtype=float)
    ok = F[np.isfinite(F)]
    lin_x, lin_y = linear_axis(vx), linear_axis(vy)  # evenly spaced: x0/dx, y0/dy, as plotly.js computes them
    def axes():
        return {**(dict(x=vx) if lin_x is None else dict(x0=lin_x[0], dx=lin_x[1])),
                **(dict(y=vy) if lin_y is None else dict(y0=lin_y[0], dy=lin_y[1]))}
    data = []
    if ok.size:
        lo, hi = float(np.quantile(ok, 0.10)), float(ok.max())
        if hi <= lo:
            lo = hi - 1.0
        size = (hi - lo) / 16
        data.append(dict(
            type="contour", **axes(), z=_finite(F), meta="f", zmin=lo, zmax=hi, colorscale=VIRIDIS,
            contours=dict(start=lo, end=hi, size=size, coloring="fill"), line=dict(width=0.5, color="white"),
            colorbar=dict(title=dict(text="log p(X|θ)", side="right"), thickness=14),
            name="log p(X|θ)", hovertemplate="%{x:.4g}, %{y:.4g}<br>log p = %{z:.3f}<extra></extra>",
        ))
        if bound is not None:
            B = np.asarray(bound, dtype=float)
            data.append(dict(
                type="contour", **axes(), z=_finite(B), meta="bound", showscale=False, colorscale=[[0, Q], [1, Q]],
                contours=dict(start=lo, end=hi, size=2 * size, coloring="lines"), line=dict(width=2, dash="dot"),
                name=tr("bound L(q_θ′, θ)", lang), showlegend=True,
                hovertemplate="L = %{z:.3f}<extra></extra>",
            ))
    if argmax_f is not None:
        pts = np.atleast_2d(np.asarray(argmax_f, dtype=float))  # one point, or several tied maxima
        data.append(dict(type="scatter", x=pts[:, 0], y=pts[:, 1], mode="markers", meta="f_max",
                         marker=dict(size=16, symbol="star", color="white", line=dict(color="black", width=1.5)),
                         name=tr("max of f", lang)))
    if argmax_bound is not None:
        data.append(dict(type="scatter", x=[argmax_bound[0]], y=[argmax_bound[1]], mode="markers", meta="bound_max",
                         marker=dict(size=12, symbol="triangle-up", color=Q, line=dict(color="black", width=1)),
                         name=tr("max of the bound (M-step)", lang)))
    if touch is not None:
        data.append(dict(type="scatter", x=[touch[0]], y=[touch[1]], mode="markers", meta="touch",
                         marker=dict(size=13, color="white", line=dict(color=ELBO, width=3)),
                         name=tr("θ′ (touch point)", lang)))
    layout = layout_of(xtitle=x_label, ytitle=y_label, height=height, font=dict(size=TEXT_SIZE),
                       margin=dict(l=10, r=10, t=10, b=10),
                       legend=dict(font=dict(size=12), orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))
    layout["xaxis"]["range"] = [float(vx.min()), float(vx.max())]
    layout["yaxis"]["range"] = [float(vy.min()), float(vy.max())]
    return spec_of(data, layout)


plane_figure = figure_of(plane_spec, "plane_figure")


# ---- log p = ELBO + KL as bars ------------------------------------------------------------------
def evidence_bar_spec(log_p: float, elbo: float, kl: float, *, baseline: float | None = None, lang: str = "en",
                      height: int = 230) -> dict:
    """Two horizontal bars from a common baseline: log p(X|θ) above, ELBO then KL stacked below.

    log p is usually a large negative number, so bars from 0 would all look the
    same length. Both rows start at ``baseline`` (any number below the ELBO, e.g.
    the ELBO of q = prior) and the axis shows the actual values: the ELBO bar
    plus the KL bar is exactly as long as the log p bar. (As plotly JSON; :func:`evidence_bar_figure`
    gives the figure.)
    """
    log_p, elbo, kl = float(log_p), float(elbo), float(kl)
    if baseline is None or not np.isfinite(baseline) or baseline > elbo:
        baseline = elbo - max(abs(kl), 1e-3 * max(1.0, abs(log_p)), 1.0)
    span = max(log_p - baseline, 1e-12)
    row_p, row_q = "log p(X|θ)", "L(q,θ) + KL"
    kl_big = kl > 0.18 * span
    data = [
        dict(type="bar", y=[row_p], x=[log_p - baseline], base=[baseline], orientation="h", meta="log_p",
             marker=dict(color="#555555"), name="log p(X|θ)", text=[f"log p = {fmt(log_p)}"],
             textposition="inside", insidetextanchor="end", textfont=dict(color="white", size=TEXT_SIZE),
             hovertemplate="log p(X|θ) = " + fmt(log_p) + "<extra></extra>"),
        dict(type="bar", y=[row_q], x=[elbo - baseline], base=[baseline], orientation="h", meta="elbo",
             marker=dict(color=ELBO), name=tr("ELBO L(q,θ)", lang), text=[f"L = {fmt(elbo)}"],
             textposition="inside", insidetextanchor="end", textfont=dict(color="white", size=TEXT_SIZE),
             hovertemplate="L(q,θ) = " + fmt(elbo) + "<extra></extra>"),
        dict(type="bar", y=[row_q], x=[kl], base=[elbo], orientation="h", meta="kl",
             marker=dict(color=KL), name=tr("KL gap KL(q‖p(Z|X,θ))", lang), text=[f"KL = {fmt(kl)}"],
             textposition="inside" if kl_big else "outside", insidetextanchor="middle",
             textfont=dict(color="white" if kl_big else KL, size=TEXT_SIZE), cliponaxis=False,
             hovertemplate="KL = " + fmt(kl) + "<extra></extra>"),
    ]
    right = log_p + 0.22 * span  # room for an outside KL label
    layout = layout_of(
        height=height, xtitle=tr("nats (bars start at the baseline b)", lang) + f"  b = {fmt(baseline)}",
        shapes=[vline(log_p, line=dict(color=LOG_P, width=2, dash="dash"))],
        yaxis=dict(categoryorder="array", categoryarray=[row_q, row_p], tickfont=dict(size=TEXT_SIZE)),
        barmode="overlay", bargap=0.3, font=dict(size=TEXT_SIZE), margin=dict(l=10, r=20, t=30, b=10))
    layout["xaxis"]["range"] = [baseline, right]
    return spec_of(data, layout)


evidence_bar_figure = figure_of(evidence_bar_spec, "evidence_bar_figure")


def decomposition_spec(dec, *, lang: str = "en", height: int = 280) -> dict:
    """The three ways to split L(q,θ), one row each, as waterfalls from 0 ending at the ELBO.

    ``dec`` is a :class:`vizcore.inference.Decomposition` (or anything with the same attributes).
    (As plotly JSON; :func:`decomposition_figure` gives the figure.)
    """
    rows = [
        ("E_q[log p(X,Z|θ)] + H(q)", ("E_q[log p(X,Z|θ)]", dec.energy, OKABE_ITO[5]), ("H(q)", dec.entropy, Q)),
        ("E_q[log p(X|Z,θ)] − KL(q‖p(Z|θ))", ("E_q[log p(X|Z,θ)]", dec.expected_log_lik, OKABE_ITO[2]),
         ("−KL(q‖p(Z|θ))", -dec.kl_prior, OKABE_ITO[4])),
        ("log p(X|θ) − KL(q‖p(Z|X,θ))", ("log p(X|θ)", dec.log_marginal, "#555555"),
         ("−KL(q‖p(Z|X,θ))", -dec.kl_posterior, KL)),
    ]
    data = []
    elbo = float(dec.elbo)
    ends = [0.0, elbo]
    for label, (n1, v1, c1), (n2, v2, c2) in rows:
        label = subscripted(label)  # a category (the row's tick label), not a text property typeset() knows
        v1, v2 = float(v1), float(v2)
        ends += [v1, v1 + v2]
        data.append(dict(type="bar", y=[label], x=[v1], base=[0.0], orientation="h", marker=dict(color=c1), name=n1,
                         meta="term1", text=[f"{n1} = {fmt(v1)}"], textposition="inside",
                         insidetextanchor="start", textfont=dict(size=12, color="white"),
                         hovertemplate=f"{n1} = {fmt(v1)}<extra></extra>"))
        data.append(dict(type="bar", y=[label], x=[v2], base=[v1], orientation="h", name=n2,
                         marker=dict(color=c2, pattern=dict(shape="/", fillmode="overlay")),  # hatched: not by colour alone
                         meta="term2", hovertemplate=f"{n2} = {fmt(v2)}<extra></extra>"))
    lo, hi = min(ends), max(ends)
    pad = 0.04 * (hi - lo if hi > lo else 1.0)
    layout = layout_of(
        height=height, xtitle=tr("nats (each row starts at 0 and ends at the ELBO)", lang),
        shapes=[vline(elbo, line=dict(color=ELBO, width=2, dash="dash"))],
        # the label plotly's add_vline(annotation_position="top") puts on the line
        annotations=[dict(font=dict(color=ELBO, size=13), showarrow=False, text=f"L(q,θ) = {fmt(elbo)}", x=elbo,
                          xanchor="center", xref="x", y=1, yanchor="bottom", yref="y domain")],
        yaxis=dict(autorange="reversed", tickfont=dict(size=12)),
        barmode="overlay", bargap=0.35, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
    layout["xaxis"]["range"] = [lo - pad, hi + pad]
    return spec_of(data, layout)


decomposition_figure = figure_of(decomposition_spec, "decomposition_figure")


# ---- the gap over θ -----------------------------------------------------------------------------
def gap_spec(values, log_marginal, bound, *, current=None, x_label: str = "θ", lang: str = "en",
             height: int = 400) -> dict:
    """log p(X|θ) and L(q, θ) for one fixed q as θ moves, with the gap KL(q‖p(Z|X,θ)) shaded.

    ``current`` = (x, log p, L) marks the θ where q was built (the gap there is the KL shown elsewhere).
    (As plotly JSON; :func:`gap_figure` gives the figure.)
    """
    v = np.asarray(values, dtype=float)
    f, b = _finite(log_marginal), _finite(bound)
    data = [
        dict(type="scatter", x=v, y=b, mode="lines", line=dict(color=ELBO, width=2.5, dash="dash"), meta="bound",
             name=tr("ELBO L(q, θ), q held fixed", lang), hovertemplate="L = %{y:.3f}<extra></extra>"),
        dict(type="scatter", x=v, y=f, mode="lines", line=dict(color=LOG_P, width=3), meta="f",
             fill="tonexty", fillcolor="rgba(213,94,0,0.22)",
             name="log p(X|θ)  " + tr("(shaded: the gap KL(q‖p(Z|X,θ)))", lang),
             hovertemplate="log p = %{y:.3f}<extra></extra>"),
    ]
    if current is not None:
        cx, cp, cl = (float(c) for c in current)
        data.append(dict(type="scatter", x=[cx, cx], y=[cl, cp], mode="lines+markers", meta="current",
                         line=dict(color=KL, width=4), marker=dict(size=8, color=KL),
                         name=tr("θ now: gap = KL", lang) + f" = {fmt(cp - cl)}"))
    yr = _yrange(f, [np.nanmax(b)] if np.any(np.isfinite(b)) else [])
    layout = layout_of(xtitle=x_label, ytitle="log p(X|θ)  /  L(q, θ)", height=height, font=dict(size=TEXT_SIZE),
                       legend=dict(font=dict(size=12)))
    layout["xaxis"]["range"] = [float(v.min()), float(v.max())]
    if yr is not None:
        layout["yaxis"]["range"] = yr
    return spec_of(data, layout)


gap_figure = figure_of(gap_spec, "gap_figure")


# ---- q(z_n) for one data point ------------------------------------------------------------------
def point_q_spec(prior_row, posterior_row, q_row, *, z_from: int = 1, lang: str = "en", height: int = 220) -> dict:
    """q(z_n) next to the prior p(z_n|θ) and the posterior p(z_n|x_n, θ) for one data point.

    ``z_from`` is the first latent value: 1 for a mixture's components (z = 1..K, "component k"), 0 for a
    count (the linkage model's z = 0..y₁). Grouped bars for a few latent values, lines for many. (As plotly
    JSON; :func:`point_q_figure` gives the figure.)
    """
    if z_from not in (0, 1):
        raise ValueError(f"z_from: expected 0 (a count) or 1 (a component), got {z_from!r}")
    pr, po, q = (np.asarray(a, dtype=float) for a in (prior_row, posterior_row, q_row))
    k = q.size
    # colour is not the only cue: the bars also differ in fill pattern, the lines in dash
    series = ((tr("prior p(z)", lang), pr, "#999999", ".", "dot"), (tr("posterior p(z|x)", lang), po, LOG_P, "", "solid"),
              ("q(z)", q, Q, "/", "dash"))
    if k <= 8:
        cats = [str(j + z_from) for j in range(k)]
        data = [dict(type="bar", x=cats, y=y, name=name, meta=name,
                     marker=dict(color=c, pattern=dict(shape=pattern, fillmode="overlay")),
                     hovertemplate="z = %{x}: %{y:.4f}<extra>" + name + "</extra>")
                for name, y, c, pattern, _ in series]
        xlab = tr("component k", lang) if z_from == 1 else "z"
    else:
        z = np.arange(k) + z_from
        data = [dict(type="scatter", x=z, y=y, mode="lines", name=name, line=dict(color=c, width=2.5, dash=dash),
                     meta=name) for name, y, c, _, dash in series]
        xlab = "z"
    layout = layout_of(height=height, xtitle=xlab, ytitle=tr("probability", lang), barmode="group",
                       font=dict(size=13), margin=dict(l=10, r=10, t=30, b=10))
    layout["yaxis"]["rangemode"] = "tozero"
    return spec_of(data, layout)


point_q_figure = figure_of(point_q_spec, "point_q_figure")
