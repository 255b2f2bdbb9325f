"""Latent-variable models: z ~ p(z), x ~ p(x|z); the joint, the marginal, Bayes' rule, learning θ.

Widgets in (keys ``lvm_*``), cached calls into vizcore, figures out. The curves
are the model's own ``log_joint`` and ``vizcore.posterior`` evaluated on a grid
of x values (:mod:`vizcore.densities`), so every number is the one the other
pages use. The three sections below the model choice are one fragment (``model_sections``): a slider
move reruns them alone.
"""
from __future__ import annotations

import json
import math

import numpy as np
import streamlit as st

import vizcore as vc
from pages import _export
from pages._common import cache_data, fail, fragment, ink, lang, lazy, prose, show, show_code, t
from pages._url_state import early_value, mirror, mirrored
from vizcore import densities as dens
from vizcore.figures import models as figs

MAX_K = 6
X_RANGE = (-12.0, 12.0)          # the x axis of the 1-D mixture (fixed, so curves move, not the axis)
PLANE = (-8.0, 8.0)              # both axes of the 2-D mixture
TAB_COLOURS = ("blue", "orange", "green", "red", "violet", "blue")  # nearest Streamlit colours to the palette

D1 = dict(w=[0.4, 0.6, 0.3, 0.3, 0.2, 0.3], mu=[-3.0, 2.5, 7.0, -8.0, 9.5, 0.0], sd=[1.0, 1.5, 0.8, 1.2, 0.6, 2.0])
D2 = dict(w=[0.5, 0.5, 0.4, 0.3, 0.3, 0.3], mx=[-2.5, 2.5, 0.0, -5.0, 5.0, 0.0], my=[-1.5, 2.0, -5.0, 4.5, -4.0, 0.5],
          sx=[1.2, 1.0, 1.5, 0.8, 1.0, 2.0], sy=[0.8, 1.6, 0.7, 1.0, 1.2, 1.0], rho=[0.5, -0.4, 0.0, 0.3, -0.6, 0.0])
DC = dict(w=[0.5, 0.5, 0.4, 0.3, 0.3, 0.3], p=[0.3, 0.75, 0.5, 0.1, 0.9, 0.6])

MODEL_LABELS = {"gmm1d": "1-D mixture", "gmm2d": "2-D mixture", "coins": "Two coins", "linkage": "Genetic linkage"}


# ---- number formatting for st.latex ------------------------------------------------------
def num(v: float, digits: int = 4) -> str:
    """A float as LaTeX: plain below 10⁵ and above 10⁻³, else a × 10^{e}."""
    v = float(v)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return r"-\infty" if v < 0 else r"\infty"
    e = math.floor(math.log10(abs(v)))
    if -3 <= e < 5:
        return f"{v:.{max(digits, e + 1)}g}"
    return f"{v / 10 ** e:.{digits - 1}f}" + rf"\times 10^{{{e}}}"


def num_log(log_v: float, digits: int = 4) -> str:
    """exp(log_v) as LaTeX without underflow (a density far in a tail is still a number)."""
    log_v = float(log_v)
    if log_v == -math.inf:
        return "0"
    if log_v > -600:
        return num(math.exp(log_v), digits)
    e10 = log_v / math.log(10)
    e = math.floor(e10)
    return f"{10 ** (e10 - e):.{digits - 1}f}" + rf"\times 10^{{{e}}}"


def loglik(v: float) -> str:
    """A log-likelihood with three decimals (it is a sum over the data, so it grows with N)."""
    return f"{v:.3f}" if math.isfinite(v) else num(v)


def prob(p: float) -> str:
    """A posterior probability: four decimals, or a × 10^{e} when it is tiny but not zero."""
    return f"{p:.4f}" if p == 0 or p >= 1e-4 else num(p)


# ---- cached computations -----------------------------------------------------------------
@cache_data(max_entries=64, show_spinner=False)
def sample(name: str, params, n: int, seed: int, tosses: int = 10):
    model = vc.get_model(name)
    rng = np.random.default_rng(seed)
    if name == "coins":
        return model.sample(params, n, rng, tosses=tosses)
    return model.sample(params, n, rng)


@cache_data(max_entries=64, show_spinner=False)
def on_grid(name: str, params, x) -> dens.GridDensities:
    return dens.on_grid(name, params, x)


@cache_data(max_entries=64, show_spinner=False)
def log_lik(name: str, x, params) -> float:
    return vc.log_marginal(name, x, params)


def hist_bins(n: int) -> int:
    """About 7·N^(1/3) bins on the fixed axis: 16 for 10 points, ~90 for 2000."""
    return int(np.clip(round(7 * n ** (1 / 3)), 16, 120))


@cache_data(max_entries=64, show_spinner=False)
def hist_1d(x, lo: float, hi: float, bins: int):
    return dens.histogram_density(x, lo, hi, bins)


# ---- shared pieces -----------------------------------------------------------------------
def make(name: str, **kw):
    """Validated parameters, or a user-facing error and a stop."""
    try:
        return vc.get_model(name).make_params(**kw)
    except ValueError as err:
        fail(err, "Move the sliders back to valid values.")
        st.stop()


def component_tabs(K: int):
    return st.tabs([f":{TAB_COLOURS[k]}[z = {k + 1}]" for k in range(K)], key="lvm_tab", bind="query-params")


def weights_line(raw) -> np.ndarray:
    """Normalise the raw weight sliders and show the result."""
    w, fallback = dens.normalise_weights(raw)
    if fallback:
        st.warning(t("All weights are 0, so equal weights are used."))
    st.caption(t("After normalising: π = ({values})").format(values=", ".join(f"{v:.3f}" for v in w)))
    return w


def sampling_controls(name: str, label: str = "Samples N"):
    """N, seed, Resample and the freeze switch; returns (n, seed, frozen)."""
    n = st.slider(t(label), 10, 2000, 300, step=10, key="lvm_n", bind="query-params")
    c1, c2 = st.columns([1, 1], vertical_alignment="bottom")
    with c1:
        seed = st.number_input(t("Seed"), 0, 2 ** 31 - 1, 0, step=1, key="lvm_seed",
                               bind="query-params")
    with c2:
        st.button(t("Resample"), key="lvm_resample", on_click=_next_seed, width="stretch")
    frozen = st.checkbox(t("Freeze the data"), key="lvm_freeze", bind="query-params",
                         help=t("Keeps the parameters that drew the data; moving the sliders then changes the "
                                "model but not the data, as when we fit a model."))
    return int(n), int(seed), frozen


def _next_seed():
    st.session_state["lvm_seed"] = (int(st.session_state.get("lvm_seed", 0)) + 1) % (2 ** 31 - 1)


def data_params(name: str, params, extra, frozen: bool):
    """The θ (and extra setting) that draws the data: the sliders', or the frozen one."""
    store = st.session_state.setdefault("lvm_frozen_theta", {})
    if frozen:
        if name not in store:
            store[name] = _frozen_from_url(name) or (params, extra)
        p, e = store[name]
        # in the address too (?lvm_frozen=...), so that a copied link shows the same frozen data
        mirror("lvm_frozen", json.dumps({"model": name, "extra": e, **{k: np.asarray(v).tolist()
                                                                     for k, v in p.to_dict().items()}},
                                        separators=(",", ":")))
        return store[name]
    store.pop(name, None)
    mirror("lvm_frozen", None)
    return params, extra


def _frozen_from_url(name: str):
    """The frozen (θ, extra) written in the address by :func:`data_params`, validated; None if absent or bad."""
    try:
        d = json.loads(mirrored("lvm_frozen") or "null")
        if not isinstance(d, dict) or d.get("model") != name:
            return None
        model = vc.get_model(name)
        params = model.make_params({k: d[k] for k in model.param_names})
        extra = d.get("extra")
        if name == "coins":
            extra = int(extra)
            if not 1 <= extra <= 50:
                return None
        else:
            extra = None
        return params, extra
    except (ValueError, TypeError, KeyError):
        return None


def log_likelihoods(name: str, x, params) -> np.ndarray:
    """log p(x | z = k) for one data row x, every k (also for components of weight 0)."""
    K = params.weights.size
    uniform = params.replace(weights=np.full(K, 1.0 / K))
    return vc.get_model(name).log_joint(x, uniform)[0] + math.log(K)


def bayes_latex(log_like, weights, at: str, cond: str = "x"):
    """Bayes' rule at one observed value with every term's value, as LaTeX.

    ``log_like[k] = log p(x | z = k)``. Returns ``(latex, posterior)``; the posterior
    π_k p(x|z=k) / Σ_j π_j p(x|z=j) is computed in log space and shown with four decimals.
    """
    log_like = np.asarray(log_like, float)
    w = np.asarray(weights, float)
    with np.errstate(divide="ignore"):
        lj = np.log(w) + log_like
    finite = lj[np.isfinite(lj)]
    log_evidence = (finite.max() + math.log(np.exp(finite - finite.max()).sum())) if finite.size else -math.inf
    post = np.exp(lj - log_evidence) if np.isfinite(log_evidence) else np.full(lj.size, np.nan)

    def like(s):
        return rf"p({cond} \mid z{{=}}{s})"

    rows = [rf"p(z{{=}}k \mid {cond}) &= \frac{{\pi_k\, {like('k')}}}{{p({cond})}}"
            rf"\qquad \text{{{t('at')}}}\ {at}",
            rf"p({cond}) &= \textstyle\sum_j \pi_j\, {like('j')}"]
    terms = [rf"{w[j]:.3f}\times {num_log(log_like[j])}" for j in range(w.size)]
    per_row = 1 if any("10^" in term for term in terms) else 2  # keep each line inside a narrow column
    rows += [("&= " if i == 0 else r"&\quad + ") + " + ".join(terms[i:i + per_row])
             for i in range(0, len(terms), per_row)]
    rows.append(rf"&= {num_log(log_evidence)}")
    for k in range(w.size):
        rows.append(rf"p(z{{=}}{k + 1} \mid {cond}) &= \frac{{{w[k]:.3f}\times {num_log(log_like[k])}}}"
                    rf"{{{num_log(log_evidence)}}} = {prob(post[k])}")
    return r"\small\begin{aligned}" + r" \\[3pt] ".join(rows) + r"\end{aligned}", post


def sum_rows(head: str, terms, per_row: int) -> str:
    """``head`` on its own line, then ``= t1 + t2 + ...`` with ``per_row`` terms on each line (aligned LaTeX)."""
    lhs, rhs = head.split("=", 1)
    rows = [f"{lhs} &= {rhs}"]
    rows += [("&= " if i == 0 else r"&\quad + ") + " + ".join(terms[i:i + per_row])
             for i in range(0, len(terms), per_row)]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def learning(name: str, x, params, gen_params, frozen: bool, what: str):
    st.subheader(t("3. Learning θ by maximum likelihood"))
    ll = log_lik(name, x, params)
    n = len(x) if name != "linkage" else int(np.asarray(x).sum())
    sym = "h" if name == "coins" else "x"
    parts = [rf"\log p_\theta(X) = \sum_{{n=1}}^{{N}} \log \sum_k p_\theta({sym}_n, z_n{{=}}k) = {loglik(ll)}"]
    if name == "linkage":
        parts = [rf"\log p_\theta(y) = \log \sum_z p_\theta(y, z) = {loglik(ll)}"]
    parts.append(rf"\quad (n = {n})" if name == "linkage" else rf"\quad (N = {n})")
    st.latex("".join(parts))
    if frozen:
        ll0 = log_lik(name, x, gen_params)
        st.latex(rf"\log p_{{\theta_\text{{{t('data')}}}}}(X) = {loglik(ll0)}\qquad "
                 rf"\log p_\theta(X) - \log p_{{\theta_\text{{{t('data')}}}}}(X) = {loglik(ll - ll0)}")
    prose(t("This is the log-likelihood of the sampled {what} at the current θ, computed exactly "
                  "(with the sum over z). Learning means choosing θ to make it as large as "
                  "possible; freeze the data and move the sliders to try by hand. The next pages maximise it "
                  "through lower bounds, which is what EM does.").format(what=t(what)))
    data_download(name, x)


def data_download(name: str, x) -> None:
    """The sampled data as CSV, in the layout \"Upload a CSV file\" reads on the other pages."""
    model = vc.get_model(name)

    def make() -> str:
        return _export.data_csv(model, x)

    _export.register_data(f"latent_{name}", t("Sampled data as CSV"), make)
    st.download_button(t("Sampled data as CSV"), data=make, file_name=f"latent_{name}.csv", mime="text/csv",
                       on_click="ignore", type="tertiary", icon=":material/download:", key="lvm_data_csv")


# ---- the four models ---------------------------------------------------------------------
def gmm1d_page():
    st.subheader(t("1. The generative story: z ~ p(z), then x ~ p(x | z)"))
    left, right = st.columns([1, 2.6], gap="medium")
    with left:
        K = st.slider(t("Components K"), 1, MAX_K, 2, key="lvm_g1_k", bind="query-params")
        raw, mu, sd = [], [], []
        for k, tab in enumerate(component_tabs(K)):
            with tab:
                raw.append(st.slider(t("weight (normalised below)"), 0.0, 1.0, D1["w"][k], 0.05, key=f"lvm_g1_w{k}",
                                     bind="query-params"))
                mu.append(st.slider(t("mean μ"), -8.0, 8.0, D1["mu"][k], 0.1, key=f"lvm_g1_mu{k}",
                                    bind="query-params"))
                sd.append(st.slider(t("standard deviation σ"), 0.2, 5.0, D1["sd"][k], 0.1, key=f"lvm_g1_sd{k}",
                                    bind="query-params"))
                st.caption(t("variance σ² = {v}").format(v=f"{sd[-1] ** 2:.3g}"))
        w = weights_line(raw)
        n, seed, frozen = sampling_controls("gmm1d")
    params = make("gmm1d", weights=w, means=mu, variances=np.square(sd))
    gen, _ = data_params("gmm1d", params, None, frozen)
    x, z = sample("gmm1d", gen, n, seed)
    grid = dens.grid_1d(*X_RANGE, mu, sd, n=300, per_component=16)
    g = on_grid("gmm1d", params, grid)
    x0 = float(early_value("lvm_x0", 0.0, *X_RANGE))  # the slider is drawn further down
    with right:
        c1, c2 = st.columns([1, 3.2])
        with c1:
            show(lazy(figs.prior_bars_spec, w, lang=lang(), height=380), key="lvm_fig_prior",
                 alt=t("Bar chart of the prior p(z): one bar per component."))
        with c2:
            stacked = st.toggle(t("Stack the components (their top edge is p(x))"), key="lvm_stack",
                                bind="query-params")
            show(lazy(figs.mixture_density_spec, grid, g.joint, g.marginal, hist=hist_1d(x, *X_RANGE, hist_bins(n)), x0=x0,
                                      stacked=stacked, lang=lang(), height=340), key="lvm_fig_density", share=0.53,
                 alt=t("Line chart: each weighted component density, their sum p(x), and a histogram of the samples."))
        terms = [rf"{w[k]:.2f}\,\mathcal{{N}}(x \mid {mu[k]:.1f}, {sd[k]:.1f}^2)" for k in range(K)]
        st.latex(sum_rows(r"p_\theta(x) = \sum_k \pi_k\, p_\theta(x \mid z{=}k)", terms, 2))
        prose(t("Grey: histogram of the {n} samples (scaled as a density). Coloured: each component "
                "πₖ p(x | z = k). {Ink}: their sum, the marginal p(x) — simple pieces, a complex whole.")
              .format(n=n, Ink=ink(capital=True)), caption=True)

    st.subheader(t("2. Inference: p(z | x) by Bayes' rule"))
    left, right = st.columns([1, 1], gap="medium")
    with left:
        x0 = st.slider(t("Observed x"), X_RANGE[0], X_RANGE[1], 0.0, 0.1, key="lvm_x0", bind="query-params")
        tex, _ = bayes_latex(log_likelihoods("gmm1d", np.array([x0]), params), w, at=f"x = {x0:.1f}")
        st.latex(tex)
        st.caption(t("The numerators are the heights of the coloured curves at the dotted line; the "
                     "denominator is the height of the {ink} curve.").format(ink=ink()))
    with right:
        r0 = vc.posterior("gmm1d", np.array([x0]), params)[0]
        show(lazy(figs.responsibilities_spec, grid, g.resp, x0=x0, resp0=r0, lang=lang(), height=380), key="lvm_fig_resp",
             alt=t("Line chart of the posterior p(z | x) of each component across x; the curves add up to 1."))
    learning("gmm1d", x, params, gen, frozen, "points")


def gmm2d_page():
    st.subheader(t("1. The generative story: z ~ p(z), then x ~ p(x | z)"))
    left, right = st.columns([1, 2.2], gap="medium")
    with left:
        K = st.slider(t("Components K"), 1, MAX_K, 2, key="lvm_g2_k", bind="query-params")
        raw, means, covs, sds = [], [], [], []
        for k, tab in enumerate(component_tabs(K)):
            with tab:
                raw.append(st.slider(t("weight (normalised below)"), 0.0, 1.0, D2["w"][k], 0.05, key=f"lvm_g2_w{k}",
                                     bind="query-params"))
                a, b = st.columns(2)
                mx = a.slider(t("mean μ₁"), -6.0, 6.0, D2["mx"][k], 0.1, key=f"lvm_g2_mx{k}", bind="query-params")
                my = b.slider(t("mean μ₂"), -6.0, 6.0, D2["my"][k], 0.1, key=f"lvm_g2_my{k}", bind="query-params")
                sx = a.slider(t("sd σ₁"), 0.2, 3.0, D2["sx"][k], 0.1, key=f"lvm_g2_sx{k}", bind="query-params")
                sy = b.slider(t("sd σ₂"), 0.2, 3.0, D2["sy"][k], 0.1, key=f"lvm_g2_sy{k}", bind="query-params")
                rho = st.slider(t("correlation ρ"), -0.95, 0.95, D2["rho"][k], 0.05, key=f"lvm_g2_rho{k}",
                                bind="query-params")
                means.append([mx, my])
                covs.append(dens.covariance_2d(sx, sy, rho))
                c = covs[-1]
                st.latex(rf"\Sigma_{{{k + 1}}} = \begin{{pmatrix}} {c[0, 0]:.3g} & {c[0, 1]:.3g} \\ "
                         rf"{c[1, 0]:.3g} & {c[1, 1]:.3g} \end{{pmatrix}}")
        w = weights_line(raw)
        n, seed, frozen = sampling_controls("gmm2d")
    params = make("gmm2d", weights=w, means=means, covariances=covs)
    gen, _ = data_params("gmm2d", params, None, frozen)
    x, z = sample("gmm2d", gen, n, seed)
    gx, gy, pts = dens.grid_2d(PLANE, PLANE, n=90)
    g = on_grid("gmm2d", params, pts)
    point = (float(early_value("lvm_px", 0.0, *PLANE)), float(early_value("lvm_py", 0.0, *PLANE)))
    with right:
        c1, c2 = st.columns([3, 1.1])
        with c1:
            show(lazy(figs.mixture_2d_spec, gx, gy, g.marginal.reshape(len(gy), len(gx)), x, z, means=np.array(means),
                                 lang=lang(), height=480), key="lvm_fig_2d",
                 alt=t("Scatter plot of the samples on the plane, coloured by component, over contours of p(x)."))
        with c2:
            show(lazy(figs.prior_bars_spec, w, lang=lang(), height=300), key="lvm_fig_prior",
                 alt=t("Bar chart of the prior p(z): one bar per component."))
            prose(t("Each sample first draws its component z from p(z) (its colour), then its position "
                         "from that component's Gaussian. Without the colours, only the grey contours of "
                         "p(x) = Σₖ πₖ N(x | μₖ, Σₖ) would be seen."), caption=True)

    st.subheader(t("2. Inference: p(z | x) by Bayes' rule"))
    left, right = st.columns([1, 1], gap="medium")
    with left:
        a, b = st.columns(2)
        px = a.slider(t("Point x₁"), PLANE[0], PLANE[1], 0.0, 0.1, key="lvm_px", bind="query-params")
        py = b.slider(t("Point x₂"), PLANE[0], PLANE[1], 0.0, 0.1, key="lvm_py", bind="query-params")
        pt = np.array([[px, py]])
        tex, _ = bayes_latex(log_likelihoods("gmm2d", pt, params), w, at=rf"\mathbf{{x}} = ({px:.1f}, {py:.1f})",
                                cond=r"\mathbf{x}")
        st.latex(tex)
    with right:
        r0 = vc.posterior("gmm2d", pt, params)[0]
        show(lazy(figs.posterior_map_2d_spec, gx, gy, g.resp, point=(px, py), lang=lang(), height=380), key="lvm_fig_map",
             alt=t("Map of the plane coloured by the most probable component at each point; a star marks the point x."))
        show(lazy(figs.prior_posterior_bars_spec, w, r0, where="x", lang=lang(), height=280), key="lvm_fig_post",
             alt=t("Bar chart: the prior p(z) next to the posterior p(z | x) for each component."))
    learning("gmm2d", x, params, gen, frozen, "points")


def coins_page():
    st.subheader(t("1. The generative story: pick a coin z ~ p(z), then toss it m times"))
    left, right = st.columns([1, 2.6], gap="medium")
    with left:
        K = st.slider(t("Coins K"), 1, MAX_K, 2, key="lvm_c_k", bind="query-params")
        raw, probs = [], []
        for k, tab in enumerate(component_tabs(K)):
            with tab:
                raw.append(st.slider(t("weight (normalised below)"), 0.0, 1.0, DC["w"][k], 0.05, key=f"lvm_c_w{k}",
                                     bind="query-params"))
                probs.append(st.slider(t("p(heads) of this coin"), 0.01, 0.99, DC["p"][k], 0.01, key=f"lvm_c_p{k}",
                                       bind="query-params"))
        w = weights_line(raw)
        tosses = st.slider(t("Tosses per set m"), 1, 50, 10, key="lvm_c_tosses", bind="query-params")
        n, seed, frozen = sampling_controls("coins", "Sets of tosses N")
    params = make("coins", weights=w, heads_probs=probs)
    gen, m_data = data_params("coins", params, tosses, frozen)
    x, z = sample("coins", gen, n, seed, m_data)
    h = np.arange(m_data + 1, dtype=float)
    rows = np.column_stack([h, np.full_like(h, m_data)])
    g = on_grid("coins", params, rows)
    freq = np.bincount(x[:, 0].astype(int), minlength=m_data + 1) / len(x)
    if int(st.session_state.get("lvm_h0", 0)) > m_data:  # fewer tosses than the heads shown: keep h within 0..m
        st.session_state["lvm_h0"] = m_data
    h0 = int(early_value("lvm_h0", m_data // 2, 0, m_data, cast=int))  # the slider is drawn further down
    with right:
        c1, c2 = st.columns([1, 3.2])
        with c1:
            show(lazy(figs.prior_bars_spec, w, lang=lang(), height=380), key="lvm_fig_prior",
                 alt=t("Bar chart of the prior p(z): one bar per coin."))
        with c2:
            stacked = st.toggle(t("Stack the coins (their top edge is p(h))"), key="lvm_stack", bind="query-params")
            show(lazy(figs.mixture_density_spec, h, g.joint, g.marginal, hist=(h, freq), x0=h0, stacked=stacked, discrete=True,
                                      var="h", xlabel=t("heads h in m tosses"), lang=lang(), height=340),
                 key="lvm_fig_density", share=0.53,
                 alt=t("Chart of the probability of h heads: each coin's weighted binomial, their sum p(h), and the "
                       "observed fractions."))
        terms = [rf"{w[k]:.2f}\,\mathrm{{Bin}}(h \mid {m_data}, {probs[k]:.2f})" for k in range(K)]
        st.latex(sum_rows(r"p_\theta(h) = \sum_k \pi_k\, \binom{m}{h} p_k^{h} (1-p_k)^{m-h}", terms, 2))
        prose(t("Grey bars: the fraction of the {n} sampled sets with h heads. Coloured: πₖ times coin "
                "k's binomial probabilities. {Ink}: the mixture p(h).").format(n=n, Ink=ink(capital=True)), caption=True)

    st.subheader(t("2. Inference: which coin was it? p(z | h) by Bayes' rule"))
    left, right = st.columns([1, 1], gap="medium")
    with left:
        h0 = st.slider(t("Observed heads h"), 0, m_data, m_data // 2, key="lvm_h0", bind="query-params")
        row = np.array([[h0, m_data]], dtype=float)
        tex, _ = bayes_latex(log_likelihoods("coins", row, params), w, at=f"h = {h0}", cond="h")
        st.latex(tex)
    with right:
        r0 = vc.posterior("coins", row, params)[0]
        show(lazy(figs.responsibilities_spec, h, g.resp, x0=h0, resp0=r0, discrete=True, var="h", xlabel=t("heads h in m tosses"),
                                   lang=lang(), height=380), key="lvm_fig_resp",
             alt=t("Line chart of the posterior p(z | h) of each coin across the number of heads h."))
    learning("coins", x, params, gen, frozen, "sets of tosses")


def linkage_page():
    st.subheader(t("1. The generative story: four observed cells, one hiding a split"))
    left, right = st.columns([1, 2.2], gap="medium")
    with left:
        theta = st.slider("θ", 0.01, 0.99, 0.6, 0.01, key="lvm_l_theta", bind="query-params")
        source = st.radio(t("Data"), ["sampled", "dlr"], key="lvm_l_data", horizontal=True, bind="query-params",
                          format_func=lambda s: t({"sampled": "Sampled from θ",
                                                   "dlr": "Dempster, Laird & Rubin (1977)"}[s]))
        if source == "sampled":
            n, seed, frozen = sampling_controls("linkage", "Individuals N")
        else:
            n, seed, frozen = None, None, False
    params = make("linkage", theta=[theta])
    gen, _ = data_params("linkage", params, None, frozen)
    if source == "sampled":
        y, z_true = sample("linkage", gen, n, seed)
        z_true = int(z_true[0])
    else:
        y, z_true = vc.load_dataset("genetic_linkage"), None
    y1, y2, y3, y4 = (int(v) for v in y[0])
    with left:
        st.latex(rf"y = ({y1}, {y2}, {y3}, {y4}),\quad n = {y1 + y2 + y3 + y4}")
    with right:
        show(lazy(figs.linkage_cells_spec, theta, y[0], lang=lang(), height=380), key="lvm_fig_cells",
             alt=t("Stacked bars of the four cell probabilities, the first split into its parts 1/2 and θ/4, with "
                   "the observed proportions."))
        st.latex(rf"\begin{{aligned}} y &\sim \mathrm{{Mult}}\Big(n;\ \tfrac12 + \tfrac{{\theta}}{{4}},\ "
                 rf"\tfrac{{1-\theta}}{{4}},\ \tfrac{{1-\theta}}{{4}},\ \tfrac{{\theta}}{{4}}\Big) \\ "
                 rf"&= \mathrm{{Mult}}({y1 + y2 + y3 + y4};\ {0.5 + theta / 4:.4f},\ "
                 rf"{(1 - theta) / 4:.4f},\ {(1 - theta) / 4:.4f},\ {theta / 4:.4f}) \end{{aligned}}")
        prose(t("The first cell's probability 1/2 + θ/4 is a sum of two parts. The complete data would say, "
                      "for each of the y₁ individuals, which part it came from; the latent z is the number from "
                      "the θ/4 part. With z known, θ would be estimated by counting: "
                      "θ̂ = (z + y₄) / (z + y₂ + y₃ + y₄)."))

    st.subheader(t("2. Inference: the hidden split p(z | y) by Bayes' rule"))
    left, right = st.columns([1, 1], gap="medium")
    a, b = theta / 4, 0.5
    r = a / (a + b)
    with left:
        st.latex(rf"\begin{{aligned}} p(\text{{{t('θ/4 part')}}} \mid \text{{{t('cell 1')}}}) "
                 rf"&= \frac{{\theta/4}}{{1/2 + \theta/4}} = \frac{{\theta}}{{2+\theta}} \\[3pt] "
                 rf"&= \frac{{{a:.4f}}}{{{b} + {a:.4f}}} = {r:.4f} \end{{aligned}}")
        st.latex(rf"\begin{{aligned}} z \mid y &\sim \mathrm{{Bin}}\big(y_1, \tfrac{{\theta}}{{2+\theta}}\big) "
                 rf"= \mathrm{{Bin}}({y1}, {r:.4f}) \\ \mathbb{{E}}[z \mid y] &= y_1 \tfrac{{\theta}}{{2+\theta}} "
                 rf"= {y1 * r:.2f} \end{{aligned}}")
        st.caption(t("Each of the y₁ individuals in the first cell is, independently, in the θ/4 part with "
                     "this probability; the other cells say nothing about z."))
    with right:
        post = vc.posterior("linkage", y, params)[0]
        zs = np.arange(post.size)
        keep = post >= post.max() * 1e-4
        lo, hi = int(zs[keep].min()), int(zs[keep].max())
        if z_true is not None:
            lo, hi = min(lo, z_true), max(hi, z_true)
        lo, hi = max(0, lo - 1), min(post.size - 1, hi + 1)
        if hi - lo > 400:
            centre = int(np.argmax(post))
            lo, hi = max(0, centre - 200), min(post.size - 1, centre + 200)
        show(lazy(figs.linkage_posterior_spec, zs[lo:hi + 1], post[lo:hi + 1], z_true=z_true, lang=lang(), height=360),
             key="lvm_fig_post", alt=t("Bar chart of the posterior p(z | y) of the hidden split z."))
    learning("linkage", y, params, gen, frozen, "counts")


# ---- the page ------------------------------------------------------------------------------
st.title(t("Latent-variable models"))
intro, formulas = st.columns([1.4, 1], gap="medium", vertical_alignment="center")
with intro:
    prose(t("A latent-variable model tells a story: first a hidden $z$ is drawn from $p_\\theta(z)$, then the "
                  "observed $x$ from $p_\\theta(x \\mid z)$. Both pieces are simple, yet the marginal $p_\\theta(x)$ "
                  "that we actually observe can be complex. Bayes' rule turns the story around to infer $z$ from "
                  "$x$, and learning chooses $\\theta$ to make the observed data likely."))
    choice = st.radio(t("Model"), list(MODEL_LABELS), key="lvm_model", horizontal=True, bind="query-params",
                      format_func=lambda s: t(MODEL_LABELS[s]))
with formulas:
    st.latex(r"\begin{aligned} p_\theta(x, z) &= p_\theta(z)\, p_\theta(x \mid z) \\ "
             r"p_\theta(x) &= \textstyle\sum_z p_\theta(x, z) \\ "
             r"p_\theta(z \mid x) &= \dfrac{p_\theta(x \mid z)\, p_\theta(z)}{\sum_{z'} p_\theta(x \mid z')\, "
             r"p_\theta(z')} \end{aligned}")


# ---- everything the model's sliders drive: a fragment ------------------------------------------------------
# Every slider of a model drives all three sections, so the three sections are one fragment: a move reruns
# them, and the browser leaves the rest alone (the sidebar, the navigation, the title and formulas above,
# "Show the code" below), which a whole-page run would send and render again. Choosing another model reruns
# the page, and the fragment with it.
@fragment
def model_sections(name: str) -> None:
    {"gmm1d": gmm1d_page, "gmm2d": gmm2d_page, "coins": coins_page, "linkage": linkage_page}[name]()


model_sections(choice)
show_code(dens.on_grid, vc.posterior)
