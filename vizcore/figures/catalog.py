"""The figures of the app by name, built from a model, data and θ without the app.

Used by ``python -m vizcore figure NAME ...`` (slides) and usable from a notebook::

    from vizcore.figures.catalog import FIGURES, build, to_html
    fig = build("bound-family", model="gmm1d", dataset="faithful_waiting", coord="means[0]")
    open("family.html", "w").write(to_html(fig))       # offline: plotly.js is inside

Every builder takes keyword options (all optional; unknown options are ignored, so one
command line serves every figure) and returns a plotly figure made by the same builders
the pages use (``vizcore.figures.bounds``, ``.em``, ``.kl``, ``.models``). No streamlit.

Options (``FigureOptions``): ``model``, ``x`` (data) or ``dataset``, ``params`` (dict of θ,
defaults: the page's starting point for the classic data sets, otherwise
:func:`vizcore.teaching.default_params`), ``k`` (components), ``coord``/``coord_y``
(coordinates of θ such as ``means[0]``), ``anchors``, ``t`` (q on the path from the
prior, t = 0, to the posterior, t = 1), ``step`` (EM half-step), ``view`` (``coordinate`` or
``line`` for em-step), ``separation``/``weight`` (kl-fit), ``lang``, ``height``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .. import densities as dens
from .. import em_views as ev
from .. import kl as klmod
from .. import teaching
from ..datasets import DATASETS, datasets_for, load_dataset
from ..inference import decompose, elbo, posterior, run_em
from ..models import get_model
from ..views import bound_family, bound_from_resp, log_marginal_batch, vary
from . import bounds as bfig
from . import em as emfig
from . import kl as klfig
from . import models as mfig

# The starting points the pages use for the classic data sets (the same numbers as the app).
PRESETS = {
    ("gmm1d", "faithful_waiting", 2): dict(weights=[0.5, 0.5], means=[55.0, 80.0], variances=[36.0, 36.0]),
    ("gmm2d", "old_faithful", 2): dict(weights=[0.5, 0.5], means=[[2.0, 55.0], [4.3, 80.0]],
                                       covariances=[[[0.09, 0.0], [0.0, 36.0]], [[0.16, 0.0], [0.0, 36.0]]]),
    ("coins", "two_coins", 2): dict(weights=[0.5, 0.5], heads_probs=[0.6, 0.5]),
    ("linkage", "genetic_linkage", None): dict(theta=[0.5]),
}
DEFAULT_DATASET = {name: next(iter(datasets_for(name))) for name in ("gmm1d", "gmm2d", "coins", "linkage")}
DEFAULT_DATASET["gmm1d"] = "faithful_waiting"
DEFAULT_COORD = {"gmm1d": "means[0]", "gmm2d": "means[0][1]", "coins": "heads_probs[0]", "linkage": "theta[0]"}
EM_MAX_ITER = 150
EM_TOL = 1e-8


@dataclass
class FigureOptions:
    """What a figure is built from; every field has a default."""

    model: str = "gmm1d"
    dataset: str | None = None
    x: np.ndarray | None = None
    params: dict | None = None
    k: int | None = None
    coord: str | None = None
    coord_y: str | None = None
    anchors: int = 5
    t: float = 0.3
    step: int | None = None
    view: str = "coordinate"
    separation: float = 6.0
    weight: float = 0.5
    lang: str = "en"
    height: int | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Setup:
    model: object
    x: np.ndarray
    params: object
    data_name: str


def _setup(o: FigureOptions) -> Setup:
    """The model, the data and θ the options describe (raises ValueError naming the option)."""
    model = get_model(o.model)
    if o.x is not None:
        x, data_name = model.validate_data(o.x), "data"
    else:
        name = o.dataset or DEFAULT_DATASET[model.name]
        if name not in DATASETS:
            raise ValueError(f"--dataset: expected one of {', '.join(DATASETS)}, got {name!r}")
        if DATASETS[name].model != model.name:
            raise ValueError(f"--dataset: {name!r} is data for model {DATASETS[name].model}, not {model.name}; "
                             f"use --model {DATASETS[name].model} or another data set")
        x, data_name = load_dataset(name), name
    k = None if model.name == "linkage" else int(o.k or 2)
    if k is not None and not 1 <= k <= 6:
        raise ValueError(f"--k: expected a number of components from 1 to 6, got {k}")
    if o.params is not None:
        params = model.make_params(o.params)
    elif (model.name, data_name, k) in PRESETS:
        params = model.make_params(PRESETS[(model.name, data_name, k)])
    else:
        params = teaching.default_params(model, x, k or 1)
    return Setup(model, x, params, data_name)


def _coord(s: Setup, name: str | None, option: str = "--coord") -> str:
    coords = teaching.selectable_coordinates(s.model, s.params)
    name = name or DEFAULT_COORD[s.model.name]
    if name not in coords:
        if name == DEFAULT_COORD[s.model.name]:
            return coords[0]
        raise ValueError(f"{option}: expected one of {', '.join(coords)}, got {name!r}")
    return name


def _label(name: str) -> str:
    """``means[0]`` → ``μ₁`` (components counted from 1), as on the pages."""
    field_, _, rest = name.partition("[")
    idx = [int(i) for i in rest.replace("]", "").split("[") if i] if rest else []
    symbol = {"weights": "π", "means": "μ", "variances": "σ²", "covariances": "Σ", "heads_probs": "p",
              "theta": "θ"}.get(field_, field_)
    if field_ == "theta" or not idx:
        return symbol
    sub = str(idx[0] + 1).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
    tail = "".join("xy"[i] for i in idx[1:])
    return symbol + sub + (f" [{tail}]" if tail else "")


def _h(o: FigureOptions, default: int) -> int:
    return int(o.height) if o.height else default


def _check_t(t: float) -> float:
    t = float(t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"--t: expected a number from 0 (q = prior) to 1 (q = posterior), got {t:g}")
    return t


# ---- the builders ---------------------------------------------------------------------------------
def bound_family_figure(o: FigureOptions) -> go.Figure:
    """log p(X|θ) along one coordinate and the bounds L(q_θ′, θ) touching it at each anchor θ′."""
    s = _setup(o)
    coord = _coord(s, o.coord)
    n = int(o.anchors)
    if not 1 <= n <= 50:
        raise ValueError(f"--anchors: expected a number of anchors from 1 to 50, got {n}")
    lo, hi = teaching.coordinate_range(s.model, s.x, s.params, coord)
    values, anchors = teaching.anchored_grid(lo, hi, n, 300)
    fam = bound_family(s.model, s.x, s.params, coord, values, anchors)
    summ = teaching.summarise_family(fam.values, fam.log_marginal, fam.bounds)
    return bfig.family_figure(fam.values, fam.log_marginal, fam.anchors, fam.anchor_log_marginal, fam.bounds,
                              x_label=_label(coord), bound_argmax=summ.bound_argmax, bound_max=summ.bound_max,
                              argmax_f=summ.argmax_f, max_f=summ.max_f,
                              current=teaching.coordinate_value(s.model, s.params, coord), lang=o.lang,
                              **({"height": o.height} if o.height else {}))


def bound_plane_figure(o: FigureOptions) -> go.Figure:
    """Contours of log p(X|θ) over two coordinates and of the bound that touches at θ."""
    s = _setup(o)
    name_x = _coord(s, o.coord)
    coords = [c for c in teaching.selectable_coordinates(s.model, s.params) if c != name_x]
    if not coords:
        raise ValueError(f"--model: {s.model.name} has a single free coordinate; a plane needs two")
    name_y = o.coord_y or next((c for c in coords if c.startswith(("means", "heads_probs"))), coords[0])
    if name_y not in coords:
        raise ValueError(f"--coord-y: expected one of {', '.join(coords)}, got {name_y!r}")
    view = teaching.plane_view(s.model, s.x, s.params, name_x, name_y, 48)
    touch = (teaching.coordinate_value(s.model, s.params, name_x), teaching.coordinate_value(s.model, s.params, name_y))
    return bfig.plane_figure(view.values_x, view.values_y, view.log_marginal, view.bound, touch=touch,
                             x_label=_label(name_x), y_label=_label(name_y), lang=o.lang,
                             **({"height": o.height} if o.height else {}))


def _q(s: Setup, t: float):
    return teaching.path_resp(s.model, s.x, s.params, _check_t(t))


def elbo_gap_figure(o: FigureOptions) -> go.Figure:
    """The bars log p(X|θ) = ELBO + KL for q on the path from the prior (t = 0) to the posterior (t = 1)."""
    s = _setup(o)
    q = _q(s, o.t)
    dec = decompose(s.model, s.x, s.params, q)
    prior_elbo = elbo(s.model, s.x, s.params, teaching.path_resp(s.model, s.x, s.params, 0.0))
    baseline = min(prior_elbo, dec.elbo)
    baseline -= 0.05 * max(dec.log_marginal - baseline, 1.0)
    return bfig.evidence_bar_figure(dec.log_marginal, dec.elbo, dec.kl_posterior, baseline=baseline, lang=o.lang,
                                    **({"height": o.height} if o.height else {}))


def decomposition_figure(o: FigureOptions) -> go.Figure:
    """Three ways to write the same ELBO (energy + entropy, expected log-likelihood − KL, log p − KL)."""
    s = _setup(o)
    dec = decompose(s.model, s.x, s.params, _q(s, o.t))
    return bfig.decomposition_figure(dec, lang=o.lang, **({"height": o.height} if o.height else {}))


def gap_curve_figure(o: FigureOptions) -> go.Figure:
    """Hold q (at t on the path), move one coordinate of θ: L(q, θ) ≤ log p(X|θ), the gap shaded."""
    s = _setup(o)
    coord = _coord(s, o.coord)
    q = _q(s, o.t)
    lo, hi = teaching.coordinate_range(s.model, s.x, s.params, coord)
    cur = teaching.coordinate_value(s.model, s.params, coord)
    values = teaching.grid_with(lo, hi, 300, [cur])
    batch = vary(s.model, s.params, coord, values)
    f = log_marginal_batch(s.model, s.x, batch)
    b = np.asarray(bound_from_resp(s.model, s.x, q).over(s.model, batch), dtype=float)
    lp = float(decompose(s.model, s.x, s.params, q).log_marginal)
    el = float(elbo(s.model, s.x, s.params, q))
    return bfig.gap_figure(values, f, b, current=(cur, lp, el), x_label=_label(coord), lang=o.lang,
                           **({"height": o.height} if o.height else {}))


def _trace(s: Setup):
    return run_em(s.model, s.x, s.params, max_iter=EM_MAX_ITER, tol=EM_TOL)


def _half_step(trace, step: int | None) -> int:
    last = 2 * trace.n_iter
    step = 1 if step is None else int(step)
    if not 0 <= step <= last:
        raise ValueError(f"--step: expected a half-step from 0 (start) to {last} (after the last M-step), got {step}")
    return step


def em_step_figure(o: FigureOptions) -> go.Figure:
    """EM at one half-step (--step: 0 start, 2t−1 after the t-th E-step, 2t after the t-th M-step):
    the bound L(q_t, θ) touching log p(X|θ) at θ_t−1 and the M-step jumping to its maximum, with the
    whole run as plotly frames (Play works in the HTML file)."""
    s = _setup(o)
    trace = _trace(s)
    if trace.n_iter == 0:
        raise ValueError("--params: EM stopped at the start (already at a fixed point); choose another start")
    step = _half_step(trace, o.step)
    steps = sorted(set(range(0, min(2 * trace.n_iter, 60) + 1)) | {2 * trace.n_iter, step})
    height = _h(o, 450)
    if o.view == "line":
        frames = ev.step_line_frames(s.model, s.x, trace, np.linspace(-0.5, 1.5, 201))
        pics = emfig.line_pictures(frames, trace, steps)
        return emfig.bound_figure(frames.axis, pics, steps.index(step), trace, lang=o.lang, height=height,
                                  xlabel="u along θ(u) = θ_t−1 + u (θ_t − θ_t−1)")
    if o.view != "coordinate":
        raise ValueError(f"--view: expected coordinate or line, got {o.view!r}")
    coord = _coord(s, o.coord)
    idx = s.model.coordinates(trace.params[0])[coord][0]
    path = np.array([s.model.flatten(p)[idx] for p in trace.params])
    los, his = zip(*(teaching.coordinate_range(s.model, s.x, p, coord) for p in (trace.params[0], trace.params[-1])))
    lo, hi = min(min(los), path.min()), max(max(his), path.max())
    if coord.split("[")[0] in ("weights", "heads_probs", "theta"):
        lo, hi = max(lo, 1e-3), min(hi, 1 - 1e-3)
    values = teaching.grid_with(lo, hi, 200, path[(path >= lo) & (path <= hi)][:31])
    frames = ev.coordinate_frames(s.model, s.x, trace, coord, values, max_half_steps=2 * trace.n_iter)
    pics = emfig.coordinate_pictures(frames, trace, coord, steps)
    return emfig.bound_figure(frames.axis, pics, steps.index(step), trace, xlabel=_label(coord), lang=o.lang,
                              height=height)


def em_trace_figure(o: FigureOptions) -> go.Figure:
    """The sawtooth of an EM run: log p(X|θ) and L(q, θ) after every half-step, and the KL gap."""
    s = _setup(o)
    trace = _trace(s)
    current = None if o.step is None else _half_step(trace, o.step)
    return emfig.trace_figure(trace, current, lang=o.lang, **({"height": o.height} if o.height else {}))


def kl_fit_figure(o: FigureOptions) -> go.Figure:
    """A bimodal p and the Gaussians q that minimise the reverse KL(q‖p) and the forward KL(p‖q)."""
    sep, w = float(o.separation), float(o.weight)
    if not (math.isfinite(sep) and 0.0 <= sep <= 20.0):
        raise ValueError(f"--separation: expected a distance between the modes from 0 to 20, got {sep:g}")
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"--weight: expected the weight of the left mode from 0 to 1, got {w:g}")
    p = klmod.GaussianMixture(w, -sep / 2, 1.0, sep / 2, 1.0)
    reverse, forward = klmod.fit_gaussian(p, "reverse"), klmod.fit_gaussian(p, "forward")
    x = klmod.plot_grid(p, reverse.q, forward.q, n=801)
    return klfig.gaussian_fit_figure(x, p.pdf(x), reverse.q.pdf(x), forward.q.pdf(x), lang=o.lang,
                                     **({"height": o.height} if o.height else {}))


def kl_heatmap_figure(o: FigureOptions) -> go.Figure:
    """KL between a bimodal p and every Gaussian q = N(μ, σ²) (reverse KL(q‖p); forward with --view forward)."""
    sep, w = float(o.separation), float(o.weight)
    kl_fit_figure(o)  # validates --separation and --weight
    p = klmod.GaussianMixture(w, -sep / 2, 1.0, sep / 2, 1.0)
    grid = klmod.kl_gaussian_fit_grid(p, np.linspace(-7.0, 7.0, 60), np.linspace(0.2, 5.0, 60))
    direction = "forward" if o.view == "forward" else "reverse"
    fit = klmod.fit_gaussian(p, direction)
    values = grid.forward if direction == "forward" else grid.reverse
    title = "forward KL(p‖q)" if direction == "forward" else "reverse KL(q‖p)"
    return klfig.kl_heatmap(grid.means, grid.sds, values, title=title, minimum=(fit.mean, fit.sd, fit.kl),
                            lang=o.lang, **({"height": o.height} if o.height else {}))


def mixture_density_figure(o: FigureOptions) -> go.Figure:
    """Each component π_k p(x|z=k), the marginal p(x) and a histogram of the data (gmm1d or coins)."""
    s = _setup(o)
    height = _h(o, 380)
    if s.model.name == "gmm1d":
        x = np.asarray(s.x, float)
        lo, hi, var = teaching.data_ranges(s.model, x)[0]
        sds = np.sqrt(s.params.variances)
        grid = dens.grid_1d(lo, hi, s.params.means, sds, n=300, per_component=16)
        g = dens.on_grid(s.model, s.params, grid)
        bins = int(np.clip(round(7 * len(x) ** (1 / 3)), 16, 120))
        hist = dens.histogram_density(x, float(grid.min()), float(grid.max()), bins)
        return mfig.mixture_density(grid, g.joint, g.marginal, hist=hist, lang=o.lang, height=height)
    if s.model.name == "coins":
        tosses = np.asarray(s.x[:, 1], int)
        m = int(np.bincount(tosses).argmax())
        h = np.arange(m + 1, dtype=float)
        g = dens.on_grid(s.model, s.params, np.column_stack([h, np.full_like(h, m)]))
        same = s.x[tosses == m, 0].astype(int)
        freq = np.bincount(same, minlength=m + 1) / max(len(same), 1)
        return mfig.mixture_density(h, g.joint, g.marginal, hist=(h, freq), discrete=True, var="h",
                                    xlabel=f"heads h in {m} tosses", lang=o.lang, height=height)
    raise ValueError(f"--model: mixture-density draws gmm1d or coins, got {s.model.name!r} "
                     "(use em-data for gmm2d and linkage)")


def em_data_figure(o: FigureOptions) -> go.Figure:
    """The data coloured by the responsibilities at half-step --step of an EM run (as on the EM page)."""
    s = _setup(o)
    trace = _trace(s)
    step = _half_step(trace, o.step if o.step is not None else 2 * trace.n_iter)
    ti, qi, kind = ev.half_step_state(trace, step)
    p = trace.params[ti]
    resp = None if qi is None else posterior(s.model, s.x, trace.params[qi - 1])  # q_t = p(Z|X, θ_t−1)
    title = emfig.step_label(step, trace, o.lang)
    height = _h(o, 420)
    name = s.model.name
    if name == "gmm1d":
        return emfig.data_1d(s.x, p.weights, p.means, p.variances, resp, title=title, lang=o.lang, height=height)
    if name == "gmm2d":
        return emfig.data_2d(s.x, p.weights, p.means, p.covariances, resp, title=title, lang=o.lang, height=height)
    if name == "coins":
        return emfig.coins_split(s.x[:, 0], s.x[:, 1], resp, title=title, lang=o.lang, height=height)
    expected = None if resp is None else float(np.asarray(resp)[0] @ np.arange(np.asarray(resp).shape[1]))
    return emfig.linkage_split(s.x[0], expected, title=title, lang=o.lang, height=height)


@dataclass(frozen=True)
class Entry:
    build: Callable[[FigureOptions], go.Figure]
    page: str           # where the app shows it

    @property
    def summary(self) -> str:
        return " ".join((self.build.__doc__ or "").strip().split("\n\n")[0].split())


FIGURES: dict[str, Entry] = {
    "bound-family": Entry(bound_family_figure, "Maximising through lower bounds"),
    "bound-plane": Entry(bound_plane_figure, "Maximising through lower bounds"),
    "elbo-gap": Entry(elbo_gap_figure, "The ELBO and the KL gap; Home"),
    "elbo-decomposition": Entry(decomposition_figure, "The ELBO and the KL gap"),
    "gap-curve": Entry(gap_curve_figure, "The ELBO and the KL gap"),
    "em-step": Entry(em_step_figure, "EM, step by step"),
    "em-trace": Entry(em_trace_figure, "EM, step by step"),
    "em-data": Entry(em_data_figure, "EM, step by step"),
    "kl-fit": Entry(kl_fit_figure, "KL divergence"),
    "kl-heatmap": Entry(kl_heatmap_figure, "KL divergence"),
    "mixture-density": Entry(mixture_density_figure, "Latent-variable models"),
}


def build(name: str, options: FigureOptions | None = None, **kw) -> go.Figure:
    """The figure ``name`` (a key of :data:`FIGURES`) for ``options`` or keyword options."""
    if name not in FIGURES:
        raise ValueError(f"NAME: expected one of {', '.join(FIGURES)}, got {name!r}")
    if options is None:
        known = {f for f in FigureOptions.__dataclass_fields__}
        options = FigureOptions(**{k: v for k, v in kw.items() if k in known},
                                extra={k: v for k, v in kw.items() if k not in known})
    return FIGURES[name].build(options)


PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


def to_html(fig, *, title: str | None = None, filename: str = "figure") -> str:
    """A standalone HTML page with plotly.js inlined: opens offline, in any browser, years later."""
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"],
                                                        "filename": filename}}
    html = pio.to_html(fig, include_plotlyjs=True, full_html=True, config=config, auto_play=False)
    if title:
        import html as _html
        html = html.replace("<head>", f"<head><title>{_html.escape(title)}</title>", 1)
    return html
