"""AppTest of pages/home.py: the live log p = ELBO + KL figure and the story links."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

import vizcore as vc  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

PAGE = str(ROOT / "pages" / "home.py")
STORY = ["Latent-variable models", "Maximising through lower bounds", "KL divergence", "The ELBO and the KL gap",
         "EM, step by step"]


def _arr(v) -> np.ndarray:
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
    return np.array(v, dtype=float)


def _run(at):
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error
    return at


def _spec(at) -> dict:
    charts = charts_of(at)
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _bar_end(spec, meta) -> float:
    d = next(d for d in spec["data"] if d.get("meta") == meta)
    return float(_arr(d["base"])[0] + _arr(d["x"])[0])


def _independent(t):
    m = vc.get_model("gmm1d")
    x = vc.load_dataset("faithful_waiting")
    p = m.make_params(weights=[0.5, 0.5], means=[55, 80], variances=[36, 36])
    q = vc.interpolate_resp(vc.prior_resp(m, x, p), vc.posterior(m, x, p), t)
    return vc.log_marginal(m, x, p), vc.elbo(m, x, p, q), vc.kl_gap(m, x, p, q)


def test_home_runs_alone_and_tells_the_story_without_navigation():
    at = _run(AppTest.from_file(PAGE, default_timeout=60))
    text = " ".join(m.value for m in at.markdown)
    for title in ("Latent-variable models", "Maximising through lower bounds", "KL divergence",
                  "The ELBO and the KL gap", "EM, step by step"):
        assert title in text
    assert len(at.caption) >= 6


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_numbers_equal_independent_computation(t):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.slider(key="home_t").set_value(t)
    _run(at)
    lp, elbo, kl = _independent(t)
    spec = _spec(at)
    assert _bar_end(spec, "log_p") == pytest.approx(lp, rel=1e-12)
    assert _bar_end(spec, "elbo") == pytest.approx(elbo, rel=1e-12)
    assert _bar_end(spec, "kl") == pytest.approx(lp, rel=1e-9)
    latex = at.latex[0].value
    assert f"{lp:.4f}" in latex and f"{elbo:.4f}" in latex
    page_kl = _bar_end(spec, "kl") - _bar_end(spec, "elbo")     # the KL bar's length, as drawn
    assert page_kl == pytest.approx(kl, abs=1e-9 * abs(lp))
    if t == 1.0:
        assert abs(page_kl) < 1e-9 * abs(lp)                    # q = the posterior: the bars meet


def test_slider_changes_the_figure():
    at = _run(AppTest.from_file(PAGE, default_timeout=60))
    before = _spec(at)
    at.slider(key="home_t").set_value(0.9)
    _run(at)
    assert _spec(at) != before


def test_page_links_work_under_the_navigation():
    at = _run(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    links = at.get("page_link")
    assert [link.proto.label.split(". ", 1)[1] for link in links] == STORY
    # each link resolved to a registered page (a url path and the page's script hash)
    assert all(link.proto.page and link.proto.page_script_hash for link in links)
    assert len({link.proto.page_script_hash for link in links}) == len(STORY)
