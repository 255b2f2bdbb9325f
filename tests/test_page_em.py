"""The EM page in Streamlit's AppTest: the buttons move one half-step through an exact trace,
the numbers shown equal vizcore's computed independently, every model and view runs."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

import vizcore as vc  # noqa: E402
from vizcore import em_views as ev  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

PAGE = str(ROOT / "pages" / "em.py")
MODEL_TITLES = {"gmm1d": "faithful_waiting", "gmm2d": "old_faithful", "coins": "two_coins",
                "linkage": "genetic_linkage"}


def app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def exact(at) -> dict[str, float]:
    """The full-precision numbers of the "Exact values" block."""
    text = next(c.value for c in at.text if "log p(X|theta)" in c.value)
    out = {}
    for key, label in (("log_p", "log p(X|theta)"), ("bound", "L(q, theta)"), ("gap", "gap (KL)")):
        m = re.search(re.escape(label) + r"\s*=\s*(\S+)", text)
        out[key] = float("nan") if m.group(1) == "—" else float(m.group(1))
    out["step"] = int(re.search(r"half-step\s*=\s*(\d+)", text).group(1))
    return out


def chart(at, key: str = "em_figure") -> dict:
    for el in charts_of(at):
        if getattr(el.proto, "id", "").endswith(key) or key in str(getattr(el.proto, "id", "")):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key}")


def frame_with(at, column: str):
    """The dataframe shown with a column called ``column``."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a column {column!r}")


def table_with(at, column: str) -> tuple[list[str], list[list[str]]]:
    """The Markdown table shown with a column called ``column``: its header and rows, as the reader sees them."""
    from pages._guards import unescape_markdown
    for md in at.markdown:
        lines = [line for line in md.value.splitlines() if line.startswith("| ")]
        cells = [[unescape_markdown(c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
        if len(cells) >= 2 and column in cells[0]:
            assert all(len(row) == len(cells[0]) for row in cells), cells
            return cells[0], cells[2:]
    raise AssertionError(f"no table with a column {column!r}")


def step_slider(at):
    """The half-step slider (its key names the run: em_step_<hash of model, data, start>)."""
    return next(w for w in at.slider if (w.key or "").startswith("em_step_"))


def button(at, key):
    return at.button(key=key)


def default_start():
    """The page's default start for gmm1d: k-means++ with seed 0 on the waiting times."""
    x = vc.load_dataset("faithful_waiting")
    return x, ev.init_params("gmm1d", x, 2, "kmeans++", np.random.default_rng(0))


# ---- the E-step and M-step buttons ------------------------------------------------------------------
def test_e_step_makes_the_bound_touch_log_p():
    at = app()
    x, init = default_start()
    assert not button(at, "em_e").disabled and button(at, "em_m").disabled
    assert not np.isfinite(exact(at)["bound"]), "no q before the first E-step"
    block = next(c.value for c in at.text if "log p(X|theta)" in c.value)
    assert re.search(r"^L\(q, theta\) = —$", block, re.M) and re.search(r"^gap \(KL\) = —$", block, re.M), block
    before = chart(at)
    button(at, "em_e").click().run()
    assert not at.exception
    v = exact(at)
    assert v["step"] == 1
    log_p = vc.log_marginal("gmm1d", x, init)
    bound = vc.elbo("gmm1d", x, init, vc.posterior("gmm1d", x, init))
    assert v["log_p"] == pytest.approx(log_p, rel=1e-12)
    assert v["bound"] == pytest.approx(bound, rel=1e-12)
    assert abs(v["bound"] - v["log_p"]) <= 1e-9 * abs(v["log_p"])
    assert button(at, "em_e").disabled and not button(at, "em_m").disabled
    after = chart(at)
    assert after["data"][1]["y"] != before["data"][1]["y"], "the bound is drawn after the E-step"
    assert "E-step 1" in after["layout"]["title"]["text"]
    # the shown table of numbers agrees
    md = " ".join(m.value for m in at.markdown)
    assert f"{log_p:,.4f}".replace(",", " ").replace("-", "−") in md


def test_m_step_never_lowers_log_p_or_the_bound():
    at = app()
    x, init = default_start()
    trace = vc.run_em("gmm1d", x, init, max_iter=150, tol=1e-8)
    prev = None
    for s in range(1, 13):
        key = "em_e" if s % 2 == 1 else "em_m"
        button(at, key).click().run()
        assert not at.exception
        v = exact(at)
        assert v["step"] == s
        label, ti, log_p, bound = trace.half_steps()[s]
        assert v["log_p"] == pytest.approx(log_p, rel=1e-13) and v["bound"] == pytest.approx(bound, rel=1e-13)
        if prev is not None:
            assert v["log_p"] >= prev["log_p"] - 1e-9 * abs(prev["log_p"])
            assert v["bound"] >= prev["bound"] - 1e-9 * abs(prev["bound"])
            if key == "em_m":  # M raises the bound it maximises, and log p at least as much
                assert v["bound"] > prev["bound"] and v["log_p"] > prev["log_p"]
                assert v["log_p"] >= v["bound"]
        prev = v
    spec = chart(at)
    assert spec["layout"]["sliders"][0]["active"] == 12
    assert len(spec["frames"]) <= 62


def test_scrubbing_shows_the_recorded_half_step():
    at = app()
    x, init = default_start()
    trace = vc.run_em("gmm1d", x, init, max_iter=150, tol=1e-8)
    rows = trace.half_steps()
    charts = set()
    for s in (7, 2, 2 * trace.n_iter, 0, 15):
        step_slider(at).set_value(s).run()
        assert not at.exception
        v = exact(at)
        assert v["step"] == s
        assert v["log_p"] == pytest.approx(rows[s][2], rel=1e-13)
        if s:
            assert v["bound"] == pytest.approx(rows[s][3], rel=1e-13)
        spec = chart(at)
        assert spec["layout"]["sliders"][0]["steps"][spec["layout"]["sliders"][0]["active"]]["args"][0] == [str(s)]
        charts.add(json.dumps(spec["data"][0]))
        # E is next after start and after every M-step; M after every E-step
        assert button(at, "em_e").disabled == (s % 2 == 1 or s == 2 * trace.n_iter)
        assert button(at, "em_m").disabled == (s % 2 == 0)
    assert len(charts) > 2, "each half-step draws its own curves"


def test_run_to_convergence_and_reset():
    at = app()
    x, init = default_start()
    trace = vc.run_em("gmm1d", x, init, max_iter=150, tol=1e-8)
    button(at, "em_run").click().run()
    v = exact(at)
    assert v["step"] == 2 * trace.n_iter
    assert v["log_p"] == pytest.approx(trace.log_likelihood[-1], rel=1e-13)
    assert any("Converged" in c.value for c in at.caption)
    assert button(at, "em_run").disabled and button(at, "em_e").disabled
    button(at, "em_reset").click().run()
    assert exact(at)["step"] == 0 and button(at, "em_reset").disabled


def test_changing_the_start_resets_the_half_step_and_changes_the_numbers():
    at = app()
    button(at, "em_e").click().run()
    first = exact(at)
    at.number_input(key="em_init_seed").set_value(5).run()
    assert not at.exception
    v = exact(at)
    assert v["step"] == 0 and v["log_p"] != first["log_p"]
    x = vc.load_dataset("faithful_waiting")
    init = ev.init_params("gmm1d", x, 2, "kmeans++", np.random.default_rng(5))
    assert v["log_p"] == pytest.approx(vc.log_marginal("gmm1d", x, init), rel=1e-12)


# ---- every model, every view -------------------------------------------------------------------------
@pytest.mark.parametrize("model", list(MODEL_TITLES))
def test_every_model_and_view_runs(model):
    at = app()
    at.selectbox(key="em_model").set_value(model).run()
    assert not at.exception, [e.value for e in at.exception]
    views = at.selectbox(key="em_view").options
    for view in views:
        at.selectbox(key="em_view").set_value(view).run()
        assert not at.exception, (model, view, [e.value for e in at.exception])
        if not button(at, "em_reset").disabled:
            button(at, "em_reset").click().run()
        for key in ("em_e", "em_m", "em_e"):
            button(at, key).click().run()
            assert not at.exception, (model, view, key)
        v = exact(at)
        assert abs(v["log_p"] - v["bound"]) <= 1e-9 * abs(v["log_p"]), "after an E-step the bound touches"
        spec = chart(at)
        assert spec["frames"], "the figure carries its animation frames"
        assert not at.error, [e.value for e in at.error]
    if len(views) == 2:
        assert model == "linkage", "only one parameter: no plane view"
    at.selectbox(key="em_view").set_value(views[0]).run()
    at.checkbox(key="em_staircase").check().run()
    button(at, "em_run").click().run()
    assert not at.exception
    spec = chart(at)
    assert any(tr.get("name") == "EM path" for tr in spec["data"])


def test_coins_classic_keeps_the_weights_and_splits_the_tosses():
    at = app()
    at.selectbox(key="em_model").set_value("coins").run()
    assert at.radio(key="em_init_coins").value == "sliders"
    assert at.multiselect(key="em_fixed_coins").value == ["weights"]
    button(at, "em_e").click().run()
    button(at, "em_m").click().run()
    header, rows = table_with(at, "coin 1: H")
    x = vc.load_dataset("two_coins")
    init = vc.get_model("coins").make_params(weights=[0.5, 0.5], heads_probs=[0.6, 0.5])
    resp = vc.posterior("coins", x, init)
    heads = [float(row[header.index("coin 1: H")]) for row in rows]
    np.testing.assert_allclose(heads[:-1], (resp[:, 0] * x[:, 0]).round(2))
    assert rows[-1][0] == "total" and heads[-1] == pytest.approx(float(np.sum(resp[:, 0] * x[:, 0])), abs=0.005)
    # the M-step's p_k = Σ q h / Σ q n from this E-step; Do & Batzoglou (2008) print θ_A ≈ 0.71, θ_B ≈ 0.58
    p_new = (resp * x[:, :1]).sum(0) / (resp * x[:, 1:2]).sum(0)
    assert p_new.round(2).tolist() == [0.71, 0.58]
    assert any(f"{p_new[0]:.4f}" in lx.value and f"{p_new[1]:.4f}" in lx.value for lx in at.latex)


def test_gradient_ascent_with_a_huge_step_says_it_diverged():
    at = app()
    at.select_slider(key="em_ga_step_gmm1d").set_value(10.0).run()
    assert not at.exception
    assert any("diverged" in w.value for w in at.warning)
    at.select_slider(key="em_ga_step_gmm1d").set_value(1e-4).run()
    assert not any("diverged" in w.value for w in at.warning)


def test_restarts_show_label_switching():
    at = app()
    at.slider(key="em_restarts").set_value(6).run()
    assert not at.exception
    header, rows = table_with(at, "note")
    assert header == ["seed", "iterations", "final log p(X|θ)", "note", "final θ"]
    assert len(rows) == 6
    notes = " ".join(row[3] for row in rows)
    assert "label switching" in notes, notes
    x = vc.load_dataset("faithful_waiting")
    for row in rows:
        init = ev.init_params("gmm1d", x, 2, "kmeans++", np.random.default_rng(int(row[0])))
        run = vc.run_em("gmm1d", x, init, max_iter=150, tol=1e-8)
        assert float(row[2]) == pytest.approx(run.log_likelihood[-1], abs=1e-6)
        assert int(row[1]) == run.n_iter


def test_trace_table_and_download_are_there():
    at = app()
    x, init = default_start()
    trace = vc.run_em("gmm1d", x, init, max_iter=150, tol=1e-8)
    assert not at.dataframe, "the iteration table was sent before its panel was opened"
    at.session_state["em_table_panel"] = True   # pages/em.py TABLE_PANEL: what opening the expander does
    at.run()
    assert not at.exception
    table = frame_with(at, "log_likelihood")
    assert len(table) == trace.n_iter + 1
    np.testing.assert_allclose(table["log_likelihood"], trace.log_likelihood)
    assert at.get("download_button"), "a CSV download button"


def test_slider_extremes_render_without_nan_or_error():
    at = app()
    at.selectbox(key="em_data_gmm1d").set_value("synthetic").run()
    at.selectbox(key="em_k_gmm1d").set_value(4).run()
    at.radio(key="em_init_gmm1d").set_value("random").run()
    for key, values in (("em_restarts", (1, 8)), ("em_speed", (150, 2000)), ("em_ga_step_gmm1d", (1e-4, 10.0))):
        for v in values:
            widget = at.slider(key=key) if key == "em_restarts" else at.select_slider(key=key)
            widget.set_value(v).run()
            assert not at.exception and not at.error, (key, v)
    last = step_slider(at).max
    for s in (0, int(last)):
        step_slider(at).set_value(s).run()
        assert not at.exception and not at.error
        spec = chart(at)
        assert spec["layout"]["yaxis"]["range"][0] < spec["layout"]["yaxis"]["range"][1]
        assert all(np.isfinite(spec["layout"]["yaxis"]["range"]))
    v = exact(at)
    assert np.isfinite(v["log_p"]) and np.isfinite(v["bound"])


@pytest.mark.parametrize("state", [{"lang": "zh"}, {"present": True}])
def test_runs_in_chinese_and_in_presenter_mode(state):
    at = AppTest.from_file(PAGE, default_timeout=90)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    spec = chart(at)
    assert len(spec["frames"]) > 2 and spec["layout"]["sliders"][0]["active"] == 0
    if "lang" in state:
        # AppTest formats option labels in the test's own session (English), so it cannot set a widget
        # of a page drawn in Chinese; the page running without an exception is what is checked here.
        assert "EM" in at.title[0].value
        return
    button(at, "em_e").click().run()
    assert not at.exception
    v = exact(at)
    assert abs(v["log_p"] - v["bound"]) <= 1e-9 * abs(v["log_p"])
    spec = chart(at)
    assert spec["layout"]["sliders"][0]["active"] == 1
    assert spec["layout"]["title"]["font"]["size"] >= 28, "presenter mode enlarges the figure's text"


def test_linkage_formulas_use_the_totals_of_every_row():
    """A linkage file of two rows: the E- and M-step formulas written with numbers use the counts added up over
    the rows, and their results equal the trace's E[z] and θ₁ (vizcore computed them from all rows)."""
    at = app()
    at.selectbox(key="em_model").set_value("linkage").run()
    at.selectbox(key="em_data_linkage").set_value("upload").run()
    rows = np.array([[125, 18, 20, 34], [60, 10, 10, 15]])
    raw = "\n".join(",".join(str(v) for v in r) for r in rows).encode()
    at.file_uploader(key="em_upload_linkage").set_value(("two.csv", raw, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    button(at, "em_e").click().run()
    button(at, "em_m").click().run()
    y = rows.sum(axis=0)
    latex = " ".join(el.value for el in at.latex)
    m = re.search(r"E\[z\] = y_1.*?= (\S+)\\cdot\\frac\{(\S+)\}\{(\S+)\} = (\S+)", latex)
    assert m, latex
    assert float(m.group(1)) == y[0]
    theta0 = float(m.group(2)) * 4
    ez = y[0] * (theta0 / 4) / (0.5 + theta0 / 4)
    assert float(m.group(4)) == pytest.approx(ez, abs=1e-4)
    m = re.search(r"\\theta_\{t\} = \\frac\{E\[z\] \+ y_4\}\{E\[z\] \+ y_2 \+ y_3 \+ y_4\} = "
                  r"\\frac\{(\S+)\}\{(\S+)\} = (\S+)", latex)
    assert m, latex
    num, den, theta1 = (float(v) for v in m.groups())
    assert num == pytest.approx(ez + y[3], abs=1e-4) and den == pytest.approx(ez + y[1] + y[2] + y[3], abs=1e-4)
    assert num / den == pytest.approx(theta1, abs=1e-6)
    assert "added up" in " ".join(c.value for c in at.caption)


def test_linkage_totals_add_up_the_rows():
    assert ev.linkage_totals([[1, 2, 3, 4], [10, 20, 30, 40]]).tolist() == [11, 22, 33, 44]
    assert ev.linkage_totals([125, 18, 20, 34]).tolist() == [125, 18, 20, 34]
    with pytest.raises(ValueError, match="y: expected rows of four counts"):
        ev.linkage_totals([[1, 2, 3]])


@pytest.mark.parametrize("model,held,symbol,formula", [
    ("gmm1d", "means", r"\mu_k", r"\mu_k = \frac"),
    ("gmm1d", "weights", r"\pi_k", r"\pi_k = \frac"),
    ("gmm2d", "covariances", r"\Sigma_k", r"\Sigma_k = \tfrac"),
    ("coins", "heads_probs", "p_k", r"p_k = \frac"),
])
def test_m_step_formula_shows_held_parameters_as_held(model, held, symbol, formula):
    """A parameter held fixed keeps its value through the M-step: the formula written out for this M-step says
    "held" for it instead of the update it does not get."""
    at = app()
    if model != "gmm1d":
        at.selectbox(key="em_model").set_value(model).run()
    at.multiselect(key=f"em_fixed_{model}").set_value([held]).run()
    button(at, "em_e").click().run()
    button(at, "em_m").click().run()
    assert not at.exception and not at.error
    latex = next(el.value for el in at.latex if "M-step here" in el.value)
    assert symbol + r"\ \text{held}" in latex and formula not in latex, latex
    at.multiselect(key=f"em_fixed_{model}").set_value([]).run()
    latex = next(el.value for el in at.latex if "M-step here" in el.value)
    assert formula in latex and r"\text{held}" not in latex, latex
