"""What every page shares: the language, the translation shortcut, chart display.

Pages stay thin: widgets in, one cached call into vizcore, figures out.
"""
from __future__ import annotations

import streamlit as st

from vizcore.i18n import tr

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def lang() -> str:
    return st.session_state.get("lang", "en")


def t(text: str) -> str:
    """Translate a user-facing string into the session's language."""
    return tr(text, lang())


def show(fig, key: str, alt: str | None = None) -> None:
    """Draw a plotly figure with the project's defaults and a stable key."""
    st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width="stretch")


def fail(err: Exception, remedy: str) -> None:
    """Show a user-facing error with a remedy instead of a traceback."""
    st.error(f"{t(str(err))}\n\n{t(remedy)}")
