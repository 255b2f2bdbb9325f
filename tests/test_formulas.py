"""Every formula a page shows is LaTeX that LaTeX itself would set as KaTeX does (AppTest, every page and model).

``st.latex`` is typeset in display mode, where a line break ``\\\\`` outside an environment (``aligned``,
``gathered``, …) does nothing in LaTeX. KaTeX breaks the line anyway and logs a warning in the browser's console;
the home page's formula did that (tests/conftest.py's ``page`` now counts such warnings as errors in the browser
tests). This checks the formulas of every model on every page, as the pages write them.
"""
from __future__ import annotations

import pytest

from test_url_state import app

MODELS = ("gmm1d", "gmm2d", "coins", "linkage")


def bare_line_breaks(tex: str) -> list[str]:
    r"""The text around each line break (``\\`` or ``\newline``) of ``tex`` that no ``\begin…\end`` encloses."""
    found, depth, i = [], 0, 0
    while i < len(tex):
        if tex.startswith(r"\begin{", i):
            depth, i = depth + 1, i + 7
        elif tex.startswith(r"\end{", i):
            depth, i = depth - 1, i + 5
        elif tex.startswith("\\\\", i) or tex.startswith(r"\newline", i):
            if depth == 0:
                found.append(tex[max(0, i - 30):i + 30])
            i += 2
        elif tex[i] == "\\":
            i += 2          # a control sequence or an escaped character: \{ \| \, …
        else:
            i += 1
    return found


def test_the_check_finds_a_bare_line_break_and_passes_an_enclosed_one():
    assert bare_line_breaks(r"a = b \\ c = d")
    assert bare_line_breaks(r"a \newline b")
    assert bare_line_breaks(r"\begin{aligned} a &= b \end{aligned} \\ c")
    assert not bare_line_breaks(r"\begin{aligned} a &= b \\[3pt] c &= d \end{aligned}")
    assert not bare_line_breaks(r"\begin{gathered} a \\ \begin{matrix} b \\ c \end{matrix} \end{gathered}")
    assert not bare_line_breaks(r"\{a\} \| b \, c")


def _formulas(label: str, at) -> tuple[str, list[str]]:
    assert not at.exception, label
    return label, [el.value for el in at.latex]


def _latent_models():
    at = app("pages/latent_models.py")
    for m in MODELS:
        yield _formulas(m, at.radio(key="lvm_model").set_value(m).run())


def _with_model_controls(page: str, prefix: str):
    at = app(f"pages/{page}.py")
    for m in MODELS:
        yield _formulas(m, at.selectbox(key=f"{prefix}model").set_value(m).run())


def _kl_divergence():
    at = app("pages/kl_divergence.py")
    for family in list(at.radio(key="kl_family").options):
        yield _formulas(family, at.radio(key="kl_family").set_value(family).run())


PAGES = {
    "home": lambda: [_formulas("default", app("pages/home.py"))],
    "latent_models": _latent_models,
    "lower_bounds": lambda: _with_model_controls("lower_bounds", "lb_"),
    "elbo_gap": lambda: _with_model_controls("elbo_gap", "eg_"),
    "em": lambda: _with_model_controls("em", "em_"),
    "kl_divergence": _kl_divergence,
    "variational": lambda: [_formulas("default", app("pages/variational.py"))],
}


@pytest.mark.parametrize("page", list(PAGES))
def test_no_formula_has_a_line_break_outside_an_environment(page):
    seen = 0
    for label, formulas in PAGES[page]():
        assert formulas, f"{page}/{label} shows no formula"
        seen += 1
        bad = {tex[:60]: bare_line_breaks(tex) for tex in formulas if bare_line_breaks(tex)}
        assert not bad, f"{page}/{label}: {bad}"
    assert seen >= 1
