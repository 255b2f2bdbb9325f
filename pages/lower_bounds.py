"""Maximising through lower bounds: a family of bounds L(q_θ′, θ) ≤ log p(X|θ) touching at each θ′."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vizcore as vc
from pages._common import cache_data, fail, fragment, ink, lang, lazy, prose, show, show_code, t
from pages._model_controls import coordinate_label, coordinate_latex, model_controls
from vizcore import teaching
from vizcore.figures.bounds import family_spec, fmt, plane_spec, tex

GRID = 300          # at least this many evenly spaced points, the anchors among them (≤ 321 per curve)
PLANE = 48          # 48 × 48 grid for the 2-D view up to N = 1,000 rows; fewer beyond (teaching.grid_side)
MAX_ANCHORS = 20


# ---- cached computations (pure; hashable arguments) -----------------------------------------------
@cache_data(show_spinner=False, max_entries=64)
def compute_family(model_name: str, x, held, coord: str, n_anchors: int, lo: float, hi: float):
    """The family over [lo, hi]. It does not depend on the coordinate's own value, so ``held`` has it at
    ``lo``: dragging that θ slider reuses the family (at N = 10,000, log p on the grid is most of the work)."""
    model = vc.get_model(model_name)
    values, anchors = teaching.anchored_grid(lo, hi, n_anchors, GRID)
    fam = vc.bound_family(model, x, held, coord, values, anchors)
    return fam, teaching.summarise_family(fam.values, fam.log_marginal, fam.bounds)


@cache_data(show_spinner=False, max_entries=64)
def compute_blend(model_name: str, x, params, coord: str, anchor_value: float, s: float, values):
    """The bound of q_s = (1 − s)·p(z|θ′) + s·p(z|x, θ′) over the coordinate, and its numbers at θ′."""
    model = vc.get_model(model_name)
    pa = teaching.with_coordinate(model, params, coord, anchor_value)
    q = teaching.path_resp(model, x, pa, s)
    curve = vc.bound_from_resp(model, x, q).over(model, vc.vary(model, params, coord, values))
    return np.asarray(curve, dtype=float), vc.elbo(model, x, pa, q), vc.kl_gap(model, x, pa, q)


@cache_data(show_spinner=False, max_entries=32)
def plane_log_marginal(model_name: str, x, theta_grid: tuple) -> np.ndarray:
    """log p(X|θ) over a plane's grid, cached on the grid's values (``theta_grid``: the batch's fields).

    Moving the anchor along a plotted coordinate, or changing the number of anchors, leaves the grid
    unchanged: only the bound is recomputed then, and its cost does not depend on N.
    """
    model = vc.get_model(model_name)
    return vc.log_marginal_batch(model, x, model.Params(**dict(zip(model.param_names, theta_grid))))


@cache_data(show_spinner=False, max_entries=32)
def compute_plane(model_name: str, x, anchor_params, name_x: str, name_y: str, side: int):
    model = vc.get_model(model_name)
    return teaching.plane_view(model, x, anchor_params, name_x, name_y, side,
                               log_marginal=lambda batch: plane_log_marginal(
                                   model_name, x, tuple(getattr(batch, n) for n in model.param_names)))


def _argmax2d(view, z):
    z = np.where(np.isfinite(z), z, -np.inf)
    iy, ix = np.unravel_index(int(np.argmax(z)), z.shape)
    return float(view.values_x[ix]), float(view.values_y[iy])


def _tied_maxima(view, z, limit=4):
    """Every grid point within rounding of the maximum (a symmetric mixture has two: swap the labels)."""
    z = np.where(np.isfinite(z), z, -np.inf)
    top = float(z.max())
    iy, ix = np.nonzero(z >= top - 1e-9 * max(1.0, abs(top)))
    return [(float(view.values_x[i]), float(view.values_y[j])) for j, i in list(zip(iy, ix))[:limit]]


def _default_plane(coords: list[str], first: str) -> tuple[str, str]:
    pref = [c for c in coords if c.startswith(("means", "heads_probs"))] or coords
    x = first if first in coords else pref[0]
    rest = [c for c in pref + coords if c != x and not (x.startswith("weights") and c.startswith("weights"))]
    return x, rest[0]


# ---- everything below the model controls: a fragment ----------------------------------------------
@fragment
def bounds_section(setup, formula) -> None:
    """The one-coordinate family, the dotted bound and the 2-D view, and the numbers of the formula at the top
    (``formula``, a placeholder above the model controls). A fragment: the anchors, the dotted bound's s,
    the chosen anchor and the coordinates rerun this part alone, and the model controls above are left as
    they are (bench/README.md, item 44). A model change reruns the whole page, this included."""
    model, x, params = setup.model, setup.x, setup.params
    coords = teaching.selectable_coordinates(model, params)
    sig = setup.signature
    st.subheader(t("One coordinate: f and a family of bounds"))
    c1, c2, c3, c4 = st.columns([1.1, 1.2, 1.3, 1.5])
    default_coord = next((c for c in coords if c.startswith(("means[0]", "heads_probs[0]"))), coords[0])
    coord = c1.selectbox(t("Coordinate of θ on the x-axis"), coords, index=coords.index(default_coord),
                         format_func=lambda c: f"{coordinate_label(c)}   ({c})", key=f"lb_coord_{sig}", bind="query-params",
                         help=t("The other parameters stay at the values of the θ sliders."))
    n_anchors = c2.slider(t("Number of anchors θ′"), 1, MAX_ANCHORS, 5, key="lb_anchors", bind="query-params",
                          help=t("Each anchor θ′ gives one bound L(q_θ′, θ) with q_θ′ = p(Z|X, θ′)."))
    try:
        lo, hi = teaching.coordinate_range(model, x, params, coord)
        held = teaching.with_coordinate(model, params, coord, lo)  # the family's key: every θ but the plotted coordinate
        fam, summ = compute_family(setup.model_name, x, held, coord, int(n_anchors), lo, hi)
    except ValueError as err:
        fail(err, "Choose other values of θ or another coordinate.")
        formula.empty()   # outside the fragment: a fragment rerun would leave the last numbers there
        return
    label = coordinate_label(coord)
    n_a = len(fam.anchors)
    # The key names what the options mean (coordinate, number of anchors): a new meaning starts at the middle anchor.
    pick = c3.selectbox(t("Chosen anchor θ′"), list(range(n_a)), index=n_a // 2,
                        format_func=lambda i: f"θ′{i + 1}:  {label} = {fam.anchors[i]:.4g}",
                        key=f"lb_anchor_{sig}_{coord}_{n_a}", bind="query-params",
                        help=t("Its bound is the one drawn dotted and the one shown in the 2-D view."))
    s = c4.slider(t("Dotted bound: q from the prior (0) to the posterior at θ′ (1)"), 0.0, 1.0, 0.5, 0.05,
                  key="lb_blend", bind="query-params", help=t("q_s = (1 − s)·p(z|θ′) + s·p(z|x, θ′). Only s = 1 is a posterior."))
    a_val = float(fam.anchors[pick])
    try:
        extra, l_at, kl_at = compute_blend(setup.model_name, x, held, coord, a_val, float(s), fam.values)
    except ValueError as err:
        fail(err, "Choose another anchor.")
        formula.empty()   # outside the fragment: a fragment rerun would leave the last numbers there
        return
    gap = fam.log_marginal - extra
    i_min = int(np.nanargmin(gap))
    min_gap = float(gap[i_min])
    cur = teaching.coordinate_value(model, params, coord)

    fig_col, num_col = st.columns([2.7, 1], gap="medium")
    with num_col:
        show_env = st.checkbox(t("Show the envelope"), value=True, key="lb_envelope", bind="query-params")
        best = summ.best_bound
        st.metric(t("max of f"), fmt(summ.max_f), help=t("at") + f" {label} = {summ.argmax_f:.4g}")
        st.metric(t("highest single bound"), fmt(summ.bound_max[best]),
                  delta=fmt(summ.bound_max[best] - summ.max_f), delta_description=t("vs max f"), delta_color="off",
                  help=t("Bound of anchor") + f" θ′ = {fam.anchors[best]:.4g}, " + t("peaking at") +
                       f" {label} = {summ.bound_argmax[best]:.4g}. " + t("No bound rises above max f."))
        st.metric(t("envelope: largest gap below f"), fmt(summ.envelope_gap),
                  help=t("max over the grid of f − (max over bounds); it shrinks as the anchors get denser."))
        st.metric(t("dotted bound: min gap below f"), fmt(min_gap),
                  help=t("min over the grid of f − L(q_s, θ)") + f", {t('at')} {label} = {fam.values[i_min]:.4g}")
    with fig_col:
        fig = lazy(
            family_spec, fam.values, fam.log_marginal, fam.anchors, fam.anchor_log_marginal, fam.bounds, x_label=label,
            show_envelope=show_env, bound_argmax=summ.bound_argmax, bound_max=summ.bound_max,
            argmax_f=summ.argmax_f, max_f=summ.max_f, extra_bound=extra,
            extra_label=t("dotted bound, q_s with") + f" s = {s:.2f}",
            extra_anchor=(a_val, float(fam.anchor_log_marginal[pick])), current=cur, lang=lang(),
        )
        show(fig, key="lb_family_chart", share=0.71,
             alt=t("Line chart of log p(X|θ) over one coordinate of θ with a family of lower bounds, each touching it "
                   "at its anchor."))
    tol = 1e-7 * max(1.0, abs(summ.max_f))
    if s >= 1:
        note = t("With s = 1, q is the posterior at θ′: the dotted bound touches f at θ′ (gap 0 to rounding).")
    elif min_gap > tol:
        note = (t("With s < 1, q is no posterior, and its bound stays strictly below f on the whole range: "
                  "smallest gap") + f" {fmt(min_gap)} " + t("at") + f" {label} = {fam.values[i_min]:.4g}.")
    else:
        note = (t("This q is not the posterior at θ′, yet its bound reaches f at") + f" {label} = {fam.values[i_min]:.4g}: "
                + t("there q happens to equal the posterior p(Z|X, θ). (q = p(z) is the posterior wherever the "
                    "components coincide, for then the data say nothing about z.)"))
    prose(t("Blue: the bounds, each touching f ({ink}) at its anchor ○; ▲ marks each bound's maximum, ★ the "
                 "maximum of f: a single bound peaks below it. Green dashed: the envelope, which hugs f as anchors "
            "get dense. Orange dotted: the bound of a q that is no posterior, built at the chosen anchor ◆.")
          .format(ink=ink()) + " " + note, caption=True)

    formula.latex(
        r"\begin{aligned}"
        r"&\log p(X\mid\theta)\;\ge\;\mathcal{L}(q,\theta)=\mathbb{E}_{q}\big[\log p(X,Z\mid\theta)-\log q(Z)\big]"
        r"\quad\forall q\\"
        r"&q_{\theta'}=p(Z\mid X,\theta')\;\Rightarrow\;"
        r"\mathcal{L}(q_{\theta'},\theta')=\log p(X\mid\theta')"
        + rf"={tex(fam.anchor_log_marginal[pick])}\\"
        + rf"&\max_{{{coordinate_latex(coord)}}}\mathcal{{L}}(q_{{\theta'}},\theta)={tex(summ.bound_max[pick])}\;\le\;"
          rf"\max_{{{coordinate_latex(coord)}}}\log p(X\mid\theta)={tex(summ.max_f)}\\"
        + rf"&\mathcal{{L}}(q_s,\theta')=\log p(X\mid\theta')-\mathrm{{KL}}\big(q_s\,\|\,p(Z\mid X,\theta')\big)"
          rf"={tex(fam.anchor_log_marginal[pick])}-{tex(kl_at)}={tex(l_at)}"
        r"\end{aligned}"
    )

    show_code(vc.bound_family)

    # ---- 2-D view ------------------------------------------------------------------------------------
    st.subheader(t("Two coordinates at once"))
    if len(coords) < 2:
        st.info(t("Here θ has a single coordinate that can move on its own, so there is no plane to draw: "
                  "the curve above is the whole story."))
        return
    anchor_params = teaching.with_coordinate(model, params, coord, a_val)
    px_default, _ = _default_plane(coords, coord)
    e1, e2, e3 = st.columns([1, 1, 1])
    name_x = e1.selectbox(t("x-axis"), coords, index=coords.index(px_default),
                          format_func=lambda c: f"{coordinate_label(c)}   ({c})", key=f"lb_px_{sig}",
                          bind="query-params")
    y_opts = [c for c in coords if c != name_x and not (name_x.startswith("weights") and c.startswith("weights"))]
    _, py_default = _default_plane(coords, name_x)
    name_y = e2.selectbox(t("y-axis"), y_opts, index=y_opts.index(py_default) if py_default in y_opts else 0,
                          format_func=lambda c: f"{coordinate_label(c)}   ({c})", key=f"lb_py_{sig}",
                          bind="query-params")
    show_bound = e3.checkbox(t("Contours of the chosen bound"), value=True, key="lb_plane_bound",
                              bind="query-params")
    side = teaching.grid_side(len(x), full=PLANE)
    try:
        view = compute_plane(setup.model_name, x, anchor_params, name_x, name_y, side)
    except ValueError as err:
        fail(err, "Pick two different coordinates (not two weights).")
        return
    touch = (teaching.coordinate_value(model, anchor_params, name_x), teaching.coordinate_value(model, anchor_params, name_y))
    ties = _tied_maxima(view, view.log_marginal)
    p1, p2 = st.columns([2.2, 1])
    with p1:
        show(lazy(plane_spec, view.values_x, view.values_y, view.log_marginal, view.bound if show_bound else None,
                          touch=touch, argmax_f=ties,
                          argmax_bound=_argmax2d(view, view.bound) if show_bound else None,
                          x_label=coordinate_label(name_x), y_label=coordinate_label(name_y), lang=lang()),
             key="lb_plane_chart", share=0.68,
             alt=t("Filled contour map of log p(X|θ) over two coordinates of θ, with dotted contours of one bound."))
    with p2:
        prose(t("Filled contours: log p(X|θ) over the two coordinates, the other parameters held at θ′. "
                      "○ is the chosen anchor θ′, where the bound L(q_θ′, θ) touches log p. Its dotted contours sit "
                      "inside those of log p at the same level, because the bound is below everywhere. Its maximum ▲ "
                      "is where an M-step over these two coordinates would move: uphill on log p, since "
                      "log p(▲) ≥ L(▲) ≥ L(θ′) = log p(θ′), yet usually short of the maximum ★.")
                    + (" " + t("Two ★: swapping the labels of the components gives the same log p.") if len(ties) > 1 else ""))
        if side < PLANE:
            st.caption(t("With {n} data rows the plane is drawn on a {side} × {side} grid instead of {full} × {full}, "
                         "so that moving θ stays quick: each grid point sums over every row. Every value drawn is exact.")
                       .format(n=f"{len(x):,}", side=side, full=PLANE))
        fx = view.log_marginal
        st.metric(t("log p at θ′ = the bound at θ′"), fmt(fam.anchor_log_marginal[pick]))
        st.metric(t("max of log p on this grid"), fmt(float(np.nanmax(fx))))
        if show_bound:
            st.metric(t("max of the bound on this grid"), fmt(float(np.nanmax(view.bound))))


# ---- page ------------------------------------------------------------------------------------------
st.title(t("Maximising through lower bounds"))
prose(t(
    "When f(θ) = log p(X|θ) or its gradient is hard to work with, maximise a family of simpler functions "
    "g ≤ f instead. Every distribution q(Z) gives one: the ELBO L(q, θ). With q = p(Z|X, θ′), the posterior "
    "at an anchor θ′, the bound touches f at θ′; climbing such bounds climbs f."
))
formula = st.empty()

setup = model_controls("lb_", layout="row", theta_expanded=False)
if setup is None:
    st.stop()
bounds_section(setup, formula)

