"""Small numeric helpers for the teaching pages (pure numpy; no streamlit, no plotly).

What the pages need beyond :mod:`vizcore.inference` and :mod:`vizcore.views`:
sensible default parameters for a data set, a valid interval for one coordinate
of θ, where to put anchor points, summaries of a bound family (argmaxes, gaps),
q on a path between the prior and the posterior, and the two panels of a plane
view (log p and one bound over two coordinates).

Notation as in :mod:`vizcore.inference`: ``resp[n, k] = q(z_n = k)``, f(θ) =
log p(X|θ), L(q, θ) = E_q[log p(X, Z|θ) − log q(Z)] ≤ f(θ).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import gammaln, xlogy

from ._validation import as_array, check_int
from .inference import _model, _params, interpolate_resp, posterior, prior_resp
from .views import bound_from_resp, log_marginal_batch, plane, vary

PROB_LO, PROB_HI = 0.01, 0.99


# ---- data summaries ----------------------------------------------------------------------
def _columns(model, x) -> np.ndarray:
    """The data as (N, D) continuous columns (gmm) or heads fractions (coins)."""
    x = np.asarray(x, dtype=float)
    if model.name == "gmm1d":
        return x.reshape(-1, 1)
    if model.name == "gmm2d":
        return x
    if model.name == "coins":
        t = np.where(x[:, 1] > 0, x[:, 1], 1.0)
        return (x[:, 0] / t).reshape(-1, 1)
    return x


def data_ranges(model, x) -> list[tuple[float, float, float]]:
    """Per continuous column: (low, high, variance) of a gmm's data, padded by 10 % of the span."""
    model = _model(model)
    cols = _columns(model, model.validate_data(x))
    out = []
    for j in range(cols.shape[1]):
        c = cols[:, j]
        lo, hi = float(c.min()), float(c.max())
        span = hi - lo if hi > lo else max(1.0, abs(lo))
        var = float(c.var()) if c.size > 1 and c.var() > 0 else span * span / 12
        out.append((lo - 0.1 * span, hi + 0.1 * span, var))
    return out


# ---- default and "true" parameters ------------------------------------------------------------
def _chunks(order, k):
    return np.array_split(order, k)


def default_params(model, x, k: int = 2):
    """Starting θ from the data: split the sorted data into k equal chunks, one component each.

    gmm1d/gmm2d: chunk means and (co)variances; coins: chunk heads fractions;
    linkage: θ = 0.5. Weights are equal.
    """
    model = _model(model)
    x = model.validate_data(x)
    if model.name == "linkage":
        return model.make_params(theta=[0.5])
    k = int(k)
    w = np.full(k, 1.0 / k)
    cols = _columns(model, x)
    if model.name == "gmm2d":
        z = (cols - cols.mean(0)) / np.where(cols.std(0) > 0, cols.std(0), 1.0)
        order = np.argsort(z.sum(1), kind="stable")
    else:
        order = np.argsort(cols[:, 0], kind="stable")
    ranges = data_ranges(model, x)
    means, covs = [], []
    for idx in _chunks(order, k):
        part = cols[idx] if idx.size else cols
        means.append(part.mean(0))
        if model.name == "gmm2d":
            c = np.cov(part.T) if len(part) > 2 else np.diag([r[2] for r in ranges])
            floor = np.diag([r[2] * 1e-3 for r in ranges])
            covs.append(c + floor)
        else:
            covs.append(max(float(part.var()) if len(part) > 1 else ranges[0][2], ranges[0][2] * 1e-3))
    means = np.array(means)
    if model.name == "gmm1d":
        return model.make_params(weights=w, means=means[:, 0], variances=np.array(covs))
    if model.name == "gmm2d":
        return model.make_params(weights=w, means=means, covariances=np.array(covs))
    probs = np.clip(means[:, 0], 0.05, 0.95)
    if k > 1 and np.ptp(probs) < 0.05:
        probs = np.linspace(0.4, 0.6, k)
    return model.make_params(weights=w, heads_probs=probs)


def synthetic_truth(model, k: int = 2):
    """The θ* synthetic data are drawn from: well separated components, equal weights."""
    model = _model(model)
    if model.name == "linkage":
        return model.make_params(theta=[0.6])
    k = int(k)
    w = np.full(k, 1.0 / k)
    if model.name == "gmm1d":
        return model.make_params(weights=w, means=4.0 * (np.arange(k) - (k - 1) / 2), variances=np.ones(k))
    if model.name == "gmm2d":
        ang = 2 * np.pi * np.arange(k) / k + np.pi / 4
        r = 0.0 if k == 1 else 3.0
        return model.make_params(weights=w, means=np.stack([r * np.cos(ang), r * np.sin(ang)], 1),
                                 covariances=np.repeat(np.eye(2)[None], k, 0))
    return model.make_params(weights=w, heads_probs=[0.5] if k == 1 else np.linspace(0.25, 0.8, k))


# ---- coordinates -------------------------------------------------------------------------------
def selectable_coordinates(model, params) -> list[str]:
    """The coordinates of θ that can be varied alone (a single weight of K = 1 cannot)."""
    model = _model(model)
    params = _params(model, params)
    names = list(model.coordinates(params))
    if model.name != "linkage" and params.weights.size == 1:
        names = [n for n in names if not n.startswith("weights[")]
    return names


def _index(name: str) -> list[int]:
    return [int(p) for p in name.replace("]", "").split("[")[1:]]


def coordinate_range(model, x, params, name: str) -> tuple[float, float]:
    """A valid interval [lo, hi] for coordinate ``name`` with the other coordinates held.

    Probabilities stay in [0.01, 0.99]; means span the data ± 10 %; variances
    run from 1 % to 150 % of the data's variance; a 2-D covariance entry keeps
    the matrix positive-definite. The current value is always inside.
    """
    model = _model(model)
    x = model.validate_data(x)
    params = _params(model, params)
    coords = model.coordinates(params)
    if name not in coords:
        raise ValueError(f"name: expected a coordinate of θ such as {list(coords)[:4]}, got {name!r}")
    cur = float(model.flatten(params)[coords[name][0]])
    field, idx = name.split("[")[0], _index(name)
    if field in ("weights", "heads_probs", "theta"):
        lo, hi = PROB_LO, PROB_HI
        return min(lo, max(cur, 1e-3)), max(hi, min(cur, 1 - 1e-3))
    ranges = data_ranges(model, x)
    if field == "means":
        j = idx[1] if len(idx) > 1 else 0
        lo, hi, _ = ranges[j]
    elif field == "variances":
        v = ranges[0][2]
        lo, hi = 0.01 * v, 1.5 * v
    elif field == "covariances":
        k, i, j = idx
        c = params.covariances[k]
        if i == j:
            other = 1 - i
            b2 = c[0, 1] ** 2
            lo = max(0.01 * ranges[i][2], 1.1 * b2 / c[other, other])
            hi = max(1.5 * ranges[i][2], 2 * lo)
        else:
            r = float(np.sqrt(c[0, 0] * c[1, 1]))
            lo, hi = -0.95 * r, 0.95 * r
    else:  # pragma: no cover - every model's fields are handled above
        raise ValueError(f"name: no range known for {name!r}")
    return float(min(lo, cur)), float(max(hi, cur))


def anchor_positions(lo: float, hi: float, n_anchors: int) -> np.ndarray:
    """``n_anchors`` points at the centres of equal cells of [lo, hi]."""
    a = int(n_anchors)
    if a < 1:
        raise ValueError(f"n_anchors: expected a whole number ≥ 1, got {n_anchors}")
    return lo + (np.arange(a) + 0.5) * (hi - lo) / a


def anchored_grid(lo: float, hi: float, n_anchors: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """An evenly spaced grid of [lo, hi] with at least ``n`` points, and ``n_anchors`` of its points at the
    centres of equal cells of [lo, hi] (:func:`anchor_positions`, to rounding): (values, anchors).

    The grid is ``lo + i·dx``, the way plotly.js computes a trace's ``x0 + i·dx``, so a figure can send
    curves on it without their x (``vizcore.figures._style.linear_axis``); the anchors are grid points,
    so every bound touches log p at a drawn point."""
    a = check_int(n_anchors, "n_anchors", 1, 10_000)
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"lo, hi: expected finite numbers with lo < hi, got {lo!r}, {hi!r}")
    m = max(1, -(-int(n) // (2 * a)))  # ceil(n / 2a): a cell is 2m steps wide, its centre m steps in
    size = 2 * a * m + 1
    values = lo + np.arange(size) * ((hi - lo) / (size - 1))
    return values, values[(2 * np.arange(a) + 1) * m]


def grid_with(lo: float, hi: float, n: int, extra=()) -> np.ndarray:
    """``n`` equally spaced values of [lo, hi] merged with ``extra`` (sorted, unique)."""
    return np.unique(np.concatenate([np.linspace(lo, hi, int(n)), np.asarray(extra, dtype=float).ravel()]))


def merge_samples(values, f, more_values, more_f) -> tuple[np.ndarray, np.ndarray]:
    """Two samplings of one curve as one: (values, f) sorted by value, a value in both kept once (from the first).

    With ``values = linspace(lo, hi, n)`` the merged values are ``grid_with(lo, hi, n, more_values)``. A page
    computes the grid once and adds the current θ, so moving θ's own slider does not redo the grid.
    """
    v = np.concatenate([as_array(values, "values", ndim=1), as_array(more_values, "more_values", ndim=1)])
    y = np.concatenate([np.asarray(f, dtype=float).ravel(), np.asarray(more_f, dtype=float).ravel()])  # −inf, NaN: allowed
    if v.shape != y.shape:
        raise ValueError(f"f, more_f: expected one value per point, got {y.size} values for {v.size} points")
    v, first = np.unique(v, return_index=True)
    return v, y[first]


# ---- summaries of a family of bounds -------------------------------------------------------------
@dataclass(frozen=True)
class FamilySummary:
    argmax_f: float          # θ at the grid maximum of f
    max_f: float
    bound_argmax: np.ndarray  # (A,) θ at each bound's grid maximum
    bound_max: np.ndarray     # (A,)
    best_bound: int           # index of the bound with the highest maximum
    envelope_gap: float       # max_θ [f(θ) − max_a L_a(θ)] over the grid
    overshoot: float          # max over bounds and grid of L − f (≤ 0 up to rounding)


def summarise_family(values, log_marginal, bounds) -> FamilySummary:
    """Argmaxes of f and of each bound, the envelope's largest gap below f, and the worst overshoot."""
    v = np.asarray(values, dtype=float)
    f = np.asarray(log_marginal, dtype=float)
    b = np.atleast_2d(np.asarray(bounds, dtype=float))
    i = int(np.nanargmax(f))
    bi = np.nanargmax(np.where(np.isfinite(b), b, -np.inf), axis=1)
    bmax = b[np.arange(b.shape[0]), bi]
    env = np.max(b, axis=0)
    with np.errstate(invalid="ignore"):
        gap = f - env
        over = b - f[None, :]
    return FamilySummary(float(v[i]), float(f[i]), v[bi], bmax, int(np.argmax(bmax)),
                         float(np.nanmax(gap)), float(np.nanmax(over)))


# ---- q on a path, and per-point q -------------------------------------------------------------------
def path_resp(model, x, params, t: float):
    """q_t = (1 − t)·p(z) + t·p(z|x, θ): the prior at t = 0, the exact posterior at t = 1."""
    return interpolate_resp(prior_resp(model, x, params), posterior(model, x, params), t)


def normalise(raw) -> np.ndarray:
    """Non-negative numbers divided by their sum; all zeros give the uniform distribution."""
    r = np.clip(np.asarray(raw, dtype=float), 0.0, None)
    s = r.sum()
    return r / s if s > 0 else np.full(r.size, 1.0 / r.size)


def binomial_row(y1: int, k: int, rho: float) -> np.ndarray:
    """q(z) = Binomial(z; y1, ρ) for z = 0..k−1 (zero above y1): linkage's family of q.

    The exact posterior of the linkage model is Binomial(y1, θ/(2 + θ)), so this
    family contains it.
    """
    z = np.arange(int(k), dtype=float)
    rho = float(rho)
    with np.errstate(divide="ignore"):
        lp = gammaln(y1 + 1) - gammaln(z + 1) - gammaln(np.maximum(y1 - z, 0) + 1) + xlogy(z, rho) + xlogy(y1 - z, 1 - rho)
    p = np.where(z <= y1, np.exp(lp), 0.0)
    return p / p.sum()


def replace_row(resp, n: int, row) -> np.ndarray:
    """resp with row ``n`` replaced by the distribution ``row``."""
    out = np.array(resp, dtype=float, copy=True)
    out[int(n)] = np.asarray(row, dtype=float)
    return out


# ---- plane views ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaneView:
    name_x: str
    name_y: str
    values_x: np.ndarray
    values_y: np.ndarray
    log_marginal: np.ndarray   # (len(vy), len(vx)); NaN where θ is invalid
    bound: np.ndarray          # (len(vy), len(vx)): L(q_anchor, θ), q = posterior at the anchor


def grid_side(n_rows: int, *, full: int = 48, smallest: int = 16, budget: int = 48 * 48 * 1000) -> int:
    """Points per side of a 2-D grid of log p(X|θ) for data of ``n_rows`` rows.

    Each grid point is a sum over the rows, so a side × side grid costs side² · N. Up to
    N = budget / full² (1,000 rows by default) the grid has ``full`` points per side; beyond, the
    side shrinks so that side² · N stays within ``budget`` (every value on it is still exact), but
    never below ``smallest``. For 5,000 rows (the largest upload): 21.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 1:
        raise ValueError(f"n_rows: expected a whole number ≥ 1, got {n_rows!r}")
    if not 1 <= smallest <= full:
        raise ValueError(f"smallest: expected a whole number in [1, full = {full}], got {smallest!r}")
    return int(min(full, max(smallest, int(np.sqrt(budget / int(n_rows))))))


def plane_grid(model, x, anchor, name_x: str, name_y: str, n: int = 60):
    """The plane through ``anchor`` that :func:`plane_view` draws: ``(vx, vy, batch)``.

    ``batch`` holds θ at every grid point (row-major over ``vy`` then ``vx``). Two anchors that
    differ only in the plotted coordinates give the same batch, hence the same log p surface: a
    caller can cache ``log_marginal_batch(model, x, batch)`` on the batch's values.
    """
    model = _model(model)
    return _plane_grid(model, model.validate_data(x), _params(model, anchor), name_x, name_y, n)


def _plane_grid(model, x, anchor, name_x: str, name_y: str, n: int):
    """:func:`plane_grid` on validated arguments."""
    vx = np.linspace(*coordinate_range(model, x, anchor, name_x), int(n))
    vy = np.linspace(*coordinate_range(model, x, anchor, name_y), int(n))
    return vx, vy, plane(model, anchor, name_x, vx, name_y, vy)


def plane_view(model, x, anchor, name_x: str, name_y: str, n: int = 60, *,
               log_marginal: Callable | None = None) -> PlaneView:
    """log p(X|θ) and the bound touching it at ``anchor`` over a plane through ``anchor``.

    ``log_marginal(batch)`` computes log p(X|θ) over the grid (default
    :func:`vizcore.views.log_marginal_batch` on ``x``); a page passes a cached one.
    """
    model = _model(model)
    x = model.validate_data(x)
    anchor = _params(model, anchor)
    vx, vy, batch = _plane_grid(model, x, anchor, name_x, name_y, n)
    f = log_marginal_batch(model, x, batch) if log_marginal is None else np.asarray(log_marginal(batch), dtype=float)
    if f.shape != (vx.size * vy.size,):
        raise ValueError(f"log_marginal: expected {vx.size * vy.size} values (one per grid point), got shape {f.shape}")
    b = bound_from_resp(model, x, posterior(model, x, anchor)).over(model, batch)
    shape = (vy.size, vx.size)
    return PlaneView(name_x, name_y, vx, vy, f.reshape(shape), np.asarray(b, dtype=float).reshape(shape))


def coordinate_value(model, params, name: str) -> float:
    """The current value of coordinate ``name`` of θ."""
    model = _model(model)
    params = _params(model, params)
    return float(model.flatten(params)[model.coordinates(params)[name][0]])


def with_coordinate(model, params, name: str, value: float):
    """θ with coordinate ``name`` set to ``value`` (other weights rescaled), validated."""
    model = _model(model)
    p = vary(model, params, name, [float(value)])
    return model.make_params({n: getattr(p, n)[0] for n in model.param_names})
