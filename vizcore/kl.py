"""KL divergences: closed forms, quadrature, and Gaussian fits to a 1-D density.

Every function that compares two distributions takes **q before p** and
returns

.. math::

    \\mathrm{KL}(q \\,\\|\\, p) = \\int q(x) \\log \\frac{q(x)}{p(x)} \\, dx
                              = E_q[\\log q(x) - \\log p(x)],

with a sum in place of the integral for discrete distributions. KL is
asymmetric, never negative, zero only when q = p, and +∞ as soon as q puts
probability where p has none (0 · log 0 = 0 by convention, q · log(q/0) = ∞).

Contents
--------
Closed forms     :func:`kl_gaussian`, :func:`kl_mvn`, :func:`kl_uniform`,
                 :func:`kl_bernoulli`, :func:`kl_categorical`, :func:`categorical_kl_terms`.
1-D densities    :class:`Gaussian`, :class:`GaussianMixture` (two components),
                 :class:`Uniform`; each has ``logpdf``, ``pdf``, ``cdf``, ``mean``,
                 ``var``, ``entropy()``, ``support`` and ``plot_range()``.
Quadrature       :func:`kl_quad`, :func:`kl_closed_form`, :func:`kl_integrand`,
                 :func:`kl_integrand_parts`, :func:`mass_where_p_zero`, :func:`plot_grid`.
Gaussian fits    :func:`kl_gaussian_fit_grid` (heatmaps of both directions over a
                 (mean, sd) grid), :func:`fit_gaussian` ("reverse": mode-seeking,
                 "forward": mass-covering).

Only numpy and scipy are imported here.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Union

import numpy as np
from scipy import integrate, optimize, special
from scipy.linalg import solve_triangular

from ._validation import _shown, as_array, check_positive, check_probabilities, readonly

__all__ = [
    "Density", "Gaussian", "GaussianMixture", "Uniform", "GaussianFit", "KLGrid",
    "kl_gaussian", "kl_mvn", "kl_uniform", "kl_bernoulli", "kl_categorical",
    "categorical_kl_terms", "kl_quad", "kl_closed_form", "kl_integrand",
    "kl_integrand_parts", "mass_where_p_zero", "plot_grid",
    "kl_gaussian_fit_grid", "fit_gaussian",
]

_LOG_2PI = math.log(2.0 * math.pi)
_CORE_SDS = 10.0        # a Gaussian has all but ~1e-23 of its mass within mean ± 10 sd
_PLOT_SDS = 4.0         # plotting range of a Gaussian: mean ± 4 sd
_QUAD_OPTS = dict(epsabs=1e-12, epsrel=1e-10, limit=200)


def _scalar(value, name: str) -> float:
    arr = as_array(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name}: expected a single number, got an array of shape {arr.shape}")
    return float(arr)


def _out(arr: np.ndarray):
    """Return a Python float for 0-d results, the array otherwise."""
    return float(arr) if np.ndim(arr) == 0 else arr


# ---------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------

def kl_gaussian(q_mean, q_var, p_mean, p_var):
    """KL(q‖p) between univariate Gaussians q = N(q_mean, q_var), p = N(p_mean, p_var).

    Parameters
    ----------
    q_mean, q_var : float or array_like
        Mean and variance (not sd) of q. Arrays broadcast against each other
        and against ``p_mean``, ``p_var``, so a whole heatmap is one call.
    p_mean, p_var : float or array_like
        Mean and variance of p.

    Returns
    -------
    float or ndarray
        KL(q‖p) in nats, with the broadcast shape of the inputs (a float when
        all inputs are scalars).

    Raises
    ------
    ValueError
        If a value is not finite or a variance is not positive.

    Notes
    -----
    .. math::

        \\mathrm{KL}(q\\|p) = \\tfrac12\\Big[\\frac{\\sigma_q^2}{\\sigma_p^2} - 1
            - \\log\\frac{\\sigma_q^2}{\\sigma_p^2}
            + \\frac{(\\mu_q - \\mu_p)^2}{\\sigma_p^2}\\Big]

    The variance part is computed as r - 1 - log r = d - log1p(d) with
    d = r - 1, accurate when r ≈ 1; a result below 0 by rounding is clipped to 0.

    Examples
    --------
    >>> kl_gaussian(0.0, 1.0, 0.0, 1.0)
    0.0
    >>> round(kl_gaussian(1.0, 1.0, 0.0, 1.0), 6)
    0.5
    """
    q_mean = as_array(q_mean, "q_mean")
    q_var = as_array(q_var, "q_var")
    p_mean = as_array(p_mean, "p_mean")
    p_var = as_array(p_var, "p_var")
    check_positive(q_var, "q_var")
    check_positive(p_var, "p_var")
    try:
        np.broadcast_shapes(q_mean.shape, q_var.shape, p_mean.shape, p_var.shape)
    except ValueError:
        raise ValueError(
            "q_mean, q_var, p_mean, p_var: expected shapes that broadcast together, got "
            f"{q_mean.shape}, {q_var.shape}, {p_mean.shape}, {p_var.shape}"
        ) from None
    d = q_var / p_var - 1.0
    out = 0.5 * (d - np.log1p(d)) + 0.5 * (q_mean - p_mean) ** 2 / p_var
    return _out(np.maximum(out, 0.0))


def kl_mvn(q_mean, q_cov, p_mean, p_cov) -> float:
    """KL(q‖p) between multivariate normals q = N(q_mean, q_cov), p = N(p_mean, p_cov).

    Parameters
    ----------
    q_mean : array_like, shape (D,)
    q_cov : array_like, shape (D, D)
        Symmetric positive-definite covariance of q.
    p_mean : array_like, shape (D,)
    p_cov : array_like, shape (D, D)
        Symmetric positive-definite covariance of p.

    Returns
    -------
    float
        KL(q‖p) in nats.

    Raises
    ------
    ValueError
        On shape mismatch, non-finite values, or a covariance that is not
        symmetric positive definite.

    Notes
    -----
    .. math::

        \\mathrm{KL}(q\\|p) = \\tfrac12\\Big[\\operatorname{tr}(\\Sigma_p^{-1}\\Sigma_q)
            + (\\mu_p-\\mu_q)^\\top\\Sigma_p^{-1}(\\mu_p-\\mu_q) - D
            + \\log\\det\\Sigma_p - \\log\\det\\Sigma_q\\Big]

    computed through Cholesky factors.
    """
    q_mean = as_array(q_mean, "q_mean", ndim=1)
    dim = q_mean.shape[0]
    p_mean = as_array(p_mean, "p_mean", shape=(dim,))
    q_cov = as_array(q_cov, "q_cov", shape=(dim, dim))
    p_cov = as_array(p_cov, "p_cov", shape=(dim, dim))
    chol_q = _cholesky(q_cov, "q_cov")
    chol_p = _cholesky(p_cov, "p_cov")
    # Σp^{-1} Σq via triangular solves: L_p^{-1} L_q, squared Frobenius norm = tr(Σp^{-1} Σq)
    a = solve_triangular(chol_p, chol_q, lower=True)
    b = solve_triangular(chol_p, p_mean - q_mean, lower=True)
    logdet_p = 2.0 * np.sum(np.log(np.diag(chol_p)))
    logdet_q = 2.0 * np.sum(np.log(np.diag(chol_q)))
    out = 0.5 * (np.sum(a * a) + np.sum(b * b) - dim + logdet_p - logdet_q)
    return float(max(out, 0.0))


def _cholesky(cov: np.ndarray, name: str) -> np.ndarray:
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name}: expected a symmetric matrix, got {_shown(cov.tolist())}")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{name}: expected a positive-definite covariance, got {_shown(cov.tolist())}; "
            "add a small multiple of the identity"
        ) from None


def kl_uniform(q_low, q_high, p_low, p_high) -> float:
    """KL(q‖p) between uniform densities q = U(q_low, q_high), p = U(p_low, p_high).

    Parameters
    ----------
    q_low, q_high : float
        Ends of q's interval, ``q_low < q_high``.
    p_low, p_high : float
        Ends of p's interval, ``p_low < p_high``.

    Returns
    -------
    float
        ``log((p_high - p_low) / (q_high - q_low))`` when q's interval lies
        inside p's, else ``inf`` (q has mass where p has none).

    Notes
    -----
    .. math::

        \\mathrm{KL}(q\\|p) = \\int_{a_q}^{b_q} \\frac{1}{b_q-a_q}
            \\log\\frac{b_p-a_p}{b_q-a_q}\\,dx

    if :math:`[a_q, b_q] \\subseteq [a_p, b_p]`, and :math:`+\\infty` otherwise.
    """
    q = Uniform(q_low, q_high)
    p = Uniform(p_low, p_high)
    return _kl_uniform(q, p)


def _kl_uniform(q: "Uniform", p: "Uniform") -> float:
    if q.low < p.low or q.high > p.high:
        return math.inf
    return math.log(p.width / q.width)


def kl_bernoulli(q, p):
    """KL(q‖p) between Bernoulli distributions with success probabilities q and p.

    Parameters
    ----------
    q, p : float or array_like
        Probabilities of x = 1, each in [0, 1]; arrays broadcast.

    Returns
    -------
    float or ndarray
        KL(q‖p) in nats; ``inf`` where q gives mass to an outcome p rules out
        (e.g. p = 0 and q > 0).

    Notes
    -----
    .. math::

        \\mathrm{KL}(q\\|p) = q\\log\\frac{q}{p} + (1-q)\\log\\frac{1-q}{1-p}

    with 0 · log(0/·) = 0 (``scipy.special.rel_entr``).
    """
    q = as_array(q, "q")
    p = as_array(p, "p")
    check_probabilities(q, "q", simplex=False)
    check_probabilities(p, "p", simplex=False)
    try:
        np.broadcast_shapes(q.shape, p.shape)
    except ValueError:
        raise ValueError(f"q, p: expected shapes that broadcast together, got {q.shape} and {p.shape}") from None
    return _out(special.rel_entr(q, p) + special.rel_entr(1.0 - q, 1.0 - p))


def _check_simplex(arr: np.ndarray, name: str) -> None:
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(f"{name}: expected a probability vector (1-D, at least one entry), got shape {arr.shape}")
    if np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"{name}: expected probabilities between 0 and 1, got {_shown(arr.tolist())}")
    sums = arr.sum(axis=-1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-9):
        raise ValueError(
            f"{name}: expected probabilities that sum to 1 along the last axis, got sum(s) "
            f"{_shown(np.round(sums, 9).tolist())}; divide them by their sum"
        )


def _categorical_pair(q, p):
    q = as_array(q, "q")
    p = as_array(p, "p")
    _check_simplex(q, "q")
    _check_simplex(p, "p")
    if q.shape[-1] != p.shape[-1]:
        raise ValueError(
            f"q, p: expected the same number of categories, got {q.shape[-1]} for q and {p.shape[-1]} for p"
        )
    try:
        np.broadcast_shapes(q.shape, p.shape)
    except ValueError:
        raise ValueError(f"q, p: expected shapes that broadcast together, got {q.shape} and {p.shape}") from None
    return q, p


def categorical_kl_terms(q, p) -> np.ndarray:
    """The terms q_k log(q_k / p_k) whose sum is KL(q‖p), one per category.

    Parameters
    ----------
    q, p : array_like, shape (..., K)
        Probability vectors (last axis sums to 1).

    Returns
    -------
    ndarray, shape (..., K)
        0 where q_k = 0, ``inf`` where q_k > 0 = p_k, negative where q_k < p_k.
    """
    q, p = _categorical_pair(q, p)
    return special.rel_entr(q, p)


def kl_categorical(q, p):
    """KL(q‖p) between categorical distributions (probability vectors).

    Parameters
    ----------
    q, p : array_like, shape (..., K)
        Probability vectors over the same K categories; the last axis must sum
        to 1. Leading axes broadcast.

    Returns
    -------
    float or ndarray, shape (...)
        KL(q‖p) in nats; ``inf`` when q puts mass on a category where p has none.

    Notes
    -----
    .. math::

        \\mathrm{KL}(q\\|p) = \\sum_{k=1}^{K} q_k \\log\\frac{q_k}{p_k},
        \\qquad 0\\log\\frac{0}{p_k} = 0,\\quad q_k\\log\\frac{q_k}{0} = \\infty \\;(q_k>0).

    Examples
    --------
    >>> kl_categorical([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> kl_categorical([0.5, 0.5], [1.0, 0.0])
    inf
    """
    q, p = _categorical_pair(q, p)
    return _out(np.sum(special.rel_entr(q, p), axis=-1))


# ---------------------------------------------------------------------------
# 1-D densities
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Gaussian:
    """Normal density N(mean, sd²).

    .. math:: \\log q(x) = -\\tfrac12\\big(\\tfrac{x-\\mu}{\\sigma}\\big)^2 - \\log\\sigma - \\tfrac12\\log 2\\pi
    """

    mean: float = 0.0
    sd: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "mean", _scalar(self.mean, "mean"))
        sd = _scalar(self.sd, "sd")
        if sd <= 0:
            raise ValueError(f"sd: expected a standard deviation greater than 0, got {sd!r}")
        object.__setattr__(self, "sd", sd)

    @property
    def var(self) -> float:
        return self.sd ** 2

    @property
    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        return (self.mean,)

    def logpdf(self, x):
        z = (np.asarray(x, dtype=float) - self.mean) / self.sd
        return -0.5 * z * z - math.log(self.sd) - 0.5 * _LOG_2PI

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def cdf(self, x):
        return special.ndtr((np.asarray(x, dtype=float) - self.mean) / self.sd)

    def entropy(self) -> float:
        """Differential entropy ½ log(2πe σ²)."""
        return 0.5 * (_LOG_2PI + 1.0) + math.log(self.sd)

    def plot_range(self) -> tuple[float, float]:
        return (self.mean - _PLOT_SDS * self.sd, self.mean + _PLOT_SDS * self.sd)

    def _core(self) -> tuple[float, float]:
        return (self.mean - _CORE_SDS * self.sd, self.mean + _CORE_SDS * self.sd)

    def _strip(self) -> float:
        """Width of the strip around the real axis where log p is smooth (∞: entire)."""
        return math.inf


@dataclass(frozen=True)
class GaussianMixture:
    """Two-component Gaussian mixture w·N(mean1, sd1²) + (1-w)·N(mean2, sd2²).

    Parameters
    ----------
    weight : float
        Weight w of the first component, in [0, 1].
    mean1, sd1, mean2, sd2 : float
        Means and standard deviations (> 0) of the two components.

    Notes
    -----
    .. math::

        \\log p(x) = \\operatorname{logaddexp}\\big(\\log w + \\log N(x;\\mu_1,\\sigma_1^2),\\;
                    \\log(1-w) + \\log N(x;\\mu_2,\\sigma_2^2)\\big)

    Mean :math:`w\\mu_1 + (1-w)\\mu_2`, variance
    :math:`w\\sigma_1^2 + (1-w)\\sigma_2^2 + w(1-w)(\\mu_1-\\mu_2)^2`.
    """

    weight: float = 0.5
    mean1: float = -2.0
    sd1: float = 1.0
    mean2: float = 2.0
    sd2: float = 1.0

    def __post_init__(self):
        w = _scalar(self.weight, "weight")
        if not 0.0 <= w <= 1.0:
            raise ValueError(f"weight: expected the first component's weight between 0 and 1, got {w!r}")
        object.__setattr__(self, "weight", w)
        for name in ("mean1", "mean2"):
            object.__setattr__(self, name, _scalar(getattr(self, name), name))
        for name in ("sd1", "sd2"):
            sd = _scalar(getattr(self, name), name)
            if sd <= 0:
                raise ValueError(f"{name}: expected a standard deviation greater than 0, got {sd!r}")
            object.__setattr__(self, name, sd)

    @functools.cached_property
    def components(self) -> tuple[tuple[float, Gaussian], ...]:
        """(weight, Gaussian) pairs of the components with positive weight."""
        pairs = ((self.weight, Gaussian(self.mean1, self.sd1)), (1.0 - self.weight, Gaussian(self.mean2, self.sd2)))
        return tuple((w, g) for w, g in pairs if w > 0)

    @property
    def mean(self) -> float:
        return self.weight * self.mean1 + (1.0 - self.weight) * self.mean2

    @property
    def var(self) -> float:
        w = self.weight
        return w * self.sd1 ** 2 + (1 - w) * self.sd2 ** 2 + w * (1 - w) * (self.mean1 - self.mean2) ** 2

    @property
    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        return tuple(g.mean for _, g in self.components)

    def logpdf(self, x):
        terms = [math.log(w) + g.logpdf(x) for w, g in self.components]
        return terms[0] if len(terms) == 1 else np.logaddexp(terms[0], terms[1])

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def cdf(self, x):
        return sum(w * g.cdf(x) for w, g in self.components)

    def entropy(self) -> float:
        """Differential entropy -∫ p log p, by adaptive quadrature."""
        return -_integrate(self, lambda x: _xexp(self.logpdf(x)))

    def plot_range(self) -> tuple[float, float]:
        ranges = [g.plot_range() for _, g in self.components]
        return (min(r[0] for r in ranges), max(r[1] for r in ranges))

    def _core(self) -> tuple[float, float]:
        ranges = [g._core() for _, g in self.components]
        return (min(r[0] for r in ranges), max(r[1] for r in ranges))

    def _strip(self) -> float:
        # log p has singularities where p(z) = 0 in the complex plane; for equal
        # sds they sit at Im z = π σ² / |μ1 - μ2|. A conservative bound for both.
        comps = self.components
        if len(comps) == 1:
            return math.inf
        sd = min(self.sd1, self.sd2)
        gap = abs(self.mean1 - self.mean2)
        return min(sd, math.pi * sd * sd / gap if gap > 0 else math.inf)


@dataclass(frozen=True)
class Uniform:
    """Uniform density on [low, high]: 1/(high - low) inside, 0 outside."""

    low: float = 0.0
    high: float = 1.0

    def __post_init__(self):
        low = _scalar(self.low, "low")
        high = _scalar(self.high, "high")
        if not high > low:
            raise ValueError(f"high: expected a value greater than low = {low!r}, got {high!r}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def var(self) -> float:
        return self.width ** 2 / 12.0

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        return (self.low, self.high)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        inside = (x >= self.low) & (x <= self.high)
        return np.where(inside, -math.log(self.width), -np.inf)

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def cdf(self, x):
        return np.clip((np.asarray(x, dtype=float) - self.low) / self.width, 0.0, 1.0)

    def entropy(self) -> float:
        """Differential entropy log(high - low)."""
        return math.log(self.width)

    def plot_range(self) -> tuple[float, float]:
        pad = 0.25 * self.width
        return (self.low - pad, self.high + pad)

    def _core(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _strip(self) -> float:
        return 0.0


Density = Union[Gaussian, GaussianMixture, Uniform]
_DENSITIES = (Gaussian, GaussianMixture, Uniform)


def _check_density(d, name: str) -> None:
    if not isinstance(d, _DENSITIES):
        raise ValueError(
            f"{name}: expected a vizcore.kl density (Gaussian, GaussianMixture or Uniform), got {type(d).__name__}"
        )


# ---------------------------------------------------------------------------
# Quadrature
# ---------------------------------------------------------------------------

def _xexp(log_d):
    """d · log d from log d, with 0 · log 0 = 0."""
    log_d = float(log_d)
    return 0.0 if log_d == -math.inf else math.exp(log_d) * log_d


def _pieces(q: Density, extra: tuple[float, ...] = ()) -> list[tuple[float, float]]:
    """Split q's support into intervals at its core ends and at breakpoints."""
    lo, hi = q.support
    core_lo, core_hi = q._core()
    points = {max(core_lo, lo), min(core_hi, hi)}
    points.update(b for b in (*q.breakpoints, *extra) if core_lo < b < core_hi and lo <= b <= hi)
    edges = sorted(points)
    pieces = []
    if lo < edges[0]:
        pieces.append((lo, edges[0]))
    pieces.extend(zip(edges[:-1], edges[1:]))
    if edges[-1] < hi:
        pieces.append((edges[-1], hi))
    return [(a, b) for a, b in pieces if a < b]


def _integrate(q: Density, func, extra: tuple[float, ...] = ()) -> float:
    total = 0.0
    for a, b in _pieces(q, extra):
        val, _ = integrate.quad(func, a, b, **_QUAD_OPTS)
        total += val
    return total


def kl_quad(q: Density, p: Density) -> float:
    """KL(q‖p) = ∫ q log(q/p) by adaptive quadrature over q's support (q before p).

    Parameters
    ----------
    q : Gaussian, GaussianMixture or Uniform
        The distribution the expectation is taken under.
    p : Gaussian, GaussianMixture or Uniform
        The reference distribution.

    Returns
    -------
    float
        KL(q‖p) in nats; ``inf`` when q has mass where p's density is zero
        (q's support is not inside p's).

    Notes
    -----
    .. math::

        \\mathrm{KL}(q\\|p) = \\int_{\\operatorname{supp} q} e^{\\log q(x)}
            \\big(\\log q(x) - \\log p(x)\\big)\\,dx

    The integrand is formed from log-densities, so far tails do not underflow
    to 0 · log(0/0). The support is split at q's and p's breakpoints (means,
    interval ends) and at q's ±10 sd core, and each piece is integrated with
    ``scipy.integrate.quad``. Rounding may leave a result of order 1e-12 below
    zero when q ≈ p; it is exactly 0 when q and p are the same density.
    """
    _check_density(q, "q")
    _check_density(p, "p")
    q_lo, q_hi = q.support
    p_lo, p_hi = p.support
    if q_lo < p_lo or q_hi > p_hi:
        return math.inf

    def integrand(x):
        lq = float(q.logpdf(x))
        if lq == -math.inf:
            return 0.0
        lp = float(p.logpdf(x))
        if lp == -math.inf:
            return math.inf
        return math.exp(lq) * (lq - lp)

    return float(_integrate(q, integrand, extra=p.breakpoints))


def kl_closed_form(q: Density, p: Density) -> float | None:
    """KL(q‖p) in closed form when one is known for the pair, else ``None`` (q before p).

    Known pairs: Gaussian–Gaussian (:func:`kl_gaussian`), Uniform–Uniform
    (:func:`kl_uniform`), and a Gaussian or mixture q against a Uniform p
    (``inf``: q has mass outside p's interval).
    """
    _check_density(q, "q")
    _check_density(p, "p")
    if isinstance(q, Gaussian) and isinstance(p, Gaussian):
        return kl_gaussian(q.mean, q.var, p.mean, p.var)
    if isinstance(q, Uniform) and isinstance(p, Uniform):
        return _kl_uniform(q, p)
    if isinstance(p, Uniform) and not isinstance(q, Uniform):
        return math.inf
    return None


def kl_integrand(q: Density, p: Density, x) -> np.ndarray:
    """The pointwise integrand q(x) log(q(x)/p(x)) of KL(q‖p) (q before p).

    Parameters
    ----------
    q, p : Gaussian, GaussianMixture or Uniform
    x : array_like
        Points at which to evaluate.

    Returns
    -------
    ndarray, same shape as ``x``
        0 where q(x) = 0; ``inf`` where q(x) > 0 = p(x); negative where
        q(x) < p(x). Its integral is KL(q‖p) ≥ 0 even though it dips below 0.
    """
    _check_density(q, "q")
    _check_density(p, "p")
    x = as_array(x, "x")
    lq = np.asarray(q.logpdf(x), dtype=float)
    lp = np.asarray(p.logpdf(x), dtype=float)
    out = np.zeros_like(lq)
    has_q = lq > -np.inf
    has_p = lp > -np.inf
    both = has_q & has_p
    out[both] = np.exp(lq[both]) * (lq[both] - lp[both])
    out[has_q & ~has_p] = np.inf
    return out


def kl_integrand_parts(q: Density, p: Density, n: int = 4001) -> tuple[float, float]:
    """Areas of the negative and positive parts of q log(q/p) (q before p).

    Parameters
    ----------
    q, p : Gaussian, GaussianMixture or Uniform
    n : int
        Number of points of the trapezoid grid (:func:`plot_grid`) on q's support.

    Returns
    -------
    (negative, positive) : tuple of float
        ``negative`` ≤ 0 is ∫ min(integrand, 0), ``positive`` ≥ 0 is
        ∫ max(integrand, 0) (``inf`` if q has mass where p has none). Their
        sum approximates KL(q‖p); for display, use :func:`kl_quad` for the value.
    """
    _check_density(q, "q")
    _check_density(p, "p")
    (core_lo, core_hi), (s_lo, s_hi) = q._core(), q.support
    lo, hi = max(core_lo, s_lo), min(core_hi, s_hi)
    cuts = [b for b in (*q.breakpoints, *p.breakpoints) if lo < b < hi]
    x = np.union1d(np.linspace(lo, hi, int(n)), np.asarray(cuts, dtype=float))
    f = kl_integrand(q, p, x)
    if np.any(np.isinf(f)):
        pos = math.inf
    else:
        pos = float(np.trapezoid(np.maximum(f, 0.0), x))
    neg = float(np.trapezoid(np.minimum(np.where(np.isinf(f), 0.0, f), 0.0), x))
    return neg, pos


def mass_where_p_zero(q, p) -> float:
    """Probability that q gives to the region where p is zero (q before p).

    KL(q‖p) is infinite exactly when this is positive.

    Parameters
    ----------
    q, p : densities (Gaussian, GaussianMixture, Uniform) or probability vectors
        Both of the same kind.

    Returns
    -------
    float
        ∫_{p(x)=0} q(x) dx, or Σ_{k: p_k = 0} q_k.
    """
    if isinstance(q, _DENSITIES) or isinstance(p, _DENSITIES):
        _check_density(q, "q")
        _check_density(p, "p")
        lo, hi = p.support
        below = float(q.cdf(lo)) if math.isfinite(lo) else 0.0
        above = 1.0 - float(q.cdf(hi)) if math.isfinite(hi) else 0.0
        return max(below, 0.0) + max(above, 0.0)
    q, p = _categorical_pair(q, p)
    return _out(np.sum(np.where(p == 0, q, 0.0), axis=-1))


def plot_grid(*densities: Density, n: int = 801) -> np.ndarray:
    """A sorted x-grid covering every density's plotting range.

    The grid contains each breakpoint, and at an interval end of a Uniform
    also the neighbouring float just outside, so a jump in the density is
    drawn as a vertical step.

    Parameters
    ----------
    *densities : Gaussian, GaussianMixture or Uniform
    n : int
        Number of evenly spaced points before the breakpoints are added (≥ 2).
    """
    if not densities:
        raise ValueError("densities: expected at least one density, got none")
    for i, d in enumerate(densities):
        _check_density(d, f"densities[{i}]")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected a whole number of at least 2, got {_shown(n)}")
    ranges = [d.plot_range() for d in densities]
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    extra = []
    for d in densities:
        extra.extend(d.breakpoints)
        if isinstance(d, Uniform):
            extra.extend([np.nextafter(d.low, -np.inf), np.nextafter(d.high, np.inf)])
    return np.union1d(np.linspace(lo, hi, int(n)), np.asarray(extra, dtype=float))


# ---------------------------------------------------------------------------
# Fitting a Gaussian q to a 1-D p
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class KLGrid:
    """Both KL directions for Gaussian q = N(mean, sd²) over a (sd, mean) grid.

    Attributes
    ----------
    means : ndarray, shape (M,)
    sds : ndarray, shape (S,)
    reverse : ndarray, shape (S, M)
        KL(q‖p) (mode-seeking); ``inf`` everywhere if p has bounded support.
    forward : ndarray, shape (S, M)
        KL(p‖q) (mass-covering).
    """

    means: np.ndarray
    sds: np.ndarray
    reverse: np.ndarray
    forward: np.ndarray

    def argmin(self, direction: str) -> tuple[float, float, float]:
        """(mean, sd, kl) of the grid cell with the smallest KL in ``direction``."""
        values = _grid_direction(self, direction)
        if not np.any(np.isfinite(values)):
            return (math.nan, math.nan, math.inf)
        i, j = np.unravel_index(np.argmin(values), values.shape)
        return (float(self.means[j]), float(self.sds[i]), float(values[i, j]))


def _grid_direction(grid: KLGrid, direction: str) -> np.ndarray:
    _check_direction(direction)
    return grid.reverse if direction == "reverse" else grid.forward


def _check_direction(direction) -> None:
    if direction not in ("reverse", "forward"):
        raise ValueError(
            "direction: expected 'reverse' (minimise KL(q‖p), mode-seeking) or "
            f"'forward' (minimise KL(p‖q), mass-covering), got {_shown(direction)}"
        )


_MAX_GRID = 5_000_000  # points of one trapezoid grid (40 MB): a guard, never reached inside fit_gaussian's box


def _trapezoid_step(p: Density, s_min: float) -> float:
    """x-step for Gaussian-weighted trapezoid sums against log p.

    The trapezoid rule on a uniform grid is spectrally accurate for a Gaussian
    weight N(m, s²) times a function analytic in a strip of half-width h: the
    error decays like exp(-2π² s²/dx²) and exp(-2π h/dx). With dx = min(s/2, h/3)
    both are below 1e-8.
    """
    return min(0.5 * s_min, p._strip() / 3.0)


def _expected_logp(p: Density, means: np.ndarray, sds: np.ndarray) -> np.ndarray:
    """E_{N(m, s²)}[log p(x)] for every (s, m), shape (S, M), by trapezoid sums.

    Equally spaced means (the heatmap case) put every mean on one uniform
    x-grid, so each cell's sum is a Gaussian kernel (one per sd) against a
    window of log p: a single matrix product, with log p evaluated once.
    Other means use a direct sum over a shared grid (:func:`_expected_logp_direct`).
    The step is :func:`_trapezoid_step` for the smallest sd; the kernel reaches
    8.5 sd either side; weights are renormalised to sum to one.
    """
    if means.size > 1:
        diffs = np.diff(means)
        if not (np.all(diffs > 0) and np.allclose(diffs, diffs[0], rtol=1e-9, atol=0)):
            if np.all(diffs < 0):
                return _expected_logp(p, means[::-1], sds)[:, ::-1]
            return _expected_logp_direct(p, means, sds)
        spacing = float(means[-1] - means[0]) / (means.size - 1)
        k = int(math.ceil(spacing / _trapezoid_step(p, float(sds.min()))))
        dx = spacing / k
    else:
        k, dx = 1, _trapezoid_step(p, float(sds.min()))
    half = int(math.ceil(8.5 * float(sds.max()) / dx))
    x = means[0] + dx * np.arange(-half, (means.size - 1) * k + half + 1)
    logp = np.asarray(p.logpdf(x), dtype=float)
    windows = np.lib.stride_tricks.sliding_window_view(logp, 2 * half + 1)[::k][: means.size]  # (M, 2h+1)
    u = dx * np.arange(-half, half + 1)
    kernels = np.exp(-0.5 * (u[None, :] / sds[:, None]) ** 2)                                 # (S, 2h+1)
    kernels /= kernels.sum(axis=1, keepdims=True)
    return kernels @ windows.T


def _expected_logp_direct(p: Density, means: np.ndarray, sds: np.ndarray, rows_per_chunk: int = 6) -> np.ndarray:
    """Like :func:`_expected_logp` for arbitrary means: rows of similar sd share one grid."""
    out = np.empty((sds.size, means.size))
    m_lo, m_hi = float(means.min()), float(means.max())
    order = np.argsort(sds)
    for start in range(0, sds.size, rows_per_chunk):
        idx = order[start:start + rows_per_chunk]
        s = sds[idx]
        s_max = float(s.max())
        lo, hi = m_lo - 8.5 * s_max, m_hi + 8.5 * s_max
        n = int(math.ceil((hi - lo) / _trapezoid_step(p, float(s.min())))) + 1
        x = np.linspace(lo, hi, n)
        logp = np.asarray(p.logpdf(x), dtype=float)
        w = (x[None, :] - means[:, None]) ** 2                            # (M, X)
        w = w[None, :, :] * (-0.5 / (s * s))[:, None, None]              # (s, M, X)
        np.exp(w, out=w)
        sums = w.reshape(-1, n) @ np.stack([logp, np.ones(n)], axis=1)    # (s*M, 2)
        out[idx] = (sums[:, 0] / sums[:, 1]).reshape(s.size, means.size)
    return out


def _reverse_kl_and_grad(theta, p: Density) -> tuple[float, np.ndarray]:
    """KL(N(m, s²)‖p) and its gradient in θ = (m, log s), by trapezoid sums.

    With u = (x - m)/s:  ∂/∂m E[log p] = E[u log p]/s,  ∂/∂log s E[log p] = E[(u² - 1) log p].
    """
    m, log_s = float(theta[0]), float(theta[1])
    s = math.exp(log_s)
    dx = _trapezoid_step(p, s)
    n = int(math.ceil(18.0 * s / dx)) + 1
    if n > _MAX_GRID:
        raise ValueError(f"q: a Gaussian with sd {s:.3g} needs {n:,} grid points against this p "
                         f"(at most {_MAX_GRID:,}); choose a narrower q")
    u = np.linspace(-9.0, 9.0, n)
    logp = np.asarray(p.logpdf(m + s * u), dtype=float)
    w = np.exp(-0.5 * u * u)
    w /= w.sum()
    e_logp = float(w @ logp)
    e_u = float(w @ (u * logp))
    e_u2 = float(w @ ((u * u - 1.0) * logp))
    value = -(0.5 * (_LOG_2PI + 1.0) + log_s) - e_logp
    return value, np.array([-e_u / s, -1.0 - e_u2])


def _forward_from_moments(p_mean: float, p_var: float, p_entropy: float, means, sds):
    """KL(p‖N(m, s²)) = -H(p) + ½ log(2π s²) + (Var p + (E p - m)²) / (2 s²)."""
    return (-p_entropy + 0.5 * _LOG_2PI + np.log(sds)
            + (p_var + (p_mean - means) ** 2) / (2.0 * sds ** 2))


def kl_gaussian_fit_grid(p: Density, means, sds) -> KLGrid:
    """KL(q‖p) and KL(p‖q) for every Gaussian q = N(mean, sd²) on a grid.

    Parameters
    ----------
    p : Gaussian, GaussianMixture or Uniform
        The target density.
    means : array_like, shape (M,)
        Means of q (columns).
    sds : array_like, shape (S,)
        Standard deviations of q (rows), each > 0.

    Returns
    -------
    KLGrid
        ``reverse[i, j] = KL(N(means[j], sds[i]²) ‖ p)`` and
        ``forward[i, j] = KL(p ‖ N(means[j], sds[i]²))``, each of shape (S, M).

    Notes
    -----
    Reverse: :math:`\\mathrm{KL}(q\\|p) = -H(q) - E_q[\\log p]` with
    :math:`H(q) = \\tfrac12\\log(2\\pi e s^2)`; :math:`E_q[\\log p]` is a
    trapezoid sum on a fine uniform x-grid (vectorised over the cells; for
    equally spaced means one matrix product of Gaussian kernels with windows
    of log p; accurate to about 1e-8). Infinite for every cell if p has bounded
    support.

    Forward: :math:`\\mathrm{KL}(p\\|q) = -H(p) + \\tfrac12\\log(2\\pi s^2)
    + \\frac{\\operatorname{Var}_p + (E_p - m)^2}{2 s^2}`, exact given p's mean,
    variance and entropy (the entropy by quadrature for a mixture).
    """
    _check_density(p, "p")
    means = as_array(means, "means", ndim=1)
    sds = as_array(sds, "sds", ndim=1)
    if means.size == 0 or sds.size == 0:
        raise ValueError(f"means, sds: expected at least one value each, got {means.size} and {sds.size}")
    check_positive(sds, "sds")
    lo, hi = p.support
    if math.isfinite(lo) or math.isfinite(hi):
        reverse = np.full((sds.size, means.size), np.inf)
    else:
        entropy_q = 0.5 * (_LOG_2PI + 1.0) + np.log(sds)[:, None]
        reverse = np.maximum(-entropy_q - _expected_logp(p, means, sds), 0.0)   # clip rounding below 0
    forward = np.maximum(_forward_from_moments(p.mean, p.var, p.entropy(), means[None, :], sds[:, None]), 0.0)
    return KLGrid(readonly(means), readonly(sds), readonly(reverse), readonly(forward))


@dataclass(frozen=True)
class GaussianFit:
    """The Gaussian q = N(mean, sd²) that minimises KL in one direction.

    Attributes
    ----------
    direction : str
        "reverse" (minimises KL(q‖p), mode-seeking) or "forward" (minimises
        KL(p‖q), mass-covering).
    mean, sd : float
        Parameters of the fitted q.
    kl : float
        The minimised divergence: KL(q‖p) for "reverse", KL(p‖q) for "forward".
    """

    direction: str
    mean: float
    sd: float
    kl: float

    @property
    def q(self) -> Gaussian:
        return Gaussian(self.mean, self.sd)


def fit_gaussian(p: Density, direction: str) -> GaussianFit:
    """Fit a Gaussian q to p by minimising KL in the given direction.

    Parameters
    ----------
    p : Gaussian, GaussianMixture or Uniform
        The target density.
    direction : {"reverse", "forward"}
        "reverse" minimises KL(q‖p): q avoids regions where p is small and
        settles on one mode (mode-seeking). "forward" minimises KL(p‖q): q
        must cover wherever p has mass (mass-covering).

    Returns
    -------
    GaussianFit

    Raises
    ------
    ValueError
        If ``direction`` is unknown, or for "reverse" when p has bounded
        support (every Gaussian q then has KL(q‖p) = ∞).

    Notes
    -----
    Forward: setting the gradient of :math:`-E_p[\\log N(x; m, s^2)]` to zero
    gives moment matching, :math:`m = E_p[x]`, :math:`s^2 = \\operatorname{Var}_p[x]`,
    with :math:`\\mathrm{KL}(p\\|q^*) = \\tfrac12\\log(2\\pi e\\,\\operatorname{Var}_p) - H(p)`.

    Reverse: no closed form for a mixture; L-BFGS-B over (m, log s), with the
    gradient from the same trapezoid sums, from
    each component and from the moment-matched point, the best local minimum
    kept, its KL then recomputed by :func:`kl_quad`.
    """
    _check_density(p, "p")
    _check_direction(direction)
    if direction == "forward":
        var = p.var
        kl = 0.5 * (_LOG_2PI + 1.0 + math.log(var)) - p.entropy()
        return GaussianFit("forward", float(p.mean), math.sqrt(var), float(max(kl, 0.0)))
    lo, hi = p.support
    if math.isfinite(lo) or math.isfinite(hi):
        raise ValueError(
            f"p: expected a density that is positive on the whole real line for a reverse fit, got "
            f"{type(p).__name__} with support [{lo:g}, {hi:g}]; every Gaussian q has KL(q‖p) = ∞ there"
        )
    if isinstance(p, Gaussian):
        return GaussianFit("reverse", p.mean, p.sd, 0.0)
    starts = [(g.mean, g.sd) for _, g in p.components] + [(p.mean, math.sqrt(p.var))]
    # A box that holds every reverse-KL optimum (its mean among p's, its sd between a fraction of the
    # narrowest component's and p's own): without it a first L-BFGS step can try an sd of 10⁸ or more,
    # whose trapezoid grid (:func:`_reverse_kl_and_grad`) would need terabytes.
    sd_p = math.sqrt(p.var)
    sd_min = min(g.sd for _, g in p.components)
    bounds = [(p.mean - 10.0 * sd_p, p.mean + 10.0 * sd_p), (math.log(1e-3 * sd_min), math.log(10.0 * sd_p))]

    best = None
    for m0, s0 in starts:
        res = optimize.minimize(_reverse_kl_and_grad, x0=[m0, math.log(s0)], args=(p,), jac=True,
                                method="L-BFGS-B", bounds=bounds, options=dict(ftol=1e-14, gtol=1e-9))
        if best is None or res.fun < best.fun:
            best = res
    mean, sd = float(best.x[0]), float(math.exp(best.x[1]))
    return GaussianFit("reverse", mean, sd, float(max(kl_quad(Gaussian(mean, sd), p), 0.0)))
