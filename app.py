"""Entry point and router: ``streamlit run app.py``.

The pages are grouped in teaching order. Everything a page needs is computed
by ``vizcore``; the pages only hold widgets and figures.
"""
import streamlit as st

from pages._common import t

st.set_page_config(page_title="Variational lower bounds", page_icon="📐", layout="wide")

PAGES = {
    t("Start"): [
        st.Page("pages/home.py", title=t("Home"), url_path="home", default=True),
    ],
    t("Models and bounds"): [
        st.Page("pages/latent_models.py", title=t("Latent-variable models"), url_path="latent-models"),
        st.Page("pages/lower_bounds.py", title=t("Maximising through lower bounds"), url_path="lower-bounds"),
        st.Page("pages/kl_divergence.py", title=t("KL divergence"), url_path="kl-divergence"),
        st.Page("pages/elbo_gap.py", title=t("The ELBO and the KL gap"), url_path="elbo-gap"),
    ],
}

st.navigation(PAGES, expanded=True).run()
