"""The KL-divergence page under Streamlit's AppTest: it runs for every family,
its widgets change what is drawn, and the special cases (q = p, KL = ∞, slider
extremes) are shown as they should be."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from plotly_checks import charts as charts_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # so the page can import pages._common and vizcore
    sys.path.insert(0, str(ROOT))

PAGE = str(ROOT / "pages" / "kl_divergence.py")
FAMILIES = ("gaussian", "mixture", "uniform", "bernoulli", "categorical")
CHARTS = 5  # densities, integrand, two heatmaps, fit


def run_page(family: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    if family is not None:
        at.radio(key="kl_family").set_value(family).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in charts_of(at)]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest, kind: str) -> str:
    return " ".join(el.value for el in getattr(at, kind))


def family_sliders(at: AppTest, family: str) -> list:
    return [s for s in at.slider if s.key.startswith(f"kl_{family}_")]


@pytest.mark.parametrize("family", FAMILIES)
def test_page_runs_for_every_family(family):
    at = run_page(family)
    assert len(charts_of(at)) == CHARTS
    assert set(metrics(at)) == {"KL(q‖p)", "KL(p‖q)"}
    for value in metrics(at).values():
        assert value == "∞" or float(value) >= 0
    assert len(at.latex) >= 2
    for spec in specs(at):
        assert spec["data"], "every chart draws something"


@pytest.mark.parametrize("family", ["gaussian", "mixture", "bernoulli"])
def test_moving_a_main_slider_redraws_the_charts_and_changes_kl(family):
    at = run_page(family)
    before, kl_before = specs(at), metrics(at)
    slider = family_sliders(at, family)[-1]        # a q slider
    new = slider.min if slider.value != slider.min else slider.max
    slider.set_value(new).run()
    assert not at.exception
    after = specs(at)
    assert json.dumps(before[0]["data"]) != json.dumps(after[0]["data"])   # p and q
    assert json.dumps(before[1]["data"]) != json.dumps(after[1]["data"])   # integrand
    assert metrics(at)["KL(q‖p)"] != kl_before["KL(q‖p)"]


def test_fit_sliders_redraw_heatmaps_and_fit():
    at = run_page()
    before = specs(at)
    at.slider(key="kl_fit_separation").set_value(2.0).run()
    assert not at.exception
    after = specs(at)
    for i in (2, 3, 4):
        assert json.dumps(before[i]["data"]) != json.dumps(after[i]["data"])
    names = " ".join(trace.get("name", "") for trace in after[4]["data"])
    assert "mode-seeking" in names and "mass-covering" in names


def test_heatmaps_mark_their_minimum():
    at = run_page()
    for spec in specs(at)[2:4]:
        kinds = [trace["type"] for trace in spec["data"]]
        assert "heatmap" in kinds
        marks = [t for t in spec["data"] if t["type"] == "scatter" and t.get("marker", {}).get("symbol") == "x"]
        assert len(marks) == 1


@pytest.mark.parametrize("family", FAMILIES)
def test_q_equal_p_shows_zero(family):
    at = run_page(family)
    at.button(key="kl_copy_p_to_q").click().run()
    assert not at.exception
    assert metrics(at) == {"KL(q‖p)": "0.0000", "KL(p‖q)": "0.0000"}
    assert "both divergences are exactly 0" in texts(at, "success")


def test_q_equal_p_by_moving_sliders():
    at = run_page("gaussian")
    at.slider(key="kl_gaussian_q_mean").set_value(at.slider(key="kl_gaussian_p_mean").value)
    at.slider(key="kl_gaussian_q_sd").set_value(at.slider(key="kl_gaussian_p_sd").value).run()
    assert metrics(at)["KL(q‖p)"] == "0.0000"
    assert at.success


def test_equal_values_in_both_directions_are_not_called_asymmetric():
    """KL(q‖p) = KL(p‖q) for two Gaussians of one width: the page says so instead of "changes the value"."""
    at = run_page("gaussian")
    at.slider(key="kl_gaussian_q_sd").set_value(at.slider(key="kl_gaussian_p_sd").value).run()
    m = metrics(at)
    assert m["KL(q‖p)"] == m["KL(p‖q)"] != "0.0000"
    assert "changes the value" not in texts(at, "caption")
    assert "although q ≠ p" in texts(at, "caption") and not at.success
    at.slider(key="kl_gaussian_q_sd").set_value(0.8).run()  # widths differ: the values part
    assert "changes the value" in texts(at, "caption") and "although q ≠ p" not in texts(at, "caption")


def test_a_mixture_written_in_the_other_order_is_q_equal_p():
    """p = 0.5·N(−2, 0.8²) + 0.5·N(2, 0.8²) and q, the same with its components swapped: one density, KL = 0."""
    at = run_page("mixture")
    for name, value in (("weight", 0.5), ("mean1", 2.0), ("sd1", 0.8), ("mean2", -2.0), ("sd2", 0.8)):
        at.slider(key=f"kl_mixture_q_{name}").set_value(value)
    at.run()
    assert not at.exception
    assert metrics(at) == {"KL(q‖p)": "0.0000", "KL(p‖q)": "0.0000"}
    assert "both divergences are exactly 0" in texts(at, "success")
    assert "changes the value" not in texts(at, "caption")


def test_bernoulli_with_p_at_zero_is_infinite_and_explained():
    at = run_page("bernoulli")
    at.slider(key="kl_bernoulli_p_theta").set_value(0.0)
    at.slider(key="kl_bernoulli_q_theta").set_value(0.3).run()
    assert not at.exception
    shown = metrics(at)
    assert shown["KL(q‖p)"] == "∞"
    assert shown["KL(p‖q)"] != "∞"                   # the other direction is finite
    warning = texts(at, "warning")
    assert "q puts mass where p has none" in warning and "30.0%" in warning
    integrand = specs(at)[1]
    assert any("+∞" in (t.get("name") or "") for t in integrand["data"])


def test_uniform_sticking_out_is_infinite_one_way_only():
    at = run_page("uniform")
    assert metrics(at)["KL(q‖p)"] != "∞"             # default q lies inside p
    assert metrics(at)["KL(p‖q)"] == "∞"
    assert "p puts mass where q has none" in texts(at, "warning")
    assert at.info


def _set_all(at: AppTest, family: str, end: str) -> None:
    for s in family_sliders(at, family):
        s.set_value(s.min if end == "min" else s.max)
    at.slider(key="kl_fit_separation").set_value(0.0 if end == "min" else 8.0)
    at.slider(key="kl_fit_weight").set_value(0.0 if end == "min" else 1.0)
    at.run()


@pytest.mark.parametrize("end", ["min", "max"])
@pytest.mark.parametrize("family", FAMILIES)
def test_slider_extremes_render_without_nan(family, end):
    at = run_page(family)
    _set_all(at, family, end)
    assert not at.exception, [e.message for e in at.exception]
    for value in metrics(at).values():
        assert value == "∞" or float(value) >= 0
    assert "nan" not in " ".join(metrics(at).values()).lower()
    for spec in specs(at):
        assert "NaN" not in json.dumps(spec["layout"].get("title", ""))
    if family == "categorical" and end == "min":
        assert "All weights are zero" in texts(at, "warning")


def test_page_runs_in_another_language():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception
    assert len(charts_of(at)) == CHARTS


def test_every_widget_has_a_kl_key():
    at = run_page()
    for widget in [*at.slider, *at.radio, *at.button]:
        assert widget.key and widget.key.startswith("kl_"), widget
