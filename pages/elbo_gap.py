"""The ELBO and the KL gap: log p(X|θ) = L(q, θ) + KL(q ‖ p(Z|X, θ)) for a q the user sets."""
from __future__ import annotations

import weakref

import numpy as np
import streamlit as st

import vizcore as vc
from pages import _url_state
from pages._common import cache_data, fail, fragment, lang, lazy, prose, show, show_code, t
from pages._model_controls import coordinate_label, model_controls
from vizcore import teaching
from vizcore.figures.bounds import decomposition_spec, evidence_bar_spec, fmt, gap_spec, point_q_spec, tex

GRID = 300
FOLLOWED = "_eg_followed"   # the run in which t, the point or the E-step moved (see _mark_custom)


# ---- cached computations ------------------------------------------------------------------------
@cache_data(show_spinner=False, max_entries=32)
def endpoints(model_name: str, x, params):
    """The prior q (t = 0) and the posterior q (t = 1) as resp, the ELBO of the prior, and the largest prior
    probability of latent values the data rule out (linkage's z > y₁; the q at t = 0 leaves it out)."""
    model = vc.get_model(model_name)
    prior = vc.prior_resp(model, x, params)
    post = vc.posterior(model, x, params)
    return prior, post, vc.elbo(model, x, params, prior), float(vc.prior_mass_ruled_out(model, x, params).max())


@cache_data(show_spinner=False, max_entries=64)
def numbers(model_name: str, x, params, resp):
    return vc.decompose(vc.get_model(model_name), x, params, resp)


@cache_data(show_spinner=False, max_entries=32)
def log_p_grid(model_name: str, x, held, coord: str, lo: float, hi: float):
    """log p(X|θ) on an even grid of one coordinate of θ. It depends neither on q (moving t or a q(z_n)
    slider reuses it) nor on the coordinate's own value (``held`` has it at ``lo``: dragging that θ
    slider reuses it too). At N = 10,000 it is most of this page's work."""
    model = vc.get_model(model_name)
    values = np.linspace(lo, hi, GRID)
    return values, vc.log_marginal_batch(model, x, vc.vary(model, held, coord, values))


@cache_data(show_spinner=False, max_entries=32)
def log_p_curve(model_name: str, x, params, coord: str):
    """log p(X|θ) over one coordinate of θ, the current value included (one more θ on the cached grid)."""
    model = vc.get_model(model_name)
    lo, hi = teaching.coordinate_range(model, x, params, coord)
    cur = teaching.coordinate_value(model, params, coord)
    grid, f = log_p_grid(model_name, x, teaching.with_coordinate(model, params, coord, lo), coord, lo, hi)
    values, f = teaching.merge_samples(grid, f, [cur], vc.log_marginal_batch(model, x, vc.vary(model, params, coord, [cur])))
    return values, f, cur


@cache_data(show_spinner=False, max_entries=64)
def gap_curve(model_name: str, x, params, resp, coord: str):
    """log p(X|θ) and L(q, θ) with q fixed, over one coordinate of θ (the current value included)."""
    model = vc.get_model(model_name)
    values, f, cur = log_p_curve(model_name, x, params, coord)
    b = vc.bound_from_resp(model, x, resp).over(model, vc.vary(model, params, coord, values))
    return values, f, np.asarray(b, dtype=float), cur


# ---- callbacks: keep the per-point controls in step with t ---------------------------------------
def _follow_path():
    """t, the data point or the E-step changed: q(z_n) follows the path again (no custom row)."""
    st.session_state["eg_custom"] = None
    run = _url_state.this_run()
    st.session_state[FOLLOWED] = weakref.ref(run) if run is not None else None


def _e_step():
    st.session_state["eg_t"] = 1.0
    _follow_path()


def _mark_custom(context: str):
    """A q(z_n) slider moved: this row is set by hand, unless t, the point or the E-step moved in the same rerun.

    A person moves one control at a time. Both at once means that the browser asked for this rerun before
    the previous run's q reached it (a held arrow key, a slow network), so it sent the q it still showed,
    which differs from the q the page had set: not a move of q.
    """
    followed, now = st.session_state.get(FOLLOWED), _url_state.this_run()
    if now is None or followed is None or followed() is not now:
        st.session_state["eg_custom"] = context


def _set_by_hand_in_url(expected: dict) -> bool:
    """An address opened in a fresh session holds q(z_n) off the t-path: those values were set by hand.

    On the path the sliders hold round(q, 2) (ρ: round(ρ*, 3)), which the address then repeats.
    """
    for key, value in expected.items():
        try:
            if abs(float(st.query_params.get(key, value)) - value) > 1e-9:
                return True
        except (TypeError, ValueError):
            continue
    return False


# ---- what q drives ---------------------------------------------------------------------------------
@fragment
def q_section(setup, prior, post, elbo_prior: float, ruled_out: float, formula) -> None:
    """Everything q drives: "Choose q" to the end, and the numbers of the formula at the top
    (``formula``, a placeholder above the model controls). A fragment, so that moving t,
    a q(z_n) slider, the data point or the coordinate reruns this section alone; the model controls above
    are left as they are (bench/README.md, item 44). A model change reruns the whole page, this included."""
    model, x, params, sig = setup.model, setup.x, setup.params, setup.signature
    n_points, k = post.shape
    # a mixture's z is a component (a slider each); linkage's z counts 0..y₁ (q a Binomial, one slider ρ)
    point_sliders = setup.model_name != "linkage"
    st.subheader(t("Choose q"))
    qc1, qc2, qc3 = st.columns([1.15, 1.25, 1.3], gap="medium")
    with qc1:
        tt = st.slider(t("t: q from the prior p(z) (0) to the posterior p(z|x, θ) (1)"), 0.0, 1.0, step=0.01,
                       key="eg_t", on_change=_follow_path, value=0.3, bind="query-params",
                       help=t("q_t = (1 − t)·p(z|θ) + t·p(z|x, θ) for every data point."))
        st.button(t("Set q to the posterior (E-step)"), key="eg_estep", on_click=_e_step, type="primary",
                  width="stretch")
        st.caption(t("The E-step sets q(Z) = p(Z|X, θ): t = 1 and the per-point q equal to the posterior."))
        if ruled_out > 1e-9:  # shown where it is more than rounding: small uploaded linkage counts
            st.caption(t("Here t = 0 is the prior restricted to z ≤ y₁, the values the data allow: p(z|θ) gives "
                         "up to {mass} to larger z, so KL(q ‖ p(Z|θ)) is not 0 at t = 0.").format(mass=f"{ruled_out:.2%}"))
    q_path = vc.interpolate_resp(prior, post, float(tt))

    with qc2:
        if n_points > 1:
            n_idx = int(st.number_input(t("Data point n"), min_value=1, max_value=n_points, value=1, step=1,
                                        key="eg_n", on_change=_follow_path, bind="query-params")) - 1
        else:
            n_idx = 0
        context = f"{setup.model_name}|{setup.data_key}|{setup.k}|{setup.seed}|{n_points}|{n_idx}"
        if "eg_custom" not in st.session_state:  # a fresh session: restore a hand-set q(z_n) from the address
            if point_sliders:
                expected = {f"eg_q_{sig}_{j}": round(float(v), 2) for j, v in enumerate(q_path[n_idx])}
            else:
                expected = {"eg_rho": round(float(params.theta[0] / (2 + params.theta[0])), 3)}
            st.session_state["eg_custom"] = context if _set_by_hand_in_url(expected) else None
        custom = st.session_state.get("eg_custom") == context
        xn = np.ravel(x[n_idx])
        values = ", ".join(f"{v:.4g}" for v in xn)
        st.caption(f"$x_n$ = {values if xn.size == 1 else f'({values})'}")   # a number, or a tuple
        if point_sliders:
            keys = [f"eg_q_{sig}_{j}" for j in range(k)]
            if not custom:  # show the path's q(z_n); moving a slider makes this row custom
                for key, v in zip(keys, q_path[n_idx]):
                    st.session_state[key] = float(round(v, 2))
            raw = [st.slider(f"$q(z_n = {j + 1})$", 0.0, 1.0, step=0.01, key=key, on_change=_mark_custom,
                             args=(context,), bind="query-params") for j, key in enumerate(keys)]
            row = teaching.normalise(raw)
            if custom and sum(raw) <= 0:
                st.caption(t("All sliders at 0: $q(z_n)$ is taken uniform."))
            elif custom:
                st.caption(t("Normalised: $q(z_n)$ =") + " (" + ", ".join(f"{v:.3f}" for v in row) + ")")
        else:  # linkage: z takes y1 + 1 values; q(z) = Binomial(y1, ρ) contains the posterior Binomial(y1, θ/(2+θ))
            y1 = int(x[n_idx, 0])
            rho_post = float(params.theta[0] / (2 + params.theta[0]))
            if not custom:
                st.session_state["eg_rho"] = float(round(rho_post, 3))
            rho = st.slider(t("q(z) = Binomial(y₁, ρ): ρ"), 0.001, 0.999, step=0.001, key="eg_rho",
                            on_change=_mark_custom, args=(context,), bind="query-params")
            st.caption(t("The posterior is Binomial(y₁, θ/(2 + θ)), ρ =") + f" {rho_post:.4f}. "
                       + t("Move ρ to use this q for the latent z instead of the t-path."))
            row = teaching.binomial_row(y1, k, rho)
        q = teaching.replace_row(q_path, n_idx, row) if custom else q_path
        if custom:
            st.caption(t("$q(z_n)$ is set by hand for this point; moving $t$ returns it to the path."))
    with qc3:
        show(lazy(point_q_spec, prior[n_idx], post[n_idx], q[n_idx], z_from=1 if point_sliders else 0, lang=lang()),
             key="eg_point_chart", share=0.33,
             alt=t("Bar chart of q(z_n) for one data point next to its prior and its posterior."))

    try:
        dec = numbers(setup.model_name, x, params, q)
    except ValueError as err:
        fail(err, "Move the q sliders so that every q(z_n) is a distribution.")
        formula.empty()   # outside the fragment: a fragment rerun would leave the last q's numbers there
        return

    formula.latex(
        r"\begin{aligned}"
        r"\log p(X\mid\theta)&=\mathcal{L}(q,\theta)+\mathrm{KL}\big(q(Z)\,\|\,p(Z\mid X,\theta)\big)"
        + rf"&&{tex(dec.log_marginal)}={tex(dec.elbo)}+{tex(dec.kl_posterior)}\\"
        r"\mathcal{L}(q,\theta)&=\mathbb{E}_{q}\big[\log p(X,Z\mid\theta)-\log q(Z)\big]"
        + rf"&&{tex(dec.elbo)}={tex(dec.energy)}+{tex(dec.entropy)}"
        r"\end{aligned}"
    )

    st.subheader(t("log p = ELBO + KL"))
    b1, b2 = st.columns([2.6, 1], gap="medium")
    with b2:
        st.metric(t("log p(X|θ)"), fmt(dec.log_marginal))
        st.metric(t("ELBO L(q,θ)"), fmt(dec.elbo))
        st.metric(t("KL(q‖p(Z|X,θ)) = gap"), fmt(dec.kl_posterior))
        if abs(dec.kl_posterior) < 1e-9:
            st.success(t("q is the posterior: the bound touches, the gap is 0 to rounding."))
    with b1:
        baseline = min(elbo_prior, dec.elbo)
        baseline -= 0.05 * max(dec.log_marginal - baseline, 1.0)
        show(lazy(evidence_bar_spec, dec.log_marginal, dec.elbo, dec.kl_posterior, baseline=baseline, lang=lang()),
             key="eg_bar_chart", share=0.7,
             alt=t("Bar chart: log p(X|θ) as one bar, and below it the ELBO and the KL gap, which add up to it."))
        prose(t("Both bars start at the same baseline b, just below the ELBO of q = prior, and the axis shows "
                     "the real values: log p(X|θ) is a large negative number, so bars drawn from 0 would all look "
                     "equally long. The blue ELBO bar plus the red KL bar is exactly as long as the grey log p bar; "
                     "the dashed line marks log p."), caption=True)

    st.subheader(t("Three ways to write the same ELBO"))
    st.latex(
        r"\begin{aligned}"
        r"\mathcal{L}(q,\theta)&=\mathbb{E}_q[\log p(X,Z\mid\theta)]+\mathrm{H}(q)"
        + rf"&&={tex(dec.energy)}+{tex(dec.entropy)}\\"
        r"&=\mathbb{E}_q[\log p(X\mid Z,\theta)]-\mathrm{KL}\big(q\,\|\,p(Z\mid\theta)\big)"
        + rf"&&={tex(dec.expected_log_lik)}-{tex(dec.kl_prior)}\\"
        r"&=\log p(X\mid\theta)-\mathrm{KL}\big(q\,\|\,p(Z\mid X,\theta)\big)"
        + rf"&&={tex(dec.log_marginal)}-{tex(dec.kl_posterior)}\;=\;{tex(dec.elbo)}"
        r"\end{aligned}"
    )
    show(lazy(decomposition_spec, dec, lang=lang()), key="eg_decomp_chart", share=1.0,
         alt=t("Three rows of bars: three ways to split the same ELBO into two terms."))
    prose(t("Energy + entropy: fit of the complete data plus the spread of q. Expected log-likelihood − KL to "
                 "the prior: how well the z drawn from q explain x, minus how far q strays from p(z). log p − KL to "
                 "the posterior: the evidence minus the gap."), caption=True)

    st.subheader(t("Hold q, move θ"))
    coords = teaching.selectable_coordinates(model, params)
    g1, g2 = st.columns([1, 3], gap="medium")
    with g1:
        default = next((c for c in coords if c.startswith(("means[0]", "heads_probs[0]"))), coords[0])
        coord = st.selectbox(t("Coordinate of θ"), coords, index=coords.index(default),
                             format_func=lambda c: f"{coordinate_label(c)}   ({c})", key=f"eg_coord_{sig}",
                             bind="query-params")
        prose(t("q stays the distribution chosen above while θ moves along this coordinate (the others held). "
                      "The bound L(q, θ) stays below log p(X|θ) everywhere; the shaded gap is KL(q ‖ p(Z|X, θ)). "
                      "After the E-step it is zero at the current θ, and away from it it is usually positive: it is "
                      "zero only where p(Z|X, θ) equals q again."))
    try:
        values, f, bound, cur = gap_curve(setup.model_name, x, params, q, coord)
    except ValueError as err:
        fail(err, "Choose another coordinate.")
        return
    with g2:
        show(lazy(gap_spec, values, f, bound, current=(cur, dec.log_marginal, dec.elbo), x_label=coordinate_label(coord),
                        lang=lang()), key="eg_gap_chart", share=0.73,
             alt=t("Line chart of log p(X|θ) and the ELBO of a fixed q over one coordinate of θ; the gap between them "
                   "is shaded."))


# ---- page ------------------------------------------------------------------------------------------
st.title(t("The ELBO and the KL gap"))
prose(t(
    "For any distribution q(Z) over the latent variables, log p(X|θ) splits exactly into the ELBO L(q, θ) "
    "and the gap KL(q ‖ p(Z|X, θ)) ≥ 0. Move q from the prior (t = 0) to the posterior (t = 1), or set q(z_n) "
    "for one data point by hand: log p stays put, the ELBO rises as the KL gap shrinks, and at the posterior "
    "(the E-step) the gap is zero."
))
formula = st.empty()

setup = model_controls("eg_", layout="row", theta_expanded=False)
if setup is None:
    st.stop()
x, params = setup.x, setup.params
try:
    prior, post, elbo_prior, ruled_out = endpoints(setup.model_name, x, params)
except ValueError as err:
    fail(err, "Choose other values of θ.")
    st.stop()
q_section(setup, prior, post, elbo_prior, ruled_out, formula)
show_code(vc.decompose, vc.elbo)
