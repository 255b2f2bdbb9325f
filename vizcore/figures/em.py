"""Figures of the EM page: the bound touching log p(X|θ) and the M-step jumping to its
maximum, for every half-step of an EM trace, animated in the browser from plotly frames;
the data coloured by responsibility; the sawtooth of log p and L; restarts; EM against
gradient ascent.

No streamlit here: every builder takes arrays or vizcore results, returns a plotly
Figure and translates its words with :func:`vizcore.i18n.tr` (never the notation).

Half-steps are numbered as in :mod:`vizcore.em_views`: s = 0 is the start θ_0,
s = 2t − 1 follows the t-th E-step (q_t = p(Z|X, θ_{t−1}); the bound touches at
θ_{t−1}), s = 2t follows the t-th M-step (θ_t = argmax_θ L(q_t, θ)).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..em_views import EMFrames, half_step_state
from ..i18n import tr
from ..models import get_model
from ._style import (ELBO, KL, LOG_P, OKABE_ITO, Figure, _common_layout, base_layout, component_colour,
                     convert_to_base64, figure_of, layout_of, merged, spec_of, typeset, visible_only)
from .display import slider_beside_buttons

NEW = OKABE_ITO[2]     # θ_new (bluish green)
OLD = "#555555"        # θ_old
PATH = "#888888"
GA = OKABE_ITO[3]      # gradient ascent (vermillion)
HIST = "rgba(120,120,120,0.35)"
NONE = "rgba(150,150,150,0.75)"   # points before any E-step: no q yet

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def sub(i) -> str:
    """Subscript digits: 12 → ₁₂."""
    return str(i).translate(_SUB)


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=float)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = _rgb(hex_colour).astype(int)
    return f"rgba({r},{g},{b},{alpha})"


def blend_colours(resp) -> list[str]:
    """One colour per point: the component colours mixed in proportion to q(z_n = k)."""
    resp = np.asarray(resp, dtype=float)
    cols = np.array([_rgb(component_colour(k)) for k in range(resp.shape[1])])
    mix = np.clip(resp @ cols, 0, 255).round().astype(int)
    return [f"rgb({r},{g},{b})" for r, g, b in mix]


def _fmt(v: float, digits: int = 4) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:.{digits}f}".replace("-", "−")


def thin(n: int, cap: int = 400) -> np.ndarray:
    """At most ``cap`` evenly spread indices of range(n) (all of them when n ≤ cap)."""
    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(int))


# ---- the heart: one picture per half-step ---------------------------------------------
@dataclass(frozen=True)
class StepPicture:
    """What the bound figure shows at half-step ``step`` (all numbers exact, from the trace).

    ``touch``: θ_old on log p, where L(q_t, ·) touches it (the start θ_0 at s = 0);
    ``peak``: the bound's maximum L(q_t, θ_t); ``new``: θ_new on log p. ``None`` when the
    point is not on the drawn slice. ``old_x`` / ``new_x``: where θ_old / θ_new sit on the axis.
    """

    step: int
    kind: str
    t: int
    log_p: np.ndarray
    bound: np.ndarray
    touch: tuple | None
    peak: tuple | None
    new: tuple | None
    old_x: float | None
    new_x: float | None
    log_p_now: float
    bound_now: float
    path: tuple = ((), ())
    earlier: np.ndarray | None = None


def _staircase(xs_theta, trace, s: int):
    """The EM path up to half-step s: (x(θ_0), log p_0), (x(θ_1), L(q_1, θ_1)), (x(θ_1), log p_1), ..."""
    xs, ys = [float(xs_theta[0])], [float(trace.log_likelihood[0])]
    for t in range(1, trace.n_iter + 1):
        if 2 * t <= s:
            xs.append(float(xs_theta[t]))
            ys.append(float(trace.elbo_after_m[t - 1]))
        if 2 * t + 1 <= s:
            xs.append(float(xs_theta[t]))
            ys.append(float(trace.log_likelihood[t]))
    return tuple(xs), tuple(ys)


def _picture(s, trace, log_p, bound, x_old, x_new, same_slice, path=((), ()), earlier=None) -> StepPicture:
    ti, qi, kind = half_step_state(trace, s)
    ll = trace.log_likelihood
    if kind == "start":
        return StepPicture(s, kind, 0, log_p, np.full_like(log_p, np.nan), (x_old, float(ll[0])), None, None,
                           x_old, None, float(ll[0]), float("nan"), path, earlier)
    t = qi
    l_e, l_m = float(trace.elbo_after_e[t - 1]), float(trace.elbo_after_m[t - 1])
    if kind == "E":
        touch = (x_old, float(ll[t - 1]))
        peak = (x_new, l_m) if same_slice else None
        return StepPicture(s, kind, t, log_p, bound, touch, peak, None, x_old, None, float(ll[t - 1]), l_e,
                           path, earlier)
    touch = (x_old, float(ll[t - 1])) if same_slice else None
    return StepPicture(s, kind, t, log_p, bound, touch, (x_new, l_m), (x_new, float(ll[t])), x_old, x_new,
                       float(ll[t]), l_m, path, earlier)


def on_slice(trace, name: str) -> np.ndarray:
    """For each step t = 1..T: is θ_t on the slice through θ_{t−1} along coordinate ``name``?

    True when no other coordinate moved (for a weight, when the other weights kept their shares,
    as :func:`vizcore.views.vary` rescales them). Always true for a one-parameter model.
    """
    model = get_model(trace.model)
    coords = model.coordinates(trace.params[0])
    flat = np.array([model.flatten(p) for p in trace.params])
    cols = np.ones(flat.shape[1], dtype=bool)
    cols[coords[name]] = False
    out = np.zeros(trace.n_iter, dtype=bool)
    k_w = int(name[len("weights["):-1]) if name.startswith("weights[") else None
    for t in range(1, trace.n_iter + 1):
        a, b = trace.params[t - 1], trace.params[t]
        if k_w is not None:
            K = a.weights.size
            cols[:K] = False
            others = np.arange(K) != k_w
            wa, wb = a.weights[others], b.weights[others]
            shares = np.allclose(wa / max(wa.sum(), 1e-300), wb / max(wb.sum(), 1e-300), rtol=1e-12, atol=1e-15)
        else:
            shares = True
        out[t - 1] = shares and np.allclose(flat[t - 1, cols], flat[t, cols], rtol=1e-12, atol=0)
    return out


def coordinate_pictures(frames: EMFrames, trace, name: str, steps, *, staircase: bool = False,
                        earlier: dict | None = None) -> list[StepPicture]:
    """Pictures along coordinate ``name`` from :func:`vizcore.em_views.coordinate_frames`.

    θ_t lies on the slice drawn through θ_{t−1} only when no other coordinate moved
    (:func:`on_slice`); only then does the E picture show the bound's maximum and the
    M picture the touch point too (one-parameter models always).
    """
    model = get_model(trace.model)
    idx = model.coordinates(trace.params[0])[name][0]
    coord = np.array([model.flatten(p)[idx] for p in trace.params])
    same = on_slice(trace, name)
    out = []
    for s in steps:
        ti, qi, kind = half_step_state(trace, s)
        t = max(qi or 0, 1)
        x_old = float(coord[0]) if kind == "start" else float(coord[t - 1])
        x_new = float(coord[t]) if kind != "start" else None
        path = _staircase(coord, trace, s) if staircase else ((), ())
        out.append(_picture(s, trace, frames.log_marginal[s], frames.bound[s], x_old, x_new,
                            bool(same[t - 1]), path, None if earlier is None else earlier.get(s)))
    return out


def line_pictures(frames: EMFrames, trace, steps) -> list[StepPicture]:
    """Pictures along θ(u) = θ_{t−1} + u (θ_t − θ_{t−1}) from :func:`vizcore.em_views.step_line_frames`:
    the bound touches log p at u = 0 and peaks at u = 1 for every model."""
    out = []
    for s in steps:
        ti, qi, kind = half_step_state(trace, s)
        row = 0 if kind == "start" else qi - 1
        out.append(_picture(s, trace, frames.log_marginal[row], frames.bound[row], 0.0,
                            None if kind == "start" else 1.0, True))
    return out


def step_label(s: int, trace, lang: str = "en") -> str:
    """"start", "E-step 3" or "M-step 3"."""
    _, qi, kind = half_step_state(trace, s)
    if kind == "start":
        return tr("start", lang)
    return f"{tr('E-step' if kind == 'E' else 'M-step', lang)} {qi}"


def _title(p: StepPicture, lang: str) -> str:
    """Short (it must fit at presenter-mode size): the half-step and its exact numbers."""
    t = p.t
    if p.kind == "start":
        return f"{tr('Start', lang)}: log p(X|θ₀) = {_fmt(p.log_p_now)}"
    if p.kind == "E":
        return f"{tr('E-step', lang)} {t}: L = log p = {_fmt(p.bound_now)}"
    return f"{tr('M-step', lang)} {t}: L = {_fmt(p.bound_now)} ≤ log p = {_fmt(p.log_p_now)}"


def _y_ranges(pictures: list[StepPicture], trace) -> dict[int, list[float]]:
    """One y-range per iteration (shared by its E and M pictures, so the climb is visible)."""
    groups: dict[int, list[StepPicture]] = {}
    for p in pictures:
        groups.setdefault(max(p.t, 1), []).append(p)
    out = {}
    for t, ps in groups.items():
        curves = np.concatenate([np.concatenate([p.log_p, p.bound]) for p in ps])
        curves = curves[np.isfinite(curves)]
        marks = [v for p in ps for v in (p.log_p_now, p.bound_now, *p.path[1],
                                         *(pt[1] for pt in (p.touch, p.peak, p.new) if pt is not None))
                 if v is not None and np.isfinite(v)]
        if curves.size == 0 and not marks:
            continue
        top = float(max(curves.max() if curves.size else -np.inf, max(marks) if marks else -np.inf))
        low_mark = float(min(marks)) if marks else top
        lp = np.concatenate([p.log_p for p in ps])
        lp = lp[np.isfinite(lp)]
        med = float(np.percentile(lp, 55)) if lp.size else low_mark
        # the climb of this iteration must be visible, and the curves' shape near the top
        span = max(1.6 * (top - low_mark), 0.06 * (top - med), 1e-9 * max(1.0, abs(top)))
        out[t] = [top - span, top + 0.12 * span]
    return out


def _earlier_xy(axis_e, earlier):
    if earlier is None or len(earlier) == 0:
        return [], []
    xs, ys = [], []
    for row in np.atleast_2d(earlier):
        xs.extend(axis_e.tolist() + [None])
        ys.extend([float(v) if np.isfinite(v) else None for v in row] + [None])
    return xs, ys


def _x_ranges(axis, pictures, yrange) -> dict[int, list[float]]:
    """One x-range per iteration (like the y-range): where a curve is inside the y-range, every marked θ
    and the drawn path, padded; never narrower than 2 % of the whole axis."""
    full_lo, full_hi = float(np.min(axis)), float(np.max(axis))
    groups: dict[int, list[float]] = {}
    for p in pictures:
        ylo = yrange(p)[0]
        xs = []
        with np.errstate(invalid="ignore"):
            mask = (p.log_p >= ylo) | (p.bound >= ylo)
        if mask.any():
            xs += [float(axis[mask].min()), float(axis[mask].max())]
        xs += [v for v in (p.old_x, p.new_x, *p.path[0]) if v is not None and np.isfinite(v)]
        groups.setdefault(max(p.t, 1), []).extend(xs)
    out = {}
    for t, xs in groups.items():
        if not xs:
            out[t] = [full_lo, full_hi]
            continue
        lo, hi = min(xs), max(xs)
        width = max(hi - lo, 0.02 * (full_hi - full_lo))
        mid = 0.5 * (lo + hi)
        lo, hi = mid - 0.5 * width * 1.3, mid + 0.5 * width * 1.3
        out[t] = [max(full_lo, lo), min(full_hi, hi)]
    return out


def _frame_traces(p: StepPicture, axis, yr, *, staircase: bool, axis_e=None) -> list[dict]:
    """The traces that change from picture to picture, as plain dicts in a fixed order:
    log p, the bound, [earlier bounds, path], the θ_old/θ_new lines, the gap, the marked points.
    The two curves are whole here (:func:`_blank_curves` thins them for the views that show them)."""
    t = p.t
    q_lbl = f"q{sub(t)}" if p.kind != "start" else "q"
    told = "θ₀" if p.kind == "start" else f"θ{sub(t - 1)}"
    tnew = f"θ{sub(t)}"
    out = [
        dict(type="scatter", x=axis, y=p.log_p,
             hovertemplate="log p(X|θ) = %{y:.6f}<extra>%{x:.6g}</extra>"),
        dict(type="scatter", x=axis, y=p.bound,
             hovertemplate=f"L({q_lbl}, θ)" + " = %{y:.6f}<extra>%{x:.6g}</extra>"),
    ]
    if staircase:
        ex, ey = _earlier_xy(axis_e, p.earlier)
        out.append(dict(type="scatter", x=ex, y=ey))
        out.append(dict(type="scatter", x=list(p.path[0]), y=list(p.path[1])))
    lx, ly = [], []
    for xv in (p.old_x, p.new_x):
        if xv is not None:
            lx += [xv, xv, None]
            ly += [yr[0], yr[1], None]
    out.append(dict(type="scatter", x=lx, y=ly))
    gx, gy = ([p.new[0], p.new[0]], [p.peak[1], p.new[1]]) if (p.new is not None and p.peak is not None) else ([], [])
    out.append(dict(type="scatter", x=gx, y=gy))
    px, py, colour, symbol, edge, text = [], [], [], [], [], []
    for pt, c, sym, e, label in (
            (p.touch, LOG_P, "circle", "white", f"{told}: log p = L = %{{y:.8f}}" if p.kind != "start"
             else f"{told}: log p = %{{y:.8f}}"),
            (p.peak, ELBO, "diamond", "white", f"L({q_lbl}, {tnew})" + " = %{y:.8f}"),
            (p.new, NEW, "circle", "black", f"log p(X|{tnew})" + " = %{y:.8f}")):
        if pt is not None:
            px.append(pt[0])
            py.append(pt[1])
            colour.append(c)
            symbol.append(sym)
            edge.append(e)
            text.append(label)
    out.append(dict(type="scatter", x=px, y=py, marker=dict(color=colour, symbol=symbol, line=dict(color=edge)),
                    hovertemplate=[h + "<extra>%{x:.6g}</extra>" for h in text]))
    return out


def _styles(staircase: bool, lang: str) -> list[dict]:
    """The fixed look of each frame trace (sent once, in the figure's data)."""
    styles = [
        dict(mode="lines", name="log p(X|θ)", line=dict(color=LOG_P, width=3.5)),
        dict(mode="lines", name="L(q, θ)", line=dict(color=ELBO, width=2.5, dash="dash")),  # not by colour alone
    ]
    if staircase:
        styles += [
            dict(mode="lines", name=tr("earlier L", lang), line=dict(color=_rgba(ELBO, 0.3), width=1.5),
                 hoverinfo="skip", connectgaps=False),
            dict(mode="lines+markers", name=tr("EM path", lang), line=dict(color=PATH, width=1.5, dash="dot"),
                 marker=dict(size=5, color=PATH), hovertemplate="%{y:.6f}<extra>%{x:.6g}</extra>"),
        ]
    styles += [
        dict(mode="lines", name="θ_old, θ_new", showlegend=False, line=dict(color=OLD, width=1.2, dash="dot"),
             hoverinfo="skip", connectgaps=False),
        dict(mode="lines", name=tr("gap", lang) + " = KL", line=dict(color=KL, width=4),
             hovertemplate="%{y:.6f}<extra></extra>"),
        dict(mode="markers", name=tr("points", lang), showlegend=False, marker=dict(size=13, line=dict(width=1.8))),
    ]
    return styles


def _legend_entries(lang: str) -> list[dict]:
    """Legend-only traces for the marked points (which share one trace in the frames)."""
    return [
        dict(type="scatter", x=[None], y=[None], mode="markers", hoverinfo="skip",
             name=tr("touch at θ_old", lang),
             marker=dict(color=LOG_P, size=13, line=dict(color="white", width=1.8))),
        dict(type="scatter", x=[None], y=[None], mode="markers", hoverinfo="skip",
             name=tr("max of L", lang),
             marker=dict(color=ELBO, size=13, symbol="diamond", line=dict(color="white", width=1.8))),
        dict(type="scatter", x=[None], y=[None], mode="markers", hoverinfo="skip", name="log p(X|θ_new)",
             marker=dict(color=NEW, size=13, line=dict(color="black", width=1.8))),
    ]


def _same(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    return type(a) is type(b) and a == b


def _drop_constants(frames: list[dict], data: list[dict]) -> None:
    """Leave out of every frame (in place) each trace property that all frames and the figure's own
    trace share, e.g. the x grid of the curves: plotly keeps a property a frame does not set, so
    every frame draws the same, and the spec sent on each half-step is ~40 % smaller."""
    if not frames:
        return
    for pos, j in enumerate(frames[0]["traces"]):
        first = frames[0]["data"][pos]
        for key in [k for k in first if k != "type"]:
            if key in data[j] and all(key in f["data"][pos] and _same(f["data"][pos][key], first[key]) for f in frames) \
                    and _same(data[j][key], first[key]):
                for f in frames:
                    del f["data"][pos][key]


def _blank_curves(raw: list[list[dict]], views: list[tuple], axis, curves=(0, 1)) -> None:
    """Give the curves of each frame (``raw[i][j]["y"]``, in place) numbers only where a view shows them.

    ``views[i]`` is frame i's (x-range, y-range). Consecutive frames that draw the same curve (log p at
    θ_t after the M-step and before the next E-step; both curves of an E- and M-step in the line view)
    share one array, blanked outside the union of their views: each view draws the same as with its own
    blanking (a point kept for another view only ends segments beyond this view's edges), and
    :func:`_inherit_repeats` then sends that array once."""
    n = len(raw)
    for j in curves:
        i = 0
        while i < n:
            k = i + 1
            while k < n and _same_trace(raw[k][j], raw[i][j]):
                k += 1
            y = np.asarray(raw[i][j]["y"], dtype=float)
            keep = np.zeros(y.shape, dtype=bool)
            for m in range(i, k):
                keep |= ~np.isnan(visible_only(y, views[m][1], axis, views[m][0]))
            sent = np.where(keep, y, np.nan)
            for m in range(i, k):
                raw[m][j] = {**raw[m][j], "y": sent}
            i = k


def _same_trace(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)


def _inherit_repeats(frames: list[dict]) -> None:
    """Leave out of each frame (in place) every trace equal to the previous frame's, and name that frame
    its ``baseframe``: plotly merges a frame onto its base chain before drawing it
    (``Plots.computeFrame``), so each frame draws the same and a repeated curve is sent once.
    :func:`resolved_frame` does that merge here."""
    full = [list(f["data"]) for f in frames]
    for i in range(len(frames) - 1, 0, -1):
        f, prev = frames[i], frames[i - 1]
        same = [pos for pos, (j, tr) in enumerate(zip(f["traces"], full[i]))
                if j in prev["traces"] and _same_trace(tr, full[i - 1][prev["traces"].index(j)])]
        if not same:
            continue
        f["data"] = [tr for pos, tr in enumerate(f["data"]) if pos not in same]
        f["traces"] = [j for pos, j in enumerate(f["traces"]) if pos not in same]
        f["baseframe"] = prev["name"]


def _extend(base, top):
    """plotly's ``extendDeepNoArrays``: dicts merge key by key, anything else (arrays too) is replaced."""
    if isinstance(base, dict) and isinstance(top, dict):
        out = dict(base)
        for k, v in top.items():
            out[k] = _extend(base.get(k), v)
        return out
    return top


def resolved_frame(frames: list[dict], i: int) -> dict:
    """Frame ``i`` merged onto its ``baseframe`` chain, as plotly's ``Plots.computeFrame`` does before
    drawing it: what frame ``i`` draws, with every trace it changes (``traces`` in the order they come)."""
    by_name = {str(f["name"]): f for f in frames}
    chain = [frames[i]]
    while chain[-1].get("baseframe") is not None and str(chain[-1]["baseframe"]) in by_name:
        nxt = by_name[str(chain[-1]["baseframe"])]
        if any(nxt is c for c in chain):
            break
        chain.append(nxt)
    traces, data, layout = [], [], {}
    for f in reversed(chain):
        layout = _extend(layout, f.get("layout") or {})
        for j, tr in zip(f.get("traces", range(len(f.get("data") or []))), f.get("data") or []):
            if j in traces:
                data[traces.index(j)] = _extend(data[traces.index(j)], tr)
            else:
                traces.append(j)
                data.append(tr)
    return dict(name=frames[i]["name"], traces=traces, data=data, layout=layout)


def _merge(style: dict, data: dict) -> dict:
    out = {**style, **data}
    if "marker" in style and "marker" in data:
        m = {**style["marker"], **data["marker"]}
        if "line" in style["marker"] and "line" in data["marker"]:
            m["line"] = {**style["marker"]["line"], **data["marker"]["line"]}
        out["marker"] = m
    return out


def _animation_controls(names, current: int, duration: int, lang: str) -> dict:
    """The Play/Pause buttons and the frame slider (one step per frame name).

    The steps carry no label and the slider shows no current value: each frame's title names its
    half-step already ("E-step 3: L = log p = …"). plotly measures every distinct step label in the
    browser when it first draws the chart (one text layout each); em's 59 labels were about 50 ms of
    plotly's work before the page's first chart (bench/README, item 54). One empty label is measured once.
    """
    # redraw=True: the frame's title (with its numbers) is layout, which plotly redraws only then
    play = dict(frame=dict(duration=int(duration), redraw=True), fromcurrent=True,
                transition=dict(duration=0), mode="immediate")
    return slider_beside_buttons(dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0, xanchor="left", y=0, yanchor="top", showactive=False,
            pad=dict(t=74, r=6), bgcolor="#f0f2f6", font=dict(size=12, color="#000000"),  # not the theme's grey:
            # 3.4:1 on the button; black is 4.5:1 or more on it, and the dark theme makes both light-on-dark
            buttons=[dict(label="▶ " + tr("Play", lang), method="animate", args=[None, play]),
                     dict(label="❚❚ " + tr("Pause", lang), method="animate",
                          args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                             transition=dict(duration=0))])],
        )],
        sliders=[dict(
            active=current, y=0, yanchor="top", pad=dict(t=80, b=0),   # x, len: beside the buttons
            currentvalue=dict(visible=False),
            font=dict(size=9, color="rgba(0,0,0,0)"), ticklen=0, minorticklen=0,
            steps=[dict(label="", method="animate",
                        args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                           transition=dict(duration=0))]) for name in names],
        )],
    ))


def bound_figure(axis, pictures: list[StepPicture], current: int, trace, *, xlabel: str, duration: int = 700,
                 staircase: bool = False, axis_earlier=None, lang: str = "en", height: int = 470) -> go.Figure:
    """log p(X|θ) and the bound L(q_t, θ) at the half-step ``pictures[current]``, with one plotly
    frame per picture, a Play/Pause menu and a frame slider: the animation runs in the browser.

    ``duration`` is the time per frame in milliseconds. Frames are built as plain dicts and the
    figure is not re-validated (60 frames of validated traces would take half a second).
    """
    axis = np.asarray(axis, dtype=float)
    axis_e = None if axis_earlier is None else np.asarray(axis_earlier, dtype=float)
    yr = _y_ranges(pictures, trace)

    def yrange(p):
        return yr.get(max(p.t, 1), [0.0, 1.0])

    styles = _styles(staircase, lang)
    cur = pictures[current]
    xr = _x_ranges(axis, pictures, yrange)

    def xrange(p):
        return xr.get(max(p.t, 1), [float(axis.min()), float(axis.max())])
    raw = [_frame_traces(p, axis, yrange(p), staircase=staircase, axis_e=axis_e) for p in pictures]
    _blank_curves(raw, [(xrange(p), yrange(p)) for p in pictures], axis, curves=(0, 1))
    data = [_merge(st, d) for st, d in zip(styles, raw[current])]
    n_changing = len(data)
    data += _legend_entries(lang)
    frames = [dict(name=str(p.step), traces=list(range(n_changing)), data=traces,
                   layout=dict(title=dict(text=f"<b>{_title(p, lang)}</b>"), yaxis=dict(range=yrange(p)),
                               xaxis=dict(range=xrange(p))))
              for p, traces in zip(pictures, raw)]
    _drop_constants(frames, data)
    _inherit_repeats(frames)
    fig = FramedFigure(data=data)
    base_layout(fig, title=f"<b>{_title(cur, lang)}</b>", xaxis=xlabel, yaxis="log p(X|θ),  L(q, θ)", height=height)
    fig.update_layout(
        margin=dict(l=10, r=10, t=66, b=130),  # the frame slider and buttons below
        title=dict(font=dict(size=13), x=0.01, xanchor="left", y=0.99, yanchor="top"),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=11)),
    )
    fig.update_yaxes(range=yrange(cur))
    fig.update_xaxes(range=xrange(cur))
    return fig.set_raw(frames, _animation_controls([str(p.step) for p in pictures],
                                                   current, duration, lang))


def coordinate_figure(frames: EMFrames, trace, name: str, steps, current: int = 0, *, xlabel: str,
                      staircase: bool = False, earlier: dict | None = None, axis_earlier=None, duration: int = 700,
                      lang: str = "en", height: int = 470) -> go.Figure:
    """:func:`bound_figure` along coordinate ``name``, with its pictures (:func:`coordinate_pictures`) made
    here: a figure cached on its inputs (``pages._common.lazy``) then skips them as well, and its key is
    read from the frames and the trace (arrays, read as bytes) rather than from 60 pictures."""
    pics = coordinate_pictures(frames, trace, name, steps, staircase=staircase, earlier=earlier)
    return bound_figure(frames.axis, pics, current, trace, xlabel=xlabel, duration=duration, staircase=staircase,
                        axis_earlier=axis_earlier, lang=lang, height=height)


def line_figure(frames: EMFrames, trace, steps, current: int = 0, *, xlabel: str, duration: int = 700,
                lang: str = "en", height: int = 470) -> go.Figure:
    """:func:`bound_figure` along the line through θ_t−1 and θ_t, its pictures (:func:`line_pictures`) made
    here (see :func:`coordinate_figure`)."""
    return bound_figure(frames.axis, line_pictures(frames, trace, steps), current, trace, xlabel=xlabel,
                        duration=duration, lang=lang, height=height)


def at_frame(spec: dict, i: int, duration: int | None = None) -> dict:
    """The spec of an animated EM figure drawn at frame ``i``, from its spec drawn at any frame.

    :func:`bound_figure` and :func:`contour_figure` differ between ``current=c`` and ``current=i``
    only in what frame ``i`` itself carries (its traces, title and axis ranges) and in the frame
    slider's ``active``; so a page builds (and caches) the figure once per run and shows any
    half-step with this. ``duration`` (ms per frame of ▶ Play; ``None`` keeps the spec's) is likewise
    only in the Play button, so a new play speed selects too, instead of building every frame again.
    A new dict: ``spec``, its frames and its other traces are shared, not changed
    (``tests/test_em_views.py`` checks equality with a figure built at ``i`` with ``duration``).
    """
    frames = spec.get("frames") or []
    if not 0 <= int(i) < len(frames):
        raise ValueError(f"i: expected a frame index in [0, {len(frames) - 1}], got {i!r}")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, np.integer))
                                 or duration <= 0):
        raise ValueError(f"duration: expected a positive whole number of milliseconds, got {duration!r}")
    frame = resolved_frame(frames, int(i))
    data = list(spec["data"])
    for j, tr in zip(frame.get("traces", range(len(frame["data"]))), frame["data"]):
        data[j] = _merge(data[j], tr)
    layout = dict(spec["layout"])
    for k, v in (frame.get("layout") or {}).items():
        layout[k] = {**layout[k], **v} if isinstance(v, dict) and isinstance(layout.get(k), dict) else v
    sliders = layout.get("sliders")
    if sliders:
        layout["sliders"] = [{**sliders[0], "active": int(i)}, *sliders[1:]]
    menus = layout.get("updatemenus")
    if duration is not None and menus:  # the Play button: args = [None, {"frame": {"duration": ms, ...}, ...}]
        play, *rest = menus[0]["buttons"]
        target, opts = play["args"]
        play = {**play, "args": [target, {**opts, "frame": {**opts["frame"], "duration": int(duration)}}]}
        layout["updatemenus"] = [{**menus[0], "buttons": [play, *rest]}, *menus[1:]]
    return {**spec, "data": data, "layout": layout}


class FramedFigure(Figure):
    """A figure whose animation frames (and frame slider) are kept as plain dicts, added by :meth:`to_dict`.

    Building 60 frames and their slider steps as validated plotly objects takes about half a
    second per redraw; here they are written in plotly's schema directly (numbers become base64
    typed arrays, as plotly itself sends them). ``to_dict``, ``to_json``, ``show`` and
    ``write_html`` include them; ``fig.frames`` (validated objects) stays empty: read
    ``fig.to_dict()["frames"]``.
    """

    def set_raw(self, frames: list[dict], layout: dict) -> "FramedFigure":
        object.__setattr__(self, "_raw", (frames, layout))
        return self

    def _as_dict(self, copy: bool) -> dict:
        d = super()._as_dict(copy)
        frames, layout = getattr(self, "_raw", ([], {}))
        extra = {"frames": [dict(f) for f in frames], "layout": dict(layout)}
        convert_to_base64(extra)
        typeset(extra)
        if extra["frames"]:
            d["frames"] = extra["frames"]
        d["layout"].update(extra["layout"])
        return d

    def to_plotly_json(self):
        return self.to_dict()


# ---- the plane of two coordinates ---------------------------------------------------
def contour_figure(vx, vy, log_p, path, steps, current: int, trace, *, xlabel: str, ylabel: str,
                   duration: int = 700, lang: str = "en", height: int = 470) -> go.Figure:
    """Contours of log p(X|θ) over two coordinates (the others at θ_T) and the EM path θ_0 → θ_t,
    drawn up to each half-step in a browser-side animation (one frame per entry of ``steps``)."""
    vx, vy = np.asarray(vx, float), np.asarray(vy, float)
    z = np.asarray(log_p, float)
    path = np.asarray(path, float)
    finite = z[np.isfinite(z)]
    top = float(finite.max()) if finite.size else 0.0
    lo = float(np.percentile(finite, 30)) if finite.size else -1.0
    lo = min(lo, float(np.nanmin(trace.log_likelihood)))
    top = max(top, float(np.nanmax(trace.log_likelihood)))
    zc = np.where(np.isfinite(z), np.maximum(z, lo), lo)

    def path_traces(s):
        ti, _, kind = half_step_state(trace, s)
        return [
            dict(type="scatter", x=path[:ti + 1, 0], y=path[:ti + 1, 1]),
            dict(type="scatter", x=[float(path[ti, 0])], y=[float(path[ti, 1])],
                 marker=dict(size=15, color=NEW if kind == "M" else LOG_P, line=dict(color="white", width=2)),
                 hovertemplate=f"θ{sub(ti)}: log p(X|θ{sub(ti)}) = {float(trace.log_likelihood[ti]):.6f}"
                               "<extra></extra>"),
        ]

    styles = [
        dict(mode="lines+markers", name=tr("EM path", lang), line=dict(color="white", width=3),
             marker=dict(size=6, color="white", line=dict(color="black", width=1)),
             hovertemplate="θ = (%{x:.6g}, %{y:.6g})<extra></extra>"),
        dict(mode="markers", name="θ_t"),
    ]
    fig = FramedFigure([go.Contour(
        x=vx, y=vy, z=zc, colorscale="Viridis", ncontours=24, zmin=lo, zmax=top, name="log p(X|θ)",
        colorbar=dict(title=dict(text="log p", side="right"), thickness=12),
        contours=dict(coloring="heatmap", showlines=True), line=dict(width=0.6, color="rgba(255,255,255,0.35)"),
        hovertemplate="log p(X|θ) = %{z:.6f}<extra>(%{x:.4g}, %{y:.4g})</extra>",
    )] + [_merge(st, d) for st, d in zip(styles, path_traces(steps[current]))])
    frames = [dict(name=str(s), data=path_traces(s), traces=[1, 2],
                   layout=dict(title=dict(text=f"<b>{_plane_title(s, trace, lang)}</b>"))) for s in steps]
    _inherit_repeats(frames)  # the path after the M-step is the path before the next E-step
    base_layout(fig, title=f"<b>{_plane_title(steps[current], trace, lang)}</b>", xaxis=xlabel, yaxis=ylabel, height=height)
    fig.update_layout(title=dict(font=dict(size=13), x=0.01, xanchor="left"), showlegend=False,
                      margin=dict(l=10, r=10, t=40, b=130))
    fig.update_xaxes(range=[float(vx[0]), float(vx[-1])])
    fig.update_yaxes(range=[float(vy[0]), float(vy[-1])])
    return fig.set_raw(frames, _animation_controls([str(s) for s in steps],
                                                   current, duration, lang))


def _plane_title(s, trace, lang):
    ti, _, kind = half_step_state(trace, s)
    return f"{step_label(s, trace, lang)} · θ{sub(ti)}: log p(X|θ{sub(ti)}) = {_fmt(float(trace.log_likelihood[ti]))}"


# ---- the data, in step with the figure ---------------------------------------------------
def _normal_pdf(x, m, v):
    return np.exp(-0.5 * (x - m) ** 2 / v) / np.sqrt(2 * np.pi * v)


def data_1d_spec(x, weights, means, variances, resp=None, *, title: str, xlabel: str = "x", lang: str = "en",
                 height: int = 420, seed: int = 0) -> dict:
    """Histogram of the data, each π_k N(x | μ_k, σ²_k) and their sum at θ, and the points
    below the axis coloured by q(z_n = k) (grey before the first E-step).
    (As plotly JSON; :func:`data_1d` gives the figure.)"""
    x = np.asarray(x, float)
    w, m, v = (np.asarray(a, float) for a in (weights, means, variances))
    lo, hi = float(x.min()), float(x.max())
    pad = 0.1 * (hi - lo if hi > lo else 1.0)
    # the curves' x as x0 + i·dx, which plotly.js computes exactly so (``makeCalcdata``): three traces
    # share it, and it is sent as two numbers instead of three 300-point arrays
    x0, dx = lo - pad, (hi - lo + 2 * pad) / 299
    grid = x0 + np.arange(300) * dx
    comp = w[None, :] * _normal_pdf(grid[:, None], m[None, :], v[None, :])
    bins = int(np.clip(np.sqrt(x.size) * 1.5, 10, 40))
    heights, edges = np.histogram(x, bins=bins, density=True)
    centres = 0.5 * (edges[1:] + edges[:-1])
    data = [dict(type="bar", x=centres, y=heights, width=float(edges[1] - edges[0]),
                 marker=dict(color=HIST, line=dict(width=0)), name=tr("data (histogram)", lang),
                 hovertemplate="%{x:.4g}: %{y:.4g}<extra></extra>")]
    for k in range(w.size):
        data.append(dict(
            type="scatter", x0=x0, dx=dx, y=comp[:, k], mode="lines",
            name=f"π{sub(k + 1)} N(x | μ{sub(k + 1)}, σ²{sub(k + 1)})",
            line=dict(color=component_colour(k), width=2.5), fill="tozeroy",
            fillcolor=_rgba(component_colour(k), 0.10),
            hovertemplate=f"π{sub(k + 1)}·N = " + "%{y:.4g}<extra>x = %{x:.4g}</extra>"))
    data.append(dict(type="scatter", x0=x0, dx=dx, y=comp.sum(1), mode="lines", name="p(x|θ)",
                     line=dict(color=LOG_P, width=3), hovertemplate="p(x|θ) = %{y:.4g}<extra>x = %{x:.4g}</extra>"))
    ymax = float(max(heights.max(), comp.sum(1).max()))
    idx = thin(x.size, 400)
    rng = np.random.default_rng(seed)
    # a vertical spread with no meaning (the hover shows x and q): 16 levels as 32-bit floats deflate to little
    jitter = (-ymax * (0.05 + 0.10 * rng.integers(0, 16, idx.size) / 15)).astype(np.float32)
    if resp is None:
        colours = NONE
        hover = "x = %{x:.4g}<extra>" + tr("no q yet: press E-step", lang) + "</extra>"
        custom = None
    else:
        r = np.asarray(resp, float)[idx]
        colours = blend_colours(r)
        custom = r
        hover = "x = %{x:.4g}<br>" + "<br>".join(
            f"q(z = {k + 1}) = %{{customdata[{k}]:.3f}}" for k in range(r.shape[1])) + "<extra></extra>"
    data.append(dict(type="scatter", x=x[idx], y=jitter, mode="markers", name=tr("points, coloured by q(z)", lang),
                     marker=dict(color=colours, size=6, line=dict(width=0)), customdata=custom, hovertemplate=hover))
    layout = _panel_layout(title, height, xtitle=xlabel, ytitle=tr("density", lang), bargap=0, showlegend=False,
                           margin=dict(l=10, r=10, t=40, b=10))
    layout["yaxis"]["range"] = [-ymax * 0.17, ymax * 1.08]
    return spec_of(data, layout)


data_1d = figure_of(data_1d_spec, "data_1d")


def ellipse(mean, cov, n_sigma: float = 2.0, n: int = 100):
    """Points of the n-sigma ellipse {x: (x − μ)ᵀ Σ⁻¹ (x − μ) = n²}."""
    lam, vec = np.linalg.eigh(np.asarray(cov, float))
    a = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(a), np.sin(a)])
    pts = vec @ (n_sigma * np.sqrt(np.maximum(lam, 0))[:, None] * circle)
    return pts[0] + mean[0], pts[1] + mean[1]


def _panel_layout(title: str, height: int, **more) -> dict:
    """The layout of the data panels: a small title, compact margins."""
    layout = layout_of(title=title, height=height, **more)
    layout["title"] = merged(layout["title"] or {}, {"font": {"size": 13}})
    return layout


def data_2d_spec(x, weights, means, covariances, resp=None, *, title: str, labels=("x₁", "x₂"), lang: str = "en",
                 height: int = 420) -> dict:
    """The points coloured by q(z_n = k) (colours blended), and each component's 2-sigma ellipse at θ.
    (As plotly JSON; :func:`data_2d` gives the figure.)"""
    x = np.asarray(x, float)
    means, covs, w = np.asarray(means, float), np.asarray(covariances, float), np.asarray(weights, float)
    idx = thin(len(x), 400)
    if resp is None:
        colours, custom = NONE, None
        hover = "(%{x:.4g}, %{y:.4g})<extra>" + tr("no q yet: press E-step", lang) + "</extra>"
    else:
        r = np.asarray(resp, float)[idx]
        colours, custom = blend_colours(r), r
        hover = "(%{x:.4g}, %{y:.4g})<br>" + "<br>".join(
            f"q(z = {k + 1}) = %{{customdata[{k}]:.3f}}" for k in range(r.shape[1])) + "<extra></extra>"
    data = [dict(type="scatter", x=x[idx, 0], y=x[idx, 1], mode="markers", name=tr("points, coloured by q(z)", lang),
                 marker=dict(color=colours, size=7, line=dict(width=0.5, color="white")),
                 customdata=custom, hovertemplate=hover)]
    for k in range(w.size):
        ex, ey = ellipse(means[k], covs[k])
        c = component_colour(k)
        data.append(dict(type="scatter", x=ex, y=ey, mode="lines", name=f"2σ, z = {k + 1} (π{sub(k + 1)} = {w[k]:.2f})",
                         line=dict(color=c, width=2.5), hoverinfo="skip"))
        data.append(dict(type="scatter", x=[means[k, 0]], y=[means[k, 1]], mode="markers", showlegend=False,
                         marker=dict(symbol="x", size=12, color=c, line=dict(color="black", width=1.5)),
                         hovertemplate=f"μ{sub(k + 1)}" + " = (%{x:.4g}, %{y:.4g})<extra></extra>"))
    return spec_of(data, _panel_layout(title, height, xtitle=labels[0], ytitle=labels[1], showlegend=False,
                                       margin=dict(l=10, r=10, t=40, b=10)))


data_2d = figure_of(data_2d_spec, "data_2d")

_SPLIT_LAYOUT = dict(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=10)),
                     margin=dict(l=10, r=10, t=80, b=10))


def _split_layout(title: str, ytitle: str, height: int, **more) -> dict:
    layout = _panel_layout(title, height, ytitle=ytitle, **merged(_SPLIT_LAYOUT, more))
    layout["title"].update(y=0.99, yanchor="top")
    return layout


def coins_split_spec(heads, tosses, resp=None, *, title: str, lang: str = "en", height: int = 420) -> dict:
    """Per set of tosses, the heads and tails the E-step assigns to each coin: q(coin k)·heads and
    q(coin k)·tails (before the first E-step: the observed heads and tails only).
    (As plotly JSON; :func:`coins_split` gives the figure.)"""
    h, n = np.asarray(heads, float), np.asarray(tosses, float)
    tails = n - h
    sets = [f"{tr('set', lang)} {i + 1}<br>{int(a)}H {int(b)}T" for i, (a, b) in enumerate(zip(h, tails))]
    if resp is None:
        data = [dict(type="bar", x=sets, y=h, name=tr("heads", lang), marker=dict(color=NONE)),
                dict(type="bar", x=sets, y=tails, base=h.tolist(), name=tr("tails", lang),  # plotly lists a base
                     marker=dict(color="rgba(200,200,200,0.6)"))]
        barmode = "overlay"
    else:
        r = np.asarray(resp, float)
        data = []
        for k in range(r.shape[1]):
            c = component_colour(k)
            eh, et = r[:, k] * h, r[:, k] * tails
            data.append(dict(type="bar", x=sets, y=eh, offsetgroup=str(k),
                             name=f"{tr('coin', lang)} {k + 1}: {tr('heads', lang)}",
                             marker=dict(color=c), text=[f"{v:.1f}" for v in eh], textposition="inside",
                             customdata=r[:, k],
                             hovertemplate=f"q({tr('coin', lang)} {k + 1}) = " + "%{customdata:.3f}<br>"
                             + f"E[{tr('heads', lang)}] = " + "%{y:.3f}<extra></extra>"))
            data.append(dict(type="bar", x=sets, y=et, base=eh.tolist(), offsetgroup=str(k),
                             name=f"{tr('coin', lang)} {k + 1}: {tr('tails', lang)}",
                             marker=dict(color=_rgba(c, 0.35), line=dict(color=c, width=1)),
                             text=[f"{v:.1f}" for v in et], textposition="inside",
                             hovertemplate=f"E[{tr('tails', lang)}] = " + "%{y:.3f}<extra></extra>"))
        barmode = "group"
    return spec_of(data, _split_layout(title, tr("tosses", lang), height, barmode=barmode))


coins_split = figure_of(coins_split_spec, "coins_split")


def linkage_split_spec(counts, expected_z=None, *, title: str, lang: str = "en", height: int = 420) -> dict:
    """The four counts; after an E-step the first is split into E[z] (the θ/4 part) and y₁ − E[z] (the 1/2 part).
    (As plotly JSON; :func:`linkage_split` gives the figure.)"""
    y = np.asarray(counts, float).ravel()
    cells = ["y₁", "y₂", "y₃", "y₄"]
    if expected_z is None:
        data = [dict(type="bar", x=cells, y=y, marker=dict(color=NONE), name=tr("observed counts", lang),
                     text=[f"{v:g}" for v in y], textposition="outside", cliponaxis=False)]
        more = {}
    else:
        ez = float(expected_z)
        data = [dict(type="bar", x=cells, y=[y[0] - ez, 0, 0, 0], name=f"y₁ − E[z] ({tr('part 1/2', lang)})",
                     marker=dict(color=component_colour(0)), text=[f"{y[0] - ez:.3f}", "", "", ""],
                     textposition="inside", hovertemplate="y₁ − E[z] = %{y:.4f}<extra></extra>"),
                dict(type="bar", x=cells, y=[ez, 0, 0, 0], name=f"E[z] ({tr('part θ/4', lang)})",
                     marker=dict(color=component_colour(1)), text=[f"{ez:.3f}", "", "", ""],
                     textposition="inside", hovertemplate="E[z] = %{y:.4f}<extra></extra>"),
                dict(type="bar", x=cells, y=[0, y[1], y[2], y[3]], name=tr("observed counts", lang),
                     marker=dict(color=NONE), text=["", *(f"{v:g}" for v in y[1:])], textposition="outside",
                     cliponaxis=False, hovertemplate="%{y:g}<extra></extra>")]
        more = dict(barmode="stack")
    layout = _split_layout(title, tr("count", lang), height, **more)
    layout["yaxis"]["range"] = [0, float(y.max()) * 1.15]
    return spec_of(data, layout)


linkage_split = figure_of(linkage_split_spec, "linkage_split")


# ---- the trace ---------------------------------------------------------------------------
_SAWTOOTH_AXES: dict = {}


def _sawtooth_axes() -> dict:
    """The two stacked axes of the sawtooth (log p and L above, the gap below, one x), as plotly's
    ``make_subplots`` lays them out; computed once, a fresh copy each time."""
    if not _SAWTOOTH_AXES:
        grid = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.66, 0.34], vertical_spacing=0.08)
        _SAWTOOTH_AXES.update(grid.layout.to_plotly_json())
        _SAWTOOTH_AXES.pop("template", None)
    return copy.deepcopy(_SAWTOOTH_AXES)


def trace_spec(trace, current: int | None = None, *, distance: bool = False, lang: str = "en",
               height: int = 460) -> dict:
    """The sawtooth: log p(X|θ) and L(q, θ) after the start and every E- and M-step (x = iteration,
    E-steps at t − ½), and below it the KL gap log p − L per half-step.
    (As plotly JSON; :func:`trace_figure` gives the figure.)

    ``distance``: plot log p(X|θ_T) − value on a log axis, so the late, tiny steps show as well.
    """
    rows = trace.half_steps()
    s_all = np.arange(len(rows))
    idx = thin(len(rows), 400)
    xs = s_all[idx] / 2.0
    lp = np.array([r[2] for r in rows])[idx]
    lb = np.array([r[3] for r in rows])[idx]
    gap = lp - lb
    kinds = [rows[i][0] for i in idx]
    final = float(trace.log_likelihood[-1])
    if distance:
        with np.errstate(invalid="ignore"):
            ylp = np.where(final - lp > 0, final - lp, np.nan)
            ylb = np.where(final - lb > 0, final - lb, np.nan)
        ytitle = f"log p(X|θ{sub(trace.n_iter)}) − …"
    else:
        ylp, ylb = lp, lb
        ytitle = "log p(X|θ),  L(q, θ)"
    hover_text = [step_label(int(s), trace, lang) for s in s_all[idx]]
    data = [dict(type="scatter", x=xs, y=ylp, mode="lines+markers", name="log p(X|θ)", line=dict(color=LOG_P, width=2.5),
                 marker=dict(size=6), text=hover_text, customdata=lp,
                 hovertemplate="%{text}: log p = %{customdata:.8f}<extra></extra>", xaxis="x", yaxis="y"),
            dict(type="scatter", x=xs, y=ylb, mode="lines+markers", name="L(q, θ)",
                 line=dict(color=ELBO, width=2, dash="dash"),
                 marker=dict(size=6, symbol=["diamond" if k == "M" else "circle" for k in kinds]),
                 text=list(hover_text), customdata=lb,
                 hovertemplate="%{text}: L = %{customdata:.8f}<extra></extra>", xaxis="x", yaxis="y"),
            dict(type="bar", x=xs, y=gap, name=tr("gap", lang) + " KL(q ‖ p(Z|X, θ)) = log p − L",
                 marker=dict(color=[KL if k == "M" else ELBO for k in kinds],
                             pattern=dict(shape=["" if k == "M" else "/" for k in kinds], fillmode="overlay")),
                 customdata=list(hover_text), hovertemplate="%{customdata}: KL = %{y:.3e}<extra></extra>", width=0.35,
                 xaxis="x2", yaxis="y2")]
    layout = merged(_sawtooth_axes(), _common_layout(tr("The sawtooth: E lifts L to log p, M raises both", lang), height))
    layout = merged(layout, dict(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=11)),
                                 bargap=0.2, title=dict(font=dict(size=13), y=0.99, yanchor="top"),
                                 margin=dict(l=10, r=10, t=70, b=10)))
    # the current half-step; hidden when there is none (:func:`at_step` moves and shows it)
    layout["shapes"] = [dict(type="line", x0=(current or 0) / 2.0, x1=(current or 0) / 2.0, xref=xref, y0=0, y1=1,
                             yref=f"{yref} domain", line=dict(color=NEW, width=2, dash="dash"), name="current",
                             visible=current is not None) for xref, yref in (("x", "y"), ("x2", "y2"))]
    # a fixed x range: the half-step line cannot widen it, so the browser moves the line without redrawing the
    # data (static/vlb_chart.js, shapesOnly); autorange would give about the same, ½ iteration either side
    x_range = [float(xs.min()) - 0.5, float(xs.max()) + 0.5] if len(xs) else [-0.5, 0.5]
    for ax in ("xaxis", "xaxis2"):
        layout[ax]["range"] = list(x_range)
    layout["yaxis"].update(title=dict(text=ytitle), type="log" if distance else "linear")
    layout["yaxis2"].update(title=dict(text="KL"), rangemode="tozero")
    layout["xaxis2"]["title"] = dict(text=tr("iteration t (E-steps at t − ½)", lang))
    if not distance:
        finite = np.concatenate([lp[np.isfinite(lp)], lb[np.isfinite(lb)]])
        if finite.size > 2:
            # start at the first E-step so that the early jump does not flatten everything else
            lo = float(np.nanmin(np.concatenate([lp[1:], lb[1:]]))) if len(lp) > 2 else float(finite.min())
            hi = float(finite.max())
            pad = 0.06 * max(hi - lo, 1e-9)
            layout["yaxis"]["range"] = [lo - pad, hi + pad]
    return spec_of(data, layout)


trace_figure = figure_of(trace_spec, "trace_figure")


def at_step(spec: dict, current: int) -> dict:
    """The spec of :func:`trace_figure` marking half-step ``current``, from its spec built for any
    half-step (or none): the two figures differ only in the dashed "current" lines. A new dict: ``spec``
    is shared, not changed, so a page builds the sawtooth once per run and marks each half-step with this
    (``tests/test_em_views.py`` checks equality with the figure built at ``current``)."""
    current = int(current)
    if current < 0:
        raise ValueError(f"current: expected a half-step ≥ 0, got {current}")
    layout = dict(spec["layout"])
    layout["shapes"] = [{**sh, "x0": current / 2.0, "x1": current / 2.0, "visible": True}
                        if isinstance(sh, dict) and sh.get("name") == "current" else sh
                        for sh in layout.get("shapes") or []]
    return {**spec, "layout": layout}


def restarts_spec(curves, labels, *, lang: str = "en", height: int = 360) -> dict:
    """log p(X|θ_t) against the iteration t for several EM runs (one per starting point).
    (As plotly JSON; :func:`restarts_figure` gives the figure.)"""
    data = []
    for i, (ll, lab) in enumerate(zip(curves, labels)):
        ll = np.asarray(ll, float)
        idx = thin(ll.size, 400)
        data.append(dict(type="scatter", x=idx, y=ll[idx], mode="lines+markers", name=lab,
                         line=dict(color=OKABE_ITO[i % len(OKABE_ITO)], width=2,
                                   dash=("solid", "dash", "dot", "dashdot")[i % 4]),
                         marker=dict(size=4), hovertemplate="t = %{x}: log p = %{y:.6f}<extra></extra>"))
    layout = layout_of(title=tr("log p(X|θ_t) of each restart", lang), xtitle=tr("iteration t", lang),
                       ytitle="log p(X|θ_t)", height=height,
                       legend=dict(orientation="v", yanchor="bottom", y=0.02, xanchor="right", x=0.99,
                                   font=dict(size=11), bgcolor="rgba(255,255,255,0.7)"))
    layout["title"]["font"] = dict(size=14)
    yr = _tail_range([np.asarray(c, float) for c in curves])
    if yr is not None:
        layout["yaxis"]["range"] = yr
    return spec_of(data, layout)


restarts_figure = figure_of(restarts_spec, "restarts_figure")


def _tail_range(curves) -> list | None:
    """A y range that starts after the first iteration, so that the first big jump does not flatten the rest."""
    tails = [c[1:] for c in curves if c.size > 1]
    allv = np.concatenate([c[np.isfinite(c)] for c in curves]) if curves else np.array([])
    if not tails or allv.size == 0:
        return None
    tail = np.concatenate(tails)
    tail = tail[np.isfinite(tail)]
    if tail.size == 0:
        return None
    lo, hi = float(tail.min()), float(allv.max())
    pad = 0.08 * max(hi - lo, 1e-9)
    return [lo - pad, hi + pad]


def gradient_spec(em_ll, ga_ll, *, step_size: float, diverged: bool, message: str = "", lang: str = "en",
                  height: int = 380) -> dict:
    """log p(X|θ_t) against t for EM and for gradient ascent θ ← θ + η ∇ log p(X|θ) / N from the same start.
    (As plotly JSON; :func:`gradient_figure` gives the figure.)"""
    em_ll, ga_ll = np.asarray(em_ll, float), np.asarray(ga_ll, float)
    ie, ig = thin(em_ll.size, 400), thin(ga_ll.size, 400)
    data = [dict(type="scatter", x=ie, y=em_ll[ie], mode="lines+markers", name=tr("EM (no step size)", lang),
                 line=dict(color=ELBO, width=3), marker=dict(size=5),
                 hovertemplate="EM t = %{x}: log p = %{y:.6f}<extra></extra>"),
            dict(type="scatter", x=ig, y=ga_ll[ig], mode="lines+markers",
                 name=tr("gradient ascent", lang) + f", η = {step_size:g}",
                 line=dict(color=GA, width=2.5, dash="dash"), marker=dict(size=4),
                 hovertemplate="GA t = %{x}: log p = %{y:.6f}<extra></extra>")]
    if diverged:
        data.append(dict(type="scatter", x=[ga_ll.size - 1], y=[ga_ll[-1]], mode="markers+text",
                         name=tr("diverged", lang), text=["✗ " + tr("diverged", lang)],
                         textposition="top right", marker=dict(symbol="x", size=16, color=KL),
                         hovertext=message, hoverinfo="text"))
    layout = layout_of(title=tr("EM against gradient ascent from the same start", lang), xtitle=tr("iteration t", lang),
                       ytitle="log p(X|θ_t)", height=height,
                       legend=dict(orientation="v", yanchor="bottom", y=0.02, xanchor="right", x=0.99,
                                   font=dict(size=11), bgcolor="rgba(255,255,255,0.7)"))
    layout["title"]["font"] = dict(size=14)
    yr = _tail_range([em_ll, ga_ll])
    if yr is not None:
        layout["yaxis"]["range"] = yr
    return spec_of(data, layout)


gradient_figure = figure_of(gradient_spec, "gradient_figure")
