"""Beyond EM: variational inference when the posterior is out of reach.

Widgets in, cached calls into :mod:`vizcore.vi`, figures from
:mod:`vizcore.figures.vi` out. Every "true" number (log p(x), the posterior,
the gap) is exact: the latent variable is one-dimensional and integrated by
quadrature.
"""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from pages._common import cache_data, fail, fragment, lang, lazy, prose, show, show_code, t
from pages._url_state import early_value, mirror, mirrored
from vizcore import vi
from vizcore.figures import vi as vifig

M_RANGE = (-4.0, 4.0)          # slider and heatmap range of q's mean
S_RANGE = (0.05, 3.0)          # slider range of q's sd; the heatmap spans log s over it
HEAT = 60                      # heatmap cells per axis
KS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
CURVE_KS = (1, 10, 100)
CURVE_R = 100                  # replicates behind each L_K(θ) curve
LIN_TRUTH = (1.2, 0.8)         # loading and noise sd that generate the linear-Gaussian data
VEM_T = 40                     # variational-EM iterations
VEM_START = (-1.0, 4.0)        # θ_0 = (μ0, σ0²)
MF_START = ((-2.0, 2.0), (1.0, 1.0))
ETAS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)

MODELS = {"poisson": "Poisson counts with a Gaussian prior on the log-rate (skewed posterior)",
          "linear_gaussian": "Linear-Gaussian, 1-D factor analysis (Gaussian posterior)"}


# ---------------------------------------------------------------------------
# Pure, cached computations (hashable arguments only)
# ---------------------------------------------------------------------------

@cache_data(show_spinner=False, max_entries=64)
def sample_data(kind: str, n: int, rate: float, seed: int) -> tuple:
    """A seeded sample: Poisson(rate) counts, or x_i = w z + σ ε with z ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    if kind == "poisson":
        return tuple(int(c) for c in rng.poisson(rate, n))
    w, sigma = LIN_TRUTH
    z = rng.standard_normal()
    return tuple(float(round(v, 3)) for v in w * z + sigma * rng.standard_normal(n))


def build(spec: tuple):
    kind, x, a, b = spec
    if kind == "poisson":
        return vi.PoissonLogNormal(x, prior_mean=a, prior_var=b)
    return vi.LinearGaussian(x, loading=a, offset=0.0, noise_var=b)


@cache_data(show_spinner=False, max_entries=64)
def basics(spec: tuple) -> dict:
    model = build(spec)
    ev = vi.evidence(model)
    fit = vi.fit_gaussian_q(model, ev)
    grid = vi.elbo_grid(model, np.linspace(*M_RANGE, HEAT), np.linspace(*np.log(S_RANGE), HEAT), ev)
    return dict(ev=ev, fit=fit, grid=grid)


@cache_data(show_spinner=False, max_entries=64)
def mixture(spec: tuple) -> vi.MixtureFit:
    """The best two-component mixture q (only the "A richer family" tab needs it)."""
    base = basics(spec)
    return vi.fit_mixture_q(build(spec), base["ev"], base["fit"])


@cache_data(show_spinner=False, max_entries=64)
def zoom_grid(spec: tuple, m_lo: float, m_hi: float, ls_lo: float, ls_hi: float) -> vi.ELBOGrid:
    return vi.elbo_grid(build(spec), np.linspace(m_lo, m_hi, HEAT), np.linspace(ls_lo, ls_hi, HEAT), basics(spec)["ev"])


def window(values, centre: float, pad: float) -> tuple[float, float]:
    """A rounded interval holding ``values`` and ``centre`` with some margin (stable while they move a little)."""
    lo, hi = min(float(np.min(values)), centre), max(float(np.max(values)), centre)
    span = max(hi - lo, pad)
    lo, hi = lo - 0.2 * span, hi + 0.2 * span
    step = 10 ** math.floor(math.log10(span)) / 2
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


@cache_data(show_spinner=False, max_entries=256)
def hand(spec: tuple, m: float, s: float) -> dict:
    model = build(spec)
    ev = basics(spec)["ev"]
    lo, hi = ev.plot_range()
    lo, hi = min(lo, m - 3.5 * s), max(hi, m + 3.5 * s)
    z = np.linspace(lo, hi, 400)
    energy = float(vi.elbo_gaussian(model, m, s)) - float(0.5 * (math.log(2 * math.pi) + 1) + math.log(s))
    return dict(z=z, post=vi.posterior_pdf(model, z, ev), q=np.exp(-0.5 * ((z - m) / s) ** 2) / (s * math.sqrt(2 * math.pi)),
                elbo=float(vi.elbo_gaussian(model, m, s)), energy=energy,
                entropy=0.5 * (math.log(2 * math.pi) + 1) + math.log(s),
                kl_quad=vi.kl_gaussian_q_quad(model, m, s, ev))


@cache_data(show_spinner=False, max_entries=64)
def run_sga(spec: tuple, m0: float, s0: float, eta: float, n_samples: int, n_steps: int, seed: int) -> vi.SGAPath:
    return vi.sga(build(spec), m0, s0, step_size=eta, n_samples=n_samples, n_steps=n_steps,
                  rng=np.random.default_rng(seed))


@cache_data(show_spinner=False, max_entries=64)
def run_iwae(spec: tuple, m: float, s: float, n_rep: int, seed: int) -> vi.IWAEResult:
    return vi.iwae(build(spec), m, s, list(KS), n_rep, np.random.default_rng(seed), basics(spec)["ev"])


@cache_data(show_spinner=False, max_entries=32)
def run_iwae_theta(spec: tuple, refit: bool, n_rep: int, seed: int) -> vi.IWAECurves:
    model = build(spec)
    fit = basics(spec)["fit"]
    thetas = np.linspace(model.theta - 2.5, model.theta + 2.5, 41)
    return vi.iwae_over_theta(model, thetas, list(CURVE_KS), refit=refit, n_replicates=n_rep,
                              rng=np.random.default_rng(seed), q=(fit.mean, fit.sd))


@cache_data(show_spinner=False, max_entries=64)
def run_cavi(rho: float, n_updates: int) -> dict:
    mean, cov = vi.correlated_gaussian(rho)
    trace = vi.cavi(mean, cov, MF_START[0], MF_START[1], n_updates)
    f_mean, f_var, f_kl = vi.forward_fit(mean, cov)
    q_cov = np.diag(trace.variances[-1])
    return dict(mean=mean, cov=cov, trace=trace, f_var=f_var, f_kl=f_kl,
                post=vi.ellipse(mean, cov, 2.0), post1=vi.ellipse(mean, cov, 1.0),
                q=vi.ellipse(trace.means[-1], q_cov, 2.0), fwd=vi.ellipse(f_mean, np.diag(f_var), 2.0),
                limit=vi.mean_field_elbo(mean, cov, mean, 1.0 / np.diag(np.linalg.inv(cov))))


@cache_data(show_spinner=False, max_entries=16)
def run_vem(n_groups: int, spread: float, n_per: int, seed: int) -> dict:
    groups = vi.PoissonGroups.sample(n_groups, 0.0, spread ** 2, n_per, np.random.default_rng(seed))
    trace = vi.variational_em(groups, *VEM_START, VEM_T)
    em = vi.exact_em(groups, *VEM_START)
    mus = np.concatenate([trace.prior_means, em.prior_means])
    sds = np.sqrt(np.concatenate([trace.prior_vars, em.prior_vars]))
    mu_lo, mu_hi = float(mus.min()) - 0.4, float(mus.max()) + 0.4
    sd_lo, sd_hi = max(0.1, 0.75 * float(sds.min())), 1.1 * float(sds.max())
    c_mu, c_sd = np.linspace(mu_lo, mu_hi, 30), np.linspace(sd_lo, sd_hi, 30)
    mm, ss = np.meshgrid(c_mu, c_sd)
    contour = vi.group_log_marginal_grid(groups, mm.ravel(), ss.ravel() ** 2).reshape(ss.shape)
    return dict(groups=groups, trace=trace, em=em, c_mu=c_mu, c_sd=c_sd, contour=contour,
                mle_logp=vi.group_log_marginal(groups, em.prior_means[-1], em.prior_vars[-1]))


@cache_data(show_spinner=False, max_entries=64)
def vem_slice(n_groups: int, spread: float, n_per: int, seed: int, step: int) -> dict:
    res = run_vem(n_groups, spread, n_per, seed)
    tr, groups = res["trace"], res["groups"]
    var_t = float(tr.prior_vars[step])
    mus = np.linspace(float(res["c_mu"][0]), float(res["c_mu"][-1]), 160)
    log_p = vi.group_log_marginal_grid(groups, mus, np.full(mus.size, var_t))
    bound = vi.group_bound(groups, tr.q_means[step], tr.q_sds[step], mus, var_t)
    return dict(mus=mus, log_p=log_p, bound=bound)


def num(v: float, digits: int = 4) -> str:
    return vifig.fmt(v, digits)


def tex(v: float, digits: int = 4) -> str:
    """A number for LaTeX: a leading minus braced, tiny values as a power of ten."""
    text = vifig.fmt(v, digits)
    if "e" in text:
        mant, exp = text.split("e")
        text = rf"{mant}\times10^{{{int(exp)}}}"
    return "{" + text.replace("−", "-") + "}"


def exponent(total: int, n: int) -> str:
    """S z − n e^z written as a person would (no 1z, no 0z)."""
    lead = "" if total == 0 else ("z" if total == 1 else f"{total} z")
    tail = "e^z" if n == 1 else f"{n} e^z"
    return f"{lead} - {tail}" if lead else f"-{tail}"


def _set_best_q(m: float, s: float) -> None:
    st.session_state["vi_q_m"] = float(np.clip(round(m, 2), *M_RANGE))
    st.session_state["vi_q_s"] = float(np.clip(round(s, 2), *S_RANGE))


def _mf_add(k: int) -> None:
    st.session_state["vi_mf_n"] = min(int(st.session_state.get("vi_mf_n", 0)) + k, 200)


def _mf_reset() -> None:
    st.session_state["vi_mf_n"] = 0


def _vem_set(step: int) -> None:
    st.session_state["vi_vem_t"] = int(np.clip(step, 0, VEM_T))


@fragment
def hand_tab(spec: tuple, ev, fit, grid) -> None:
    """The "Gaussian q by hand" tab. A fragment: moving q, or setting it to the best Gaussian, reruns this
    tab alone; the model, the data and the page above are kept (bench/README.md, item 43). The other tabs
    read q from session state when they open."""
    prose(t(
        "Restrict q to Gaussians N(m, s²). Move m and s: the ELBO and the KL gap trade places, and their "
        "sum is always log p(x). On the Poisson model no Gaussian equals the skewed posterior, so even the "
        "best one leaves a gap."))
    left, right = st.columns([1, 1.2], gap="large")
    with left:
        m = st.slider(t("mean m of q"), *M_RANGE, 0.5, 0.01, key="vi_q_m", bind="query-params")
        s = st.slider(t("standard deviation s of q"), *S_RANGE, 1.2, 0.01, key="vi_q_s", bind="query-params")
        st.button(t("Set q to the best Gaussian"), key="vi_q_best", on_click=_set_best_q, args=(fit.mean, fit.sd))
    h = hand(spec, float(m), float(s))
    kl = max(ev.log_evidence - h["elbo"], 0.0)
    with right:
        show(lazy(vifig.decomposition_spec, h["elbo"], kl, ev.log_evidence, lang=lang(), height=250), key="vi_chart_bar",
             alt=t("Waterfall chart: the ELBO plus the KL gap makes log p(x)."))
    c_a, c_b, c_c = st.columns(3)
    c_a.metric("ELBO", num(h["elbo"]))
    c_b.metric("log p(x)", num(ev.log_evidence))
    c_c.metric("KL(q‖p(z|x))", num(kl))
    st.latex(
        rf"\begin{{aligned}}\mathcal{{L}}(q) &= \underbrace{{E_q[\log p(x,z)]}}_{{{tex(h['energy'])}}}"
        rf" + \underbrace{{\tfrac12\log(2\pi e\, s^2)}}_{{{tex(h['entropy'])}}} = {tex(h['elbo'])}\\"
        rf"\log p(x) &= \mathcal{{L}}(q) + \mathrm{{KL}}\big(q\,\|\,p(z\mid x)\big) = {tex(h['elbo'])} + {tex(kl)}"
        rf" = {tex(ev.log_evidence)}\end{{aligned}}")
    st.caption(t("The KL term computed directly by quadrature, ∫ q log(q / p(z|x)) dz = {v}, agrees with "
                 "log p(x) − ELBO.").format(v=num(max(h["kl_quad"], 0.0))))
    d_col, h_col = st.columns(2, gap="large")
    with d_col:
        show(lazy(vifig.densities_spec, h["z"], [
            dict(name=f"p(z|x) · {t('exact posterior')}", y=h["post"], colour=vifig.P, fill=True),
            dict(name=f"q(z) = N({m:.2f}, {s:.2f}²)", y=h["q"], colour=vifig.Q, dash="dash"),
        ], lang=lang()), key="vi_chart_q",
             alt=t("Line chart of the exact posterior p(z|x) (filled) and the Gaussian q (dashed)."))
    with h_col:
        # built once per model; each q only places the circle (a shape, moved in the browser without a redraw)
        show(lazy(vifig.elbo_heatmap_spec, grid.means, grid.log_sds, grid.elbo, grid.log_evidence, optimum=(fit.mean, fit.sd),
                  mark_q=True, lang=lang(), height=380).then(vifig.mark_current, (float(m), float(s))), key="vi_chart_heat",
             alt=t("Heatmap of the gap log p(x) − ELBO over the mean and log standard deviation of q."))
    st.caption(t("Heatmap: each cell is a Gaussian q; the colour is the gap log p(x) − ELBO on a log scale "
                 "(dark = small). × marks the best Gaussian (gap {g}); the circle is your q.").format(g=num(fit.gap)))


# ---------------------------------------------------------------------------
st.title(t("Beyond EM: variational inference"))
prose(t(
    "EM's E-step sets q(z) to the exact posterior p(z|x), which closes the gap between the bound and "
    "log p(x). When that posterior cannot be computed or stored, variational inference chooses q from a "
    "restricted family and maximises the ELBO over that family instead. The gap then no longer closes: "
    "what is left is the price of the family, and richer families or tighter bounds win part of it back."
))
st.latex(r"\log p(x) = \underbrace{E_q[\log p(x,z) - \log q(z)]}_{\mathcal{L}(q)\ (\mathrm{ELBO})}"
         r" + \mathrm{KL}\big(q(z)\,\|\,p(z\mid x)\big)")
st.caption(t("Every true quantity on this page (log p(x), the posterior, the gap) is exact: the latent z is "
             "one-dimensional and integrated by adaptive quadrature, so the gap is real, not estimated."))

# ---------------------------------------------------------------------------
# Everything below the introduction is one fragment: the model's sliders drive every tab, so a move reruns
# this part of the page alone, and the browser leaves the app's frame (the sidebar, the navigation, the
# title and introduction above, "Show the code" below) alone (bench/README.md, item 48). The q tab is a
# fragment inside it (item 43).
@fragment
def model_and_methods() -> None:
    c0, c1, c2, c3 = st.columns([1.25, 1, 1, 0.8], gap="medium")
    kind = c0.radio(t("Model and data"), list(MODELS), format_func=lambda k: t(MODELS[k]), key="vi_model",
                    bind="query-params")
    if kind == "poisson":
        with c1:
            n_obs = st.slider(t("number of counts n"), 1, 10, 3, 1, key="vi_pois_n", bind="query-params")
            rate = st.slider(t("true rate behind the counts"), 0.2, 8.0, 1.0, 0.1, key="vi_pois_rate",
                             bind="query-params")
        with c2:
            mu0 = st.slider(t("prior mean μ₀ of the log-rate"), -2.0, 3.0, 0.0, 0.1, key="vi_pois_mu0",
                            bind="query-params")
            sd0 = st.slider(t("prior standard deviation σ₀"), 0.3, 3.0, 2.0, 0.1, key="vi_pois_sd0",
                            bind="query-params")
        with c3:
            seed = int(st.number_input(t("data seed"), 0, 9999, 0, 1, key="vi_seed", bind="query-params"))
        x = sample_data(kind, n_obs, rate, seed)
        spec = ("poisson", x, float(mu0), float(sd0) ** 2)
        theta_label = "μ₀"
        with c3:
            st.markdown(f"**{t('counts')}**  \nx = ({', '.join(str(v) for v in x)})")
        st.latex(rf"z \sim \mathcal{{N}}({tex(mu0, 2)},\ {tex(sd0, 2)}^2),\quad x_i \mid z \sim \mathrm{{Poisson}}(e^{{z}}),"
                 rf"\quad p(z\mid x) \propto \mathcal{{N}}(z; {tex(mu0, 2)}, {tex(sd0, 2)}^2)\, e^{{{exponent(sum(x), len(x))}}}")
    else:
        with c1:
            n_obs = st.slider(t("number of observations n"), 1, 10, 3, 1, key="vi_lin_n", bind="query-params")
            w = st.slider(t("loading w"), 0.0, 2.0, 1.0, 0.05, key="vi_lin_w", bind="query-params")
        with c2:
            sigma = st.slider(t("noise standard deviation σ"), 0.5, 2.0, 1.0, 0.05, key="vi_lin_sigma",
                              bind="query-params")
        with c3:
            seed = int(st.number_input(t("data seed"), 0, 9999, 0, 1, key="vi_seed", bind="query-params"))
        x = sample_data(kind, n_obs, 0.0, seed)
        spec = ("linear_gaussian", x, float(w), float(sigma) ** 2)
        theta_label = "w"
        with c3:
            st.markdown(f"**{t('observations')}**  \nx = ({', '.join(f'{v:.2f}' for v in x)})")
        st.latex(rf"z \sim \mathcal{{N}}(0, 1),\quad x_i \mid z \sim \mathcal{{N}}({tex(w, 2)}\,z,\ {tex(sigma, 2)}^2)"
                 r"\quad\Rightarrow\quad p(z\mid x)\ \text{" + t("is Gaussian") + "}")

    try:
        base = basics(spec)
    except ValueError as err:
        fail(err, "Move the data or prior sliders back towards their defaults.")
        st.stop()
    ev, fit, grid = base["ev"], base["fit"], base["grid"]
    model = build(spec)

    tab_hand, tab_sga, tab_mix, tab_iwae, tab_mf, tab_vem = st.tabs([
        t("Gaussian q by hand"), t("Maximising the ELBO"), t("A richer family"), t("Tighter bounds (IWAE)"),
        t("Mean-field"), t("Variational EM")], key="vi_tab", bind="query-params")

    # q set by hand in the first tab: the start of stochastic gradient ascent and the q of the IWAE tab.
    m = early_value("vi_q_m", 0.5, *M_RANGE)
    s = early_value("vi_q_s", 1.2, *S_RANGE)

    # ---------------------------------------------------------------------------
    # Only the open tab runs: st.tabs with a key tracks the open tab (tab.open), and switching tabs reruns
    # this fragment. A closed tab's settings are kept by Streamlit and come back with it.
    if tab_hand.open:
        with tab_hand:
            hand_tab(spec, ev, fit, grid)

    # ---------------------------------------------------------------------------
    if tab_sga.open:
        with tab_sga:
            prose(t(
                "In practice the ELBO's expectation is not available in closed form, so it is climbed by stochastic "
                "gradient ascent: draw ε ~ N(0, 1), write z = m + s ε (the reparameterisation trick), and follow the "
                "noisy gradient. The run starts from your q in the first tab."))
            cs = st.columns(4)
            n_samples = cs[0].slider(t("samples per step L"), 1, 100, 5, 1, key="vi_sga_L", bind="query-params")
            eta = cs[1].select_slider(t("step size η"), options=list(ETAS), value=0.05, key="vi_sga_eta",
                                      bind="query-params")
            n_steps = cs[2].slider(t("number of steps"), 10, 300, 150, 10, key="vi_sga_T", bind="query-params")
            sga_seed = int(cs[3].number_input(t("seed"), 0, 9999, 1, 1, key="vi_sga_seed",
                                                   bind="query-params"))
            path = run_sga(spec, float(m), float(s), float(eta), int(n_samples), int(n_steps), sga_seed)
            st.latex(
                r"z_l = m + s\,\varepsilon_l,\ \varepsilon_l \sim \mathcal{N}(0, 1):\quad"
                r"\hat g_m = \frac1L\sum_{l=1}^{L} \partial_z \log p(x, z_l),\quad "
                r"\hat g_{\log s} = \frac1L\sum_{l=1}^{L} \partial_z \log p(x, z_l)\, s\,\varepsilon_l + 1")
            st.latex(rf"(m, \log s) \leftarrow (m, \log s) + \eta\,(\hat g_m, \hat g_{{\log s}}),\qquad "
                     rf"\eta = {eta:g},\ L = {int(n_samples)},\ {int(n_steps)}\ \text{{{t('steps')}}}")
            relation = "<" if fit.gap > 1e-6 else "="
            st.latex(rf"\mathcal{{L}}(q_{{{int(n_steps)}}}) = {tex(path.elbo[-1])} \;\le\; \max_{{m,s}} \mathcal{{L}} = "
                     rf"{tex(fit.elbo)} \;{relation}\; \log p(x) = {tex(ev.log_evidence)}")
            zm = window(path.means, fit.mean, 0.5)
            zl = window(path.log_sds, math.log(fit.sd), 0.5)
            zg = zoom_grid(spec, *zm, *zl)
            p_col, t_col = st.columns(2, gap="large")
            with p_col:
                show(lazy(vifig.elbo_heatmap_spec, zg.means, zg.log_sds, zg.elbo, zg.log_evidence, optimum=(fit.mean, fit.sd),
                                        path=(path.means, path.log_sds), lang=lang(), height=400), key="vi_chart_sga_path",
                     alt=t("Heatmap of the gap over the parameters of q with the path of stochastic gradient ascent."))
            with t_col:
                show(lazy(vifig.elbo_trace_spec, path.elbo, ev.log_evidence, fit.elbo, lang=lang(), height=400),
                     key="vi_chart_sga_trace",
                     alt=t("Line chart of the ELBO at each step, below the best Gaussian's ELBO and log p(x)."))
            g1, g2, g3 = st.columns(3)
            g1.metric(t("ELBO after the last step"), num(path.elbo[-1]))
            g2.metric(t("best Gaussian ELBO"), num(fit.elbo))
            g3.metric(t("gap the best Gaussian leaves"), num(fit.gap))
            if fit.gap > 1e-6:
                st.info(t("Even the best Gaussian q falls short of log p(x) by KL = {g} nats: the posterior is skewed and "
                          "no Gaussian matches it. More steps or samples cannot remove this gap; only a richer family can.")
                        .format(g=num(fit.gap)))
            else:
                st.success(t("Here the posterior is Gaussian, so the best Gaussian q is the posterior and the gap closes "
                             "(KL = {g}): variational inference recovers EM's E-step.").format(g=num(fit.gap)))
            if path.clipped:
                st.caption(t("{k} of the steps were capped (a move of at most 1 per coordinate): the step size is large "
                             "for this model.").format(k=path.clipped))

    # ---------------------------------------------------------------------------
    if tab_mix.open:
        with tab_mix:
            mix = mixture(spec)
            prose(t(
                "A richer family can follow the posterior more closely. A mixture of two Gaussians can lean to one "
                "side, so it captures skewness that a single Gaussian cannot; its ELBO is again computed exactly by "
                "quadrature and maximised numerically."))
            st.latex(rf"q(z) = {tex(mix.weight, 3)}\,\mathcal{{N}}({tex(mix.means[0], 3)}, {tex(mix.sds[0], 3)}^2)"
                     rf" + {tex(1 - mix.weight, 3)}\,\mathcal{{N}}({tex(mix.means[1], 3)}, {tex(mix.sds[1], 3)}^2)")
            st.latex(rf"\log p(x) - \mathcal{{L}}(q) = {tex(ev.log_evidence)} - ({tex(mix.elbo)}) = {tex(mix.gap)}"
                     rf"\quad\text{{{t('vs.')}}}\quad {tex(fit.gap)}\ \text{{{t('for the best Gaussian')}}}")
            z_lo, z_hi = ev.plot_range()
            zz = np.linspace(z_lo, z_hi, 400)
            m_col, b_col = st.columns([1.4, 1], gap="large")
            with m_col:
                show(lazy(vifig.densities_spec, zz, [
                    dict(name=f"p(z|x) · {t('exact posterior')}", y=vi.posterior_pdf(model, zz, ev), colour=vifig.P, fill=True),
                    dict(name=t("best Gaussian q"), y=np.exp(-0.5 * ((zz - fit.mean) / fit.sd) ** 2) / (fit.sd * math.sqrt(2 * math.pi)),
                         colour=vifig.KL, dash="dash"),
                    dict(name=t("best two-component mixture q"), y=np.exp(mix.logpdf(zz)), colour=vifig.MIXTURE),
                    *[dict(name=t("its components (weighted)") if k == 0 else None, y=wk * np.exp(
                        -0.5 * ((zz - mix.means[k]) / mix.sds[k]) ** 2) / (mix.sds[k] * math.sqrt(2 * math.pi)),
                        colour=vifig.MIXTURE, dash="dot", width=1.5)
                      for k, wk in enumerate((mix.weight, 1 - mix.weight)) if math.isfinite(mix.closed_fraction)],
                ], lang=lang()), key="vi_chart_mix",
                     alt=t("Line chart of the exact posterior with the best Gaussian q and the best two-component mixture q."))
            with b_col:
                show(lazy(vifig.gap_bars_spec, [t("best Gaussian"), t("best mixture")], [fit.gap, mix.gap],
                                           [vifig.KL, vifig.MIXTURE], lang=lang(), height=240), key="vi_chart_mix_gaps",
                     alt=t("Bar chart of the gap left by the best Gaussian and by the best mixture."))
                if math.isfinite(mix.closed_fraction):
                    st.metric(t("gap closed by the mixture"), f"{100 * mix.closed_fraction:.1f} %")
                else:
                    st.metric(t("gap closed by the mixture"), "—")
                    st.caption(t("The best Gaussian already closes the gap on this model: nothing is left to win."))

    # ---------------------------------------------------------------------------
    if tab_iwae.open:
        with tab_iwae:
            prose(t(
                "Instead of a richer q, use a tighter bound. The importance-weighted (IWAE) bound averages K importance "
                "weights inside the logarithm: L_1 is the ELBO, L_K never decreases with K (in expectation), and L_K "
                "approaches log p(x) as K grows. The numbers are Monte-Carlo averages over R replicates, with their "
                "standard errors."))
            ci = st.columns([2, 1, 1])
            q_choice = ci[0].radio(t("proposal q"), ["hand", "best", "prior"], horizontal=True, key="vi_iw_q", bind="query-params",
                                   format_func=lambda k: {"best": t("best Gaussian"), "hand": t("your q (first tab)"),
                                                          "prior": t("the prior p(z)")}[k])
            n_rep = ci[1].slider(t("replicates R"), 50, 1000, 300, 50, key="vi_iw_R", bind="query-params")
            iw_seed = int(ci[2].number_input(t("seed"), 0, 9999, 0, 1, key="vi_iw_seed",
                                                  bind="query-params"))
            if q_choice == "best":
                qm, qs = fit.mean, fit.sd
            elif q_choice == "hand":
                qm, qs = float(m), float(s)
            else:
                qm, qs = (model.prior_mean, math.sqrt(model.prior_var))
            res = run_iwae(spec, float(qm), float(qs), int(n_rep), iw_seed)
            k_last = len(KS) - 1
            st.latex(r"\mathcal{L}_K = E_{z_1, \dots, z_K \sim q}\Big[\log \frac1K \sum_{k=1}^{K} \frac{p(x, z_k)}{q(z_k)}\Big]")
            i10 = KS.index(10)
            st.latex(
                rf"\mathcal{{L}}_1 = {tex(res.elbo)} \le \mathcal{{L}}_{{10}} \approx {tex(res.means[i10])} \pm {tex(2 * res.ses[i10])}"
                rf" \le \mathcal{{L}}_{{{KS[k_last]}}} \approx {tex(res.means[k_last])} \pm {tex(2 * res.ses[k_last])}"
                rf" \le \log p(x) = {tex(ev.log_evidence)}")
            show(lazy(vifig.iwae_k_spec, res.ks, res.means, res.ses, ev.log_evidence, res.elbo, lang=lang()), key="vi_chart_iwae_k",
                 alt=t("Line chart of the IWAE bound L_K against the number of samples K, rising towards log p(x)."))
            st.caption(t("Error bars: ±2 standard errors over R = {r} replicates; each K uses fresh samples. "
                         "With q = N({qm}, {qs}²).").format(r=int(n_rep), qm=f"{qm:.2f}", qs=f"{qs:.2f}"))
            st.markdown(f"**{t('The bounds as curves over a model parameter')}**")
            prose(t(
                "Now vary a model parameter θ ({name}) and draw L_K(θ) against the exact log p(x|θ). With q fixed at "
                "the best Gaussian for the current θ, L_1 falls away from log p as θ moves off, while larger K stays "
                "close; with q re-fitted at every θ, L_1 is the best-Gaussian ELBO everywhere.").format(name=theta_label))
            refit = st.radio(t("q along θ"), ["fixed", "refit"], horizontal=True, key="vi_iw_refit", bind="query-params",
                             format_func=lambda k: t("fixed at the current θ") if k == "fixed" else t("re-fitted at every θ"))
            curves = run_iwae_theta(spec, refit == "refit", CURVE_R, iw_seed)
            show(lazy(vifig.iwae_theta_spec, curves.thetas, curves.ks, curves.bounds, curves.log_evidence, current=model.theta,
                                         theta_label=theta_label, lang=lang()), key="vi_chart_iwae_theta",
                 alt=t("Line chart of log p(x|θ) and the bounds L_1, L_10 and L_100 over a model parameter θ."))
            st.caption(t("L_1 is the exact ELBO; L_10 and L_100 are averages over {r} replicates with the same random "
                         "numbers at every θ (so the curves are smooth).").format(r=CURVE_R))

    # ---------------------------------------------------------------------------
    if tab_mf.open:
        with tab_mf:
            prose(t(
                "With several latent variables, the usual restricted family is mean-field: q(z) = q₁(z₁) q₂(z₂), "
                "independent factors. Coordinate ascent (CAVI) updates one factor at a time with the others held "
                "fixed, and never lowers the ELBO. Here the target is a correlated 2-D Gaussian, so every number is "
                "exact: mean-field finds the right mean but under-estimates the variances, because the reverse "
                "KL(q‖p) punishes q for putting mass where p has little. The forward-KL fit (the marginals) covers "
                "p instead."))
            cm = st.columns([2, 1.1, 1, 0.8])
            rho = cm[0].slider(t("correlation ρ of the target"), -0.95, 0.95, 0.8, 0.05, key="vi_mf_rho",
                             bind="query-params")
            if "vi_mf_n" not in st.session_state:  # a fresh session: the number of updates from the address
                try:
                    st.session_state["vi_mf_n"] = min(max(int(mirrored("vi_mf_n") or 0), 0), 200)
                except ValueError:
                    st.session_state["vi_mf_n"] = 0
            n_done = int(st.session_state.get("vi_mf_n", 0))
            cm[1].button(t("One CAVI update"), key="vi_mf_step", on_click=_mf_add, args=(1,), type="primary")
            cm[2].button(t("+10 updates"), key="vi_mf_run", on_click=_mf_add, args=(10,))
            cm[3].button(t("Reset"), key="vi_mf_reset", on_click=_mf_reset)
            n_done = int(st.session_state.get("vi_mf_n", 0))
            mirror("vi_mf_n", str(n_done) if n_done else None)  # the buttons' count, in the address (?vi_mf_n=)
            mf = run_cavi(float(rho), n_done)
            tr = mf["trace"]
            prec = np.linalg.inv(mf["cov"])
            if n_done:
                j = int(tr.updated[-1])
                k = 1 - j
                st.latex(
                    rf"\text{{{t('update')} }}{n_done}:\ q_{j + 1}(z_{j + 1}) = \mathcal{{N}}\Big(\mu_{j + 1} - \frac{{\Lambda_{{{j + 1}{k + 1}}}}}"
                    rf"{{\Lambda_{{{j + 1}{j + 1}}}}}(m_{k + 1} - \mu_{k + 1}),\ \frac{{1}}{{\Lambda_{{{j + 1}{j + 1}}}}}\Big)"
                    rf" = \mathcal{{N}}\big({tex(tr.means[-1][j], 3)},\ {tex(tr.variances[-1][j], 3)}\big)")
            else:
                st.latex(r"q_j(z_j) = \mathcal{N}\Big(\mu_j - \frac{\Lambda_{jk}}{\Lambda_{jj}}(m_k - \mu_k),\ "
                         r"\frac{1}{\Lambda_{jj}}\Big),\qquad \Lambda = \Sigma^{-1}")
            st.latex(rf"\mathrm{{ELBO}} = -\mathrm{{KL}}(q\,\|\,p) = {tex(tr.elbo[-1])}")
            independent = abs(rho) < 1e-9  # the slider's 0 (a float sum of steps: about 1e-16)
            st.latex(rf"\text{{{t('CAVI fixed point')}: }}\mathrm{{Var}}_q[z_1] = \frac{{1}}{{\Lambda_{{11}}}} = {tex(1 / prec[0, 0], 3)}\ "
                     rf"{'=' if independent else '<'}\ "
                     rf"\mathrm{{Var}}_p[z_1] = {tex(mf['cov'][0, 0], 3)}")
            st.latex(rf"\text{{{t('forward fit (marginals)')}: }} q_j = \mathcal{{N}}(\mu_j, \Sigma_{{jj}}),\quad "
                     rf"\mathrm{{KL}}(p\,\|\,q_{{\mathrm{{fwd}}}}) = -\tfrac12\log(1-\rho^2) = {tex(mf['f_kl'])}")
            e_col, l_col = st.columns([1.2, 1], gap="large")
            with e_col:
                show(lazy(vifig.mean_field_spec, dict(x=mf["post"][0], y=mf["post"][1], x1=mf["post1"][0], y1=mf["post1"][1]),
                                             dict(x=mf["q"][0], y=mf["q"][1]), dict(x=mf["fwd"][0], y=mf["fwd"][1]),
                                             tr.means, lang=lang(), height=440), key="vi_chart_mf",
                     alt=t("Ellipses of the correlated target p, the mean-field q and the forward-KL fit, with the CAVI path."))
            with l_col:
                show(lazy(vifig.cavi_elbo_spec, tr.elbo, limit=mf["limit"], lang=lang(), height=300), key="vi_chart_mf_elbo",
                     alt=t("Step chart of the ELBO after each CAVI update, reaching 0.") if independent else
                     t("Step chart of the ELBO after each CAVI update, levelling off below 0."))
                if independent:
                    st.caption(t("{n} updates so far. The ELBO never decreases. At ρ = 0 the target itself factorises, "
                                 "so mean-field can match it: after one update of each factor q = p and the ELBO is "
                                 "0 = log p.").format(n=n_done))
                else:
                    st.caption(t("{n} updates so far. The ELBO never decreases; it levels off below 0 = log p because a "
                                 "factorised q cannot match a correlated p (limit −½ log(1/(1 − ρ²)) = {lim}).").format(
                        n=n_done, lim=num(mf["limit"])))

    # ---------------------------------------------------------------------------
    if tab_vem.open:
        with tab_vem:
            prose(t(
                "Variational EM puts the restricted E-step inside EM. Each of J groups has counts with its own log-rate "
                "z_j ~ N(μ₀, σ₀²), and θ = (μ₀, σ₀²) is learned. The E-step fits the best Gaussian q_j per group; the "
                "M-step maximises the bound in closed form. The bound rises at every step, but it no longer touches "
                "log p(X|θ), and its end point is not the maximum-likelihood θ that exact EM finds."))
            cv = st.columns(4)
            n_groups = cv[0].slider(t("groups J"), 4, 20, 10, 1, key="vi_vem_J", bind="query-params")
            spread = cv[1].slider(t("true spread of the log-rates"), 0.5, 2.5, 1.5, 0.1, key="vi_vem_spread",
                                  bind="query-params")
            n_per = cv[2].slider(t("counts per group"), 1, 3, 1, 1, key="vi_vem_n", bind="query-params")
            vem_seed = int(cv[3].number_input(t("seed"), 0, 9999, 0, 1, key="vi_vem_seed",
                                                   bind="query-params"))
            try:
                vem = run_vem(int(n_groups), float(spread), int(n_per), vem_seed)
            except ValueError as err:
                fail(err, "Choose another seed or a larger spread.")
                st.stop()
            vt, em = vem["trace"], vem["em"]
            st.caption(t("counts per group: {c}").format(c="; ".join(",".join(str(v) for v in g) for g in vem["groups"].counts)))
            cb = st.columns([2.4, 0.8, 1, 0.9])
            step = cb[0].slider(t("iteration t"), 0, VEM_T, 0, 1, key="vi_vem_t", bind="query-params")
            cb[1].button(t("Step"), key="vi_vem_next", on_click=_vem_set, args=(int(step) + 1,), type="primary",
                         disabled=int(step) >= VEM_T)
            cb[2].button(t("To the end"), key="vi_vem_run", on_click=_vem_set, args=(VEM_T,), disabled=int(step) >= VEM_T)
            cb[3].button(t("Restart"), key="vi_vem_restart", on_click=_vem_set, args=(0,), disabled=int(step) == 0)
            step = int(step)
            nxt = min(step + 1, VEM_T)
            mu_t, var_t = float(vt.prior_means[step]), float(vt.prior_vars[step])
            st.latex(
                rf"\theta_{{{step}}} = ({tex(mu_t, 3)},\ {tex(var_t, 3)}):\quad \log p(X\mid\theta_{{{step}}}) = "
                rf"{tex(vt.log_marginal[step])} > \mathcal{{L}}(q_{{{step}}}, \theta_{{{step}}}) = {tex(vt.bound_after_e[step])}")
            st.latex(
                rf"\text{{{t('M-step')}: }}\mu_0 = \tfrac1J\sum_j m_j = {tex(vt.prior_means[nxt], 3)},\quad "
                rf"\sigma_0^2 = \tfrac1J\sum_j \big(s_j^2 + (m_j - \mu_0)^2\big) = {tex(vt.prior_vars[nxt], 3)}")
            sl = vem_slice(int(n_groups), float(spread), int(n_per), vem_seed, step)
            v1, v2 = st.columns(2, gap="large")
            with v1:
                show(lazy(vifig.vem_slice_spec, sl["mus"], sl["log_p"], sl["bound"], mu_t=mu_t, mu_next=float(vt.prior_means[nxt]),
                                            lang=lang(), height=380), key="vi_chart_vem_slice",
                     alt=t("Line chart along μ₀ of log p(X|θ) and the restricted bound, which stays below it."))
                st.caption(t("Along μ₀ with σ₀² held at its value at step t. EM's bound would touch log p at θ_t; the "
                             "restricted bound stays below by the sum of the groups' KL gaps."))
            with v2:
                show(lazy(vifig.vem_contour_spec, vem["c_mu"], vem["c_sd"], vem["contour"],
                                              (vt.prior_means, np.sqrt(vt.prior_vars)), (em.prior_means, np.sqrt(em.prior_vars)),
                                              current=step, lang=lang(), height=380), key="vi_chart_vem_contour",
                     alt=t("Contour map of log p(X|θ) over μ₀ and σ₀ with the paths of exact and variational EM."))
            show(lazy(vifig.vem_trace_spec, vt.log_marginal, vt.bound_after_e, em.log_marginal[:VEM_T + 1], current=step,
                                        lang=lang(), height=300), key="vi_chart_vem_trace",
                 alt=t("Line chart per iteration of log p(X|θ_t) for exact and variational EM and the variational bound."))
            e1, e2, e3 = st.columns(3)
            e1.metric(t("variational EM end point (μ₀, σ₀²)"), f"({vt.prior_means[-1]:.3f}, {vt.prior_vars[-1]:.3f})")
            e2.metric(t("maximum likelihood (exact EM)"), f"({em.prior_means[-1]:.3f}, {em.prior_vars[-1]:.3f})")
            e3.metric(t("log p lost by the variational end point"), num(vem["mle_logp"] - vt.log_marginal[-1]))
            st.caption(t("Exact EM ran {n} iterations to convergence (E-step: posterior moments by quadrature). "
                         "The variational bound at the end is {b}, below log p(X|θ) = {lp} by {g}.").format(
                n=len(em.log_marginal) - 1, b=num(vt.bound_after_e[-1]), lp=num(vt.log_marginal[-1]),
                g=num(vt.log_marginal[-1] - vt.bound_after_e[-1])))


model_and_methods()
show_code(vi.evidence, vi.elbo_gaussian, vi.fit_gaussian_q)
