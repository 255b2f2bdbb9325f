"""What the EM page draws (vizcore.em_views) and the figures built from it (vizcore.figures.em).

Properties checked on every model with its classic data set: the bound never exceeds log p on
any frame, it touches log p at θ_old after each E-step, along the step line it peaks at u = 1,
Fisher's-identity gradient equals finite differences of log p, gradient ascent climbs with a
tiny step and reports divergence with a huge one, starting points are valid, the CSV parses.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import zlib

import numpy as np
import plotly.io as pio
import pytest

import vizcore as vc
from vizcore import em_views as ev
from vizcore import teaching
from vizcore.figures import em as emfig

CASES = {
    "gmm1d": ("faithful_waiting", dict(weights=[0.5, 0.5], means=[50.0, 70.0], variances=[100.0, 100.0]), ()),
    "gmm2d": ("old_faithful", dict(weights=[0.4, 0.6], means=[[2.5, 60.0], [4.0, 75.0]],
                                   covariances=[[[0.5, 0.0], [0.0, 60.0]], [[0.5, 1.0], [1.0, 60.0]]]), ()),
    "coins": ("two_coins", dict(weights=[0.5, 0.5], heads_probs=[0.6, 0.5]), ("weights",)),
    "linkage": ("genetic_linkage", dict(theta=[0.2]), ()),
}
MODELS = list(CASES)


def setup(name, max_iter=12):
    data, init, fixed = CASES[name]
    model = vc.get_model(name)
    x = vc.load_dataset(data)
    trace = vc.run_em(model, x, init, fixed=fixed, max_iter=max_iter, tol=None)
    return model, x, model.make_params(init), trace


def coordinate_values(model, trace, name):
    idx = model.coordinates(trace.params[0])[name][0]
    return np.array([model.flatten(p)[idx] for p in trace.params])


def rel(a, b):
    return np.abs(a - b) / np.maximum(1.0, np.abs(b))


# ---- half-steps ----------------------------------------------------------------------------
def test_half_step_state_numbers_the_half_steps():
    _, _, _, trace = setup("linkage", 3)
    assert ev.half_step_state(trace, 0) == (0, None, "start")
    assert ev.half_step_state(trace, 1) == (0, 1, "E")
    assert ev.half_step_state(trace, 2) == (1, 1, "M")
    assert ev.half_step_state(trace, 5) == (2, 3, "E")
    assert ev.half_step_state(trace, 6) == (3, 3, "M")
    with pytest.raises(ValueError):
        ev.half_step_state(trace, 7)


# ---- the bound along one coordinate ----------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_bound_below_log_p_on_every_coordinate_frame(name):
    model, x, init, trace = setup(name)
    for coord in teaching.selectable_coordinates(model, init)[:3]:
        lo, hi = teaching.coordinate_range(model, x, trace.params[-1], coord)
        fr = ev.coordinate_frames(model, x, trace, coord, np.linspace(lo, hi, 120))
        assert fr.log_marginal.shape == (2 * trace.n_iter + 1, 120)
        assert np.all(np.isnan(fr.bound[0])), "no bound before the first E-step"
        ok = np.isfinite(fr.bound) & np.isfinite(fr.log_marginal)
        assert ok[1:].any()
        excess = (fr.bound - fr.log_marginal)[ok] / np.maximum(1.0, np.abs(fr.log_marginal[ok]))
        assert excess.max() <= 1e-9, f"{coord}: bound above log p by {excess.max():.3g} (relative)"


@pytest.mark.parametrize("name", MODELS)
def test_bound_touches_log_p_at_theta_old_after_each_e_step(name):
    model, x, init, trace = setup(name)
    coord = teaching.selectable_coordinates(model, init)[-1]
    vals = coordinate_values(model, trace, coord)
    lo, hi = teaching.coordinate_range(model, x, trace.params[-1], coord)
    grid = teaching.grid_with(min(lo, vals.min()), max(hi, vals.max()), 80, vals)
    fr = ev.coordinate_frames(model, x, trace, coord, grid)
    for s in range(1, 2 * trace.n_iter + 1):
        ti, qi, kind = ev.half_step_state(trace, s)
        assert fr.labels[s] == kind
        i = int(np.argmin(np.abs(grid - fr.theta_at[s])))
        assert grid[i] == fr.theta_at[s], "the grid holds every θ_t"
        assert fr.log_p_at[s] == pytest.approx(trace.log_likelihood[ti], rel=1e-12)
        assert rel(fr.log_marginal[s, i], fr.log_p_at[s]) <= 1e-9
        if kind == "E":  # L(q_t, θ_{t-1}) = log p(X|θ_{t-1})
            assert rel(fr.bound[s, i], fr.log_marginal[s, i]) <= 1e-9
            assert rel(fr.bound_at[s], fr.log_p_at[s]) <= 1e-9
        else:            # after the M-step the bound sits below log p, at its recorded value
            assert fr.bound[s, i] <= fr.log_marginal[s, i] + 1e-9 * abs(fr.log_marginal[s, i])
            assert rel(fr.bound[s, i], trace.elbo_after_m[qi - 1]) <= 1e-9


def test_coordinate_frames_rejects_an_unknown_coordinate():
    model, x, _, trace = setup("gmm1d", 2)
    with pytest.raises(ValueError, match="coordinate"):
        ev.coordinate_frames(model, x, trace, "means[7]", np.linspace(40, 90, 10))


# ---- along the step line ------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_step_line_touches_at_zero_and_peaks_at_one(name):
    model, x, _, trace = setup(name)
    ts = np.linspace(-0.5, 1.5, 201)  # holds 0 and 1 exactly
    i0, i1 = int(np.argmin(np.abs(ts))), int(np.argmin(np.abs(ts - 1)))
    assert ts[i0] == 0 and ts[i1] == 1
    fr = ev.step_line_frames(model, x, trace, ts)
    assert fr.log_marginal.shape == (trace.n_iter, ts.size)
    for t in range(trace.n_iter):
        b, f = fr.bound[t], fr.log_marginal[t]
        ok = np.isfinite(b) & np.isfinite(f)
        assert ((b - f)[ok] / np.maximum(1.0, np.abs(f[ok]))).max() <= 1e-9
        assert rel(b[i0], f[i0]) <= 1e-9 and rel(f[i0], trace.log_likelihood[t]) <= 1e-9
        top = np.max(b[ok])
        assert b[i1] >= top - 1e-11 * abs(top), f"step {t + 1}: the bound's maximum is at u = 1"
        if trace.log_likelihood[t + 1] - trace.log_likelihood[t] > 1e-6:  # a real step: strictly at u = 1
            assert int(np.argmax(np.where(ok, b, -np.inf))) == i1, f"step {t + 1}"
        assert rel(b[i1], trace.elbo_after_m[t]) <= 1e-9
        assert f[i1] >= b[i1] - 1e-9 * abs(b[i1])


def test_path_coordinates_follow_the_trace():
    model, _, _, trace = setup("gmm2d", 5)
    path = ev.path_coordinates(model, trace, "means[0][0]", "means[1][1]")
    assert path.shape == (trace.n_iter + 1, 2)
    np.testing.assert_array_equal(path[:, 0], [p.means[0, 0] for p in trace.params])
    np.testing.assert_array_equal(path[:, 1], [p.means[1, 1] for p in trace.params])


# ---- gradient ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_gradient_matches_finite_differences_of_log_marginal(name):
    model, x, init, _ = setup(name, 1)
    p = init
    g = ev.grad_log_marginal(model, x, p)
    coords = model.coordinates(p)
    for coord in teaching.selectable_coordinates(model, p):
        v = teaching.coordinate_value(model, p, coord)
        h = 1e-5 * max(1.0, abs(v))
        f_plus, f_minus = vc.log_marginal_batch(model, x, vc.vary(model, p, coord, [v + h, v - h]))
        fd = (f_plus - f_minus) / (2 * h)
        idx = coords[coord][0]
        if coord.startswith("weights["):  # vary() moves the other weight the other way: direction e_k − e_j
            k = int(coord[len("weights["):-1])
            j = 1 - k
            got = g[coords[f"weights[{k}]"][0]] - g[coords[f"weights[{j}]"][0]]
        else:
            got = g[idx]
        assert got == pytest.approx(fd, rel=1e-4, abs=1e-6 * max(1.0, abs(fd))), coord


def test_gradient_is_zero_on_fixed_coordinates():
    model, x, init, _ = setup("coins", 1)
    g = ev.grad_log_marginal(model, x, init, fixed=("weights",))
    assert np.all(g[:2] == 0) and np.any(g[2:] != 0)


@pytest.mark.parametrize("name,eta", [("gmm1d", 1e-3), ("gmm2d", 1e-4), ("coins", 1e-3), ("linkage", 1e-4)])
def test_gradient_ascent_with_a_tiny_step_climbs(name, eta):
    model, x, init, _ = setup(name, 1)
    _, _, fixed = CASES[name]
    g = ev.gradient_ascent(model, x, init, eta, 30, fixed=fixed)
    assert not g.diverged and g.message == ""
    assert len(g.params) == g.log_likelihood.size == 31
    assert np.all(np.diff(g.log_likelihood) >= -1e-9 * np.abs(g.log_likelihood[1:]))
    assert g.log_likelihood[-1] > g.log_likelihood[0]
    assert g.log_likelihood[0] == pytest.approx(vc.log_marginal(model, x, init), rel=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_gradient_ascent_with_a_huge_step_reports_divergence(name):
    model, x, init, _ = setup(name, 1)
    g = ev.gradient_ascent(model, x, init, 1e4, 50, fixed=CASES[name][2])
    assert g.diverged
    assert g.message
    assert len(g.params) == g.log_likelihood.size < 51
    assert np.all(np.isfinite(g.log_likelihood))


def test_gradient_ascent_rejects_a_bad_step_size():
    model, x, init, _ = setup("gmm1d", 1)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="step_size"):
            ev.gradient_ascent(model, x, init, bad, 5)


# ---- starting points ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("method", ["kmeans++", "random"])
def test_init_params_are_valid_for_every_model(name, method):
    model = vc.get_model(name)
    x = vc.load_dataset(CASES[name][0])
    for seed in range(5):
        for k in (1, 2, 3):
            p = ev.init_params(model, x, k, method, np.random.default_rng(seed))
            assert model.make_params(p.to_dict()) == p
            assert np.isfinite(vc.log_marginal(model, x, p))
            if name != "linkage":
                assert p.n_components == k
                np.testing.assert_allclose(p.weights, 1.0 / k)
            if name == "gmm1d":
                assert set(p.means) <= set(x.tolist()), "means are data points"
    again = ev.init_params(model, x, 2, method, np.random.default_rng(3))
    assert again == ev.init_params(model, x, 2, method, np.random.default_rng(3)), "seeded"
    with pytest.raises(ValueError, match="method"):
        ev.init_params(model, x, 2, "kmeans", np.random.default_rng(0))


def test_kmeans_plus_plus_spreads_the_means():
    x = vc.load_dataset("faithful_waiting")
    spread = [np.ptp(ev.init_params("gmm1d", x, 2, "kmeans++", np.random.default_rng(s)).means) for s in range(20)]
    assert np.median(spread) > 15, "D² sampling puts the second mean far from the first"


# ---- the table and the CSV -------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_trace_csv_parses_with_one_row_per_iterate(name):
    model, _, _, trace = setup(name, 7)
    text = ev.trace_csv(model, trace)
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert len(body) == trace.n_iter + 1
    assert header[0] == "iteration" and header[-4:] == ["log_likelihood", "elbo_after_e", "elbo_after_m",
                                                         "kl_gap_after_m"]
    assert header[1:-4] == list(model.coordinates(trace.params[0]))
    ll = [float(r[header.index("log_likelihood")]) for r in body]
    np.testing.assert_array_equal(ll, trace.log_likelihood)
    assert body[0][header.index("elbo_after_e")] == ""
    np.testing.assert_array_equal([float(r[header.index("elbo_after_m")]) for r in body[1:]], trace.elbo_after_m)
    assert [int(r[0]) for r in body] == list(range(trace.n_iter + 1))


# ---- the figures built from the frames --------------------------------------------------------------
def _fig_json(fig):
    return json.loads(pio.to_json(fig, validate=False))


def _resolved(spec) -> list[dict]:
    """Every frame as plotly draws it: merged onto its baseframe chain, traces in index order."""
    out = []
    for i in range(len(spec["frames"])):
        f = emfig.resolved_frame(spec["frames"], i)
        order = np.argsort(f["traces"])
        out.append({**f, "traces": [f["traces"][k] for k in order], "data": [f["data"][k] for k in order]})
    return out


def _decode(v) -> np.ndarray:
    """A plotly JSON array (list, or base64 typed array) as floats."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
    return np.asarray(v, dtype=float)


def _frames_named_by_their_titles(spec, trace):
    """The frame slider carries one label for every step and no readout (plotly measures each distinct label
    on the first draw: item 54 of bench/README); each frame's title names its half-step instead."""
    slider = spec["layout"]["sliders"][0]
    assert len({st["label"] for st in slider["steps"]}) == 1
    assert slider["currentvalue"]["visible"] is False
    for f in spec["frames"]:
        _, qi, kind = ev.half_step_state(trace, int(f["name"]))
        title = f["layout"]["title"]["text"]
        assert ("start" in title.lower()) if kind == "start" else (f"{'E' if kind == 'E' else 'M'}-step {qi}" in title), title


@pytest.mark.parametrize("name", MODELS)
def test_bound_figure_has_one_frame_per_half_step_and_exact_markers(name):
    model, x, init, trace = setup(name, 6)
    coord = teaching.selectable_coordinates(model, init)[0]
    lo, hi = teaching.coordinate_range(model, x, trace.params[-1], coord)
    fr = ev.coordinate_frames(model, x, trace, coord, np.linspace(lo, hi, 100))
    steps = list(range(2 * trace.n_iter + 1))
    pics = emfig.coordinate_pictures(fr, trace, coord, steps)
    spec = _fig_json(emfig.bound_figure(fr.axis, pics, 3, trace, xlabel=coord))
    assert [f["name"] for f in spec["frames"]] == [str(s) for s in steps]
    assert spec["layout"]["sliders"][0]["active"] == 3
    _frames_named_by_their_titles(spec, trace)
    assert [b["label"].split()[-1] for b in spec["layout"]["updatemenus"][0]["buttons"]] == ["Play", "Pause"]
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["duration"] == 700
    # the M-step picture marks log p(X|θ_1) and L(q_1, θ_1), exactly
    m1 = pics[2]
    assert m1.kind == "M" and m1.new[1] == trace.log_likelihood[1] and m1.peak[1] == trace.elbo_after_m[0]
    assert pics[1].touch[1] == trace.log_likelihood[0]
    for p in pics:  # every marked value is inside its frame's y-range
        frame = spec["frames"][p.step]
        y0, y1 = frame["layout"]["yaxis"]["range"]
        for pt in (p.touch, p.peak, p.new):
            if pt is not None:
                assert y0 <= pt[1] <= y1


def test_bound_figure_frames_change_the_data_and_follow_the_duration():
    model, x, init, trace = setup("linkage", 4)
    fr = ev.step_line_frames(model, x, trace)
    pics = emfig.line_pictures(fr, trace, range(2 * trace.n_iter + 1))
    fig = emfig.bound_figure(fr.axis, pics, 0, trace, xlabel="u", duration=250)
    spec = _fig_json(fig)
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["duration"] == 250
    assert len(spec["frames"]) == 2 * trace.n_iter + 1
    assert spec["frames"][1]["data"][1] != spec["frames"][3]["data"][1], "E1 and E2 draw different bounds"
    assert fig.to_dict()["frames"] == fig.to_dict()["frames"], "to_dict is repeatable"
    # at most 400 points per curve
    for frame in fig.to_dict()["frames"]:
        for tr in frame["data"]:
            y = tr["y"]
            n = len(y) if not isinstance(y, dict) else len(base64.b64decode(y["bdata"])) // np.dtype(y["dtype"]).itemsize
            assert n <= 400


def test_bound_figure_sends_what_no_frame_changes_once():
    """The curves' x grid (and log p's hover text) is in the figure's traces, not in each of its frames;
    each frame still draws its own curves (plotly keeps what a frame leaves out)."""
    model, x, init, trace = setup("gmm1d", 6)
    lo, hi = teaching.coordinate_range(model, x, trace.params[-1], "means[0]")
    fr = ev.coordinate_frames(model, x, trace, "means[0]", np.linspace(lo, hi, 120))
    pics = emfig.coordinate_pictures(fr, trace, "means[0]", range(2 * trace.n_iter + 1))
    spec = _fig_json(emfig.bound_figure(fr.axis, pics, 0, trace, xlabel="μ"))
    frames = _resolved(spec)
    for j in (0, 1):
        assert np.array_equal(_decode(spec["data"][j]["x"]), fr.axis)
        assert all("x" not in f["data"][j] for f in frames)
        assert all("y" in f["data"][j] for f in frames)
    assert all("hovertemplate" not in f["data"][0] for f in frames)
    assert len({f["data"][1]["hovertemplate"] for f in frames}) > 1, "L(q_t, θ) names its own q_t"
    # a property that differs between frames stays in every frame (the marked points move)
    assert all("x" in f["data"][-1] for f in frames)


@pytest.mark.parametrize("name", MODELS)
def test_frames_send_the_curves_only_where_their_view_shows_them(name):
    """Each frame's log p and bound carry numbers where a segment can cross that frame's x- and y-range,
    NaN elsewhere: the kept numbers are the exact curves, every blanked segment lies wholly beyond one
    edge (so plotly draws the same), and later frames, zoomed in on the climb, blank most points."""
    model, x, init, trace = setup(name, 6)
    coord = teaching.selectable_coordinates(model, init)[0]
    lo, hi = teaching.coordinate_range(model, x, trace.params[-1], coord)
    fr = ev.coordinate_frames(model, x, trace, coord, np.linspace(lo, hi, 150))
    pics = emfig.coordinate_pictures(fr, trace, coord, range(2 * trace.n_iter + 1))
    spec = _fig_json(emfig.bound_figure(fr.axis, pics, 0, trace, xlabel=coord))
    axis = fr.axis
    blanked = 0
    for i, p in enumerate(pics):
        drawn = emfig.at_frame(spec, i)  # a curve no frame changes is sent once, in the figure's own traces
        (x0, x1), (y0, y1) = drawn["layout"]["xaxis"]["range"], drawn["layout"]["yaxis"]["range"]
        for j, full in ((0, p.log_p), (1, p.bound)):
            sent = _decode(drawn["data"][j]["y"])
            full = np.where(np.isfinite(full), full, np.nan)
            kept = ~np.isnan(sent)
            np.testing.assert_array_equal(sent[kept], full[kept])
            gone = np.isnan(sent) & ~np.isnan(full)
            blanked += int(gone.sum())
            for i in np.flatnonzero(gone):  # both segments at a blanked point lie beyond one edge
                for k in (i - 1, i + 1):
                    if 0 <= k < axis.size and not np.isnan(full[k]):
                        a, b = (full[i], full[k]), (axis[i], axis[k])
                        assert (max(a) < y0 or min(a) > y1 or max(b) < x0 or min(b) > x1), (p.step, j, i)
    assert blanked > 0


def _wire_bytes(spec) -> int:
    """Deflated as Streamlit 1.67's websocket deflates (uvicorn: a 4 KB window, memLevel 5; bench/README.md)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -12, 5)
    raw = json.dumps(spec).encode()
    return len(c.compress(raw) + c.flush(zlib.Z_SYNC_FLUSH))


@pytest.mark.parametrize("view", ["coordinate", "line"])
@pytest.mark.parametrize("name", MODELS)
def test_frames_send_a_repeated_curve_once(name, view, monkeypatch):
    """A trace equal to the previous frame's is left out of a frame whose baseframe is that frame (log p at θ_t
    after the M-step and before the next E-step; in the line view both curves of an E- and its M-step): every
    frame, merged onto its chain, is exactly the frame sent without sharing, and the spec is smaller on the wire."""
    model, x, init, trace = setup(name, 8)
    if view == "coordinate":
        coord = teaching.selectable_coordinates(model, init)[0]
        lo, hi = teaching.coordinate_range(model, x, trace.params[-1], coord)
        fr = ev.coordinate_frames(model, x, trace, coord, np.linspace(lo, hi, 150))
        pics = emfig.coordinate_pictures(fr, trace, coord, range(2 * trace.n_iter + 1))
    else:
        fr = ev.step_line_frames(model, x, trace)
        pics = emfig.line_pictures(fr, trace, range(2 * trace.n_iter + 1))

    def build():
        return _fig_json(emfig.bound_figure(fr.axis, pics, 3, trace, xlabel="θ"))

    shared = build()
    monkeypatch.setattr(emfig, "_inherit_repeats", lambda frames: None)
    whole = build()
    assert shared["data"] == whole["data"] and shared["layout"] == whole["layout"]
    assert len(shared["frames"]) == len(whole["frames"])
    for f, full in zip(_resolved(shared), whole["frames"]):
        assert f == {k: full[k] for k in ("name", "traces", "data", "layout")}
    inheriting = [f for f in shared["frames"] if "baseframe" in f]
    assert inheriting and all(f["baseframe"] == prev["name"] and len(f["traces"]) < len(prev_full["traces"])
                              for f, prev, prev_full in zip(shared["frames"][1:], shared["frames"], whole["frames"])
                              if "baseframe" in f)
    gone = {j for f in inheriting for j in range(2) if j not in f["traces"]}
    # the bound repeats when the E- and M-step draw it along the same slice: the line view, or one parameter
    assert gone == ({0, 1} if view == "line" or len(model.coordinates(init)) == 1 else {0}), gone
    assert _wire_bytes(shared) < _wire_bytes(whole)


def test_resolved_frame_merges_like_plotly_compute_frame():
    """plotly.js ``Plots.computeFrame``: follow ``baseframe`` (stopping at a cycle), merge from the base up;
    a trace merges key by key (nested objects too), arrays and other values are replaced."""
    frames = [
        dict(name="a", traces=[0, 1], data=[dict(y=[1, 2], marker=dict(size=3, color="red")), dict(y=[5])],
             layout=dict(title=dict(text="A"), xaxis=dict(range=[0, 1]))),
        dict(name="b", baseframe="a", traces=[1], data=[dict(y=[6, 7], marker=dict(size=9))],
             layout=dict(xaxis=dict(range=[2, 3]))),
        dict(name="c", baseframe="b", traces=[0], data=[dict(marker=dict(color="blue"))]),
        dict(name="d", baseframe="e", traces=[0], data=[dict(y=[0])]),
        dict(name="e", baseframe="d", traces=[1], data=[dict(y=[9])]),
    ]
    c = emfig.resolved_frame(frames, 2)
    assert c["traces"] == [0, 1]
    assert c["data"] == [dict(y=[1, 2], marker=dict(size=3, color="blue")), dict(y=[6, 7], marker=dict(size=9))]
    assert c["layout"] == dict(title=dict(text="A"), xaxis=dict(range=[2, 3]))
    d = emfig.resolved_frame(frames, 3)
    assert d["traces"] == [1, 0] and d["data"] == [dict(y=[9]), dict(y=[0])]
    assert emfig.resolved_frame(frames, 0)["data"] == frames[0]["data"]


def test_on_slice_is_true_for_one_parameter_models_only_when_nothing_else_moves():
    _, _, _, trace = setup("linkage", 4)
    assert emfig.on_slice(trace, "theta[0]").all()
    _, _, _, trace = setup("gmm1d", 4)
    assert not emfig.on_slice(trace, "means[0]").any()


def test_blend_colours_mixes_in_proportion():
    cols = emfig.blend_colours([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    assert cols[0] == "rgb(0,114,178)" and cols[1] == "rgb(230,159,0)"
    assert cols[2] == "rgb(115,136,89)"


# ---- one build per run: any half-step from a figure built at another --------------------------------
def _figures_at(name, view, current, duration=700):
    """The page's animated figure for model ``name`` and ``view``, drawn at half-step ``current`` with ▶ Play
    at ``duration`` ms per frame (raw spec)."""
    model, x, init, trace = setup(name, 5)
    steps = list(range(2 * trace.n_iter + 1))
    coords = teaching.selectable_coordinates(model, init)
    if view in ("coordinate", "staircase"):
        coord = coords[0]
        lo, hi = teaching.coordinate_range(model, x, trace.params[-1], coord)
        fr = ev.coordinate_frames(model, x, trace, coord, np.linspace(lo, hi, 60))
        pics = emfig.coordinate_pictures(fr, trace, coord, steps, staircase=view == "staircase")
        fig = emfig.bound_figure(fr.axis, pics, current, trace, xlabel=coord, staircase=view == "staircase",
                                 duration=duration)
    elif view == "line":
        fr = ev.step_line_frames(model, x, trace)
        pics = emfig.line_pictures(fr, trace, steps)
        fig = emfig.bound_figure(fr.axis, pics, current, trace, xlabel="u", duration=duration)
    else:
        nx, ny = coords[0], coords[-1]
        path = ev.path_coordinates(model, trace, nx, ny)
        vx = np.linspace(path[:, 0].min() - 1, path[:, 0].max() + 1, 12)
        vy = np.linspace(path[:, 1].min() - 1, path[:, 1].max() + 1, 10)
        fig = emfig.contour_figure(vx, vy, np.add.outer(vy, vx), path, steps, current, trace, xlabel=nx, ylabel=ny,
                                   duration=duration)
    return fig.to_dict(), len(steps)


@pytest.mark.parametrize("view", ["coordinate", "staircase", "line"])
@pytest.mark.parametrize("name", ["gmm1d", "coins"])
def test_the_page_builders_draw_what_bound_figure_draws_from_the_pictures(name, view):
    """``coordinate_figure`` and ``line_figure`` (what the EM page caches) make the pictures themselves."""
    model, x, init, trace = setup(name, 5)
    steps = list(range(2 * trace.n_iter + 1))
    if view == "line":
        fr = ev.step_line_frames(model, x, trace)
        direct = emfig.bound_figure(fr.axis, emfig.line_pictures(fr, trace, steps), 2, trace, xlabel="u",
                                    duration=300, lang="zh", height=400)
        built = emfig.line_figure(fr, trace, steps, 2, xlabel="u", duration=300, lang="zh", height=400)
    else:
        coord = teaching.selectable_coordinates(model, init)[0]
        lo, hi = teaching.coordinate_range(model, x, trace.params[-1], coord)
        fr = ev.coordinate_frames(model, x, trace, coord, np.linspace(lo, hi, 80))
        stair = view == "staircase"
        sub = fr.axis[::8]
        earlier = {s: np.full((1, sub.size), -5.0 - s) for s in range(3, len(steps))} if stair else None
        pics = emfig.coordinate_pictures(fr, trace, coord, steps, staircase=stair, earlier=earlier)
        direct = emfig.bound_figure(fr.axis, pics, 2, trace, xlabel=coord, staircase=stair, axis_earlier=sub,
                                    duration=300, lang="zh", height=400)
        built = emfig.coordinate_figure(fr, trace, coord, steps, 2, xlabel=coord, staircase=stair,
                                        earlier=earlier, axis_earlier=sub, duration=300, lang="zh", height=400)
    assert _fig_json(built) == _fig_json(direct)


@pytest.mark.parametrize("view", ["coordinate", "staircase", "line", "plane"])
@pytest.mark.parametrize("name", ["gmm1d", "gmm2d"])
def test_every_view_names_its_frames_by_their_titles(name, view):
    spec, _ = _figures_at(name, view, 2, 500)
    _frames_named_by_their_titles(spec, setup(name, 5)[3])


@pytest.mark.parametrize("view", ["coordinate", "staircase", "line", "plane"])
@pytest.mark.parametrize("name", MODELS)
def test_at_frame_gives_exactly_the_figure_built_at_that_half_step(name, view):
    """What lets the EM page build its animated figure once per run and show any half-step from it."""
    model, _, init, _ = setup(name, 1)
    if view == "plane" and len(teaching.selectable_coordinates(model, init)) < 2:
        pytest.skip("one coordinate: no plane view")
    base, n = _figures_at(name, view, 0)
    for i in sorted({0, 1, 2, n // 2, n - 2, n - 1}):
        built, _ = _figures_at(name, view, i)
        shown = emfig.at_frame(base, i)
        assert json.dumps(shown, sort_keys=True) == json.dumps(built, sort_keys=True), (name, view, i)
    before = json.dumps(base, sort_keys=True)
    emfig.at_frame(base, n - 1)
    assert json.dumps(base, sort_keys=True) == before, "the cached spec is not changed"
    with pytest.raises(ValueError, match="i: expected a frame index"):
        emfig.at_frame(base, n)
    # a new play speed is selected the same way: the figure built at another speed, at half-step i
    for i in sorted({0, n // 2, n - 1}):
        built, _ = _figures_at(name, view, i, duration=150)
        shown = emfig.at_frame(base, i, 150)
        assert json.dumps(shown, sort_keys=True) == json.dumps(built, sort_keys=True), (name, view, i, "duration")
    assert json.dumps(base, sort_keys=True) == before, "the cached spec is not changed"
    for bad in (0, -5, 2.5, "fast", True):
        with pytest.raises(ValueError, match="duration: expected a positive whole number"):
            emfig.at_frame(base, 0, bad)


@pytest.mark.parametrize("view", ["coordinate", "staircase", "line", "plane"])
@pytest.mark.parametrize("name", MODELS)
def test_styling_then_selecting_a_frame_draws_what_selecting_then_styling_draws(name, view):
    """The page styles the cached animated figure once (presenter mode, contrast for a light or dark theme)
    and selects each half-step from it: the same as styling the figure drawn at that half-step."""
    import copy

    from vizcore.figures import display
    model, _, init, _ = setup(name, 1)
    if view == "plane" and len(teaching.selectable_coordinates(model, init)) < 2:
        pytest.skip("one coordinate: no plane view")
    base, n = _figures_at(name, view, 0)
    styles = {
        "present": lambda s: display.ensure_contrast(display.presenter(s), display.LIGHT_BG),
        "light": lambda s: display.ensure_contrast(s, display.LIGHT_BG),
        "dark": lambda s: display.ensure_contrast(s, display.DARK_BG),
    }
    for style, apply in styles.items():
        styled = apply(copy.deepcopy(base))
        for i in sorted({0, 1, n // 2, n - 1}):
            after = apply(copy.deepcopy(emfig.at_frame(base, i)))
            assert json.dumps(emfig.at_frame(styled, i), sort_keys=True) == json.dumps(after, sort_keys=True), \
                (name, view, style, i)


@pytest.mark.parametrize("distance", [False, True])
@pytest.mark.parametrize("name", MODELS)
def test_at_step_gives_exactly_the_sawtooth_built_at_that_half_step(name, distance):
    """What lets the EM page build the sawtooth once per run: marking a half-step on the figure built for
    none (or for another) is the figure built for it, styled before or after (presenter mode, contrast)."""
    import copy

    from vizcore.figures import display
    _, _, _, trace = setup(name, 6)
    S = 2 * trace.n_iter
    base = _fig_json(emfig.trace_figure(trace, None, distance=distance))
    assert any(sh.get("name") == "current" for sh in base["layout"]["shapes"])
    assert all(not sh["visible"] for sh in base["layout"]["shapes"] if sh.get("name") == "current")
    other = _fig_json(emfig.trace_figure(trace, 3, distance=distance))
    before = json.dumps(base, sort_keys=True)
    styles = [lambda sp: sp, lambda sp: display.ensure_contrast(display.presenter(sp), display.LIGHT_BG),
              lambda sp: display.ensure_contrast(sp, display.DARK_BG)]
    for c in sorted({0, 1, S // 2, S}):
        built = _fig_json(emfig.trace_figure(trace, c, distance=distance))
        assert sum(sh.get("name") == "current" and sh["visible"] for sh in built["layout"]["shapes"]) == 2
        for spec in (base, other):
            for apply in styles:
                want = json.dumps(apply(copy.deepcopy(built)), sort_keys=True)
                assert json.dumps(emfig.at_step(apply(copy.deepcopy(spec)), c), sort_keys=True) == want, (c, apply)
    assert json.dumps(base, sort_keys=True) == before, "the cached spec is not changed"
    with pytest.raises(ValueError, match="current: expected a half-step"):
        emfig.at_step(base, -1)


def test_data_1d_draws_each_component_and_their_sum_exactly_where_plotly_puts_them():
    """The density curves carry x0 and dx instead of x (plotly.js draws point i at x0 + i·dx, in that order
    of operations): each curve, evaluated at those x, is π_k N(x | μ_k, σ²_k) (scipy) and the last their sum."""
    from scipy.stats import norm
    x = vc.load_dataset("faithful_waiting")
    w, m, v = np.array([0.35, 0.65]), np.array([54.6, 80.1]), np.array([34.4, 34.0])
    spec = _fig_json(emfig.data_1d(x, w, m, v, title="t"))
    curves = [tr for tr in spec["data"] if tr["type"] == "scatter" and tr.get("mode") == "lines"]
    assert len(curves) == 3 and all("x" not in tr for tr in curves)
    for k, tr in enumerate(curves):
        y = _decode(tr["y"])
        xs = tr["x0"] + np.arange(y.size) * tr["dx"]
        want = (w * norm.pdf(xs[:, None], m, np.sqrt(v))).sum(1) if k == 2 else w[k] * norm.pdf(xs, m[k], np.sqrt(v[k]))
        np.testing.assert_allclose(y, want, rtol=1e-12)
        assert xs[0] < x.min() and xs[-1] > x.max() and xs[-1] == pytest.approx(x.max() + 0.1 * np.ptp(x))
    points = spec["data"][-1]
    jitter = _decode(points["y"])
    assert jitter.size == x.size and (jitter < 0).all() and np.unique(jitter).size > 8
