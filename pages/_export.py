"""Export what a page shows: every figure as a standalone offline HTML file, data as CSV.

* :func:`register` is called by :func:`pages._common.show` for every chart drawn in this run;
  :func:`register_data` by the controls that load or draw data;
* :func:`begin_run` (``app.py``, before the page runs) forgets the previous page's figures;
* :func:`panel` (``app.py``, after the page ran) draws the "Export" expander in the sidebar:
  one download per figure and per data set.

The files are built only when a button is clicked (``st.download_button(data=callable)``):
an HTML file carries all of plotly.js (≈ 5 MB) so that it opens without internet, which
would be far too much to send on every rerun. PNG comes from the camera button of each
chart's toolbar (plotly, in the browser; ``toImageButtonOptions`` in
:data:`pages._common.PLOTLY_CONFIG`), so the server needs no image engine.
"""
from __future__ import annotations

import io
import re

import numpy as np
import streamlit as st

from vizcore.figures.catalog import to_html

FIGURES = "_export_figures"     # session-state key: {chart key: (figure, label)} of this run
DATA = "_export_data"           # session-state key: {name: (label, callable → CSV text)} of this run


def begin_run() -> None:
    """Start a new page run: the figures and data of the previous run are forgotten."""
    st.session_state[FIGURES] = {}
    st.session_state[DATA] = {}


def register(key: str, fig, label: str | None = None) -> None:
    """Remember a figure drawn in this run: a plotly figure, or a lazy one built on click."""
    st.session_state.setdefault(FIGURES, {})[key] = (fig, label)


def register_data(name: str, label: str, make_csv) -> None:
    """Offer a data set for download: ``make_csv()`` returns its CSV text (called only on click)."""
    st.session_state.setdefault(DATA, {})[name] = (label, make_csv)


def _title(fig) -> str | None:
    try:
        text = (fig.get("layout") or {}).get("title", {}).get("text") if isinstance(fig, dict) else fig.layout.title.text
    except AttributeError:
        try:
            text = fig.to_dict().get("layout", {}).get("title", {}).get("text")
        except Exception:  # noqa: BLE001
            text = None
    if not text:
        return None
    text = re.sub(r"<[^>]+>", "", str(text)).strip()
    return text or None


def file_stem(key: str) -> str:
    """A safe file name from a chart key: ``lb_family_chart`` → ``lb_family_chart``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(key)).strip("_") or "figure"


def figure_html(fig, key: str) -> str:
    """The figure as a standalone HTML page with plotly.js inlined (works offline).

    A lazy figure (``pages._common.Lazy``) is built here, on click: the file holds the figure as
    built, without the display styling of the page.
    """
    if callable(getattr(fig, "build", None)):
        fig = fig.build()
    return to_html(fig, title=_title(fig) or key, filename=file_stem(key))


def csv_text(columns, rows) -> str:
    """A CSV with a header row; numbers written exactly (``repr``), so the file reads back identically."""
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    for row in np.atleast_2d(np.asarray(rows)):
        out.write(",".join(_cell(v) for v in np.ravel(row)) + "\n")
    return out.getvalue()


def _cell(v) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 2 ** 53 else repr(v)


def data_csv(model, x, z=None) -> str:
    """The data in the model's CSV layout (``vizcore.read_csv`` reads it back), plus the true z if known."""
    x = np.asarray(x)
    cols = list(model.data_columns)
    rows = x.reshape(len(x), -1)
    if z is not None and len(np.ravel(z)) == len(rows):
        return csv_text(cols + ["z"], np.column_stack([rows, np.ravel(z)]))
    return csv_text(cols, rows)


def _lazy_html(registry: dict, key: str):
    def make() -> str:
        fig, _ = registry[key]
        return figure_html(fig, key)
    return make


def panel(t) -> None:
    """The sidebar "Export" expander: every figure of this run as HTML, the data as CSV.

    ``t`` is the translation function (passed in to keep this module free of the page helpers).
    """
    figures = st.session_state.get(FIGURES) or {}
    data = st.session_state.get(DATA) or {}
    if not figures and not data:
        return
    with st.sidebar, st.expander(t("Export"), icon=":material/download:", key="_export_panel"):
        if figures:
            st.caption(t("Each figure as a standalone HTML file (works offline, interactive). For a PNG, use the "
                         "camera button in the chart's toolbar."))
            for key, (fig, label) in list(figures.items()):
                name = label or _title(fig) or key
                name = name if len(name) <= 48 else name[:47] + "…"
                st.download_button(name, data=_lazy_html(figures, key), file_name=f"{file_stem(key)}.html",
                                   mime="text/html", on_click="ignore", type="tertiary",
                                   icon=":material/bar_chart:", key=f"_export_fig_{key}")
        if data:
            st.caption(t("The data as CSV (reads back with “Upload a CSV file”)."))
            for name, (label, make) in list(data.items()):
                st.download_button(label, data=make, file_name=f"{file_stem(name)}.csv", mime="text/csv",
                                   on_click="ignore", type="tertiary", icon=":material/table:",
                                   key=f"_export_data_{name}")
