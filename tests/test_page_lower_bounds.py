"""AppTest of pages/lower_bounds.py: the family of bounds, its envelope and the 2-D view."""
from __future__ import annotations

import base64
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
from vizcore import teaching  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

PAGE = str(ROOT / "pages" / "lower_bounds.py")
MODELS = ("gmm1d", "gmm2d", "coins", "linkage")


# ---- helpers ----------------------------------------------------------------------------------
def _arr(v) -> np.ndarray:
    """A plotly JSON array (list, or typed array {dtype, bdata[, shape]}) as floats; None → NaN."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    return np.array(v, dtype=float)


def _xs(trace: dict, letter: str = "x", n: int | None = None) -> np.ndarray:
    """A trace's x (or y) as plotly.js reads it: the array, or ``x0 + i·dx`` for an evenly spaced grid."""
    if letter in trace:
        return _arr(trace[letter])
    if n is None:
        n = _arr(trace["y"]).size
    return trace[letter + "0"] + np.arange(n) * trace["d" + letter]


def _spec(at, key: str) -> dict:
    for el in charts_of(at):
        if el.proto.id.endswith("-" + key):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart with key {key!r} among {[el.proto.id for el in charts_of(at)]}")


def _traces(spec: dict, meta: str) -> list[dict]:
    return [d for d in spec["data"] if d.get("meta") == meta]


def _metric(at, label: str) -> float:
    for m in at.metric:
        if m.label == label:
            return float(m.value.replace("−", "-"))
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def _anchor_box(at):
    boxes = [b for b in at.selectbox if b.key.startswith("lb_anchor_")]
    assert len(boxes) == 1
    return boxes[0]


def _run(at):
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture
def at():
    return _run(AppTest.from_file(PAGE, default_timeout=60))


def _with_model(name: str, data: str | None = None):
    a = AppTest.from_file(PAGE, default_timeout=60)
    a.run()
    a.selectbox(key="lb_model").set_value(name)
    if data is not None:
        a.run()
        a.selectbox(key=f"lb_data_{name}").set_value(data)
    return _run(a)


def _all_finite(spec: dict, metas=("f", "bound", "envelope", "extra", "touch", "bound_max", "f_max")):
    for d in spec["data"]:
        if d.get("meta") in metas:
            for axis in ("x", "y"):
                a = _xs(d, axis)
                if axis == "y" and d.get("meta") in ("bound", "envelope", "extra"):
                    a = a[~np.isnan(a)]  # NaN: beyond the view (never ±inf)
                assert np.all(np.isfinite(a)), (d.get("meta"), axis)
    assert not re.search(r"[:\[,]\s*-?(NaN|Infinity)", json.dumps(spec["data"])), "a literal NaN in the spec"


# ---- every model, built-in and synthetic data -------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_every_model_runs_and_bounds_stay_below_f(name):
    at = _with_model(name)
    spec = _spec(at, "lb_family_chart")
    fx, f = _xs(_traces(spec, "f")[0]), _arr(_traces(spec, "f")[0]["y"])
    assert f.size <= 400
    bounds = _traces(spec, "bound")
    assert len(bounds) == 5  # the default number of anchors
    lo, hi = spec["layout"]["yaxis"]["range"]
    for b in bounds + _traces(spec, "extra"):
        y = _y_at(b, fx)  # on a stretch of f's grid, NaN where the view cannot show it (test_bounds_figure.py)
        shown = ~np.isnan(y)
        assert shown.sum() >= 2
        assert np.all(y[shown] <= f[shown] + 1e-8 * np.maximum(1.0, np.abs(f[shown])))
        assert np.all(y[shown] <= hi)
    _all_finite(spec)


@pytest.mark.parametrize("name", MODELS)
def test_every_model_runs_on_synthetic_data(name):
    at = _with_model(name, "synthetic")
    assert at.number_input(key="lb_seed").value == 0
    spec = _spec(at, "lb_family_chart")
    at.number_input(key="lb_seed").set_value(7)
    _run(at)
    assert _spec(at, "lb_family_chart") != spec, "a new seed must change the data and the curves"
    _all_finite(_spec(at, "lb_family_chart"))


def test_touch_points_lie_on_f_and_on_their_bound(at):
    spec = _spec(at, "lb_family_chart")
    x = _xs(_traces(spec, "f")[0])
    f = _arr(_traces(spec, "f")[0]["y"])
    touch = _traces(spec, "touch")[0]
    ax, ay = _arr(touch["x"]), _arr(touch["y"])
    for a, (xa, ya) in enumerate(zip(ax, ay)):
        i = int(np.argmin(np.abs(x - xa)))
        assert x[i] == pytest.approx(xa, abs=1e-12), "anchors are on the grid"
        assert ya == pytest.approx(f[i], rel=1e-10)
        assert _y_at(_traces(spec, "bound")[a], xa) == pytest.approx(f[i], rel=1e-9)


def _y_at(trace, xs):
    """A curve's y at the grid values ``xs`` (NaN where the view cannot show it; a bound is sent on a
    stretch of the grid, and every x it carries must be a grid value)."""
    x, y = _xs(trace), _arr(trace["y"])
    assert np.isin(x, xs).all() if np.ndim(xs) else True
    idx = {float(v): i for i, v in enumerate(x)}
    out = np.array([y[idx[float(v)]] if float(v) in idx else np.nan for v in np.atleast_1d(xs)])
    return out if np.ndim(xs) else float(out[0])


# ---- widgets change the picture -----------------------------------------------------------------
def test_coordinate_changes_the_spec(at):
    before = _spec(at, "lb_family_chart")
    at.selectbox(key="lb_coord_gmm1d_2").set_value("variances[1]")
    _run(at)
    after = _spec(at, "lb_family_chart")
    assert after != before
    assert after["layout"]["xaxis"]["title"]["text"] == "σ²₂"
    assert all("σ²₂" in o for o in _anchor_box(at).options), "the anchor choices name the new coordinate"


def test_anchors_slider_changes_the_family_and_the_envelope_closes(at):
    at.slider(key="lb_anchors").set_value(2)
    _run(at)
    spec2 = _spec(at, "lb_family_chart")
    gap2 = _metric(at, "envelope: largest gap below f")
    at.slider(key="lb_anchors").set_value(20)
    _run(at)
    spec20 = _spec(at, "lb_family_chart")
    gap20 = _metric(at, "envelope: largest gap below f")
    assert len(_traces(spec2, "bound")) == 2 and len(_traces(spec20, "bound")) == 20
    assert gap20 < gap2 / 5, (gap2, gap20)
    f = _arr(_traces(spec20, "f")[0]["y"])
    env = _arr(_traces(spec20, "envelope")[0]["y"])
    assert np.max(f - env) == pytest.approx(gap20, abs=1e-4)
    assert np.all(env <= f + 1e-8 * np.abs(f))


def test_blend_slider_changes_the_dotted_bound_and_its_gap(at):
    at.slider(key="lb_blend").set_value(0.5)
    _run(at)
    grid = _xs(_traces(_spec(at, "lb_family_chart"), "f")[0])
    extra_half = _y_at(_traces(_spec(at, "lb_family_chart"), "extra")[0], grid)
    gap_half = _metric(at, "dotted bound: min gap below f")
    assert gap_half > 1.0, "a q that is no posterior: the bound stays strictly below f"
    at.slider(key="lb_blend").set_value(1.0)
    _run(at)
    spec = _spec(at, "lb_family_chart")
    extra_one = _y_at(_traces(spec, "extra")[0], grid)
    assert not np.allclose(extra_half, extra_one, equal_nan=True)
    assert abs(_metric(at, "dotted bound: min gap below f")) < 1e-6, "s = 1: the posterior's bound touches"
    # with s = 1 the dotted bound is the chosen anchor's bound
    pick = _anchor_box(at).value
    np.testing.assert_allclose(extra_one, _y_at(_traces(spec, "bound")[pick], grid), rtol=1e-12)
    assert np.isfinite(extra_one).sum() > 10


def test_no_single_bound_rises_above_max_f(at):
    at.slider(key="lb_anchors").set_value(20)
    _run(at)
    spec = _spec(at, "lb_family_chart")
    fmax = _arr(_traces(spec, "f_max")[0]["y"])[0]
    bmax = _arr(_traces(spec, "bound_max")[0]["y"])
    assert np.all(bmax <= fmax + 1e-9 * abs(fmax))
    assert _metric(at, "highest single bound") <= _metric(at, "max of f") + 1e-4


# ---- numbers shown equal an independent computation -----------------------------------------------
def test_max_f_equals_pointwise_log_marginal(at):
    model = vc.get_model("gmm1d")
    x = vc.load_dataset("faithful_waiting")
    p = model.make_params(weights=[0.5, 0.5], means=[55, 80], variances=[36, 36])
    spec = _spec(at, "lb_family_chart")
    grid = _xs(_traces(spec, "f")[0])
    f_ind = np.array([vc.log_marginal(model, x, p.replace(means=np.array([g, 80.0]))) for g in grid])
    np.testing.assert_allclose(_arr(_traces(spec, "f")[0]["y"]), f_ind, rtol=1e-10)
    assert _metric(at, "max of f") == pytest.approx(f_ind.max(), abs=6e-5)
    # the chosen anchor's bound at its anchor = log p there = the ELBO of the posterior (independently)
    pick = _anchor_box(at).value
    a = _arr(_traces(spec, "touch")[0]["x"])[pick]
    pa = p.replace(means=np.array([a, 80.0]))
    l_post = vc.elbo(model, x, pa, vc.posterior(model, x, pa))
    assert l_post == pytest.approx(vc.log_marginal(model, x, pa), rel=1e-12)
    assert f"{l_post:.4f}" in at.latex[0].value


# ---- extremes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("anchors,blend", [(1, 0.0), (20, 0.0), (1, 1.0), (20, 1.0)])
def test_slider_extremes_render_finite(at, anchors, blend):
    at.slider(key="lb_anchors").set_value(anchors)
    at.slider(key="lb_blend").set_value(blend)
    _run(at)
    _all_finite(_spec(at, "lb_family_chart"))


def test_theta_slider_extremes_render_finite(at):
    keys = [s.key for s in at.slider if s.key.startswith("lb_th_")]
    assert len(keys) == 5
    for key in keys:
        for end in ("min", "max"):
            s = at.slider(key=key)
            s.set_value(getattr(s, end))
            _run(at)
            _all_finite(_spec(at, "lb_family_chart"))
        at.slider(key=key).set_value(at.slider(key=key).min + (at.slider(key=key).max - at.slider(key=key).min) / 2)
        _run(at)


@pytest.mark.parametrize("coord", ["weights[0]", "weights[1]", "means[1]", "variances[0]"])
def test_every_kind_of_coordinate_renders(at, coord):
    at.selectbox(key="lb_coord_gmm1d_2").set_value(coord)
    _run(at)
    _all_finite(_spec(at, "lb_family_chart"))


def test_gmm2d_covariance_coordinates_render():
    at = _with_model("gmm2d")
    for coord in ("covariances[0][0][1]", "covariances[1][1][1]"):
        at.selectbox(key="lb_coord_gmm2d_2").set_value(coord)
        _run(at)
        _all_finite(_spec(at, "lb_family_chart"))


# ---- the 2-D view -------------------------------------------------------------------------------
def test_plane_view_responds_and_bound_contours_stay_below(at):
    spec = _spec(at, "lb_plane_chart")
    f = _arr(_traces(spec, "f")[0]["z"])
    b = _arr(_traces(spec, "bound")[0]["z"])
    ok = np.isfinite(f) & np.isfinite(b)
    assert ok.all()
    assert np.all(b[ok] <= f[ok] + 1e-8 * np.abs(f[ok]))
    touch = _traces(spec, "touch")[0]
    pick = _anchor_box(at).value
    fam = _traces(_spec(at, "lb_family_chart"), "touch")[0]
    assert _arr(touch["x"])[0] == pytest.approx(_arr(fam["x"])[pick])
    at.selectbox(key="lb_py_gmm1d_2").set_value("variances[1]")
    _run(at)
    assert _spec(at, "lb_plane_chart") != spec
    at.checkbox(key="lb_plane_bound").uncheck()
    _run(at)
    assert not _traces(_spec(at, "lb_plane_chart"), "bound")


def test_linkage_has_no_plane_but_says_why():
    at = _with_model("linkage")
    assert len(charts_of(at)) == 1
    assert any("single coordinate" in i.value for i in at.info)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("end", ["min", "max"])
def test_all_theta_sliders_at_one_end_render_finite(name, end):
    at = _with_model(name)
    theta = [s for s in at.slider if s.key.startswith("lb_th_")]
    assert theta, "no θ slider found"
    for s in theta:
        s.set_value(getattr(s, end))
    _run(at)
    _all_finite(_spec(at, "lb_family_chart"))


@pytest.mark.parametrize("name,k", [("gmm1d", 1), ("gmm1d", 4), ("gmm2d", 1), ("gmm2d", 3), ("coins", 1), ("coins", 3)])
def test_other_numbers_of_components(name, k):
    at = _with_model(name)
    at.selectbox(key=f"lb_k_{name}").set_value(k)
    _run(at)
    spec = _spec(at, "lb_family_chart")
    _all_finite(spec)
    coords = at.selectbox(key=f"lb_coord_{name}_{k}").options
    assert (k == 1) == (not any(c.startswith("π") for c in coords)), "a lone weight cannot be varied"


def test_a_far_dotted_bound_is_announced_not_squashing_f():
    """A dotted bound far below f (its top more than 0.6 of f's span under the view) leaves the view on f
    and is announced with its maximum; one just below the view widens the view instead."""
    from vizcore.figures.bounds import family_spec
    v = np.linspace(-2.0, 2.0, 41)
    f = -v ** 2                                   # span 4 over the grid
    anchors = np.array([0.0])
    bounds = (f - v ** 2)[None, :]                # touches f at 0
    for drop, far in ((1000.0, True), (1.0, False)):
        spec = family_spec(v, f, anchors, [0.0], bounds, extra_bound=f - 4.0 - drop)
        lo, hi = spec["layout"]["yaxis"]["range"]
        texts = [a.get("text", "") for a in spec["layout"].get("annotations", [])]
        assert lo <= f.min() and hi >= f.max()
        assert any("below the view" in a and "−1004" in a.replace("-", "−") for a in texts) == far, texts
        top = -4.0 - drop                         # the dotted bound's maximum
        assert (lo > top) == far, (lo, top)       # far: f keeps the view; near: the view reaches the bound's top
    at = _with_model("gmm2d")                     # and on the page the view always shows f whole
    spec = _spec(at, "lb_family_chart")
    f = _arr(_traces(spec, "f")[0]["y"])
    lo, hi = spec["layout"]["yaxis"]["range"]
    assert lo <= np.nanmin(f) and hi >= np.nanmax(f)


# ---- the shared controls helper (pages/_model_controls.py) ----------------------------------------
@pytest.mark.parametrize("name,data,k", [("gmm1d", "faithful_waiting", 2), ("gmm1d", "faithful_eruptions", 3),
                                         ("gmm2d", "old_faithful", 2), ("gmm2d", "old_faithful", 3),
                                         ("coins", "two_coins", 1), ("coins", "two_coins", 3),
                                         ("linkage", "genetic_linkage", None)])
def test_theta_sliders_round_trip_and_contain_the_defaults(name, data, k):
    from pages import _model_controls as mc
    x = vc.load_dataset(data)
    model = vc.get_model(name)
    p = model.make_params(mc.PRESETS.get((name, data, k)) or teaching.default_params(model, x, k or 1))
    vals = mc._values_from_params(name, k, p)
    specs = mc.theta_specs(name, k, x)
    assert {s.name for s in specs} == set(vals)
    for s in specs:
        assert s.lo < s.hi and s.step > 0
        if s.name.startswith(("v", "s")) and name != "coins":
            assert s.lo > 0, "variances and standard deviations stay positive at the slider's end"
    back = mc._params_from_values(name, k, vals)
    for field in model.param_names:
        np.testing.assert_allclose(getattr(back, field), getattr(p, field), rtol=1e-9, atol=1e-12)


def test_coordinate_labels():
    from pages._model_controls import coordinate_label, coordinate_latex
    assert coordinate_label("means[0]") == "μ₁" and coordinate_latex("means[0]") == r"\mu_{1}"
    assert coordinate_label("covariances[1][0][1]") == "Σ₂ [xy]"
    assert coordinate_latex("means[0][1]") == r"\mu_{1,y}"
    assert coordinate_label("theta[0]") == "θ" and coordinate_latex("theta[0]") == r"\theta"


def _set_theta_app():
    import streamlit as st

    from pages._model_controls import model_controls, set_theta

    setup = model_controls("tt_", layout="column")
    if setup is not None:
        new = setup.model.make_params(weights=[0.3, 0.7], means=[60.0, 85.0], variances=[30.0, 40.0])
        st.button("go", key="tt_go", on_click=set_theta, args=(setup, new))
        st.text(repr(setup.params.to_dict()))


def test_set_theta_moves_the_sliders():
    at = _run(AppTest.from_function(_set_theta_app, default_timeout=60))
    base = "tt_th_gmm1d_faithful_waiting_2_"
    assert at.slider(key=base + "m0").value == 55.0
    at.button(key="tt_go").click()
    _run(at)
    assert at.slider(key=base + "w").value == pytest.approx(0.3)
    assert at.slider(key=base + "m0").value == pytest.approx(60.0)
    assert at.slider(key=base + "v1").value == pytest.approx(40.0)
    assert "'means': [60.0, 85.0]" in at.text[0].value


def test_plane_grid_coarsens_for_large_data_and_says_so(monkeypatch):
    """2,000 rows: the plane is drawn on teaching.grid_side(2000) points per side (33, not 48), the page
    says so, and the surface drawn is still exact (checked at a corner against log p computed alone)."""
    import streamlit as st
    orig = vc.load_dataset

    def big(name, *a, **kw):
        x = orig(name, *a, **kw)
        return np.concatenate([x] * 8)[:2000] if x.shape[0] > 1 else x

    monkeypatch.setattr(vc, "load_dataset", big)
    st.cache_data.clear()
    try:
        at = _run(AppTest.from_file(PAGE, default_timeout=120))
        side = teaching.grid_side(2000)
        assert side == 33
        spec = _spec(at, "lb_plane_chart")
        f = _arr(_traces(spec, "f")[0]["z"])
        assert f.shape == (side, side)
        assert any(f"{side} × {side}" in c.value and "2,000" in c.value for c in at.caption)
        vx, vy = _xs(_traces(spec, "f")[0], "x", f.shape[1]), _xs(_traces(spec, "f")[0], "y", f.shape[0])
        model, x = vc.get_model("gmm1d"), big("faithful_waiting")
        p = model.make_params(weights=[0.5, 0.5], means=[vx[0], vy[0]], variances=[36.0, 36.0])
        assert f[0, 0] == pytest.approx(vc.log_marginal(model, x, p), rel=1e-10)
    finally:
        st.cache_data.clear()


def test_default_data_keep_the_full_plane_and_no_notice(at):
    spec = _spec(at, "lb_plane_chart")
    assert _arr(_traces(spec, "f")[0]["z"]).shape == (48, 48)
    assert not any("grid instead of" in c.value for c in at.caption)


# ---- caching keyed on what changed ----------------------------------------------------------------
def test_dragging_the_plotted_coordinate_reuses_the_family(at, monkeypatch):
    """The family of bounds over μ₁ does not depend on μ₁'s own value: moving μ₁'s slider computes no
    log p(X|θ) at all (curve and plane come from the cache), and the page shows the family of a fresh
    computation at the new θ, with the current-value line moved."""
    assert next(b for b in at.selectbox if b.key.startswith("lb_coord_")).value == "means[0]"
    sizes: list[int] = []
    real = vc.views.log_marginal_batch

    def counted(model, x, batch):
        sizes.append(1)
        return real(model, x, batch)
    for mod in (vc, vc.views, vc.teaching):
        monkeypatch.setattr(mod, "log_marginal_batch", counted)
    before = _spec(at, "lb_family_chart")
    slider = at.slider(key="lb_th_gmm1d_faithful_waiting_2_m0")
    new = slider.value + 2.0
    slider.set_value(new)
    _run(at)
    assert sizes == [], "log p(X|θ) was computed again"
    after = _spec(at, "lb_family_chart")
    assert after["data"] == before["data"]
    assert after["layout"]["shapes"][0]["x0"] == new != before["layout"]["shapes"][0]["x0"]
    from scipy import stats
    from scipy.special import logsumexp
    x = vc.load_dataset("faithful_waiting")
    fam_trace = _traces(after, "f")[0]
    fx, f = _xs(fam_trace), _arr(fam_trace["y"])
    for i in (0, fx.size // 3, fx.size - 1):  # log p over μ₁ with μ₂ = 80, σ² = 36, π = ½ (scipy)
        want = logsumexp(np.log(0.5) + stats.norm.logpdf(x[:, None], [fx[i], 80.0], 6.0), axis=1).sum()
        assert f[i] == pytest.approx(want, rel=1e-11)
