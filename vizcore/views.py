"""log p(X|θ) and lower bounds L(q, θ) over views of parameter space.

A model has many parameters; a picture has one or two axes. A *view* is a
batch of parameter vectors along

* one named coordinate with the others held (``vary``; changing one weight
  rescales the other weights so they still sum to 1),
* the straight line through two parameter vectors (``line``; an EM step
  θ_t → θ_t+1: along it L(q_t+1, ·) touches log p at θ_t and peaks at θ_t+1), or
* a plane of two coordinates (``plane``).

A bound L(q, θ) = E_q[log p(X, Z|θ)] + H(q) is evaluated from q's expected
sufficient statistics, so its cost over a grid does not grow with N.
log p(X|θ) needs the data at every grid point; it is evaluated in chunks of
the (grid × N × K) array.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_array
from .inference import _entropy, _log_posterior, _model, _params, logsumexp_last, sum_log, sum_logsumexp_last

# (θ, N, K) entries evaluated at once: small enough that a block's few temporaries stay in the CPU's
# cache (1 MB of L2 per core on the 2-core machine this was measured on). A 300-point log p curve at
# N = 10,000 (2 components), with the two-term sum of ``_log_add_rows``: 21 ms in blocks of 16,000
# entries, 16.5 ms at 24,000, 15 ms at 32,000, 36 ms at 64,000; a 2-D mixture's curve 30, 23, 38 ms.
# (Before that sum, with more temporaries per block: 27 ms at 16,000, 80 ms at 24,000, 145 ms in
# blocks of 2,000,000.) bench/README.md, eighth session.
CHUNK_ELEMENTS = 24_000
# The same for a curve that moves one component (:func:`_one_moving`), whose blocks hold a single
# (θ, N) array: a 300-point curve at N = 10,000 took 10.0 ms in blocks of 24,000, 8.7 at 48,000, 8.1 at
# 100,000 and 9.2 at 400,000 (2 MB of L2 per core; bench/README.md, item 52).
TWO_TERM_CHUNK = 100_000
# At most this many (distinct component value × N) log densities are tabulated for a plane (32 MB).
PER_COMPONENT_ELEMENTS = 4_000_000


def _values(values, name="values"):
    v = as_array(values, name, ndim=1)
    if v.size < 1:
        raise ValueError(f"{name}: expected at least one grid value, got none")
    return v


def vary(model, params, name: str, values):
    """A batch of parameters equal to ``params`` except coordinate ``name`` = each of ``values``."""
    model = _model(model)
    params = _params(model, params)
    coords = model.coordinates(params)
    if name not in coords:
        raise ValueError(f"name: expected a coordinate of θ such as {list(coords)[:4]}, got {name!r}")
    v = _values(values)
    theta = np.repeat(model.flatten(params)[None, :], v.size, axis=0)
    theta[:, coords[name]] = v[:, None]
    if name.startswith("weights["):
        k = int(name[len("weights["):-1])
        w = params.weights
        others = np.arange(w.size) != k
        rest = w[others].sum()
        share = w[others] / rest if rest > 0 else np.full(others.sum(), 1.0 / max(others.sum(), 1))
        idx = np.flatnonzero(others)  # weights are the first field of every mixture
        theta[:, idx] = (1.0 - v)[:, None] * share[None, :]
    return model.unflatten(theta, params)


def line(model, params_a, params_b, ts):
    """θ(t) = θ_a + t (θ_b − θ_a) for each t: convex in weights and covariances, so valid for t in [0, 1]."""
    model = _model(model)
    pa, pb = _params(model, params_a), _params(model, params_b)
    t = _values(ts, "ts")
    a, b = model.flatten(pa), model.flatten(pb)
    if a.shape != b.shape:
        raise ValueError(f"params_b: expected the same shapes as params_a, got {b.size} numbers for {a.size}")
    return model.unflatten(a[None, :] + t[:, None] * (b - a)[None, :], pa)


def plane(model, params, name_x: str, values_x, name_y: str, values_y):
    """A (len(values_y), len(values_x)) grid over two coordinates, flattened row-major."""
    model = _model(model)
    params = _params(model, params)
    if name_x == name_y:
        raise ValueError(f"name_y: expected a coordinate different from name_x, got {name_y!r} twice")
    if name_x.startswith("weights[") and name_y.startswith("weights["):
        raise ValueError("name_y: two weights cannot be varied independently (they sum to 1); pick another parameter")
    vx, vy = _values(values_x, "values_x"), _values(values_y, "values_y")
    gx, gy = np.meshgrid(vx, vy)
    coords = model.coordinates(params)
    for n in (name_x, name_y):
        if n not in coords:
            raise ValueError(f"name: expected a coordinate of θ such as {list(coords)[:4]}, got {n!r}")
    batch = vary(model, params, name_x, gx.ravel())
    theta = _flatten_batch(model, batch)
    theta[:, coords[name_y]] = gy.ravel()[:, None]
    if name_y.startswith("weights["):
        k = int(name_y[len("weights["):-1])
        w = params.weights
        others = np.flatnonzero(np.arange(w.size) != k)
        rest = theta[:, others].sum(1, keepdims=True)
        theta[:, others] = (1.0 - gy.ravel())[:, None] * theta[:, others] / np.where(rest > 0, rest, 1.0)
    return model.unflatten(theta, params)


def _flatten_batch(model, batch):
    g = batch_size(model, batch)
    return np.concatenate([getattr(batch, n).reshape(g, -1) for n in model.param_names], axis=1)


def batch_size(model, batch) -> int:
    return getattr(batch, model.param_names[0]).shape[0]


def take(model, batch, i: int):
    """The i-th parameter vector of a batch, as ordinary parameters."""
    return _rows(_model(model), batch, i)


def _rows(model, batch, index):
    """The batch's parameters at ``index`` (an integer, a slice or an array of positions) of its first axis."""
    return model.Params(**{n: getattr(batch, n)[index] for n in model.param_names})


# ---- values over a batch ---------------------------------------------------------------
def _moving_components(model, batch) -> np.ndarray | None:
    """(K,) mask of the mixture components whose parameters differ somewhere in the batch;
    None for a model whose parameters are not per component (genetic linkage)."""
    if "weights" not in model.param_names:  # the mixtures' parameters are per component
        return None
    g, moving = batch_size(model, batch), None
    for n in model.param_names:
        a = getattr(batch, n)
        a = a.reshape(g, a.shape[1], -1)  # (G, K, …): the component axis follows the batch axis
        m = np.any(a != a[:1], axis=(0, 2))  # NaN != NaN: an invalid value counts as moving
        moving = m if moving is None else moving | m
    return moving


def log_marginal_batch(model, x, batch) -> np.ndarray:
    """log p(X|θ_g) for every θ_g in the batch, shape (G,); NaN where θ_g is invalid.

    Components whose parameters are the same for every θ_g (all but one when a curve moves one
    mean or variance) are summed once, and each θ_g adds only the components it moves: the same
    sums, about half the work for two components. Over a plane whose axes move two different
    components, each component's log density is computed once per value it takes (side + side
    values, not side × side) and the grid adds them (:func:`_per_component`, :func:`_combine`). A curve that
    moves one component is summed from ``model.log_joint_minus`` (:func:`_one_moving`), and one that moves
    only the weights from each component's density computed once (:func:`_weights_curve`).
    """
    model = _model(model)
    x = model.validate_data(x)
    g = batch_size(model, batch)
    names = model.param_names
    if "weights" in names and g > 1 and all(np.all(getattr(batch, n) == getattr(batch, n)[:1]) for n in names
                                            if n != "weights"):
        return _weights_curve(model, x, batch, g)  # only the weights move: a weight's curve
    moving = _moving_components(model, batch)
    rest = None
    if moving is not None and 0 < moving.sum() < moving.size:
        still = model.Params(**{n: getattr(batch, n)[0][~moving] for n in names})
        with np.errstate(invalid="ignore"):
            rest = logsumexp_last(model.log_joint(x, still))  # (N,)
        batch = model.Params(**{n: getattr(batch, n)[:, moving] for n in names})
    if moving is not None:
        per = _per_component(model, x, batch, g)
        if per is not None:  # a plane over two components: each component's few values, combined
            return _combine(per, rest, g, len(x))
        if rest is not None and batch.weights.shape[-1] == 1:  # a curve that moves one component
            return _one_moving(model, x, batch, rest, g)
    return _general(model, x, batch, rest, g)


def _general(model, x, batch, rest, g: int) -> np.ndarray:
    """log p(X|θ_g) from ``model.log_joint`` in blocks of :data:`CHUNK_ELEMENTS` (+ e^rest_n)."""
    k = model.n_latent(x) or batch.weights.shape[-1]
    rows = max(1, min(len(x), CHUNK_ELEMENTS // k))  # large N: blocks of rows too, summed
    step = max(1, CHUNK_ELEMENTS // (rows * k))
    out = np.zeros(g)
    with np.errstate(invalid="ignore"):
        for s in range(0, g, step):
            sub = _rows(model, batch, slice(s, s + step))
            for r in range(0, len(x), rows):
                lj = model.log_joint(x[r:r + rows], sub)
                out[s:s + step] += _log_sum_rows(lj, None if rest is None else rest[r:r + rows])
    return out


def _one_moving(model, x, batch, rest, g: int) -> np.ndarray:
    """log p(X|θ_g) = Σ_n [b_n + log(1 + e^(a_gn − b_n))] along a curve that moves one component: a_gn its
    log joint, b_n = ``rest`` that of the components held still. The exponent comes from
    ``model.log_joint_minus`` (three array passes for a 1-D mixture's mean or variance) and the sum from
    :func:`_sum_log1p_exp`: the same terms as :func:`_log_add_rows`, without its max, min and shift
    (bench/README.md, item 52). A θ_g whose sum is not finite (a point impossible under the components held
    still, an invalid θ) is summed again by :func:`_general`, whose conventions (−∞, NaN) it then has.
    """
    n = len(x)
    rows = min(n, TWO_TERM_CHUNK)
    step = max(1, TWO_TERM_CHUNK // rows)
    out = np.zeros(g)
    with np.errstate(invalid="ignore", over="ignore"):
        for r in range(0, n, rows):
            b = rest[r:r + rows]
            base = b.sum()
            for s in range(0, g, step):
                sub = _rows(model, batch, slice(s, s + step))
                out[s:s + step] += base + _sum_log1p_exp(model.log_joint_minus(x[r:r + rows], sub, b))
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        out[bad] = _general(model, x, _rows(model, batch, bad), rest, bad.size)
    return out


def _weights_curve(model, x, batch, g: int) -> np.ndarray:
    """log p(X|θ_g) for a batch that moves only the mixture weights: Σ_n [m_n + log Σ_k w_gk E_nk].

    Each component's log density d_nk = log p(x_n | z_n = k) is computed once, at the uniform weights
    (log p(x_n, z_n = k) − log(1/K)), with m_n = max_k d_nk and E_nk = e^(d_nk − m_n) ∈ [0, 1]. Then every
    θ_g costs a K-term product with the weights (one matrix product for the whole block) and a log per
    block of numbers (:func:`~vizcore.inference.sum_log`), no exp: 38 → 8 ms for a 300-point curve of a
    weight at N = 10,000 (bench/README.md, item 52). Σ_k w_gk E_nk ≥ min_k w_gk, the weight of the
    component whose E_nk = 1, so dividing by it puts the numbers in [1, 1/min_k w_gk]; a θ_g whose smallest
    weight is below :data:`_TINY` (an E that underflowed might then count), or a point no component
    explains, is summed by :func:`_general` instead.
    """
    names = model.param_names
    w = np.asarray(batch.weights, dtype=float)
    k = w.shape[-1]
    first = model.Params(**{n: (np.full(k, 1.0 / k) if n == "weights" else getattr(batch, n)[0]) for n in names})
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        d = model.log_joint(x, first) - np.log(1.0 / k)  # (N, K)
        m = d.max(-1)
        e = np.exp(d - m[:, None])
    wmin = w.min(-1)
    ok = np.isfinite(w).all(-1) & (wmin >= _TINY) & (w.sum(-1) <= 1.0 + 1e-9) & bool(np.isfinite(m).all())
    out = np.empty(g)
    rows = np.flatnonzero(ok)
    step = max(1, TWO_TERM_CHUNK // len(x))
    base = float(m.sum())
    for s in range(0, rows.size, step):
        r = rows[s:s + step]
        y = w[r] @ e.T  # (S, N)
        y /= wmin[r, None]
        out[r] = sum_log(y, float(1.0 / wmin[r].min()) * (1.0 + 1e-9)) + len(x) * np.log(wmin[r]) + base
    rest_of = np.flatnonzero(~ok)
    if rest_of.size:
        out[rest_of] = _general(model, x, _rows(model, batch, rest_of), None, rest_of.size)
    return out


def _sum_log1p_exp(t) -> np.ndarray:
    """Σ_n log(1 + e^t_n) for each row of t (S, N); t is overwritten.

    While e^t cannot overflow (t ≤ 700 everywhere), each 1 + e^t lies in [1, 1 + e^max(t)] and
    :func:`~vizcore.inference.sum_log` takes one log per block of them; otherwise it is the two-term sum
    log(e^t + e^0) of :func:`_log_add_rows`.
    """
    top = t.max() if t.size else 0.0
    if top <= _EXP_SAFE:
        np.exp(t, out=t)
        t += 1.0
        return sum_log(t, 1.0 + float(np.exp(top)))
    return _log_add_rows(t[..., None], np.zeros(t.shape[-1]))


_EXP_SAFE = 700.0  # e^700 ≈ 1e304: below the largest double, with room for the 1 added


def _log_sum_rows(lj, extra) -> np.ndarray:
    """Σ_n log Σ_k e^(lj[…, n, k]) (+ e^extra_n) for each row: two terms by :func:`_log_add_rows` (one
    exp per entry, not two), more by :func:`~vizcore.inference.sum_logsumexp_last`."""
    if lj.shape[-1] + (extra is not None) == 2:
        return _log_add_rows(lj, extra)
    return sum_logsumexp_last(lj, extra)


def _per_component(model, x, batch, g: int):
    """[(log_joint of component c at each of its distinct parameter values (U_c, N), index (G,) of θ_g's
    value in it)] for the batch's components, or None when that would not save work.

    Over a plane whose two axes belong to different components (μ₁ × μ₂, say), component 1 takes only
    the grid's x values and component 2 its y values: side + side log densities per point instead of
    side × side. A curve (every θ_g its own value) or a large N × U (memory) returns None.
    """
    names = model.param_names
    k = batch.weights.shape[-1]
    if k < 2:
        return None
    found = []
    for c in range(k):
        values = np.concatenate([getattr(batch, n)[:, c].reshape(g, -1) for n in names], axis=1)
        _, first, index = np.unique(values, axis=0, return_index=True, return_inverse=True)
        found.append((first, index.reshape(g)))
    distinct = sum(f.size for f, _ in found)
    if 2 * distinct > g * k or distinct * len(x) > PER_COMPONENT_ELEMENTS:
        return None
    out = []
    for c, (first, index) in enumerate(found):
        one = model.Params(**{n: getattr(batch, n)[first][:, c:c + 1] for n in names})
        table = np.empty((first.size, len(x)))
        step = max(1, CHUNK_ELEMENTS // len(x))
        with np.errstate(invalid="ignore"):
            for s in range(0, first.size, step):
                sub = _rows(model, one, slice(s, s + step))
                table[s:s + step] = model.log_joint(x, sub)[..., 0]
        out.append((table, index))
    return out


def _combine(per, rest, g: int, n: int) -> np.ndarray:
    """Σ_n log(Σ_c e^(table_c[index_c[g], n]) (+ e^rest_n)) for every θ_g (see :func:`_per_component`).

    Each table is exponentiated once, shifted by the largest log density of its data point, so a grid
    point costs one addition per component and one log per data point, and no exp. Where every term of
    some data point is then below :data:`_TINY` (a number that has lost precision, or 0), the grid
    point is summed in log space instead, exactly as a curve is (:func:`_log_add_rows`).
    """
    shift = np.fmax.reduce([np.fmax.reduce(t, axis=0) for t, _ in per] + ([rest] if rest is not None else []))  # (N,)
    shift[~np.isfinite(shift)] = 0.0
    with np.errstate(invalid="ignore", under="ignore"):
        lin = [np.exp(t - shift) for t, _ in per]
        lin_rest = None if rest is None else np.exp(rest - shift)
    # a grid point is safe when one of its terms is never tiny, over all N data points
    safe = np.full(g, lin_rest is not None and bool(np.all(lin_rest >= _TINY)))
    for e, (_, index) in zip(lin, per):
        safe |= np.all(e >= _TINY, axis=1)[index]
    out = np.empty(g)
    base = float(shift.sum())
    step = max(1, CHUNK_ELEMENTS // n)
    ok = np.flatnonzero(safe)
    for s in range(0, ok.size, step):
        rows = ok[s:s + step]
        acc = np.take(lin[0], per[0][1][rows], axis=0)
        tmp = np.empty_like(acc)
        for e, (_, index) in zip(lin[1:], per[1:]):
            np.take(e, index[rows], axis=0, out=tmp)
            acc += tmp
        if lin_rest is not None:
            acc += lin_rest
        np.log(acc, out=acc)
        out[rows] = acc.sum(-1) + base
    rest_of = np.flatnonzero(~safe)
    for s in range(0, rest_of.size, step):
        rows = rest_of[s:s + step]
        lj = np.moveaxis(np.stack([np.take(t, index[rows], axis=0) for t, index in per]), 0, -1)
        with np.errstate(invalid="ignore"):
            out[rows] = _log_sum_rows(lj, rest)
    return out


# Smallest term the plane's linear-space sum trusts: far above the subnormal range (2.2e-308), so every
# term it adds has full precision or is negligible next to one that has.
_TINY = 1e-280


def _log_add_rows(lj, extra) -> np.ndarray:
    """Σ_n log(e^a_n + e^b_n) for each row, where (a, b) are the two components of ``lj`` (…, N, 2),
    or its one component and ``extra`` (N,).

    log(e^a + e^b) = max(a, b) + log(1 + e^(min(a, b) − max(a, b))): the same terms as
    :func:`~vizcore.inference.logsumexp_last` (whose larger term is e^0 = 1), with one exp per entry
    instead of two, no shift array, and one log per block of points (:func:`~vizcore.inference.sum_log`,
    as 1 + e^(min − max) lies in [1, 2]); bench/README.md, items 34 and 36. A row whose sum is not
    finite (a point impossible under both terms, an invalid θ) is summed again by ``logsumexp_last``,
    whose conventions (−∞, NaN) it then has.
    """
    a = lj[..., 0]
    b = lj[..., 1] if extra is None else extra
    with np.errstate(invalid="ignore"):  # −∞ − (−∞): such a row is summed again below
        hi = np.maximum(a, b)
        t = np.minimum(a, b)
        t -= hi
        np.exp(t, out=t)
        t += 1.0
        sums = sum_log(t, 2.0)  # 1 + e^(min − max) lies in [1, 2]: one log per block of points
        sums += hi.sum(-1)
    bad = ~np.isfinite(sums)
    if np.any(bad):
        sums[bad] = logsumexp_last(lj[bad], extra).sum(-1)
    return sums


@dataclass(frozen=True)
class Bound:
    """A fixed q summarised by what a bound curve needs: expected statistics and entropy."""

    stats: dict
    entropy: float

    def over(self, model, batch) -> np.ndarray:
        """L(q, θ_g) = E_q[log p(X, Z|θ_g)] + H(q) for every θ_g in the batch (cost independent of N)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(_model(model).expected_log_joint(self.stats, batch), dtype=float) + self.entropy


def bound_from_resp(model, x, resp) -> Bound:
    """Summarise q (resp, N × K) for bound curves."""
    model = _model(model)
    x = model.validate_data(x)
    resp = np.asarray(resp, dtype=float)
    return Bound(model.expected_stats(x, resp), _entropy(resp))


def posterior_bound(model, x, params) -> Bound:
    """The bound whose q is the exact posterior at ``params``: it touches log p there."""
    model = _model(model)
    x = model.validate_data(x)
    lq, _ = _log_posterior(model, x, _params(model, params))
    return bound_from_resp(model, x, np.exp(lq))


@dataclass(frozen=True)
class BoundFamily:
    """log p(X|θ) along one coordinate and the bounds L(q_θ', θ) anchored at several θ'."""

    name: str
    values: np.ndarray          # (G,) coordinate values
    log_marginal: np.ndarray    # (G,)
    anchors: np.ndarray         # (A,) anchor coordinate values θ'
    anchor_log_marginal: np.ndarray  # (A,) log p at the anchors (= each bound's value there)
    bounds: np.ndarray          # (A, G) L(q_θ'_a, θ_g)

    @property
    def envelope(self) -> np.ndarray:
        """max over anchors of the bounds: approaches log p as anchors get denser."""
        return np.max(self.bounds, axis=0)


def bound_family(model, x, params, name: str, values, anchors) -> BoundFamily:
    """f(θ) = log p(X|θ) over coordinate ``name`` and the family {L(q_θ', θ)} for each anchor θ'."""
    model = _model(model)
    x = model.validate_data(x)
    params = _params(model, params)
    values = _values(values)
    anchors = _values(anchors, "anchors")
    grid = vary(model, params, name, values)
    f = log_marginal_batch(model, x, grid)
    anchor_batch = vary(model, params, name, anchors)
    bounds, at = [], []
    for a in range(anchors.size):
        pa = take(model, anchor_batch, a)
        lq, lm = _log_posterior(model, x, pa)
        b = bound_from_resp(model, x, np.exp(lq))
        bounds.append(b.over(model, grid))
        at.append(float(lm.sum()))
    return BoundFamily(name, values, f, anchors, np.array(at), np.array(bounds))
