"""Charts written as plotly JSON (the ``*_spec`` builders) are what plotly's graph objects make of them.

A chart a slider redraws is written as a plain dict and sent as it is (``pages._common.show``); its
``*_figure`` twin is ``Figure(spec)``, validated by plotly. Here every spec builder, on ordinary and
edge-case inputs, is checked to be canonical: plotly's validation leaves it exactly as written (a
misspelt property, a value plotly would coerce, a named colour scale it would spell out all fail), no
part of it is shared between two places (the page styles a spec in place), and its twin has its
signature.
"""
from __future__ import annotations

import inspect
import json
from types import SimpleNamespace

import numpy as np
import pytest

import vizcore as vc
from vizcore import teaching
from vizcore.figures import bounds, em, kl, models, vi
from vizcore.figures._style import Figure, finished

G = np.linspace(40, 100, 120)
JOINT = np.stack([0.4 * np.exp(-(G - 55) ** 2 / 50), 0.6 * np.exp(-(G - 80) ** 2 / 40)], 1) / 10
RESP = JOINT / JOINT.sum(1, keepdims=True)
X = np.linspace(-4, 4, 200)
WITH_INF = np.sin(X)
WITH_INF[50:60] = np.inf
DEC = SimpleNamespace(energy=-120.5, entropy=3.25, expected_log_lik=-110.0, kl_prior=7.25, log_marginal=-115.0,
                      kl_posterior=2.25, elbo=-117.25)
MEANS, LOG_SDS = np.linspace(-2, 2, 30), np.linspace(-1.5, 1, 20)
ELBO = -((MEANS[None, :] - 0.3) ** 2) - (LOG_SDS[:, None] + 0.2) ** 2 - 5
# a family of bounds on an evenly spaced grid (x0/dx) and on an uneven one (x, cut to the view)
_MODEL = vc.get_model("gmm1d")
_DATA = vc.load_dataset("faithful_waiting")
_THETA = _MODEL.make_params(weights=[.5, .5], means=[55, 80], variances=[36, 36])
_EVEN = vc.bound_family(_MODEL, _DATA, _THETA, "means[0]", *teaching.anchored_grid(40, 90, 5, n=300))
_UNEVEN = vc.bound_family(_MODEL, _DATA, _THETA, "means[0]",
                          np.sort(np.r_[np.linspace(40, 90, 200), 51.3, 66.6]), anchors=[50, 60, 70])


def _family(fam):
    return fam.values, fam.log_marginal, fam.anchors, fam.anchor_log_marginal, fam.bounds


PX = teaching.anchored_grid(40, 70, 1, n=16)[0]
PY = np.linspace(70, 95, 16)
PLANE = -((PX[None, :] - 55) ** 2) - (PY[:, None] - 80) ** 2 / 2 - 1000
PLANE[0, 0] = np.nan

RESP_DATA = np.stack([np.linspace(0, 1, _DATA.size), 1 - np.linspace(0, 1, _DATA.size)], 1)

X2 = np.stack([np.linspace(0, 5, 50), np.sin(np.linspace(0, 5, 50))], 1)
R2 = np.stack([np.linspace(0, 1, 50), 1 - np.linspace(0, 1, 50)], 1)
HEADS, TOSSES = np.array([5.0, 9, 8, 4, 7]), np.full(5, 10.0)
R_COINS = np.stack([np.linspace(0.1, 0.9, 5), 1 - np.linspace(0.1, 0.9, 5)], 1)

KL_MEANS, KL_SDS = np.linspace(-2, 2, 20), np.linspace(0.2, 2, 15)
KL_GRID = KL_MEANS[None, :] ** 2 + KL_SDS[:, None]
KL_GRID[0, 0] = np.inf

GX, GY = np.linspace(-3, 3, 30), np.linspace(-2, 2, 25)
DENSITY = np.exp(-(GX[None, :] ** 2 + GY[:, None] ** 2))
SAMPLES = np.stack([np.linspace(-2, 2, 40), np.cos(np.linspace(-2, 2, 40))], 1)
LEFT = (1 / (1 + np.exp(GX[None, :] + 0 * GY[:, None]))).ravel()
RESP_2D = np.stack([LEFT, 1 - LEFT], 1)

ANGLE = np.linspace(0, 2 * np.pi, 60)


def _ellipse(m, a, b):
    return dict(x=m[0] + a * np.cos(ANGLE), y=m[1] + b * np.sin(ANGLE), mean=np.array(m))


SGA = -5 - np.exp(-np.arange(500) / 50.0)
SGA[3] = np.nan
THETAS, MUS, SDS = np.linspace(-2, 2, 900), np.linspace(-3, 3, 40), np.linspace(0.5, 3, 20)
VEM_LOG_P = -(MUS[None, :] ** 2) - (SDS[:, None] - 1) ** 2 * 50

_GMM_TRACE = vc.run_em(_MODEL, _DATA, _THETA, max_iter=8)

CASES = [
    (em.trace_spec, (_GMM_TRACE,), {}),
    (em.trace_spec, (_GMM_TRACE, 5), dict(distance=True)),  # two stacked axes, a log scale, the current half-step
    (em.gradient_spec, (np.linspace(-1200, -1040, 50), np.linspace(-1200, -1100, 80)), dict(step_size=0.01, diverged=False)),
    (em.gradient_spec, (np.linspace(-1200, -1040, 50), np.array([-1200.0, -1500, np.nan])),  # diverged to NaN
     dict(step_size=1.0, diverged=True, message="overflow")),
    (vi.elbo_trace_spec, (SGA, -4.5, -4.8), {}),
    (vi.elbo_trace_spec, (np.array([-3.0]), -2.0, -2.5), {}),
    (vi.gap_bars_spec, (["Gaussian", "mixture"], [0.3, 0.01], ["#E69F00", "#009E73"]), {}),
    (vi.iwae_k_spec, ([1, 2, 5, 10, 50], np.array([-5.0, -4.8, -4.7, -4.65, -4.61]),
                      np.array([0.1, 0.05, 0.02, 0.01, np.nan]), -4.6, -5.0), {}),
    (vi.iwae_theta_spec, (THETAS, [1, 10, 100, 1000, 5], [-(THETAS ** 2) - k for k in (1, .3, .1, .05, .5)],
                          -(THETAS ** 2)), dict(current=0.5, theta_label="μ")),
    (vi.mean_field_spec, (dict(_ellipse((0, 0), 2, 1), x1=np.cos(ANGLE), y1=np.sin(ANGLE)), _ellipse((0, 0), 1, 0.5),
                          _ellipse((0, 0), 2, 2), np.cumsum(np.ones((7, 2)), 0)), {}),
    (vi.cavi_elbo_spec, (np.array([-3.0, -1.0, -0.5, -0.45]),), dict(limit=-0.44)),
    (vi.vem_slice_spec, (MUS, np.where(MUS > 2, -np.inf, -(MUS ** 2)), -(MUS ** 2) - 20), dict(mu_t=0.0, mu_next=0.1)),
    (vi.vem_trace_spec, (np.linspace(-110, -100, 30), np.linspace(-115, -101, 30), np.linspace(-110, -99, 30)),
     dict(current=4)),
    (vi.vem_contour_spec, (MUS, SDS, VEM_LOG_P, (np.linspace(0, 1, 10), np.linspace(2, 1, 10)),
                           (np.linspace(0, 0.1, 5), np.linspace(2, 1.1, 5))), dict(current=3)),
    (models.prior_posterior_bars_spec, ([0.3, 0.7], [0.1, 0.9]), {}),
    (models.mixture_2d_spec, (GX, GY, DENSITY, SAMPLES, np.arange(40) % 3),
     dict(point=(0.5, 0.2), means=[[0, 0], [1, 1]])),
    (models.mixture_2d_spec, (GX, GY, DENSITY, SAMPLES[:0], np.zeros(0, int)), dict(means=[[0, 0]])),
    (models.posterior_map_2d_spec, (GX, GY, RESP_2D, (0.3, 0.1)), {}),
    (models.posterior_map_2d_spec, (GX, GY, np.ones((GX.size * GY.size, 1))), {}),  # one component
    (models.linkage_cells_spec, (0.25, [125, 18, 20, 34]), {}),
    (models.linkage_posterior_spec, (np.arange(126.0), np.ones(126) / 126), dict(z_true=30)),
    (kl.discrete_spec, (["a", "b", "c"], [0.2, 0.3, 0.5], np.array([0.1, 0.1, 0.8])), {}),
    (kl.discrete_integrand_spec, (["a", "b", "c"], [0.1, -0.05, 0.3]), {}),
    (kl.discrete_integrand_spec, (["a", "b", "c"], [np.inf, -0.05, 0.0]), {}),  # +∞ hatched
    (kl.kl_heatmap_spec, (KL_MEANS, KL_SDS, KL_GRID), dict(title="reverse KL(q‖p)")),
    (kl.kl_heatmap_spec, (KL_MEANS, KL_SDS, KL_GRID), dict(title="forward", minimum=(0.004, 0.5, 0.123))),
    (kl.gaussian_fit_spec, (X, np.exp(-X ** 2), np.exp(-(X - 1) ** 2), np.exp(-(X / 2) ** 2)), {}),
    (em.data_2d_spec, (X2, [0.5, 0.5], [[1, 0], [4, 0.5]], [np.eye(2), [[1, 0.3], [0.3, 0.5]]]), dict(title="θ₀")),
    (em.data_2d_spec, (X2, [0.5, 0.5], [[1, 0], [4, 0.5]], [np.eye(2), [[1, 0.3], [0.3, 0.5]]], R2), dict(title="")),
    (em.coins_split_spec, (HEADS, TOSSES), dict(title="start")),
    (em.coins_split_spec, (HEADS, TOSSES, R_COINS), dict(title="E1")),  # a bar's base: plotly keeps a list
    (em.linkage_split_spec, ([125, 18, 20, 34],), dict(title="start")),
    (em.linkage_split_spec, ([125, 18, 20, 34], 29.5), dict(title="")),
    (em.restarts_spec, ([np.array([-1200.0, -1100, -1050, -1049.5]), np.linspace(-1300, -1040, 600)], ["1", "2"]), {}),
    (em.restarts_spec, ([np.array([-5.0])], ["only"]), {}),  # one iteration: no tail to focus on
    (em.restarts_spec, ([np.array([-5.0, np.nan, -4.0]), np.array([-7.0, -6.0]), np.array([-3.0, -2.5]),
                         np.array([-9.0, -1.0]), np.array([-2.0, -1.5])], list("abcde")), {}),
    (em.data_1d_spec, (_DATA, [0.4, 0.6], [55, 80], [36, 40]), dict(title="θ₀")),
    (em.data_1d_spec, (_DATA, [0.4, 0.6], [55, 80], [36, 40], RESP_DATA), dict(title="E1", xlabel="min", seed=3)),
    (em.data_1d_spec, (np.full(5, 2.0), [1.0], [2.0], [1.0]), dict(title="")),
    (bounds.family_spec, _family(_EVEN), {}),
    (bounds.family_spec, _family(_EVEN), dict(show_envelope=False, current=61.0, argmax_f=55.0, max_f=-1000.0,
                                              bound_argmax=_EVEN.anchors, bound_max=_EVEN.anchor_log_marginal)),
    (bounds.family_spec, _family(_UNEVEN), dict(extra_bound=_UNEVEN.bounds[0] - 3, extra_anchor=(50.0, -1100.0))),
    (bounds.family_spec, _family(_UNEVEN), dict(extra_bound=_UNEVEN.bounds[0] - 1e4, lang="zh")),  # far below: a note
    (bounds.plane_spec, (PX, PY, PLANE), {}),
    (bounds.plane_spec, (PX, np.r_[PY[:-1], 93.3], PLANE, PLANE - 3),
     dict(touch=(55.0, 80.0), argmax_f=[(55.0, 80.0), (56.0, 81.0)], argmax_bound=(54.0, 79.0))),
    (bounds.plane_spec, (PX, PY, np.full(PLANE.shape, np.nan)), {}),
    (bounds.evidence_bar_spec, (-10.0, -12.0, 2.0), {}),
    (bounds.evidence_bar_spec, (-1000.5, -1000.6, 0.1), dict(baseline=-1003.0, lang="zh", height=200)),
    (bounds.evidence_bar_spec, (-5.0, -5.0, 0.0), dict(baseline=float("nan"))),
    (bounds.decomposition_spec, (DEC,), {}),
    (bounds.gap_spec, (G, -np.abs(G - 70) - 100, -np.abs(G - 65) - 103), dict(current=(65.0, -105.0, -103.0))),
    (bounds.gap_spec, (G, np.where(G > 90, -np.inf, -np.abs(G - 70)), np.full(G.shape, -np.inf)), dict(lang="zh")),
    (bounds.point_q_spec, ([0.5, 0.5], [0.2, 0.8], [0.3, 0.7]), {}),
    (bounds.point_q_spec, (np.full(12, 1 / 12), np.linspace(0, 1, 12) / 6, np.full(12, 1 / 12)), {}),
    (models.prior_bars_spec, ([0.3, 0.7],), {}),
    (models.prior_bars_spec, ([0.2, 0.3, 0.1, 0.4],), dict(lang="zh", height=380)),
    (models.mixture_density_spec, (G, JOINT, JOINT.sum(1)), {}),
    (models.mixture_density_spec, (G, JOINT, JOINT.sum(1)), dict(hist=(G[::10], JOINT.sum(1)[::10]), x0=60.0,
                                                                 stacked=True)),
    (models.mixture_density_spec, (np.arange(11.0), JOINT[:11], JOINT[:11].sum(1)),
     dict(hist=(np.arange(11.0), JOINT[:11].sum(1)), x0=3, discrete=True, var="h", xlabel="heads")),
    (models.responsibilities_spec, (G, RESP), dict(x0=61.0, resp0=RESP[30])),
    (models.responsibilities_spec, (np.arange(11.0), RESP[:11]), dict(x0=4, resp0=RESP[4], discrete=True, var="h")),
    (kl.density_spec, (X, np.exp(-X ** 2), np.exp(-(X - 1) ** 2)), {}),
    (kl.integrand_spec, (X, np.sin(X)), {}),
    (kl.integrand_spec, (X, WITH_INF), dict(lang="zh")),
    (vi.densities_spec, (X, [dict(name="p", y=np.exp(-X ** 2), colour="#000000", fill=True),
                             dict(name=None, y=np.exp(-(X - 1) ** 2), colour="#E69F00", dash="dash", width=3)]), {}),
    (vi.densities_spec, (np.linspace(-3, 3, 1000), [dict(name="q", y=np.linspace(0, 1, 1000), colour="#0072B2")]),
     dict(xaxis="θ")),
    (vi.decomposition_spec, (-10.0, 0.5, -9.5), {}),
    (vi.elbo_heatmap_spec, (MEANS, LOG_SDS, ELBO, -4.9), {}),
    (vi.elbo_heatmap_spec, (MEANS, LOG_SDS, ELBO, -4.9),
     dict(optimum=(0.3, 0.8), current=(0.1, 1.2), path=(np.linspace(-1, 0.3, 900), np.linspace(0.5, -0.2, 900)))),
]
TWINS = {em.trace_spec: em.trace_figure, em.gradient_spec: em.gradient_figure, vi.elbo_trace_spec: vi.elbo_trace_figure, vi.gap_bars_spec: vi.gap_bars_figure, vi.iwae_k_spec: vi.iwae_k_figure,
         vi.iwae_theta_spec: vi.iwae_theta_figure, vi.mean_field_spec: vi.mean_field_figure,
         vi.cavi_elbo_spec: vi.cavi_elbo_figure, vi.vem_slice_spec: vi.vem_slice_figure,
         vi.vem_trace_spec: vi.vem_trace_figure, vi.vem_contour_spec: vi.vem_contour_figure,
         models.prior_posterior_bars_spec: models.prior_posterior_bars, models.mixture_2d_spec: models.mixture_2d,
         models.posterior_map_2d_spec: models.posterior_map_2d, models.linkage_cells_spec: models.linkage_cells,
         models.linkage_posterior_spec: models.linkage_posterior,
         kl.discrete_spec: kl.discrete_figure, kl.discrete_integrand_spec: kl.discrete_integrand_figure,
         kl.kl_heatmap_spec: kl.kl_heatmap, kl.gaussian_fit_spec: kl.gaussian_fit_figure,
         em.data_2d_spec: em.data_2d, em.coins_split_spec: em.coins_split, em.linkage_split_spec: em.linkage_split,
         em.data_1d_spec: em.data_1d, em.restarts_spec: em.restarts_figure, bounds.family_spec: bounds.family_figure, bounds.plane_spec: bounds.plane_figure,
         bounds.evidence_bar_spec: bounds.evidence_bar_figure, bounds.decomposition_spec: bounds.decomposition_figure,
         bounds.gap_spec: bounds.gap_figure, bounds.point_q_spec: bounds.point_q_figure,
         models.prior_bars_spec: models.prior_bars, models.mixture_density_spec: models.mixture_density,
         models.responsibilities_spec: models.responsibilities, kl.density_spec: kl.density_figure,
         kl.integrand_spec: kl.integrand_figure, vi.densities_spec: vi.densities_figure,
         vi.decomposition_spec: vi.decomposition_figure, vi.elbo_heatmap_spec: vi.elbo_heatmap}


def _dump(spec) -> str:
    return json.dumps(spec, sort_keys=True, default=lambda a: np.asarray(a).tolist())


@pytest.mark.parametrize("builder,args,kwargs", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_plotly_leaves_the_spec_as_written(builder, args, kwargs):
    sent = finished(builder(*args, **kwargs))
    validated = Figure(builder(*args, **kwargs)).to_dict()  # raises on a property plotly does not know
    assert _dump(sent) == _dump(validated)


@pytest.mark.parametrize("builder,args,kwargs", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_no_part_of_a_spec_is_shared(builder, args, kwargs):
    """``display.presenter`` and ``ensure_contrast`` change a spec in place: a dict or list that sat in two
    places would be changed twice (the template is shared between specs on purpose and never changed)."""
    seen: set[int] = set()

    def walk(node):
        if isinstance(node, (dict, list)):
            assert id(node) not in seen, f"shared: {str(node)[:80]}"
            seen.add(id(node))
            for child in (node.values() if isinstance(node, dict) else node):
                walk(child)
    spec = builder(*args, **kwargs)
    walk(spec)


def test_the_figure_twins_are_validated_figures_with_the_same_signature():
    assert {c[0] for c in CASES} == set(TWINS)  # every spec builder is checked above
    for spec_builder, figure_builder in TWINS.items():
        assert inspect.signature(figure_builder) == inspect.signature(spec_builder)
        args, kwargs = next((a, k) for b, a, k in CASES if b is spec_builder)
        fig = figure_builder(*args, **kwargs)
        assert isinstance(fig, Figure) and fig.data and figure_builder.__name__ != spec_builder.__name__


def test_a_property_plotly_would_change_is_caught():
    """The check above can fail: a named colour scale (plotly spells it out) or a misspelt property."""
    def named():
        spec = vi.elbo_heatmap_spec(MEANS, LOG_SDS, ELBO, -4.9)
        spec["data"][0]["colorscale"] = "Viridis"
        return spec
    assert _dump(finished(named())) != _dump(Figure(named()).to_dict())
    misspelt = named()
    misspelt["data"][0]["colorscal"] = "Viridis"
    with pytest.raises(ValueError):
        Figure(misspelt)


@pytest.mark.parametrize("builder,args,kwargs", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_every_trace_is_of_a_type_the_served_plotly_js_draws(builder, args, kwargs):
    """The browser runs plotly's cartesian bundle (pages/_chart.py): a trace of another type (a waterfall, a
    3-D surface) would be left out of the chart without an error."""
    from pages import _chart
    types = {trace.get("type", "scatter") for trace in builder(*args, **kwargs)["data"]}
    assert types <= _chart.PLOTLY_TRACES, f"not in static/{_chart.PLOTLY_BUNDLE}: {sorted(types - _chart.PLOTLY_TRACES)}"


def test_the_trace_type_check_can_fail():
    from pages import _chart
    assert "waterfall" not in _chart.PLOTLY_TRACES and "surface" not in _chart.PLOTLY_TRACES
