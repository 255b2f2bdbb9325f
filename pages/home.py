"""Home: the whole story on one screen, with one live figure of log p(x) = ELBO + KL."""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

import vizcore as vc
from pages._common import cache_data, lang, lazy, prose, show, show_code, t
from vizcore import teaching
from vizcore.figures.bounds import evidence_bar_spec, fmt, tex

MODEL, DATASET = "gmm1d", "faithful_waiting"
PARAMS = dict(weights=[0.5, 0.5], means=[55.0, 80.0], variances=[36.0, 36.0])

# The pages in teaching order: (path as registered in app.py, title, one sentence).
STORY = (
    ("pages/latent_models.py", "Latent-variable models",
     "A model p(x, z|θ) with a hidden z: mixtures, coins and genetic linkage, and what the data look like."),
    ("pages/lower_bounds.py", "Maximising through lower bounds",
     "When log p(X|θ) is hard to maximise, climb a family of bounds that touch it instead."),
    ("pages/kl_divergence.py", "KL divergence",
     "KL(q ‖ p) ≥ 0, zero only when q = p, and not symmetric: the measure of the gap."),
    ("pages/elbo_gap.py", "The ELBO and the KL gap",
     "log p(X|θ) = ELBO + KL(q ‖ p(Z|X, θ)): choose q, watch the gap close at the posterior."),
    ("pages/em.py", "EM, step by step",
     "Alternate the two moves: the E-step closes the gap, the M-step climbs the bound; log p never falls."),
)


@cache_data(show_spinner=False)
def story_numbers(t_value: float):
    model = vc.get_model(MODEL)
    x = vc.load_dataset(DATASET)
    params = model.make_params(PARAMS)
    prior_elbo = vc.elbo(model, x, params, vc.prior_resp(model, x, params))
    return vc.decompose(model, x, params, teaching.path_resp(model, x, params, t_value)), prior_elbo


def page_entry(path: str, title: str, sentence: str, number: int) -> None:
    """A link to a page with one sentence; plain text when the page is not in a navigation (e.g. in tests)."""
    try:
        st.page_link(path, label=f"{number}. {t(title)}", icon=":material/arrow_forward:")
    except StreamlitAPIException:  # page not in a navigation (e.g. this file run alone): still tell the story
        st.markdown(f"**{number}. {t(title)}**")
    st.caption(t(sentence))


st.title(t("Variational lower bounds, live"))
prose(t(
    "A model with hidden variables Z has a log-likelihood log p(X|θ) that is hard to maximise directly. "
    "Any distribution q(Z) gives a lower bound, the ELBO L(q, θ), and the bound misses log p by exactly "
    "KL(q ‖ p(Z|X, θ)). Move q below and watch the two pieces trade places."
))

left, right = st.columns([1.7, 1], gap="large")
with left:
    tv = st.slider(t("q from the prior p(Z) (0) to the posterior p(Z|X, θ) (1)"), 0.0, 1.0, 0.3, 0.05, key="home_t",
                   bind="query-params")
    dec, prior_elbo = story_numbers(float(tv))
    st.latex(  # two centred lines: a bare \\ is no line break in display mode (KaTeX warned in the console)
        r"\begin{gathered}\log p(X\mid\theta)=\mathcal{L}(q,\theta)+\mathrm{KL}\big(q(Z)\,\|\,p(Z\mid X,\theta)\big)"
        + rf"\\{tex(dec.log_marginal)}={tex(dec.elbo)}+{tex(dec.kl_posterior)}\end{{gathered}}"
    )
    baseline = prior_elbo - 0.05 * max(dec.log_marginal - prior_elbo, 1.0)
    show(lazy(evidence_bar_spec, dec.log_marginal, dec.elbo, dec.kl_posterior, baseline=baseline, lang=lang(),
                             height=200), key="home_chart", share=0.6,
         alt=t("Bar chart: log p(X|θ) as one bar, and below it the ELBO and the KL gap, which add up to it."))
    prose(t("Old Faithful waiting times, two Gaussian components (means 55 and 80, variances 36). "
                 "Bars start at a common baseline below the ELBO of q = prior; log p stays fixed, the ELBO "
                 "grows and the KL gap shrinks to 0 at the posterior."), caption=True)
with right:
    st.subheader(t("The story, in order"))
    for i, (path, title, sentence) in enumerate(STORY, start=1):
        page_entry(path, title, sentence, i)
show_code(vc.decompose, teaching.path_resp)
