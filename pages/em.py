"""EM, step by step: the bound L(q_t, θ) touches log p(X|θ) at θ_{t−1} (E-step) and the
M-step jumps to its maximum θ_t — live and exact for every model.

The EM trace is computed once per start (``run_em``, cached); the E-step and M-step
buttons and the scrubber only move an index into it, and rerun only their section (a
fragment). The Play button animates precomputed plotly frames in the browser, without a
server round trip per frame.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

import vizcore as vc
from pages._common import (cache_data, fail, floor_notice, fragment, ink, lang, lazy, markdown_table, open_panel,
                           prose, show, show_code, t)
from pages._model_controls import coordinate_label, model_controls
from vizcore import em_views as ev
from vizcore import teaching
from vizcore.figures import em as emfig
from vizcore.i18n import tr_message

MAX_ITER = 150          # EM iterations computed once per start (301 half-steps at most)
TOL = 1e-8              # stop when an iteration raises log p by less than this
FRAME_CAP = 60          # half-steps animated in the browser (plus the last one)
GRID = 200              # points per curve (plus the θ_t of the animated steps)
EARLIER = 8             # earlier bounds drawn with the staircase
DATA_HEIGHT = 380
TABLE_PANEL = "em_table_panel"  # the "Every iteration as a table" expander (a reader's own view: not in the address)
FIG_HEIGHT = 450
DEFAULT_INIT = {"gmm1d": "kmeans++", "gmm2d": "kmeans++", "coins": "sliders", "linkage": "sliders"}
PLANE_DEFAULT = {"gmm1d": ("means[0]", "means[1]"), "gmm2d": ("means[0][1]", "means[1][1]"),
                 "coins": ("heads_probs[0]", "heads_probs[1]")}
DEFAULT_COORD = {"gmm1d": "means[0]", "gmm2d": "means[0][1]", "coins": "heads_probs[0]", "linkage": "theta[0]"}
STEP_SIZES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
GA_STEPS = 100
SPEEDS = (150, 300, 500, 800, 1200, 2000)
VIEWS = ("coordinate", "line", "plane")
VIEW_TITLES = {
    "coordinate": "One parameter (the others at θ_t)",
    "line": "The line through θ_t and θ_t+1",
    "plane": "Two parameters: contours of log p and the EM path",
}
INITS = ("sliders", "kmeans++", "random")
INIT_TITLES = {"sliders": "The θ sliders", "kmeans++": "k-means++ (seeded)", "random": "Random data points (seeded)"}
FIELD_TITLES = {"weights": "weights π", "means": "means μ", "variances": "variances σ²",
                "covariances": "covariances Σ", "heads_probs": "heads probabilities p", "theta": "θ"}


# ---- cached computations (pure functions of hashable arguments) ------------------------------
@cache_data(show_spinner=False, max_entries=64)
def em_trace(model_name: str, x, init, fixed: tuple):
    return vc.run_em(model_name, x, init, fixed=fixed, max_iter=MAX_ITER, tol=TOL)


@cache_data(show_spinner=False, max_entries=32)
def start_params(model_name: str, x, k, method: str, seed: int):
    return ev.init_params(model_name, x, k or 1, method, np.random.default_rng(seed))


def _axis_range(model, x, trace, name: str) -> tuple[float, float]:
    """A range for coordinate ``name`` that is valid around the start and the end and holds every θ_t."""
    idx = model.coordinates(trace.params[0])[name][0]
    vals = np.array([model.flatten(p)[idx] for p in trace.params])
    los, his = [], []
    for p in (trace.params[0], trace.params[-1]):
        lo, hi = teaching.coordinate_range(model, x, p, name)
        los.append(lo)
        his.append(hi)
    lo, hi = min(min(los), vals.min()), max(max(his), vals.max())
    if name.split("[")[0] in ("weights", "heads_probs", "theta"):
        return max(lo, 1e-3), min(hi, 1 - 1e-3)
    return lo, hi


@cache_data(show_spinner=False, max_entries=32)
def coordinate_data(model_name: str, x, init, fixed: tuple, name: str):
    """Frames along one coordinate for every half-step, and the earlier bounds on each frame's slice."""
    model = vc.get_model(model_name)
    trace = em_trace(model_name, x, init, fixed)
    lo, hi = _axis_range(model, x, trace, name)
    idx = model.coordinates(trace.params[0])[name][0]
    path = np.array([model.flatten(p)[idx] for p in trace.params])
    # half the points across the whole range, half where EM moves (the figure zooms in there), and every
    # θ_t of the animated half-steps, so that the touch points lie on the drawn curves
    plo, phi = float(path.min()), float(path.max())
    pad = 0.5 * (phi - plo) + 0.02 * (hi - lo)
    dense = np.linspace(max(lo, plo - pad), min(hi, phi + pad), GRID - GRID // 4)
    extra = np.concatenate([dense, path[:FRAME_CAP // 2 + 1]])
    values = teaching.grid_with(lo, hi, GRID // 4, extra[(extra >= lo) & (extra <= hi)])
    frames = ev.coordinate_frames(model, x, trace, name, values, max_half_steps=2 * trace.n_iter)
    sub_axis = values[:: max(1, values.size // 50)]
    earlier = {}
    for s in range(2 * trace.n_iter + 1):
        ti, qi, kind = ev.half_step_state(trace, s)
        if not qi or qi < 2:
            continue
        grid = vc.vary(model, trace.params[ti], name, sub_axis)
        rows = [vc.Bound(trace.stats[j - 1], float(trace.entropy[j - 1])).over(model, grid)
                for j in range(max(1, qi - EARLIER), qi)]
        earlier[s] = np.array(rows)
    return frames, sub_axis, earlier


@cache_data(show_spinner=False, max_entries=32)
def line_data(model_name: str, x, init, fixed: tuple):
    trace = em_trace(model_name, x, init, fixed)
    return ev.step_line_frames(model_name, x, trace, np.linspace(-0.5, 1.5, GRID + 1))


@cache_data(show_spinner=False, max_entries=32)
def plane_data(model_name: str, x, init, fixed: tuple, name_x: str, name_y: str, n: int = 60):
    """log p(X|θ) on a grid of two coordinates through θ_T (the end of the run), and the EM path."""
    model = vc.get_model(model_name)
    trace = em_trace(model_name, x, init, fixed)
    path = ev.path_coordinates(model, trace, name_x, name_y)
    axes = []
    for j, name in enumerate((name_x, name_y)):
        lo, hi = teaching.coordinate_range(model, x, trace.params[-1], name)
        plo, phi = float(path[:, j].min()), float(path[:, j].max())
        pad = 0.08 * max(phi - plo, 1e-6 * max(1.0, abs(phi)))
        lo, hi = min(lo, plo - pad), max(hi, phi + pad)
        if name.split("[")[0] in ("weights", "heads_probs", "theta"):
            lo, hi = max(lo, 1e-3), min(hi, 1 - 1e-3)
        axes.append(np.linspace(lo, hi, n))
    batch = vc.plane(model, trace.params[-1], name_x, axes[0], name_y, axes[1])
    z = vc.log_marginal_batch(model, x, batch).reshape(n, n)
    return axes[0], axes[1], z, path


@cache_data(show_spinner=False, max_entries=64)
def responsibilities(model_name: str, x, params):
    return vc.posterior(model_name, x, params)


@cache_data(show_spinner=False, max_entries=16)
def restart_runs(model_name: str, x, k, method: str, seeds: tuple, fixed: tuple):
    out = []
    for seed in seeds:
        init = ev.init_params(model_name, x, k or 1, method, np.random.default_rng(seed))
        tr = vc.run_em(model_name, x, init, fixed=fixed, max_iter=MAX_ITER, tol=TOL)
        out.append((seed, np.asarray(tr.log_likelihood), tr.params[-1], tr.n_iter, tr.converged))
    return out


@cache_data(show_spinner=False, max_entries=32)
def gradient_run(model_name: str, x, init, step: float, fixed: tuple):
    g = ev.gradient_ascent(model_name, x, init, step, GA_STEPS, fixed=fixed)
    return np.asarray(g.log_likelihood), g.diverged, g.message


@cache_data(show_spinner=False, max_entries=64)
def csv_text(model_name: str, x, init, fixed: tuple) -> str:
    return ev.trace_csv(model_name, em_trace(model_name, x, init, fixed))


# ---- small helpers ---------------------------------------------------------------------------------
def num(v: float, digits: int = 4) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:,.{digits}f}".replace(",", " ").replace("-", "−")


def canonical(model_name: str, params):
    """θ with the components sorted (by mean, or by heads probability), and the sorting permutation."""
    if model_name == "linkage":
        return vc.get_model(model_name).flatten(params), np.arange(1)
    if model_name == "gmm1d":
        order = np.argsort(params.means, kind="stable")
    elif model_name == "gmm2d":
        order = np.lexsort((params.means[:, 1], params.means[:, 0]))
    else:
        order = np.argsort(params.heads_probs, kind="stable")
    fields = [np.asarray(getattr(params, f))[order].ravel() for f in vc.get_model(model_name).param_names]
    return np.concatenate(fields), order


def compare_optima(model_name: str, runs) -> list[str]:
    """For each run: best / same optimum as an earlier run (components permuted = label switching) / other."""
    best = max(r[1][-1] for r in runs)
    notes = []
    for i, (seed, ll, p, _, _) in enumerate(runs):
        ci, oi = canonical(model_name, p)
        note = ""
        for j in range(i):
            sj, llj, pj, _, _ = runs[j]
            cj, oj = canonical(model_name, pj)
            scale = np.maximum(1.0, np.abs(ci))
            if abs(ll[-1] - llj[-1]) <= 1e-6 * max(1.0, abs(ll[-1])) and np.all(np.abs(ci - cj) <= 1e-3 * scale):
                if np.array_equal(oi, oj):
                    note = t("same optimum as seed") + f" {sj}"
                else:
                    note = t("label switching: same optimum as seed") + f" {sj}, " + t("components permuted")
                break
        if not note:
            gap = best - ll[-1]
            note = t("best log p found") if gap <= 1e-6 * max(1.0, abs(best)) else \
                t("lower local optimum") + f" (−{gap:.4g})"
        notes.append(note)
    return notes


def gap_text(log_p: float, bound: float) -> str:
    """log p − L for display: rounding noise (|gap| ≤ 1e-12·|log p|) is shown as 0."""
    gap = log_p - bound
    return "0" if abs(gap) <= 1e-12 * max(1.0, abs(log_p)) else f"{gap:.3g}"


PARAM_SYMBOLS = {"weights": "π", "means": "μ", "variances": "σ²", "covariances": "Σ", "heads_probs": "p",
                 "theta": "θ"}  # notation reads the same in every language


def short_theta(params, *, unbroken: bool = False) -> str:
    """θ in one line, one group per parameter: ``π 0.36, 0.64; μ 54.61, 80.09; …``. ``unbroken``: the spaces inside
    a group do not break (no-break spaces), so a narrow table cell wraps between groups, one group per line."""
    parts = []
    for name, arr in params.to_dict().items():
        flat = np.ravel(arr)
        part = f"{PARAM_SYMBOLS.get(name, name)} " + ", ".join(f"{v:.4g}" for v in flat[:8]) + (" …" if flat.size > 8 else "")
        parts.append(part.replace(" ", "\u00a0") if unbroken else part)
    return "; ".join(parts)


def _set_step(key: str, value: int) -> None:
    st.session_state[key] = int(value)


def _advance(key: str, limit: int) -> None:
    st.session_state[key] = min(int(st.session_state.get(key, 0)) + 1, int(limit))


# ---- the page -------------------------------------------------------------------------------------
st.title(t("EM, step by step"))

with st.sidebar:
    st.subheader(t("Model and data"))
    setup = model_controls("em_", theta_expanded=False)
    if setup is None:
        st.stop()
    model_name, model, x = setup.model_name, setup.model, setup.x
    st.subheader(t("Starting point θ₀"))
    init_method = st.radio(t("Start from"), INITS, format_func=lambda m: t(INIT_TITLES[m]),
                           index=INITS.index(DEFAULT_INIT[model_name]), key=f"em_init_{model_name}", bind="query-params")
    init_seed = 0
    if init_method != "sliders":
        init_seed = int(st.number_input(t("Seed of the start"), min_value=0, max_value=1_000_000, value=0, step=1,
                                        key="em_init_seed", bind="query-params"))
    else:
        st.caption(t("θ₀ is set by the sliders under “Parameters θ” above."))
    fixed: tuple = ()
    if model_name != "linkage":
        fixed = tuple(st.multiselect(
            t("Hold fixed during EM"), list(model.param_names),
            default=["weights"] if model_name == "coins" else [], format_func=lambda f: t(FIELD_TITLES.get(f, f)),
            key=f"em_fixed_{model_name}", bind="query-params", placeholder=t("None: every parameter moves"),
            help=t("The classic two-coin example keeps each coin's probability of being picked at its start value.")))

try:
    init = setup.params if init_method == "sliders" else start_params(model_name, x, setup.k, init_method, init_seed)
    trace = em_trace(model_name, x, init, fixed)
except ValueError as err:
    fail(err, "Choose another starting point (move the θ sliders or change the seed).")
    st.stop()
floor_notice(trace.floored)

# The half-step slider's key names the run (model, data, start, fixed parameters): a new start gets a new slider
# at half-step 0, and a link with ?em_step_<run>=5 reopens that run at half-step 5.
run_id = hashlib.sha1(np.ascontiguousarray(x).tobytes())
run_id.update(repr((model_name, setup.data_key, init.to_dict(), fixed)).encode())
STEP_KEY = f"em_step_{run_id.hexdigest()[:8]}"

# ---- one run, half-step by half-step: a fragment ---------------------------------------------------
# The half-step controls (E-step, M-step, run, reset, the scrubber) and everything they drive, down to the
# whole run's chart, are one fragment: a click or a scrub reruns this section only. The model controls, the
# EM run and the two sections below are kept; a change to those reruns the whole page, and this with it.
@fragment
def half_steps(setup, init, fixed: tuple, trace, step_key: str) -> None:
    model_name, model, x = setup.model_name, setup.model, setup.x
    S = 2 * trace.n_iter  # noqa: N806 - the number of half-steps, as in the formulas
    # ---- controls: one half-step per click, or scrub -------------------------------------------------
    c_e, c_m, c_run, c_reset, c_scrub = st.columns([0.9, 0.9, 1.75, 0.8, 3.6], vertical_alignment="bottom")
    c_scrub.slider(t("Half-step (scrub the history)"), min_value=0, max_value=S, step=1, key=step_key,
                   bind="query-params", help=t("0 is the start θ_0; odd half-steps follow an E-step, even ones an M-step"))
    s_now = int(st.session_state[step_key])
    next_is_e = s_now % 2 == 0
    c_e.button(t("E-step"), key="em_e", disabled=not (next_is_e and s_now < S), on_click=_advance, args=(step_key, S),
               type="primary" if next_is_e and s_now < S else "secondary", width="stretch",
               help=t("q_t(z) = p(z | x, θ_t−1): the bound touches log p at θ_t−1"))
    c_m.button(t("M-step"), key="em_m", disabled=next_is_e, on_click=_advance, args=(step_key, S),
               type="primary" if not next_is_e else "secondary", width="stretch",
               help=t("θ_t = argmax_θ E_q[log p(x, z | θ)]: jump to the bound's maximum"))
    c_run.button(t("Run to convergence"), key="em_run", disabled=s_now >= S, on_click=_set_step, args=(step_key, S),
                 width="stretch")
    c_reset.button(t("Reset"), key="em_reset", disabled=s_now == 0, on_click=_set_step, args=(step_key, 0),
                   width="stretch")
    ti, qi, kind = ev.half_step_state(trace, s_now)
    log_p_now = float(trace.log_likelihood[ti])
    bound_now = (float("nan") if kind == "start" else
                 float(trace.elbo_after_e[qi - 1] if kind == "E" else trace.elbo_after_m[qi - 1]))
    prev = max(s_now - 1, 0)
    pti, pqi, pkind = ev.half_step_state(trace, prev)
    prev_log_p = float(trace.log_likelihood[pti])
    prev_bound = (float("nan") if pkind == "start" else
                  float(trace.elbo_after_e[pqi - 1] if pkind == "E" else trace.elbo_after_m[pqi - 1]))

    # ---- the figure and the data, side by side -----------------------------------------------------
    col_fig, col_data = st.columns([3, 2], gap="medium")
    coords = teaching.selectable_coordinates(model, trace.params[0])
    steps = sorted(set(range(0, min(S, FRAME_CAP) + 1)) | {S, s_now})
    views = VIEWS if len(coords) > 1 else VIEWS[:2]
    figure_slot = col_fig.container()

    with col_fig:
        v1, v2, v3 = st.columns([1.4, 1, 1])
        view = v1.selectbox(t("View"), views, format_func=lambda v: t(VIEW_TITLES[v]), key="em_view", bind="query-params")
        if view == "coordinate":
            name = v2.selectbox(t("Parameter on the x-axis"), coords, format_func=coordinate_label,
                                index=coords.index(DEFAULT_COORD[model_name]) if DEFAULT_COORD[model_name] in coords else 0,
                                key=f"em_coord_{setup.signature}", bind="query-params")
            staircase = v3.checkbox(t("Staircase"), key="em_staircase", bind="query-params",
                                    help=t("Show earlier bounds faintly (the last 8 bounds L(q_j, ·), on the same slice) and, "
                                           "dotted, the EM path through the points (θ_t, log p) and (θ_t, L)"))
        elif view == "plane":
            want_x, want_y = PLANE_DEFAULT.get(model_name, (coords[0], coords[-1]))
            name_x = v2.selectbox(t("x-axis"), coords, index=coords.index(want_x) if want_x in coords else 0,
                                  format_func=coordinate_label, key=f"em_px_{setup.signature}", bind="query-params")
            others = [c for c in coords if c != name_x and not (c.startswith("weights[") and name_x.startswith("weights["))]
            default_y = others.index(want_y) if want_y in others else next(
                (i for i, c in enumerate(others) if c.startswith(name_x.split("[")[0])), 0)
            name_y = v3.selectbox(t("y-axis"), others, index=min(default_y, len(others) - 1),
                                  format_func=coordinate_label, key=f"em_py_{setup.signature}", bind="query-params")
        duration = st.select_slider(t("Play speed (ms per frame)"), SPEEDS, value=500, key="em_speed", bind="query-params")

    with figure_slot:
        try:
            if view == "coordinate":
                frames, sub_axis, earlier = coordinate_data(model_name, x, init, fixed, name)
                fig = lazy(emfig.coordinate_figure, frames, trace, name, steps, 0,
                           xlabel=f"{coordinate_label(name)}   ({t('the other parameters at θ_t')})",
                           staircase=staircase, earlier=earlier if staircase else None, axis_earlier=sub_axis,
                           lang=lang(), height=FIG_HEIGHT)
                note = "" if len(coords) == 1 else t(
                    "The other parameters move at each M-step too, so the curves are redrawn along the new slice; "
                    "the line view shows a whole step in one picture.")
            elif view == "line":
                frames = line_data(model_name, x, init, fixed)
                fig = lazy(emfig.line_figure, frames, trace, steps, 0,
                           xlabel=t("u along θ(u) = θ_t−1 + u (θ_t − θ_t−1): θ_old at u = 0, θ_new at u = 1"),
                           lang=lang(), height=FIG_HEIGHT)
                note = t("Along the line through θ_t−1 and θ_t the bound L(q_t, ·) touches log p at u = 0 and peaks at "
                         "u = 1, whatever the number of parameters: the textbook picture, exactly.")
            else:
                vx, vy, z, path = plane_data(model_name, x, init, fixed, name_x, name_y)
                fig = lazy(emfig.contour_figure, vx, vy, z, path, steps, 0, trace,
                           xlabel=coordinate_label(name_x), ylabel=coordinate_label(name_y), lang=lang(),
                           height=FIG_HEIGHT)
                note = t("Contours of log p(X|θ) over two parameters, the others at the end of the run θ_T; "
                         "the white path is θ_0, θ_1, … projected on this plane.")
            # built once per run and view; each half-step (and play speed) only selects its frame (emfig.at_frame)
            show(fig.then(emfig.at_frame, steps.index(s_now), duration), key="em_figure", share=0.58,
                 alt=t("Animated chart of log p(X|θ) and the bound L(q, θ): the E-step makes the bound touch log p, "
                       "the M-step jumps to the bound's maximum."))
            prose(t("▶ Play animates the precomputed half-steps in your browser (the numbers and the data panel "
                    "follow the buttons and the half-step slider).") + (" " + note if note else ""), caption=True)
        except ValueError as err:
            fail(err, "Pick another parameter for this view.")

    with col_data:
        st.markdown(f"**{emfig.step_label(s_now, trace, lang())}** · {t('half-step')} {s_now} / {S}")

        def _delta(v):
            return "" if v is None or not np.isfinite(v) else f" ({'↑' if v >= 0 else '↓'} {abs(v):.4g})"

        lbl_l = "L(q, θ)" if kind == "start" else f"L(q{emfig.sub(qi)}, θ{emfig.sub(ti)})"
        st.markdown(
            f"| log p(X\\|θ{emfig.sub(ti)}) | {lbl_l} | {t('gap')} = KL |\n|:--|:--|:--|\n"
            f"| **{num(log_p_now)}**{'' if s_now == 0 else _delta(log_p_now - prev_log_p)} "
            f"| **{num(bound_now)}**{'' if s_now < 2 else _delta(bound_now - prev_bound)} "
            f"| {'—' if kind == 'start' else gap_text(log_p_now, bound_now)} |")
        if s_now >= S:
            if trace.converged:
                st.caption(t("Converged: the last iteration raised log p by less than {tol}, after {n} iterations.")
                           .format(tol=f"{TOL:g}", n=trace.n_iter))
            else:
                st.caption(t("Stopped after {n} iterations without converging (tolerance {tol}).")
                           .format(n=trace.n_iter, tol=f"{TOL:g}"))
        theta_now = trace.params[ti]
        resp = None if kind == "start" else responsibilities(model_name, x, trace.params[qi - 1])
        q_txt = t("no q yet: press E-step") if kind == "start" else f"q{emfig.sub(qi)} = p(Z|X, θ{emfig.sub(qi - 1)})"
        title = f"θ{emfig.sub(ti)}, {q_txt}"
        if model_name == "gmm1d":
            dfig = lazy(emfig.data_1d_spec, x, theta_now.weights, theta_now.means, theta_now.variances, resp, title=title,
                                 xlabel=setup.data_title if setup.data_key != "synthetic" else "x", lang=lang(),
                                 height=DATA_HEIGHT)
        elif model_name == "gmm2d":
            dfig = lazy(emfig.data_2d_spec, x, theta_now.weights, theta_now.means, theta_now.covariances, resp, title=title,
                                 lang=lang(), height=DATA_HEIGHT)
        elif model_name == "coins":
            dfig = lazy(emfig.coins_split_spec, x[:, 0], x[:, 1], resp, title=title, lang=lang(), height=DATA_HEIGHT)
        else:
            dfig = lazy(emfig.linkage_split_spec, ev.linkage_totals(x), None if resp is None else trace.stats[qi - 1]["z"],
                                       title=title, lang=lang(), height=DATA_HEIGHT)
        show(dfig, key="em_data", share=0.38, alt=t("The data at the current half-step, coloured by q(z)."))
        if model_name == "gmm1d":
            prose(t("Bars: the data. Coloured: $\\pi_k\\,\\mathcal{N}(x \\mid \\mu_k, \\sigma_k^2)$ at θ; {ink}: their sum p(x|θ). Dots below: "
                    "the points, coloured by q(z) (the component colours mixed in proportion).").replace("{ink}", ink()),
                  caption=True)  # replace, not format: the LaTeX has braces
        elif model_name == "gmm2d":
            prose(t("Points coloured by q(z) (the component colours mixed in proportion); ellipses: 2σ of each "
                    "component at θ; crosses: the means."), caption=True)
        if model_name == "coins" and resp is not None:
            header, columns = [t("set")], [[str(i + 1) for i in range(len(x))] + [t("total")]]
            for k in range(resp.shape[1]):
                eh, et = resp[:, k] * x[:, 0], resp[:, k] * (x[:, 1] - x[:, 0])
                header += [f"{t('coin')} {k + 1}: H", f"{t('coin')} {k + 1}: T"]
                columns += [[f"{v:.2f}" for v in np.append(eh, eh.sum())], [f"{v:.2f}" for v in np.append(et, et.sum())]]
            st.markdown(markdown_table(header, zip(*columns)))

    # ---- the formulas, with the numbers of this iteration ---------------------------------------------
    prose(t("**E-step**: q becomes the exact posterior p(Z|X, θ), so the bound L(q, θ) touches log p(X|θ) at the "
                  "current θ. **M-step**: θ jumps to the maximum of that bound, so log p can only go up. Every curve and "
                  "number on this page is computed exactly from the model and the data."))
    t_it = max(qi or 0, 1)
    ll_old, ll_new = float(trace.log_likelihood[t_it - 1]), float(trace.log_likelihood[t_it])
    le, lm = float(trace.elbo_after_e[t_it - 1]), float(trace.elbo_after_m[t_it - 1])
    st.latex(r"\text{" + t("E-step") + r": } q_t(z) = p(z \mid x, \theta_{t-1}) \qquad "
             r"\text{" + t("M-step") + r": } \theta_t = \arg\max_\theta\, \mathbb{E}_{q_t}[\log p(x, z \mid \theta)]")
    st.latex(r"\log p(X|\theta_t) \;\ge\; \mathcal{L}(q_t, \theta_t) \;\ge\; \mathcal{L}(q_t, \theta_{t-1}) "
             r"\;=\; \log p(X|\theta_{t-1})")
    st.latex(rf"t = {t_it}:\qquad {ll_new:.4f} \;\ge\; {lm:.4f} \;\ge\; {le:.4f} \;=\; {ll_old:.4f}")
    stats_t = trace.stats[t_it - 1]
    # a parameter held fixed keeps its value: the M-step's formula is shown for the others only
    held = r"\ \text{" + t("held") + "}"
    m_here = r"\text{" + t("M-step here") + r": } "
    if model_name in ("gmm1d", "gmm2d"):
        spread, symbol, update = (
            ("variances", r"\sigma_k^2", r" = \frac{1}{N_k}\sum_n q_{nk}(x_n-\mu_k)^2") if model_name == "gmm1d" else
            ("covariances", r"\Sigma_k", r" = \tfrac{1}{N_k}\sum_n q_{nk}(x_n-\mu_k)(x_n-\mu_k)^\top"))
        st.latex(m_here + r",\quad ".join([
            r"N_k = \sum_n q_{nk}",
            r"\pi_k" + (held if "weights" in fixed else r" = \frac{N_k}{N}"),
            r"\mu_k" + (held if "means" in fixed else r" = \frac{1}{N_k}\sum_n q_{nk} x_n"),
            symbol + (held if spread in fixed else update)]))
        st.latex(rf"t = {t_it}:\quad N_k = (" + ", ".join(f"{v:.2f}" for v in stats_t["nk"]) + ")")
    elif model_name == "coins":
        h, n = np.asarray(stats_t["heads"]), np.asarray(stats_t["tosses"])
        weights = r"\pi_k" + held if "weights" in fixed else r"\pi_k = \frac{1}{N}\sum_n q_{nk}"
        if "heads_probs" in fixed:
            st.latex(m_here + r"p_k" + held + r",\quad " + weights)
        else:
            parts = [rf"p_{k + 1} = \tfrac{{{h[k]:.2f}}}{{{h[k]:.2f} + {n[k] - h[k]:.2f}}} = {h[k] / n[k]:.4f}"
                     for k in range(h.size) if n[k] > 0]
            st.latex(m_here + r"p_k = \frac{\sum_n q_{nk} h_n}{\sum_n q_{nk} t_n}:\quad " + r",\quad ".join(parts)
                     + r",\qquad " + weights)
    else:
        y = ev.linkage_totals(x)
        th_old, ez = float(trace.params[t_it - 1].theta[0]), float(stats_t["z"])
        th_new = float(trace.params[t_it].theta[0])
        st.latex(rf"\text{{{t('E-step here')}: }} E[z] = y_1\,\frac{{\theta/4}}{{1/2+\theta/4}} = {y[0]:g}\cdot"
                 rf"\frac{{{th_old / 4:.4f}}}{{{0.5 + th_old / 4:.4f}}} = {ez:.4f}")
        st.latex(rf"\text{{{t('M-step here')}: }} \theta_{{t}} = \frac{{E[z] + y_4}}{{E[z] + y_2 + y_3 + y_4}} = "
                 rf"\frac{{{ez + y[3]:.4f}}}{{{ez + y[1] + y[2] + y[3]:.4f}}} = {th_new:.6f}")
        rows = np.asarray(x).reshape(-1, 4).shape[0]
        if rows > 1:
            st.caption(t("y: the counts of the file's {rows} rows added up. The rows are independent, so log p(y|θ), "
                         "E[z] and the M-step depend on the data only through these totals.").format(rows=rows))
    with st.expander(t("Exact values at this half-step"), expanded=False):
        lines = [f"{t('half-step')} = {s_now} ({emfig.step_label(s_now, trace, lang())})",
                 f"log p(X|theta) = {log_p_now!r}",
                 f"L(q, theta) = {'—' if kind == 'start' else repr(bound_now)}",
                 f"{t('gap')} (KL) = {'—' if kind == 'start' else repr(log_p_now - bound_now)}",
                 f"theta = {short_theta(trace.params[ti])}"]
        st.text("\n".join(lines))
    show_code(vc.run_em, ev.coordinate_frames)

    # ---- the whole run --------------------------------------------------------------------------------
    st.subheader(t("The whole run"))
    r1, r2 = st.columns([3, 2], gap="medium")
    with r1:
        distance = st.checkbox(t("Plot the distance to the final log p on a log scale"), key="em_trace_log", bind="query-params")
        # built once per run; each half-step only moves its dashed line (emfig.at_step)
        show(lazy(emfig.trace_spec, trace, None, distance=distance, lang=lang()).then(emfig.at_step, s_now),
             key="em_trace", share=0.58,
             alt=t("Sawtooth chart of log p(X|θ) and L(q, θ) after every half-step, and the KL gap below."))
    with r2:
        # Sent only while open (opening it reruns this section): a table on arrival would make the browser fetch
        # and run Streamlit's data-grid code (1.2 MB) before the page's charts (bench/README.md, item 45).
        panel = open_panel(t("Every iteration as a table"), key=TABLE_PANEL, icon=":material/table:")
        if panel is not None:
            header, rows = ev.trace_table(model, trace)
            labels = {"log_likelihood": "log p(X|θ_t)", "elbo_after_e": t("L after the E-step"),
                      "elbo_after_m": t("L after the M-step"), "kl_gap_after_m": t("KL gap after the M-step")}
            with panel:
                st.dataframe(pd.DataFrame(rows, columns=header), hide_index=True, height=360, key="em_table",
                             column_config={"iteration": st.column_config.NumberColumn("t", format="%d"),
                                            **{c: st.column_config.NumberColumn(labels.get(c) or coordinate_label(c))
                                               for c in header[1:]}})
        # Built on click (data=callable), like every download of the app. Sent eagerly, the file was rebuilt on
        # every step click, and the browser fetched its address to check it: when the next run had already
        # replaced the file (Back pressed right after arriving), that check logged a 404 in the console.
        st.download_button(t("Download the trace (CSV)"), lambda: csv_text(model_name, x, init, fixed),
                           file_name=f"em_trace_{model_name}.csv", mime="text/csv", on_click="ignore",
                           key="em_download")


half_steps(setup, init, fixed, trace, STEP_KEY)


# ---- several starts -------------------------------------------------------------------------------
# Each of the last two sections is a fragment: its own controls rerun only that section (the run above,
# its figure and its numbers are not rebuilt or re-sent). They depend on the page's inputs through
# their arguments; a change to those reruns the whole page, and the sections with it.
@fragment
def several_starts(model_name: str, x, k, fixed: tuple) -> None:
    st.subheader(t("Several starts"))
    prose(t("EM climbs to a local maximum of log p(X|θ): different starts can end at different optima, or at the "
            "same optimum with the components in another order (label switching: the same mixture, relabelled)."))
    a1, a2, a3 = st.columns(3)
    n_restarts = a1.slider(t("Number of restarts"), 1, 8, 4, key="em_restarts", bind="query-params")
    if model_name == "linkage":
        restart_method = "random"
        a2.caption(t("Starts: θ drawn uniformly from (0.05, 0.95) with each seed."))
    else:
        restart_method = a2.radio(t("Starts"), INITS[1:], format_func=lambda m: t(INIT_TITLES[m]),
                                  key="em_restart_method", horizontal=True, bind="query-params")
    base_seed = int(a3.number_input(t("First seed"), min_value=0, max_value=1_000_000, value=1, step=1,
                                    key="em_restart_seed", bind="query-params"))
    try:
        runs = restart_runs(model_name, x, k, restart_method, tuple(range(base_seed, base_seed + n_restarts)), fixed)
    except ValueError as err:
        fail(err, "Try other seeds.")
        runs = []
    if runs:
        notes = compare_optima(model_name, runs)
        b1, b2 = st.columns([1, 1.7], gap="medium")   # the table (Markdown) wraps less in the wider column
        with b1:
            show(lazy(emfig.restarts_spec, [r[1] for r in runs],
                      [f"{t('seed')} {r[0]}: {num(r[1][-1], 3)}" for r in runs], lang=lang()), key="em_restarts_fig", share=0.37,
                 alt=t("Line chart of log p(X|θ_t) against the iteration for each restart."))
        with b2:
            st.markdown(markdown_table(
                [t("seed"), t("iterations"), t("final log p(X|θ)"), t("note"), t("final θ")],
                [[r[0], r[3], f"{float(r[1][-1]):.6f}", note, short_theta(r[2], unbroken=True)] for r, note in zip(runs, notes)]))


# ---- EM against gradient ascent -------------------------------------------------------------------
@fragment
def against_gradient_ascent(model_name: str, x, init, fixed: tuple, trace) -> None:
    st.subheader(t("EM against gradient ascent"))
    g1, g2 = st.columns([1, 2], gap="medium")
    with g1:
        step = st.select_slider(t("Step size η (log scale)"), STEP_SIZES,
                                value=1e-3 if model_name == "linkage" else 0.01, key=f"em_ga_step_{model_name}",
                                bind="query-params", format_func=lambda v: f"{v:g}")
        st.latex(r"\theta \leftarrow \theta + \frac{\eta}{N}\,\nabla_\theta \log p(X|\theta)")
        prose(t("Same start θ₀ as EM, at most") + f" {GA_STEPS} " + t("steps. Too small a step crawls, too large a "
              "step leaves the valid parameters; EM needs no step size and never lowers log p."), caption=True)
    try:
        ga_ll, ga_div, ga_msg = gradient_run(model_name, x, init, float(step), fixed)
    except ValueError as err:
        fail(err, "Choose another step size.")
        ga_ll, ga_div, ga_msg = None, False, ""
    with g2:
        if ga_ll is not None:
            show(lazy(emfig.gradient_spec, trace.log_likelihood, ga_ll, step_size=float(step), diverged=ga_div,
                      message=ga_msg, lang=lang()), key="em_ga_fig", share=0.65,
                 alt=t("Line chart of log p(X|θ_t) against the iteration for EM and for gradient ascent."))
    with g1:
        if ga_ll is not None:
            if ga_div:
                why = ga_msg.split(": ", 1)  # "left the valid region: <vizcore's own message>" or one sentence
                st.warning(t("Gradient ascent diverged after {n} steps:").format(n=ga_ll.size - 1) + " "
                           + t(why[0]) + (f": {tr_message(why[1], lang())}" if len(why) > 1 else ""))
            else:
                said = (t("After {n} steps: gradient ascent {ga}, EM {em} (EM converged after {k} iterations at {final})")
                        if trace.converged else
                        t("After {n} steps: gradient ascent {ga}, EM {em} (EM stopped after {k} iterations without "
                          "converging, at {final})"))
                st.info(said.format(n=ga_ll.size - 1, ga=num(ga_ll[-1]),
                                    em=num(trace.log_likelihood[min(ga_ll.size - 1, trace.n_iter)]),
                                    k=trace.n_iter, final=num(trace.log_likelihood[-1])))


several_starts(model_name, x, setup.k, fixed)
against_gradient_ascent(model_name, x, init, fixed, trace)
