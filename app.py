"""Entry point and router: ``streamlit run app.py``.

The pages are grouped in teaching order. Everything a page needs is computed
by ``vizcore``; the pages only hold widgets and figures.
"""
from pathlib import Path

import streamlit as st

from pages import _chart, _export, _url_state
from pages._common import end_page, presenting, settings, t

st.set_page_config(page_title="Variational lower bounds", page_icon="📐", layout="wide")
_chart.preload()  # plotly.js starts loading before the page's first chart (hidden)
st.html(Path(__file__).parent / "pages" / "_page.css")  # stale elements fade only in a slow run (the file says why)
settings()  # the language (?lang=zh) and presenter mode (?present=true), shared by every page
st.set_page_config(page_title=t("Variational lower bounds"),
                   initial_sidebar_state="collapsed" if presenting() else "auto")

PAGES = {
    t("Start"): [
        st.Page("pages/home.py", title=t("Home"), url_path="home", default=True),
    ],
    t("Models and bounds"): [
        st.Page("pages/latent_models.py", title=t("Latent-variable models"), url_path="latent_models"),
        st.Page("pages/lower_bounds.py", title=t("Maximising through lower bounds"), url_path="lower_bounds"),
        st.Page("pages/kl_divergence.py", title=t("KL divergence"), url_path="kl_divergence"),
        st.Page("pages/elbo_gap.py", title=t("The ELBO and the KL gap"), url_path="elbo_gap"),
    ],
    t("Learning"): [st.Page("pages/em.py", title=t("EM, step by step"), url_path="em")],
    t("Beyond EM"): [
        st.Page("pages/variational.py", title=t("Variational inference"), url_path="variational"),
    ],
}

_url_state.begin()    # the address as opened: checked after the page ran (end_page)
_export.begin_run()   # the page's figures and data, offered in the sidebar's "Export" (end_page)
st.navigation(PAGES, expanded=True).run()
end_page()
