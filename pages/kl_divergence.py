"""KL divergence: asymmetric, never negative, zero only at q = p.

Widgets in, calls into :mod:`vizcore.kl`, figures from :mod:`vizcore.figures.kl` out.
"""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from pages._common import cache_data, fragment, lang, lazy, prose, show, show_code, t
from vizcore import kl
from vizcore.figures import kl as klfig

FAMILIES = {
    "gaussian": "Gaussian",
    "mixture": "Two-component Gaussian mixture",
    "uniform": "Uniform",
    "bernoulli": "Bernoulli",
    "categorical": "Categorical (4 outcomes)",
}
CATEGORIES = ("A", "B", "C", "D")
# Points per drawn curve (plus the breakpoints of a uniform, so its edges stay sharp): 401 draws a smooth
# density at any chart width and keeps a move of the sliders under 100 KB (bench/README.md). The numbers
# shown come from quadrature, not from this grid.
PLOT_POINTS = 401

# name -> (label, min, max, step, default for p, default for q)
PARAMS = {
    "gaussian": {
        "mean": ("mean μ", -4.0, 4.0, 0.1, 0.0, 1.0),
        "sd": ("standard deviation σ", 0.1, 3.0, 0.05, 1.0, 0.6),
    },
    "mixture": {
        "weight": ("weight w of component 1", 0.0, 1.0, 0.05, 0.5, 0.3),
        "mean1": ("mean μ₁", -5.0, 5.0, 0.1, -2.0, -1.0),
        "sd1": ("standard deviation σ₁", 0.2, 3.0, 0.05, 0.8, 1.0),
        "mean2": ("mean μ₂", -5.0, 5.0, 0.1, 2.0, 1.5),
        "sd2": ("standard deviation σ₂", 0.2, 3.0, 0.05, 0.8, 1.0),
    },
    "uniform": {
        "low": ("left end a", -4.0, 4.0, 0.1, -2.0, -1.0),
        "width": ("width b − a", 0.2, 6.0, 0.1, 4.0, 3.0),
    },
    "bernoulli": {
        "theta": ("probability of x = 1", 0.0, 1.0, 0.01, 0.5, 0.2),
    },
    "categorical": {
        f"w{k}": (f"weight of {c}", 0.0, 1.0, 0.05, p0, q0)
        for k, (c, p0, q0) in enumerate(zip(CATEGORIES, (0.4, 0.3, 0.2, 0.1), (0.05, 0.15, 0.3, 0.5)))
    },
}


def _key(family: str, side: str, name: str) -> str:
    return f"kl_{family}_{side}_{name}"


def _copy_p_to_q(family: str) -> None:
    for name in PARAMS[family]:
        st.session_state[_key(family, "q", name)] = st.session_state[_key(family, "p", name)]


def _sliders(family: str, side: str) -> dict[str, float]:
    values = {}
    for name, (label, lo, hi, step, p0, q0) in PARAMS[family].items():
        values[name] = st.slider(t(label), lo, hi, p0 if side == "p" else q0, step, key=_key(family, side, name),
                                 bind="query-params")
    return values


def _density(family: str, params: dict[str, float]) -> kl.Density:
    if family == "gaussian":
        return kl.Gaussian(params["mean"], params["sd"])
    if family == "mixture":
        return kl.GaussianMixture(params["weight"], params["mean1"], params["sd1"], params["mean2"], params["sd2"])
    return kl.Uniform(params["low"], params["low"] + params["width"])


def _probabilities(family: str, params: dict[str, float]) -> tuple[np.ndarray, bool]:
    """The probability vector of a discrete choice; True if the weights were all zero."""
    if family == "bernoulli":
        return np.array([1.0 - params["theta"], params["theta"]]), False
    raw = np.array([params[f"w{k}"] for k in range(len(CATEGORIES))])
    if raw.sum() == 0:
        return np.full(raw.size, 1.0 / raw.size), True
    return raw / raw.sum(), False


@cache_data(show_spinner=False, max_entries=256)
def _continuous(family: str, p_items: tuple, q_items: tuple) -> dict:
    p, q = _density(family, dict(p_items)), _density(family, dict(q_items))
    x = kl.plot_grid(p, q, n=PLOT_POINTS)
    return dict(
        x=x, p_pdf=p.pdf(x), q_pdf=q.pdf(x), integrand=kl.kl_integrand(q, p, x),
        qp_quad=kl.kl_quad(q, p), pq_quad=kl.kl_quad(p, q),
        qp_closed=kl.kl_closed_form(q, p), pq_closed=kl.kl_closed_form(p, q),
        parts=kl.kl_integrand_parts(q, p),
        qp_outside=kl.mass_where_p_zero(q, p), pq_outside=kl.mass_where_p_zero(p, q),
    )


@cache_data(show_spinner=False, max_entries=64)
def _fits(separation: float, weight: float) -> dict:
    p = kl.GaussianMixture(weight, -separation / 2, 1.0, separation / 2, 1.0)
    grid = kl.kl_gaussian_fit_grid(p, np.linspace(-7.0, 7.0, 60), np.linspace(0.2, 5.0, 60))
    reverse, forward = kl.fit_gaussian(p, "reverse"), kl.fit_gaussian(p, "forward")
    x = kl.plot_grid(p, reverse.q, forward.q, n=PLOT_POINTS)
    return dict(grid=grid, reverse=reverse, forward=forward, x=x, p_pdf=p.pdf(x),
                reverse_pdf=reverse.q.pdf(x), forward_pdf=forward.q.pdf(x))


ZERO = 1e-9  # a divergence this small is 0 up to rounding (the largest error of the quadrature is far below it)


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "∞"
    return f"{max(value, 0.0) if value > -1e-9 else value:.4f}"


def _num(value: float, digits: int = 2) -> str:
    """A fixed-point number without a minus sign on a rounded zero."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def _tex(value: float) -> str:
    return r"\infty" if math.isinf(value) else _fmt(value)


def _describe(family: str, d) -> str:
    if family == "bernoulli":
        return rf"\mathrm{{Bernoulli}}({d[1]:.2f})"
    if family == "gaussian":
        return rf"\mathcal{{N}}({_num(d.mean)},\ {_num(d.sd)}^2)"
    if family == "mixture":
        return (rf"{_num(d.weight)}\,\mathcal{{N}}({_num(d.mean1)},\ {_num(d.sd1)}^2) + "
                rf"{_num(1 - d.weight)}\,\mathcal{{N}}({_num(d.mean2)},\ {_num(d.sd2)}^2)")
    if family == "uniform":
        return rf"\mathcal{{U}}({_num(d.low)},\ {_num(d.high)})"
    return r"(" + r",\ ".join(f"{v:.3f}" for v in d) + r")"


@fragment
def _explorer() -> None:
    """One pair (q, p): sliders, formula, both divergences, densities and integrand."""
    family = st.radio(t("Family"), list(FAMILIES), format_func=lambda k: t(FAMILIES[k]), horizontal=True,
                      key="kl_family", bind="query-params")
    discrete = family in ("bernoulli", "categorical")

    col_p, col_q = st.columns(2, gap="large")
    with col_p:
        st.markdown(f"**p · {t('target')}**")
        p_params = _sliders(family, "p")
    with col_q:
        st.markdown(f"**q · {t('approximation')}**")
        q_params = _sliders(family, "q")
        st.button(t("Set q = p"), key="kl_copy_p_to_q", on_click=_copy_p_to_q, args=(family,))

    if discrete:
        p_vec, p_empty = _probabilities(family, p_params)
        q_vec, q_empty = _probabilities(family, q_params)
        if p_empty or q_empty:
            st.warning(t("All weights are zero; using the uniform distribution instead."))
        labels = ("x = 0", "x = 1") if family == "bernoulli" else CATEGORIES
        if family == "categorical":
            with col_p:
                st.caption(t("normalised") + ": " + ", ".join(f"{c} {v:.3f}" for c, v in zip(CATEGORIES, p_vec)))
            with col_q:
                st.caption(t("normalised") + ": " + ", ".join(f"{c} {v:.3f}" for c, v in zip(CATEGORIES, q_vec)))
        kl_qp, kl_pq = kl.kl_categorical(q_vec, p_vec), kl.kl_categorical(p_vec, q_vec)
        terms = kl.categorical_kl_terms(q_vec, p_vec)
        equal = bool(np.array_equal(p_vec, q_vec))
        outside_qp, outside_pq = kl.mass_where_p_zero(q_vec, p_vec), kl.mass_where_p_zero(p_vec, q_vec)
        p_text, q_text = _describe(family, p_vec), _describe(family, q_vec)
        definition = r"\sum_x q(x)\log\frac{q(x)}{p(x)}"
        if family == "bernoulli":
            qv, pv = q_vec[1], p_vec[1]
            definition += (rf" = {qv:.2f}\log\frac{{{qv:.2f}}}{{{pv:.2f}}}"
                           rf" + {1 - qv:.2f}\log\frac{{{1 - qv:.2f}}}{{{1 - pv:.2f}}}")
    else:
        data = _continuous(family, tuple(sorted(p_params.items())), tuple(sorted(q_params.items())))
        p_obj, q_obj = _density(family, p_params), _density(family, q_params)
        kl_qp = data["qp_closed"] if data["qp_closed"] is not None else data["qp_quad"]
        kl_pq = data["pq_closed"] if data["pq_closed"] is not None else data["pq_quad"]
        equal = p_obj == q_obj
        outside_qp, outside_pq = data["qp_outside"], data["pq_outside"]
        p_text, q_text = _describe(family, p_obj), _describe(family, q_obj)
        definition = r"\int q(x)\log\frac{q(x)}{p(x)}\,dx"
        if family == "gaussian":
            r = q_obj.var / p_obj.var
            definition += (rf" = \tfrac12\Big[{r:.3f} - 1 - \log {r:.3f} + "
                           rf"\frac{{({_num(q_obj.mean)} - {_num(p_obj.mean)})^2}}{{{p_obj.var:.3f}}}\Big]")
        elif family == "uniform" and math.isfinite(kl_qp):
            definition += rf" = \log\frac{{{p_obj.width:.2f}}}{{{q_obj.width:.2f}}}"

    st.latex(rf"q = {q_text}, \qquad p = {p_text}")
    st.latex(rf"\mathrm{{KL}}(q\,\|\,p) = {definition} = {_tex(kl_qp)}")

    m_qp, m_pq = st.columns(2)
    for col, value, name, tag in ((m_qp, kl_qp, "KL(q‖p)", "qp"), (m_pq, kl_pq, "KL(p‖q)", "pq")):
        with col:
            st.metric(name, _fmt(value), help=t("Expectation under the first argument of the log-ratio of the two."))
            if discrete:
                st.caption(t("exact sum over the outcomes"))
            else:
                closed = data[f"{tag}_closed"]
                quad = data[f"{tag}_quad"]
                parts = [f"{t('closed form')} {_fmt(closed)}"] if closed is not None else [t("no closed form")]
                parts.append(f"{t('quadrature')} {_fmt(quad)}")
                st.caption(" · ".join(parts))

    finite = math.isfinite(kl_qp) and math.isfinite(kl_pq)
    if equal or (finite and max(abs(kl_qp), abs(kl_pq)) <= ZERO):  # the same density written another way too
        st.success(t("q = p: the log-ratio is 0 everywhere, so both divergences are exactly 0."))
    elif finite and math.isclose(kl_qp, kl_pq, rel_tol=1e-6, abs_tol=ZERO):
        st.caption(t("Here KL(q‖p) = KL(p‖q) although q ≠ p (two Gaussians of the same width, for instance). "
                     "In general the two differ: KL is not symmetric. Move a slider and they part."))
    elif finite:
        st.caption(t("Swapping the roles of q and p changes the value: KL is not symmetric."))
    if math.isinf(kl_qp):
        st.warning(t("KL(q‖p) = ∞ because q puts mass where p has none: q gives {share} of its probability "
                     "to a region where p = 0, and there q log(q/0) = ∞.").format(share=f"{outside_qp:.1%}"))
    if math.isinf(kl_pq):
        st.warning(t("KL(p‖q) = ∞ because p puts mass where q has none: p gives {share} of its probability "
                     "to a region where q = 0.").format(share=f"{outside_pq:.1%}"))
    if math.isinf(kl_qp) != math.isinf(kl_pq):
        st.info(t("One direction is infinite and the other finite: the asymmetry at its most extreme."))

    c_dens, c_int = st.columns(2, gap="large")
    with c_dens:
        st.subheader(t("p and q"))
        if discrete:
            show(lazy(klfig.discrete_spec, labels, p_vec, q_vec, lang=lang()), key="kl_chart_densities",
                 alt=t("Bar chart of the probabilities of p and q for each outcome."))
        else:
            show(lazy(klfig.density_spec, data["x"], data["p_pdf"], data["q_pdf"], lang=lang()), key="kl_chart_densities",
                 alt=t("Line chart of the densities p(x) (filled) and q(x) (dashed)."))
    with c_int:
        st.subheader(t("The integrand q log(q/p)"))
        if discrete:
            show(lazy(klfig.discrete_integrand_spec, labels, terms, lang=lang()), key="kl_chart_integrand",
                 alt=t("Bar chart of the terms q log(q/p) of each outcome, positive and negative."))
            finite_terms = terms[np.isfinite(terms)]
            neg, pos = float(finite_terms[finite_terms < 0].sum()), float(finite_terms[finite_terms > 0].sum())
            pos = math.inf if np.isinf(terms).any() else pos
        else:
            show(lazy(klfig.integrand_spec, data["x"], data["integrand"], lang=lang()), key="kl_chart_integrand",
                 alt=t("Area chart of the integrand q log(q/p): positive where q > p, negative where q < p."))
            neg, pos = data["parts"]
        approx = "" if discrete else "≈ "
        if neg < 0:
            st.caption(t("Negative part {approx}{neg}, positive part {approx}{pos}: where q < p the integrand dips "
                         "below zero, but the positive part always outweighs it.").format(
                approx=approx, neg=_fmt(neg), pos=_fmt(pos)))
        else:
            st.caption(t("Wherever q has mass it is at least as large as p here, so the integrand is never negative."))


@fragment
def _fitting() -> None:
    """Fitting a Gaussian q to a bimodal p in both directions: heatmaps and the two fits."""
    st.header(t("Fitting a Gaussian q to a bimodal p"))
    prose(t(
        "Which Gaussian q is closest to a two-humped p depends on the direction. Minimising the reverse "
        "KL(q‖p) punishes q for putting mass where p is small, so q hides inside one mode. Minimising the "
        "forward KL(p‖q) punishes q for missing mass that p has, so q stretches over both modes: its answer "
        "is the Gaussian with p's mean and variance."
    ))
    c_sep, c_w = st.columns(2, gap="large")
    with c_sep:
        separation = st.slider(t("distance between the modes"), 0.0, 8.0, 6.0, 0.1, key="kl_fit_separation",
                               bind="query-params")
    with c_w:
        weight = st.slider(t("weight of the left mode"), 0.0, 1.0, 0.5, 0.05, key="kl_fit_weight",
                           bind="query-params")
    fits = _fits(separation, weight)
    grid, rev, fwd = fits["grid"], fits["reverse"], fits["forward"]
    st.latex(rf"p = {_num(weight)}\,\mathcal{{N}}({_num(-separation / 2)},\ 1) + "
             rf"{_num(1 - weight)}\,\mathcal{{N}}({_num(separation / 2)},\ 1)")

    h_rev, h_fwd = st.columns(2, gap="large")
    with h_rev:
        show(lazy(klfig.kl_heatmap_spec, grid.means, grid.sds, grid.reverse, title=f"{t('reverse')} KL(q‖p)",
                              minimum=(rev.mean, rev.sd, rev.kl), lang=lang()), key="kl_chart_heat_reverse",
             alt=t("Heatmap of the reverse KL(q‖p) over the mean and standard deviation of a Gaussian q."))
    with h_fwd:
        show(lazy(klfig.kl_heatmap_spec, grid.means, grid.sds, grid.forward, title=f"{t('forward')} KL(p‖q)",
                              minimum=(fwd.mean, fwd.sd, fwd.kl), lang=lang()), key="kl_chart_heat_forward",
             alt=t("Heatmap of the forward KL(p‖q) over the mean and standard deviation of a Gaussian q."))
    st.caption(t("Each cell is a Gaussian q = N(μ, σ²); the colour is KL on a log scale; "
                 "the cross marks the minimum."))

    show(lazy(klfig.gaussian_fit_spec, fits["x"], fits["p_pdf"], fits["reverse_pdf"], fits["forward_pdf"], lang=lang()),
         key="kl_chart_fit", share=1.0,
         alt=t("Line chart of a bimodal p with the best Gaussian under the reverse KL (on one mode) and under the "
               "forward KL (over both)."))
    st.caption(t("Reverse fit: μ = {rm}, σ = {rs}, KL(q‖p) = {rk}. Forward fit (moment matching): μ = {fm}, "
                 "σ = {fs}, KL(p‖q) = {fk}.").format(rm=_num(rev.mean), rs=_num(rev.sd), rk=_fmt(rev.kl),
                                                      fm=_num(fwd.mean), fs=_num(fwd.sd), fk=_fmt(fwd.kl)))


# ---------------------------------------------------------------------------
# Each section is a fragment: moving a slider reruns only its own section.
st.title(t("KL divergence"))
prose(t(
    "The Kullback–Leibler divergence KL(q‖p) measures how much q, an approximation, differs from p, "
    "the target, by averaging log q/p under q. It is never negative and is zero only when q = p, "
    "yet it is not a distance: swapping q and p changes its value in general, and the integrand itself can be negative."
))
_explorer()
_fitting()
show_code(kl.kl_integrand, kl.kl_quad, kl.fit_gaussian)
