"""What the EM page draws: the textbook figure for every half-step of a trace,
random and k-means++ starts, and gradient ascent on log p for comparison.

Half-steps of a trace with T iterations are numbered s = 0..2T:
s = 0 is the start θ_0; s = 2t − 1 is after the t-th E-step (q_t = p(Z|X, θ_{t−1}),
θ still θ_{t−1}: the bound touches log p there); s = 2t is after the t-th M-step
(θ_t = argmax_θ L(q_t, θ): the bound peaks there, and log p(X|θ_t) ≥ L(q_t, θ_t)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_array, check_int, check_rng
from .inference import EMTrace, _log_posterior, _model, _params
from .views import Bound, line, log_marginal_batch, vary


def half_step_state(trace: EMTrace, s: int):
    """(θ index, q index or None, label) at half-step ``s``; q index t means q_t (stats[t−1])."""
    s = check_int(s, "s", 0, 2 * trace.n_iter)
    if s == 0:
        return 0, None, "start"
    t = (s + 1) // 2
    return (t - 1, t, "E") if s % 2 == 1 else (t, t, "M")


def _bound(trace: EMTrace, q_index: int) -> Bound:
    return Bound(trace.stats[q_index - 1], float(trace.entropy[q_index - 1]))


@dataclass(frozen=True)
class EMFrames:
    """Curves for every half-step along one view, ready for a browser-side animation.

    ``axis`` (G,) are the x values: a coordinate's values, or t along θ_t → θ_t+1.
    Row s of ``log_marginal`` and ``bound`` is the figure at half-step s (bound NaN at s = 0).
    ``theta_at[s]`` is where the current θ sits on the axis; ``log_p_at``, ``bound_at`` the values there.
    """

    view: str
    axis: np.ndarray
    log_marginal: np.ndarray
    bound: np.ndarray
    theta_at: np.ndarray
    log_p_at: np.ndarray
    bound_at: np.ndarray
    labels: tuple


def coordinate_frames(model, x, trace: EMTrace, name: str, values, max_half_steps: int = 80) -> EMFrames:
    """Along coordinate ``name`` with every other parameter at the current θ of each half-step."""
    model = _model(model)
    x = model.validate_data(x)
    values = as_array(values, "values", ndim=1)
    S = min(2 * trace.n_iter, max_half_steps) + 1
    lm, bd, at, lp_at, b_at, labels = [], [], [], [], [], []
    coords = model.coordinates(trace.params[0])
    idx = coords[name][0] if name in coords else None
    if idx is None:
        raise ValueError(f"name: expected a coordinate of θ such as {list(coords)[:4]}, got {name!r}")
    cache = {}
    for s in range(S):
        ti, qi, label = half_step_state(trace, s)
        p = trace.params[ti]
        if ti not in cache:
            grid = vary(model, p, name, values)
            cache[ti] = (grid, log_marginal_batch(model, x, grid))
        grid, f = cache[ti]
        lm.append(f)
        pos = float(model.flatten(p)[idx])
        at.append(pos)
        lp_at.append(float(trace.log_likelihood[ti]))
        if qi is None:
            bd.append(np.full(values.size, np.nan))
            b_at.append(np.nan)
        else:
            b = _bound(trace, qi)
            bd.append(b.over(model, grid))
            b_at.append(float(trace.elbo_after_e[qi - 1] if label == "E" else trace.elbo_after_m[qi - 1]))
        labels.append(label)
    return EMFrames("coordinate", values, np.array(lm), np.array(bd), np.array(at), np.array(lp_at),
                    np.array(b_at), tuple(labels))


def step_line_frames(model, x, trace: EMTrace, ts=None) -> EMFrames:
    """For each iteration t, along θ(u) = θ_{t−1} + u (θ_t − θ_{t−1}): log p and L(q_t, ·).

    The bound touches log p at u = 0 and peaks at u = 1, in any dimension. One row per iteration
    (row 0: the first step). ``theta_at`` is 0 (the touch); the M-step's point is at u = 1.
    """
    model = _model(model)
    x = model.validate_data(x)
    ts = np.linspace(-0.5, 1.5, 201) if ts is None else as_array(ts, "ts", ndim=1)
    lm, bd = [], []
    for t in range(1, trace.n_iter + 1):
        batch = line(model, trace.params[t - 1], trace.params[t], ts)
        lm.append(log_marginal_batch(model, x, batch))
        bd.append(_bound(trace, t).over(model, batch))
    n = trace.n_iter
    return EMFrames("line", ts, np.array(lm).reshape(n, ts.size), np.array(bd).reshape(n, ts.size),
                    np.zeros(n), np.asarray(trace.log_likelihood[:-1]), np.asarray(trace.elbo_after_e),
                    tuple(f"{t}" for t in range(1, n + 1)))


def path_coordinates(model, trace: EMTrace, name_x: str, name_y: str):
    """The EM path θ_0..θ_T projected on two coordinates, shape (T+1, 2)."""
    model = _model(model)
    coords = model.coordinates(trace.params[0])
    ix, iy = coords[name_x][0], coords[name_y][0]
    flat = np.array([model.flatten(p) for p in trace.params])
    return flat[:, [ix, iy]]


# ---- starting points ----------------------------------------------------------------
def init_params(model, x, n_components: int, method: str, rng):
    """Starting parameters: ``"kmeans++"`` (means by D² sampling, as in Arthur & Vassilvitskii 2007)
    or ``"random"`` (means drawn from the data), equal weights, variances from the data.
    For coins the "means" are per-set head fractions; for linkage θ is uniform on (0.05, 0.95).
    """
    model = _model(model)
    x = model.validate_data(x)
    rng = check_rng(rng)
    if method not in ("kmeans++", "random"):
        raise ValueError(f"method: expected 'kmeans++' or 'random', got {method!r}")
    if model.name == "linkage":
        return model.make_params(theta=[float(rng.uniform(0.05, 0.95))])
    k = check_int(n_components, "n_components", 1, 6)
    pts = x[:, 0] / np.where(x[:, 1] > 0, x[:, 1], 1) if model.name == "coins" else x
    pts2 = pts.reshape(len(pts), -1)
    if method == "random":
        centres = pts2[rng.choice(len(pts2), size=k, replace=len(pts2) < k)]
    else:
        centres = [pts2[rng.integers(len(pts2))]]
        for _ in range(1, k):
            d2 = np.min([np.sum((pts2 - c) ** 2, axis=1) for c in centres], axis=0)
            prob = d2 / d2.sum() if d2.sum() > 0 else np.full(len(pts2), 1 / len(pts2))
            centres.append(pts2[rng.choice(len(pts2), p=prob)])
        centres = np.array(centres)
    w = np.full(k, 1.0 / k)
    if model.name == "coins":
        return model.make_params(weights=w, heads_probs=np.clip(centres[:, 0], 0.02, 0.98))
    var = np.var(pts2, axis=0)
    var = np.where(var > 0, var, 1.0)
    if model.name == "gmm1d":
        return model.make_params(weights=w, means=centres[:, 0], variances=np.full(k, var[0]))
    cov = np.diag(var)
    return model.make_params(weights=w, means=centres, covariances=np.repeat(cov[None], k, axis=0))


# ---- gradient ascent -------------------------------------------------------------------
@dataclass(frozen=True)
class GradientTrace:
    params: tuple
    log_likelihood: np.ndarray
    diverged: bool
    message: str


def grad_log_marginal(model, x, params, fixed=()):
    """∇_θ log p(X|θ) in the flat coordinates, by Fisher's identity ∇ log p = ∇_θ L(q*, θ)|_{q* = p(Z|X,θ)}.

    The bound's gradient is taken by central differences of its closed form (no data in the loop).
    Fixed coordinates get gradient 0; for weights the gradient is projected onto Σ w = const.
    """
    model = _model(model)
    x = model.validate_data(x)
    params = _params(model, params)
    lq, _ = _log_posterior(model, x, params)
    stats = model.expected_stats(x, np.exp(lq))
    theta = model.flatten(params)
    coords = model.coordinates(params)
    masks = model.parse_fixed(params, fixed)
    g = np.zeros_like(theta)
    free_coords = []
    for name, idx in coords.items():
        field = name.split("[")[0]
        comp = int(name.split("[")[1].split("]")[0])
        if masks[field][comp]:
            continue
        free_coords.append((name, idx))
    h = 1e-6 * np.maximum(1.0, np.abs(theta))
    pts = []
    for name, idx in free_coords:
        for sign in (1, -1):
            th = theta.copy()
            th[idx] += sign * h[idx[0]]
            pts.append(th)
    if pts:
        batch = model.unflatten(np.array(pts), params)
        vals = np.asarray(model.expected_log_joint(stats, batch))
        for j, (name, idx) in enumerate(free_coords):
            d = (vals[2 * j] - vals[2 * j + 1]) / (2 * h[idx[0]])
            g[idx] = d  # a symmetric pair moves together
    if hasattr(params, "weights"):
        k = params.weights.size
        free = ~masks["weights"]
        if free.sum() > 0:
            g[:k][free] -= g[:k][free].mean()
    return g


def gradient_ascent(model, x, init, step_size: float, n_steps: int, fixed=()) -> GradientTrace:
    """θ ← θ + η ∇ log p(X|θ) / N, stopping (``diverged``) when θ leaves the valid region or log p is not finite."""
    model = _model(model)
    x = model.validate_data(x)
    params = _params(model, init)
    eta = float(step_size)
    if not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"step_size: expected a number > 0, got {step_size}")
    n_steps = check_int(n_steps, "n_steps", 0, 100_000)
    n = len(x)
    plist = [params]
    ll = [float(np.sum(_log_posterior(model, x, params)[1]))]
    for _ in range(n_steps):
        g = grad_log_marginal(model, x, params, fixed)
        theta = model.flatten(params) + eta * g / n
        try:
            new = model.make_params(model.unflatten(theta, params).to_dict())
        except ValueError as err:
            return GradientTrace(tuple(plist), np.array(ll), True, f"left the valid region: {err}")
        val = float(np.sum(_log_posterior(model, x, new)[1]))
        if not np.isfinite(val):
            return GradientTrace(tuple(plist), np.array(ll), True, "log p(X|θ) is no longer finite")
        params = new
        plist.append(params)
        ll.append(val)
    return GradientTrace(tuple(plist), np.array(ll), False, "")


def trace_table(model, trace: EMTrace):
    """Rows for a table / CSV: iteration, every coordinate of θ_t, log p(X|θ_t), L after E, L after M, KL gap after M."""
    model = _model(model)
    names = list(model.coordinates(trace.params[0]))
    flat = np.array([model.flatten(p) for p in trace.params])
    coords = model.coordinates(trace.params[0])
    header = ["iteration"] + names + ["log_likelihood", "elbo_after_e", "elbo_after_m", "kl_gap_after_m"]
    rows = []
    for t in range(trace.n_iter + 1):
        e = float(trace.elbo_after_e[t - 1]) if t > 0 else float("nan")
        m = float(trace.elbo_after_m[t - 1]) if t > 0 else float("nan")
        gap = float(trace.log_likelihood[t]) - m if t > 0 else float("nan")
        rows.append([t] + [float(flat[t, coords[n][0]]) for n in names] + [float(trace.log_likelihood[t]), e, m, gap])
    return header, rows


def trace_csv(model, trace: EMTrace) -> str:
    header, rows = trace_table(model, trace)
    out = [",".join(header)]
    for r in rows:
        out.append(",".join("" if (isinstance(v, float) and not np.isfinite(v)) else repr(v) if isinstance(v, float) else str(v) for v in r))
    return "\n".join(out) + "\n"


def linkage_totals(y) -> np.ndarray:
    """The genetic-linkage counts (y₁, y₂, y₃, y₄) added up over the rows of ``y`` (R, 4).

    Rows are independent multinomial draws, so log p(y|θ) depends on θ only through these totals, and so do
    the E-step's E[z] = y₁ (θ/4)/(1/2 + θ/4) and the M-step θ = (E[z] + y₄)/(E[z] + y₂ + y₃ + y₄): the
    formulas the EM page writes out with numbers hold with the totals in place of one row's counts.
    """
    y = as_array(y, "y")
    if y.ndim not in (1, 2) or y.shape[-1] != 4 or y.size == 0:
        raise ValueError(f"y: expected rows of four counts (R, 4), got shape {y.shape}")
    return y.reshape(-1, 4).sum(axis=0)
