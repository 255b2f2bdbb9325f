"""The fragments of elbo_gap and lower_bounds on an error, in AppTest (bench/README.md, item 44).

Each fragment returns early when its numbers cannot be computed. The page must then show the error with its
remedy, not a traceback, and the formula at the top of the page, which the fragment fills, must show no
numbers. (That a fragment rerun leaves the rest of the page alone is checked in a browser:
tests/test_browser_fragments.py.)
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

import vizcore as vc  # noqa: E402

# page, the vizcore function its fragment calls first, the remedy shown, a piece of the formula at the top
CASES = {
    "elbo_gap": ("decompose", "Move the q sliders", r"\mathcal{L}(q,\theta)+\mathrm{KL}"),
    "lower_bounds": ("bound_family", "Choose other values of θ", r"\forall q"),
}


@pytest.mark.parametrize("page", list(CASES))
def test_a_fragment_that_fails_shows_its_remedy_and_no_formula(page, monkeypatch):
    name, remedy, formula = CASES[page]

    def broken(*args, **kwargs):
        raise ValueError("theta: outside the model's parameter space")

    st.cache_data.clear()   # the page's cached results would not call the broken function
    monkeypatch.setattr(vc, name, broken)
    try:
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=60).run()
    finally:
        st.cache_data.clear()
    assert not at.exception, [e.message for e in at.exception]
    assert any(remedy in e.value for e in at.error), [e.value for e in at.error]
    assert not any(formula in lx.value for lx in at.latex)
    monkeypatch.undo()
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=60).run()
    assert any(formula in lx.value for lx in at.latex), "the formula marker is not the page's formula"
