"""Everything written once for every model: marginal, posterior, ELBO, KL gap, EM.

Notation (per data point n, latent value k): ``resp[n, k] = q(z_n = k)``.

    log p(X|θ)  = Σ_n log Σ_k p(x_n, z_n = k | θ)
    L(q, θ)     = Σ_n Σ_k q_nk [log p(x_n, z_n = k | θ) − log q_nk]
                = E_q[log p(X, Z|θ)] + H(q)                      (energy + entropy)
                = E_q[log p(X|Z, θ)] − KL(q ‖ p(Z|θ))           (fit − KL to the prior)
                = log p(X|θ) − KL(q ‖ p(Z|X, θ))                 (evidence − KL to the posterior)

Terms with q_nk = 0 contribute 0 (``xlogy`` convention 0·log 0 = 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

from ._validation import as_array, check_int
from .models import Model, get_model


def _model(model) -> Model:
    return model if isinstance(model, Model) else get_model(model)


def logsumexp_last(a, extra=None):
    """log Σ exp over the last axis; -inf rows stay -inf, no warnings.

    ``extra`` (broadcast to ``a.shape[:-1]``) is one more term of every sum: the log-sum of
    components that a batch of θ leaves unchanged, computed once (see ``log_marginal_batch``).

    For the few components of our models (K ≤ 6) the sum runs component by component over
    whole (…, N) slices: numpy's reductions along a short last axis pay a per-row overhead,
    and this is 3–4× faster on the (G, N, K) arrays of a log p curve, with the same values
    (the same additions in the same order). More components take numpy's reductions.
    """
    m, s = _shifted_sum(a, extra)
    with np.errstate(divide="ignore"):
        np.log(s, out=s)
    s += m
    return s


def sum_logsumexp_last(a, extra=None):
    """``logsumexp_last(a, extra).sum(-1)``, the same terms with one log per block of data points
    instead of one per point (:func:`sum_log`): log p(X|θ) for each row of a batch of θ."""
    m, s = _shifted_sum(a, extra)
    return m.sum(-1) + sum_log(s, a.shape[-1] + (extra is not None))


def _shifted_sum(a, extra):
    """(m, s) with log Σ_k e^a_k (+ e^extra) = m + log s: m the largest term (0 where it is not finite),
    so s lies in [1, number of terms] where m is finite, and s = 0 where every term is −∞."""
    a = np.asarray(a, dtype=float)
    k = a.shape[-1]
    if extra is not None and k > _SLICED_MAX_K:
        a = np.concatenate([np.broadcast_to(np.asarray(extra, dtype=float)[..., None], a.shape[:-1] + (1,)), a], -1)
        extra, k = None, k + 1
    if k == 0 or k > _SLICED_MAX_K:
        m = np.max(a, axis=-1, keepdims=True)  # keepdims: arrays, also for one row
        m[~np.isfinite(m)] = 0.0
        e = a - m
        with np.errstate(over="ignore"):  # a NaN row (m set to 0) may overflow; it stays NaN
            np.exp(e, out=e)
        return m[..., 0], np.sum(e, axis=-1, keepdims=True)[..., 0]
    terms = [a[..., j] for j in range(k)]
    if extra is not None:
        terms.insert(0, np.broadcast_to(np.asarray(extra, dtype=float), a.shape[:-1]))
    m = np.array(terms[0], dtype=float)
    for term in terms[1:]:
        np.maximum(m, term, out=m)
    m[~np.isfinite(m)] = 0.0
    s = np.zeros_like(m)
    t = np.empty_like(m)
    with np.errstate(over="ignore"):  # a NaN row (m set to 0) may overflow; it stays NaN
        for term in terms:
            np.subtract(term, m, out=t)
            np.exp(t, out=t)
            s += t
    return m, s


# A product of numbers in [1, top] is at most top^block; blocks of 1000 / log2(top) of them stay below
# 2^1000 < 1.8e308, the largest double (its exponent reaches 1023).
_PRODUCT_BITS = 1000


def sum_log(y, top: float):
    """Σ log y over the last axis for y in [1, top] (or 0, +∞, NaN, which give −∞, +∞, NaN as the
    logs would): the log of each block's product, summed.

    The product of B such numbers cannot overflow for B ≤ 1000 / log2(top), and its rounding error
    (at most B − 1 roundings of 2^-53 each, relative) is what summing B logs, each rounded, costs
    too. One log per block instead of one per number: a log p curve's logs were half its time.
    """
    y = np.asarray(y, dtype=float)
    n = y.shape[-1]
    block = max(1, int(_PRODUCT_BITS / np.log2(top))) if top > 1 else max(n, 1)
    if n <= block:
        p = np.multiply.reduce(y, axis=-1, keepdims=True)
    else:
        p = np.multiply.reduceat(y, np.arange(0, n, block), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.log(p)
    return p.sum(-1)


_SLICED_MAX_K = 6  # measured crossover with numpy's reductions: about K = 8 on (300, 2000, K)


def _params(model, params):
    return params if isinstance(params, model.Params) else model.make_params(params)


def _inputs(model, x, params):
    model = _model(model)
    return model, model.validate_data(x), _params(model, params)


def _check_resp(resp, shape):
    resp = as_array(resp, "resp")
    if resp.shape != shape:
        raise ValueError(f"resp: expected q(z_n = k) of shape {shape} (N data points × K latent values), got {resp.shape}")
    if np.any(resp < 0) or not np.allclose(resp.sum(1), 1.0, atol=1e-9):
        raise ValueError("resp: expected non-negative rows that each sum to 1 (a distribution over z for every data point)")
    return resp


# ---- private, unchecked -----------------------------------------------------------
def _log_posterior(model, x, params):
    lj = model.log_joint(x, params)
    lm = logsumexp_last(lj)
    with np.errstate(invalid="ignore"):
        return lj - lm[..., None], lm


def _energy(lj, resp):
    """Σ q log p(x, z) with 0·(−∞) = 0."""
    with np.errstate(invalid="ignore"):
        return float(np.sum(np.where(resp > 0, resp * lj, 0.0)))


def _entropy(resp):
    return float(-np.sum(xlogy(resp, resp)))


def _e_step(model, x, params):
    """(q, log p(X|θ), H(q)) with q = p(Z|X, θ): an E-step, with K exps per data point and no log per point.

    With m_n the largest log p(x_n, k|θ) and s_n = Σ_k e^(log p(x_n, k|θ) − m_n) (in [1, K]):
    q_nk = e^(log p(x_n, k|θ) − m_n) / s_n, log p(X|θ) = Σ_n m_n + Σ_n log s_n, and, as Σ_k q_nk = 1,
    H(q) = −Σ q log q = Σ_n log s_n − Σ_nk q_nk (log p(x_n, k|θ) − m_n). Σ_n log s_n is taken from
    block products (:func:`sum_log`). Going through log q instead costs 2K exps and one log per point.
    Terms with q_nk = 0 add 0 to H; a point impossible under every k makes log p −∞ (its q is NaN).
    """
    lj = model.log_joint(x, params)
    m = np.max(lj, axis=-1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    d = lj - m
    with np.errstate(over="ignore"):  # a NaN θ (m set to 0) may overflow; it stays NaN
        q = np.exp(d)
    s = q.sum(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        q /= s
        d *= q  # 0 · (−∞) = NaN where q = 0: left out of the sum below
    log_s = sum_log(s[..., 0], lj.shape[-1])
    cross = float(np.sum(d, where=q > 0))
    return q, float(m.sum()) + log_s, log_s - cross


def _kl_rows(resp, log_p):
    """Σ_n KL(q_n ‖ p_n) with q=resp and log p given; +inf where q>0 and p=0."""
    with np.errstate(invalid="ignore"):
        terms = np.where(resp > 0, xlogy(resp, resp) - resp * log_p, 0.0)
    return float(np.sum(np.maximum(terms.sum(-1), 0.0)))  # each row's KL ≥ 0; rounding can dip below


def _require_possible(lm):
    """The posterior p(z|x_n, θ) exists only where p(x_n|θ) > 0."""
    bad = np.flatnonzero(~(lm > -np.inf))
    if bad.size:
        raise ValueError(
            f"params: data point {bad[0] + 1} has probability 0 under these parameters, so its posterior "
            "p(z|x, θ) is undefined; move the parameters off the boundary (e.g. a probability of exactly 0 or 1)"
        )


# ---- public -----------------------------------------------------------------------
def log_marginal(model, x, params, *, per_sample: bool = False):
    """log p(X|θ) = Σ_n log Σ_k p(x_n, z_n = k | θ); per point with ``per_sample=True``."""
    model, x, params = _inputs(model, x, params)
    lj = model.log_joint(x, params)
    return logsumexp_last(lj) if per_sample else float(sum_logsumexp_last(lj))


def posterior(model, x, params, *, log: bool = False):
    """The exact posterior q*(z_n = k) = p(z_n = k | x_n, θ) by Bayes' rule, shape (N, K).

    p(z|x, θ) = p(x|z, θ) p(z|θ) / Σ_z' p(x|z', θ) p(z'|θ); computed in log space.
    """
    model, x, params = _inputs(model, x, params)
    lq, lm = _log_posterior(model, x, params)
    _require_possible(lm)
    q = np.exp(lq)
    total = q.sum(-1, keepdims=True)  # 1 up to the rounding of lj − lm when |lj| is large
    with np.errstate(divide="ignore"):
        return lq - np.log(total) if log else q / total


def e_step(model, x, params):
    """E-step: q ← p(Z|X, θ_old). Returns the responsibilities (N, K)."""
    return posterior(model, x, params)


def m_step(model, x, resp, params, fixed=()):
    """M-step: θ_new = argmax_θ E_q[log p(X, Z|θ)], keeping the parameters named in ``fixed``."""
    model, x, params = _inputs(model, x, params)
    resp = _check_resp(resp, model.log_joint(x, params).shape)
    stats = model.expected_stats(x, resp)
    return model.m_step_from_stats(stats, params, model.parse_fixed(params, fixed))


def elbo(model, x, params, resp):
    """L(q, θ) = E_q[log p(X, Z|θ) − log q(Z)] for any q given as resp (N, K)."""
    model, x, params = _inputs(model, x, params)
    lj = model.log_joint(x, params)
    resp = _check_resp(resp, lj.shape)
    return _energy(lj, resp) + _entropy(resp)


def kl_gap(model, x, params, resp):
    """KL(q ‖ p(Z|X, θ)) = log p(X|θ) − L(q, θ), computed directly (q before p)."""
    model, x, params = _inputs(model, x, params)
    lq, lm = _log_posterior(model, x, params)
    _require_possible(lm)
    resp = _check_resp(resp, lq.shape)
    return _kl_rows(resp, lq)


@dataclass(frozen=True)
class Decomposition:
    """The ELBO and its three decompositions for one (q, θ)."""

    log_marginal: float      # log p(X|θ)
    elbo: float              # L(q, θ)
    kl_posterior: float      # KL(q ‖ p(Z|X, θ))  — the gap
    energy: float            # E_q[log p(X, Z|θ)]
    entropy: float           # H(q)
    expected_log_lik: float  # E_q[log p(X|Z, θ)]
    kl_prior: float          # KL(q ‖ p(Z|θ))


def decompose(model, x, params, resp) -> Decomposition:
    """L(q,θ) = energy + entropy = expected log-likelihood − KL to the prior = log p − KL to the posterior."""
    model, x, params = _inputs(model, x, params)
    lj = model.log_joint(x, params)
    resp = _check_resp(resp, lj.shape)
    lp = np.asarray(model.log_prior(x, params))
    lm = logsumexp_last(lj)
    _require_possible(lm)
    with np.errstate(invalid="ignore"):
        lq = lj - lm[:, None]
        lcond = np.where(np.isfinite(lp), lj - lp, -np.inf)
    energy, entropy = _energy(lj, resp), _entropy(resp)
    return Decomposition(
        log_marginal=float(lm.sum()), elbo=energy + entropy, kl_posterior=_kl_rows(resp, lq),
        energy=energy, entropy=entropy, expected_log_lik=_energy(lcond, resp), kl_prior=_kl_rows(resp, lp),
    )


def prior_resp(model, x, params):
    """q(z) = p(z|θ), the prior, as resp (N, K): the q that ignores the data.

    Where the data rule some latent values out (linkage: z ≤ y₁ of its row), this is the prior restricted to
    the values left and renormalised, p(z|θ, z allowed): a q on a value the data rule out would make the
    ELBO −∞. :func:`prior_mass_ruled_out` says how much the restriction leaves out (0 for a mixture).
    """
    model, x, params = _inputs(model, x, params)
    lp = np.asarray(model.log_prior(x, params), dtype=float)
    return np.exp(lp - logsumexp_last(lp)[:, None])


def prior_mass_ruled_out(model, x, params) -> np.ndarray:
    """For each data point (N,), the probability the prior p(z|θ) gives to latent values its data rule out
    (as 1 − the prior's mass on the allowed values: exact up to rounding, about 1e-15).

    0 for a mixture (every component can produce every point). For genetic linkage z ≤ y₁, so the mass of
    Binomial(n, θ/4) above y₁: then :func:`prior_resp` differs from p(z|θ), and KL(q ‖ p(Z|θ)) at q =
    :func:`prior_resp` is −log(1 − that mass) per row rather than 0.
    """
    model, x, params = _inputs(model, x, params)
    lp = np.asarray(model.log_prior(x, params), dtype=float)
    return np.clip(-np.expm1(logsumexp_last(lp)), 0.0, 1.0)


def interpolate_resp(q_from, q_to, t: float):
    """(1 − t)·q_from + t·q_to: a path of distributions from one q to another (t in [0, 1])."""
    t = float(t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t: expected a number from 0 to 1, got {t}")
    return (1.0 - t) * np.asarray(q_from) + t * np.asarray(q_to)


# ---- EM -----------------------------------------------------------------------------
@dataclass(frozen=True)
class EMTrace:
    """An EM run, frozen. Index t = 0..n_iter.

    ``params[t]`` is θ_t; ``log_likelihood[t]`` is log p(X|θ_t). ``params[0]`` is the start,
    with any free variance below the data's floor first raised to it (``floored`` is then true). For t = 1..n_iter,
    q_t = p(Z|X, θ_{t−1}) and ``elbo_after_e[t−1] = L(q_t, θ_{t−1})`` (equals
    log p(X|θ_{t−1}): the bound touches), ``elbo_after_m[t−1] = L(q_t, θ_t)``, and
    ``stats[t−1]``, ``entropy[t−1]`` let any view draw the bound L(q_t, ·) without the data.
    """

    model: str
    params: tuple
    log_likelihood: np.ndarray
    elbo_after_e: np.ndarray
    elbo_after_m: np.ndarray
    stats: tuple
    entropy: np.ndarray
    converged: bool
    n_iter: int
    fixed: tuple
    floored: bool

    def half_steps(self):
        """The sawtooth: (label, θ index, log p, bound) after start, each E- and each M-step."""
        rows = [("start", 0, float(self.log_likelihood[0]), float("nan"))]
        for t in range(1, self.n_iter + 1):
            rows.append(("E", t - 1, float(self.log_likelihood[t - 1]), float(self.elbo_after_e[t - 1])))
            rows.append(("M", t, float(self.log_likelihood[t]), float(self.elbo_after_m[t - 1])))
        return rows


def run_em(model, x, init, *, fixed=(), max_iter: int = 100, tol: float | None = 1e-8) -> EMTrace:
    """Run EM from ``init`` for at most ``max_iter`` iterations.

    Stops early (``converged=True``) once one iteration raises log p(X|θ) by less
    than ``tol``; ``tol=None`` runs exactly ``max_iter`` iterations.
    """
    model, x, params = _inputs(model, x, init)
    max_iter = check_int(max_iter, "max_iter", 0, 100_000)
    if tol is not None:
        tol = float(tol)
        if not np.isfinite(tol) or tol < 0:
            raise ValueError(f"tol: expected a number ≥ 0, got {tol}")
    masks = model.parse_fixed(params, fixed)
    fixed = tuple(fixed or ())
    start = model.onto_floor(x, params, masks)
    floored = start is not params
    params = start
    resp, log_p, ent = _e_step(model, x, params)
    ll = [log_p]
    if not np.isfinite(ll[0]):
        raise ValueError(
            "init: log p(X|θ) is −∞ at these starting parameters (some data point has probability 0); "
            "choose starting values that give every data point some probability"
        )
    plist, e_vals, m_vals, stats_list, ents = [params], [], [], [], []
    converged = False
    for _ in range(max_iter):
        stats = model.expected_stats(x, resp)
        e_vals.append(float(model.expected_log_joint(stats, params)) + ent)
        params = model.m_step_from_stats(stats, params, masks)
        floored = floored or model.floored(stats, params)
        m_vals.append(float(model.expected_log_joint(stats, params)) + ent)
        stats_list.append({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in stats.items()})
        ents.append(ent)
        plist.append(params)
        resp, log_p, ent = _e_step(model, x, params)
        ll.append(log_p)
        if tol is not None and ll[-1] - ll[-2] < tol:
            converged = True
            break
    for s in stats_list:
        for v in s.values():
            if isinstance(v, np.ndarray):
                v.setflags(write=False)
    arrays = [np.array(a, dtype=float) for a in (ll, e_vals, m_vals, ents)]
    for a in arrays:
        a.setflags(write=False)
    return EMTrace(model.name, tuple(plist), arrays[0], arrays[1], arrays[2], tuple(stats_list), arrays[3],
                   converged, len(plist) - 1, fixed, floored)
