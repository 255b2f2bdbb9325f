"""Variational inference when the posterior is out of reach.

EM needs q(z) = p(z|x). When that posterior cannot be computed or
represented, variational inference picks q from a restricted family Q and
maximises the evidence lower bound (ELBO) over it:

.. math::

    \\log p(x) = \\mathcal{L}(q) + \\mathrm{KL}\\big(q(z)\\,\\|\\,p(z\\mid x)\\big),
    \\qquad \\mathcal{L}(q) = E_q[\\log p(x, z)] + H(q).

If p(z|x) is not in Q the KL term stays positive at the best q: the gap no
longer closes. Everything "true" here is exact: the latent z is
one-dimensional, so log p(x) and the posterior come from quadrature
(:func:`evidence`), and the gap on screen is real, not estimated.

Contents
--------
Models            :class:`LinearGaussian` (1-D factor analysis, Gaussian posterior,
                  closed forms), :class:`PoissonLogNormal` (Poisson counts with a
                  Gaussian prior on the log-rate, skewed posterior). Each supplies
                  ``log_joint(z)`` (and ``log_joint_scalar`` for quadrature),
                  ``grad_log_joint(z)``, ``hess_log_joint(z)``, ``expected_log_joint(m, s)``
                  (E_q[log p(x, z)] for a Gaussian q, in closed form), ``theta`` / ``with_theta``.
Exact answers     :func:`evidence` (log p(x), posterior mean and variance by
                  ``scipy.integrate.quad``), :func:`posterior_pdf`.
Gaussian q        :func:`elbo_gaussian` (closed form), :func:`elbo_grid`,
                  :func:`kl_gaussian_q_quad`, :func:`fit_gaussian_q`, :func:`sga`.
Richer family     :func:`elbo_mixture`, :func:`fit_mixture_q`, :func:`kl_mixture_q_quad`.
Tighter bounds    :func:`iwae`, :func:`iwae_over_theta`.
Mean-field        :func:`correlated_gaussian`, :func:`cavi_update`, :func:`cavi`,
                  :func:`mean_field_elbo`, :func:`forward_fit`, :func:`ellipse`.
Variational EM    :class:`PoissonGroups`, :func:`group_log_marginal`,
                  :func:`group_log_marginal_grid`, :func:`group_bound`,
                  :func:`variational_em`, :func:`exact_em`.

Only numpy and scipy are imported here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Union

import numpy as np
from scipy import integrate, optimize, special

from ._validation import _shown, as_array, check_int, check_rng, readonly
from .kl import kl_mvn

__all__ = [
    "LinearGaussian", "PoissonLogNormal", "Evidence", "GaussianQFit", "ELBOGrid", "SGAPath",
    "MixtureFit", "IWAEResult", "IWAECurves", "MeanFieldTrace", "PoissonGroups", "VEMTrace", "EMPath",
    "evidence", "posterior_pdf", "elbo_gaussian", "elbo_grid", "kl_gaussian_q_quad", "fit_gaussian_q",
    "sga", "mixture_logpdf", "elbo_mixture", "fit_mixture_q", "kl_mixture_q_quad", "iwae",
    "iwae_over_theta", "correlated_gaussian", "cavi_update", "cavi", "mean_field_elbo", "forward_fit",
    "ellipse", "group_log_marginal", "group_log_marginal_grid", "group_bound", "variational_em",
    "exact_em", "N_NODES", "LOG_SD_BOUNDS", "MEAN_BOUNDS",
]

_LOG_2PI = math.log(2.0 * math.pi)
N_NODES = 96                      # Gauss–Hermite nodes for E_q[.] under a Gaussian q
_GH_T, _GH_W = np.polynomial.hermite.hermgauss(N_NODES)
_GH_Z = math.sqrt(2.0) * _GH_T    # standard-normal nodes
_GH_W = _GH_W / math.sqrt(math.pi)  # weights summing to 1
LOG_SD_BOUNDS = (-7.0, 1.5)       # log s is kept here by the optimisers and SGA (GH stays exact)
MEAN_BOUNDS = (-50.0, 50.0)       # m is kept here by SGA (no overflow in exp)
_QUAD = dict(epsabs=0.0, epsrel=1e-12, limit=400)
_TAIL = 45.0                      # quadrature ranges: where log density drops by this much below its peak


def _scalar(value, name: str) -> float:
    arr = as_array(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name}: expected a single number, got an array of shape {arr.shape}")
    return float(arr)


def _positive(value, name: str, remedy: str = "") -> float:
    v = _scalar(value, name)
    if v <= 0:
        raise ValueError(f"{name}: expected a number greater than 0, got {v!r}{remedy}")
    return v


# ---------------------------------------------------------------------------
# Models with a continuous 1-D latent z
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LinearGaussian:
    """One-dimensional factor analysis: a Gaussian posterior, every answer in closed form.

    .. math::

        z \\sim \\mathcal{N}(0, 1), \\qquad x_i \\mid z \\sim \\mathcal{N}(w z + b, \\sigma^2),
        \\quad i = 1, \\dots, n.

    Parameters
    ----------
    x : array_like, shape (n,)
        Observations (stored as a tuple, so the model is hashable).
    loading : float
        w.
    offset : float
        b.
    noise_var : float
        σ² > 0.

    Notes
    -----
    The posterior is Gaussian with precision :math:`1 + n w^2/\\sigma^2` and mean
    :math:`(w/\\sigma^2) \\sum_i (x_i - b)` divided by that precision; the marginal is
    :math:`x \\sim \\mathcal{N}(b\\mathbf 1, \\sigma^2 I + w^2 \\mathbf 1 \\mathbf 1^\\top)`.
    """

    x: tuple
    loading: float = 1.0
    offset: float = 0.0
    noise_var: float = 1.0
    _n: int = field(init=False, repr=False, compare=False)
    _sum_r: float = field(init=False, repr=False, compare=False)
    _sum_r2: float = field(init=False, repr=False, compare=False)

    name = "linear_gaussian"
    theta_name = "loading"

    def __post_init__(self):
        x = as_array(self.x, "x", ndim=1)
        if x.size == 0:
            raise ValueError("x: expected at least one observation, got none")
        object.__setattr__(self, "x", tuple(float(v) for v in x))
        object.__setattr__(self, "loading", _scalar(self.loading, "loading"))
        object.__setattr__(self, "offset", _scalar(self.offset, "offset"))
        object.__setattr__(self, "noise_var", _positive(self.noise_var, "noise_var"))
        r = x - self.offset
        object.__setattr__(self, "_n", int(x.size))
        object.__setattr__(self, "_sum_r", float(r.sum()))
        object.__setattr__(self, "_sum_r2", float(r @ r))

    @property
    def theta(self) -> float:
        return self.loading

    def with_theta(self, value) -> "LinearGaussian":
        """The same data with the loading w replaced."""
        return replace(self, loading=value)

    @property
    def prior_mean(self) -> float:
        return 0.0

    @property
    def prior_var(self) -> float:
        return 1.0

    def log_joint(self, z):
        """log p(x, z) = log N(z; 0, 1) + Σ_i log N(x_i; w z + b, σ²), elementwise in z."""
        z = np.asarray(z, dtype=float)
        w, v, n = self.loading, self.noise_var, self._n
        sq = self._sum_r2 - 2.0 * w * z * self._sum_r + n * (w * z) ** 2
        return -0.5 * z * z - 0.5 * _LOG_2PI - 0.5 * n * (_LOG_2PI + math.log(v)) - 0.5 * sq / v

    def log_joint_scalar(self, z: float) -> float:
        """:meth:`log_joint` at one float, with ``math`` (quadrature calls it thousands of times).

        Products, not ``** 2``: a float's power raises OverflowError where numpy gives inf."""
        w, v, n = self.loading, self.noise_var, self._n
        wz = w * z
        sq = self._sum_r2 - 2.0 * wz * self._sum_r + n * (wz * wz)
        return -0.5 * z * z - 0.5 * _LOG_2PI - 0.5 * n * (_LOG_2PI + math.log(v)) - 0.5 * sq / v

    def expected_log_joint(self, m, s):
        """E_q[log p(x, z)] for q = N(m, s²), in closed form (broadcast over m, s).

        log p(x, z) is quadratic in z, so E_q[log p(x, z)] = log p(x, m) + ½ s² d²/dz² log p(x, z).
        """
        m, s = np.asarray(m, dtype=float), np.asarray(s, dtype=float)
        w = self.loading
        return self.log_joint(m) - 0.5 * s * s * (1.0 + self._n * (w * w) / self.noise_var)

    def grad_log_joint(self, z):
        """d/dz log p(x, z) = -z + (w/σ²) Σ_i (x_i - b - w z)."""
        z = np.asarray(z, dtype=float)
        w, v = self.loading, self.noise_var
        return -z + (w / v) * (self._sum_r - self._n * w * z)

    def hess_log_joint(self, z):
        """d²/dz² log p(x, z) = -(1 + n w²/σ²)."""
        z = np.asarray(z, dtype=float)
        return np.full_like(z, -(1.0 + self._n * self.loading ** 2 / self.noise_var))

    def exact_posterior(self) -> tuple[float, float]:
        """Closed-form posterior (mean, variance)."""
        prec = 1.0 + self._n * self.loading ** 2 / self.noise_var
        return (self.loading / self.noise_var) * self._sum_r / prec, 1.0 / prec

    def exact_log_evidence(self) -> float:
        """Closed-form log p(x) = log p(x, z) - log p(z|x) at the posterior mean."""
        mean, var = self.exact_posterior()
        return float(self.log_joint(mean)) + 0.5 * (_LOG_2PI + math.log(var))


@dataclass(frozen=True)
class PoissonLogNormal:
    """Poisson counts with a Gaussian prior on the log-rate: a skewed posterior.

    .. math::

        z \\sim \\mathcal{N}(\\mu_0, \\sigma_0^2), \\qquad
        x_i \\mid z \\sim \\mathrm{Poisson}(e^{z}), \\quad i = 1, \\dots, n,

        \\log p(x, z) = \\log\\mathcal{N}(z; \\mu_0, \\sigma_0^2) + S z - n e^{z} - \\sum_i \\log x_i!,
        \\qquad S = \\sum_i x_i.

    Parameters
    ----------
    x : array_like of int, shape (n,)
        Counts, each a whole number ≥ 0.
    prior_mean : float
        μ0.
    prior_var : float
        σ0² > 0.

    Notes
    -----
    log p(x, z) is strictly concave in z (the posterior is log-concave and
    unimodal) but not quadratic, so no Gaussian q equals the posterior.
    """

    x: tuple
    prior_mean: float = 0.0
    prior_var: float = 1.0
    _n: int = field(init=False, repr=False, compare=False)
    _sum: float = field(init=False, repr=False, compare=False)
    _log_fact: float = field(init=False, repr=False, compare=False)

    name = "poisson"
    theta_name = "prior_mean"

    def __post_init__(self):
        x = as_array(self.x, "x", ndim=1)
        if x.size == 0:
            raise ValueError("x: expected at least one count, got none")
        if np.any(x < 0) or np.any(x != np.round(x)):
            raise ValueError(f"x: expected whole-number counts ≥ 0, got {_shown(x.tolist())}")
        object.__setattr__(self, "x", tuple(int(v) for v in x))
        object.__setattr__(self, "prior_mean", _scalar(self.prior_mean, "prior_mean"))
        object.__setattr__(self, "prior_var", _positive(self.prior_var, "prior_var"))
        object.__setattr__(self, "_n", int(x.size))
        object.__setattr__(self, "_sum", float(x.sum()))
        object.__setattr__(self, "_log_fact", float(special.gammaln(x + 1.0).sum()))

    @property
    def theta(self) -> float:
        return self.prior_mean

    def with_theta(self, value) -> "PoissonLogNormal":
        """The same counts with the prior mean μ0 replaced."""
        return replace(self, prior_mean=value)

    def log_joint(self, z):
        """log p(x, z), elementwise in z (all constants kept)."""
        z = np.asarray(z, dtype=float)
        mu, v = self.prior_mean, self.prior_var
        with np.errstate(over="ignore"):
            return (-0.5 * (_LOG_2PI + math.log(v)) - 0.5 * (z - mu) ** 2 / v
                    + self._sum * z - self._n * np.exp(z) - self._log_fact)

    def log_joint_scalar(self, z: float) -> float:
        """:meth:`log_joint` at one float, with ``math`` (quadrature calls it thousands of times)."""
        mu, v = self.prior_mean, self.prior_var
        try:
            rate = math.exp(z)
        except OverflowError:  # math.exp raises where numpy gives inf
            rate = math.inf
        d = z - mu  # (and d * d, not d ** 2, which raises too)
        return (-0.5 * (_LOG_2PI + math.log(v)) - 0.5 * (d * d) / v
                + self._sum * z - self._n * rate - self._log_fact)

    def expected_log_joint(self, m, s):
        """E_q[log p(x, z)] for q = N(m, s²), in closed form (broadcast over m, s).

        With E_q[z] = m, E_q[(z - μ0)²] = (m - μ0)² + s² and E_q[e^z] = e^{m + s²/2} (the log-normal mean):
        −½ log(2πσ0²) − ((m − μ0)² + s²)/(2σ0²) + S m − n e^{m + s²/2} − Σ_i log x_i!.
        """
        m, s = np.asarray(m, dtype=float), np.asarray(s, dtype=float)
        mu, v = self.prior_mean, self.prior_var
        with np.errstate(over="ignore"):
            return (-0.5 * (_LOG_2PI + math.log(v)) - 0.5 * ((m - mu) ** 2 + s * s) / v
                    + self._sum * m - self._n * np.exp(m + 0.5 * s * s) - self._log_fact)

    def grad_log_joint(self, z):
        """d/dz log p(x, z) = -(z - μ0)/σ0² + S - n e^z."""
        z = np.asarray(z, dtype=float)
        with np.errstate(over="ignore"):
            return -(z - self.prior_mean) / self.prior_var + self._sum - self._n * np.exp(z)

    def hess_log_joint(self, z):
        """d²/dz² log p(x, z) = -1/σ0² - n e^z."""
        z = np.asarray(z, dtype=float)
        with np.errstate(over="ignore"):
            return -1.0 / self.prior_var - self._n * np.exp(z)


Model = Union[LinearGaussian, PoissonLogNormal]
_MODELS = (LinearGaussian, PoissonLogNormal)


def _check_model(model) -> None:
    if not isinstance(model, _MODELS):
        raise ValueError(
            f"model: expected a LinearGaussian or PoissonLogNormal, got {type(model).__name__}"
        )


# ---------------------------------------------------------------------------
# Exact answers by quadrature
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """Exact log p(x) and posterior moments, from quadrature.

    Attributes
    ----------
    log_evidence : float
        log p(x) = log ∫ p(x, z) dz.
    mean, var : float
        Posterior mean and variance.
    mode : float
        Posterior mode z*.
    laplace_sd : float
        (-d²/dz² log p(x, z*))^(-1/2), the scale used by the quadrature.
    lo, hi : float
        Where log p(z|x) has dropped 45 nats below its peak (all mass inside).
    rel_error : float
        quad's error estimate of ∫ p(x, z) dz relative to its value.
    """

    log_evidence: float
    mean: float
    var: float
    mode: float
    laplace_sd: float
    lo: float
    hi: float
    rel_error: float

    def plot_range(self, drop: float = 9.0) -> tuple[float, float]:
        """A z-interval holding the visible posterior: mode ± where the log density drops by ``drop``."""
        w = math.sqrt(2.0 * drop) * self.laplace_sd
        return max(self.lo, self.mode - 1.6 * w), min(self.hi, self.mode + 1.6 * w)


def _mode(model: Model) -> float:
    """The posterior mode: the root of the strictly decreasing d/dz log p(x, z)."""
    g = model.grad_log_joint
    a, b = -1.0, 1.0
    while g(a) < 0:
        a = 2.0 * a - 1.0
        if a < -1e6:
            raise ValueError("model: could not bracket the posterior mode; check the data and parameters")
    while g(b) > 0:
        b = 2.0 * b + 1.0
        if b > 1e6:
            raise ValueError("model: could not bracket the posterior mode; check the data and parameters")
    return float(optimize.brentq(g, a, b, xtol=1e-14, rtol=1e-14, maxiter=500))


def _drop_point(f, z0: float, f0: float, step: float, drop: float) -> float:
    """The z on one side of z0 (direction sign of ``step``) where f falls ``drop`` below f0."""
    b = z0 + step
    while f(b) > f0 - drop:
        step *= 2.0
        b = z0 + step
    return float(optimize.brentq(lambda z: f(z) - (f0 - drop), z0, b, xtol=1e-12))


def evidence(model: Model) -> Evidence:
    """Exact log p(x) and posterior moments by adaptive quadrature.

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal

    Returns
    -------
    Evidence

    Notes
    -----
    With z* the mode and :math:`\\hat s` the Laplace scale, the integrals are
    taken in the log-shifted form

    .. math::

        \\log p(x) = \\log p(x, z^*) + \\log \\hat s
            + \\log \\int e^{\\log p(x, z^* + \\hat s u) - \\log p(x, z^*)}\\,du,

    with :func:`scipy.integrate.quad` on each side of the mode, and the same
    integrand times u and u² for the posterior mean and variance.
    """
    _check_model(model)
    return _evidence(model, moments=True)


def _evidence(model: Model, moments: bool) -> Evidence:
    f = model.log_joint_scalar
    z0 = _mode(model)
    f0 = f(z0)
    s = 1.0 / math.sqrt(-float(model.hess_log_joint(z0)))
    lo = _drop_point(f, z0, f0, -s, _TAIL)
    hi = _drop_point(f, z0, f0, s, _TAIL)
    ua, ub = (lo - z0) / s, (hi - z0) / s

    def g(u, power):
        return math.exp(f(z0 + s * u) - f0) * u ** power

    vals, errs = [], []
    for power in ((0, 1, 2) if moments else (0,)):
        total, err = 0.0, 0.0
        for a, b in ((ua, 0.0), (0.0, ub)):
            val, e = integrate.quad(g, a, b, args=(power,), **_QUAD)
            total += val
            err += e
        vals.append(total)
        errs.append(err)
    z_int = vals[0]
    if moments:
        mean_u = vals[1] / z_int
        var_u = max(vals[2] / z_int - mean_u ** 2, 0.0)
    else:
        mean_u, var_u = math.nan, math.nan
    return Evidence(
        log_evidence=f0 + math.log(s) + math.log(z_int), mean=z0 + s * mean_u, var=s * s * var_u,
        mode=z0, laplace_sd=s, lo=lo, hi=hi, rel_error=errs[0] / z_int,
    )


def posterior_pdf(model: Model, z, ev: Evidence | None = None) -> np.ndarray:
    """The exact posterior density p(z|x) = p(x, z) / p(x) at ``z``.

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
    z : array_like
    ev : Evidence, optional
        :func:`evidence` of ``model`` (computed when not given).
    """
    _check_model(model)
    z = as_array(z, "z")
    ev = evidence(model) if ev is None else ev
    return np.exp(model.log_joint(z) - ev.log_evidence)


# ---------------------------------------------------------------------------
# Gaussian q
# ---------------------------------------------------------------------------

def _gaussian_entropy(s):
    return 0.5 * (_LOG_2PI + 1.0) + np.log(s)


def _elbo_gaussian(model: Model, m, s):
    """Unchecked ELBO for broadcast arrays m, s: E_q[log p(x, z)] in closed form, plus H(q)."""
    s = np.asarray(s, dtype=float)
    return model.expected_log_joint(m, s) + _gaussian_entropy(s)


def elbo_gaussian(model: Model, mean, sd):
    """ELBO of a Gaussian q = N(mean, sd²), in closed form.

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
    mean, sd : float or array_like
        Parameters of q; arrays broadcast (a whole grid is one call); sd > 0.

    Returns
    -------
    float or ndarray
        :math:`\\mathcal{L}(q) = E_q[\\log p(x, z)] + \\tfrac12\\log(2\\pi e s^2)`, with
        E_q[log p(x, z)] from each model's ``expected_log_joint`` (both models' log p(x, z) are
        polynomials in z and e^z, whose Gaussian expectations are known exactly). The tests check it
        against 96-node Gauss–Hermite and against adaptive quadrature.

    Raises
    ------
    ValueError
        If a value is not finite or an sd is not positive.
    """
    _check_model(model)
    mean = as_array(mean, "mean")
    sd = as_array(sd, "sd")
    if np.any(sd <= 0):
        raise ValueError(f"sd: expected standard deviations greater than 0, got {_shown(sd.tolist())}")
    try:
        np.broadcast_shapes(mean.shape, sd.shape)
    except ValueError:
        raise ValueError(f"mean, sd: expected shapes that broadcast together, got {mean.shape} and {sd.shape}") from None
    out = _elbo_gaussian(model, mean, sd)
    return float(out) if np.ndim(out) == 0 else out


def kl_gaussian_q_quad(model: Model, mean: float, sd: float, ev: Evidence | None = None) -> float:
    """KL(q ‖ p(z|x)) for q = N(mean, sd²), directly by quadrature (q before p).

    Notes
    -----
    .. math::

        \\mathrm{KL}(q\\|p(z\\mid x)) = \\int q(z)\\,\\big[\\log q(z) - \\log p(x, z) + \\log p(x)\\big]\\,dz,

    with ``quad`` over mean ± 12 sd in the standardised variable; an
    independent check of ``log p(x) - ELBO``.
    """
    _check_model(model)
    mean = _scalar(mean, "mean")
    sd = _positive(sd, "sd")
    ev = evidence(model) if ev is None else ev
    c = -0.5 * _LOG_2PI - math.log(sd)

    def integrand(u):
        log_q = c - 0.5 * u * u
        return math.exp(log_q) * sd * (log_q - model.log_joint_scalar(mean + sd * u) + ev.log_evidence)

    total = 0.0
    for a, b in ((-12.0, 0.0), (0.0, 12.0)):
        total += integrate.quad(integrand, a, b, epsabs=1e-13, epsrel=1e-11, limit=400)[0]
    return total


@dataclass(frozen=True)
class GaussianQFit:
    """The Gaussian q = N(mean, sd²) with the largest ELBO.

    Attributes
    ----------
    mean, sd : float
    elbo : float
        ELBO at the optimum (closed form).
    log_evidence : float
        Exact log p(x) (quadrature).
    gap : float
        log p(x) - elbo = KL(q* ‖ p(z|x)) ≥ 0: what the family cannot close.
    """

    mean: float
    sd: float
    elbo: float
    log_evidence: float
    gap: float


def _fit_gaussian(model: Model, start: tuple[float, float], max_iter: int = 200) -> tuple[float, float, float]:
    """Damped Newton ascent on the ELBO in (m, s), from ``start``; returns (m, s, ELBO).

    For a log-concave p(x, z) the Gaussian ELBO is strictly concave in (m, s)
    (its Hessian is E[∂²log p(x,z) (1, ε)(1, ε)ᵀ] − diag(0, 1/s²)), so Newton's
    method with backtracking converges to the unique optimum. s stays inside
    exp(LOG_SD_BOUNDS).
    """
    s_lo, s_hi = (math.exp(b) for b in LOG_SD_BOUNDS)
    m, s = float(start[0]), float(np.clip(start[1], s_lo, s_hi))
    value = float(_elbo_gaussian(model, m, s))
    for _ in range(max_iter):
        z = m + s * _GH_Z
        g1 = model.grad_log_joint(z)
        h2 = model.hess_log_joint(z)
        grad = np.array([_GH_W @ g1, _GH_W @ (g1 * _GH_Z) + 1.0 / s])
        e_h, e_he, e_he2 = _GH_W @ h2, _GH_W @ (h2 * _GH_Z), _GH_W @ (h2 * _GH_Z * _GH_Z)
        hess = np.array([[e_h, e_he], [e_he, e_he2 - 1.0 / (s * s)]])
        try:
            step = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = grad
        if float(step @ grad) <= 0.0:          # not an ascent direction (p not log-concave here)
            step = grad
        decrement = float(step @ grad)
        alpha = 1.0
        while s + alpha * step[1] <= 0.1 * s:   # keep s positive and shrinking at most tenfold
            alpha *= 0.5
        improved = False
        while alpha > 1e-12:
            m_new = m + alpha * step[0]
            s_new = float(np.clip(s + alpha * step[1], s_lo, s_hi))
            v_new = float(_elbo_gaussian(model, m_new, s_new))
            if v_new >= value - 1e-15 * abs(value):
                improved = True
                break
            alpha *= 0.5
        if not improved:
            break
        m, s, value = m_new, s_new, v_new
        if decrement < 1e-22 or alpha * max(abs(step[0]), abs(step[1])) < 1e-15:
            break
    return m, s, float(_elbo_gaussian(model, m, s))


def fit_gaussian_q(model: Model, ev: Evidence | None = None, start: tuple[float, float] | None = None) -> GaussianQFit:
    """Maximise the ELBO over Gaussian q = N(m, s²).

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
    ev : Evidence, optional
        :func:`evidence` of the model (computed when not given).
    start : (mean, sd), optional
        Starting q; by default the Laplace approximation N(z*, ŝ²).

    Returns
    -------
    GaussianQFit

    Notes
    -----
    Damped Newton in (m, s) with the exact Gauss–Hermite derivatives
    (z = m + s ε):

    .. math::

        \\frac{\\partial\\mathcal L}{\\partial m} = E_q[\\partial_z\\log p(x,z)], \\qquad
        \\frac{\\partial\\mathcal L}{\\partial s} = E_q[\\varepsilon\\,\\partial_z\\log p(x,z)] + \\frac1s,

    and the Hessian E_q[∂²_z log p(x,z) (1, ε)(1, ε)ᵀ] − diag(0, 1/s²); the
    ELBO is concave in (m, s) for these log-concave models.

    For the linear-Gaussian model the optimum is the posterior and the gap is 0.
    """
    _check_model(model)
    ev = evidence(model) if ev is None else ev
    if start is None:
        start = (ev.mode, ev.laplace_sd)
    m, s, value = _fit_gaussian(model, (float(start[0]), float(start[1])))
    if start != (ev.mode, ev.laplace_sd):   # a poor start can stall: keep the better of two
        m2, s2, v2 = _fit_gaussian(model, (ev.mode, ev.laplace_sd))
        if v2 > value:
            m, s, value = m2, s2, v2
    return GaussianQFit(m, s, value, ev.log_evidence, max(ev.log_evidence - value, 0.0))


@dataclass(frozen=True)
class ELBOGrid:
    """ELBO of Gaussian q = N(m, s²) over a (log s, m) grid.

    Attributes
    ----------
    means : ndarray, shape (M,)
    log_sds : ndarray, shape (S,)
    elbo : ndarray, shape (S, M)
        ``elbo[i, j]`` is the ELBO of N(means[j], exp(log_sds[i])²).
    log_evidence : float
        Exact log p(x); ``log_evidence - elbo`` is the KL gap at each cell.
    """

    means: np.ndarray
    log_sds: np.ndarray
    elbo: np.ndarray
    log_evidence: float

    @property
    def gap(self) -> np.ndarray:
        return np.maximum(self.log_evidence - self.elbo, 0.0)


def elbo_grid(model: Model, means, log_sds, ev: Evidence | None = None) -> ELBOGrid:
    """The ELBO of every Gaussian q on a (m, log s) grid, for a heatmap.

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
    means : array_like, shape (M,)
    log_sds : array_like, shape (S,)
        log of q's standard deviation.

    Returns
    -------
    ELBOGrid
    """
    _check_model(model)
    means = as_array(means, "means", ndim=1)
    log_sds = as_array(log_sds, "log_sds", ndim=1)
    if means.size == 0 or log_sds.size == 0:
        raise ValueError(f"means, log_sds: expected at least one value each, got {means.size} and {log_sds.size}")
    ev = evidence(model) if ev is None else ev
    values = _elbo_gaussian(model, means[None, :], np.exp(log_sds)[:, None])
    return ELBOGrid(readonly(means), readonly(log_sds), readonly(values), ev.log_evidence)


# ---------------------------------------------------------------------------
# Stochastic gradient ascent with the reparameterisation trick
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SGAPath:
    """A run of stochastic gradient ascent on the ELBO.

    Attributes
    ----------
    means, log_sds : ndarray, shape (T+1,)
        The iterates (m_t, log s_t), t = 0..T.
    elbo : ndarray, shape (T+1,)
        The exact (closed-form) ELBO at each iterate, for display.
    grad_estimates : ndarray, shape (T, 2)
        The noisy gradients (∂m, ∂log s) that were followed.
    clipped : int
        How many steps hit the move limit of 1 per coordinate or the box.
    """

    means: np.ndarray
    log_sds: np.ndarray
    elbo: np.ndarray
    grad_estimates: np.ndarray
    clipped: int


def sga(model: Model, mean0: float, sd0: float, *, step_size: float, n_samples: int, n_steps: int,
        rng: np.random.Generator) -> SGAPath:
    """Stochastic gradient ascent on the ELBO over (m, log s), reparameterised.

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
    mean0, sd0 : float
        The starting q = N(mean0, sd0²).
    step_size : float
        Learning rate η > 0.
    n_samples : int
        Monte-Carlo samples per step L (1..10000).
    n_steps : int
        Number of steps T (0..5000).
    rng : numpy.random.Generator

    Returns
    -------
    SGAPath

    Notes
    -----
    With :math:`z_l = m + s\\,\\varepsilon_l`, :math:`\\varepsilon_l \\sim \\mathcal N(0, 1)`:

    .. math::

        \\hat g_m = \\frac1L\\sum_l \\partial_z \\log p(x, z_l), \\qquad
        \\hat g_{\\log s} = \\frac1L\\sum_l \\partial_z \\log p(x, z_l)\\, s\\,\\varepsilon_l + 1,

    unbiased for the gradient of the ELBO (the +1 is the entropy's derivative).
    Each step moves by :math:`\\eta\\hat g`, at most 1 per coordinate, and
    (m, log s) stays in MEAN_BOUNDS × LOG_SD_BOUNDS, so a too-large step size
    wanders instead of overflowing.
    """
    _check_model(model)
    m = _scalar(mean0, "mean0")
    s0 = _positive(sd0, "sd0")
    eta = _positive(step_size, "step_size")
    n_samples = check_int(n_samples, "n_samples", 1, 10000)
    n_steps = check_int(n_steps, "n_steps", 0, 5000)
    rng = check_rng(rng)
    log_s = float(np.clip(math.log(s0), *LOG_SD_BOUNDS))
    m = float(np.clip(m, *MEAN_BOUNDS))
    means, log_sds = [m], [log_s]
    grads = np.zeros((n_steps, 2))
    clipped = 0
    for t in range(n_steps):
        s = math.exp(log_s)
        eps = rng.standard_normal(n_samples)
        g = np.nan_to_num(model.grad_log_joint(m + s * eps), nan=0.0, posinf=1e300, neginf=-1e300)
        grad = np.array([g.mean(), s * float(np.mean(g * eps)) + 1.0])
        grads[t] = grad
        move = eta * grad
        new = np.clip(move, -1.0, 1.0)
        m_new = float(np.clip(m + new[0], *MEAN_BOUNDS))
        ls_new = float(np.clip(log_s + new[1], *LOG_SD_BOUNDS))
        if np.any(new != move) or m_new != m + new[0] or ls_new != log_s + new[1]:
            clipped += 1
        m, log_s = m_new, ls_new
        means.append(m)
        log_sds.append(log_s)
    means, log_sds = np.array(means), np.array(log_sds)
    return SGAPath(readonly(means), readonly(log_sds), readonly(_elbo_gaussian(model, means, np.exp(log_sds))),
                   readonly(grads), clipped)


# ---------------------------------------------------------------------------
# A richer family: two-component Gaussian mixtures
# ---------------------------------------------------------------------------

def mixture_logpdf(z, weight: float, means, sds) -> np.ndarray:
    """log q(z) for q = w N(m1, s1²) + (1 - w) N(m2, s2²).

    Parameters
    ----------
    z : array_like
    weight : float
        w in [0, 1].
    means, sds : array_like, shape (2,)
    """
    z = np.asarray(z, dtype=float)
    w = _scalar(weight, "weight")
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"weight: expected a number from 0 to 1, got {w!r}")
    means = as_array(means, "means", shape=(2,))
    sds = as_array(sds, "sds", shape=(2,))
    if np.any(sds <= 0):
        raise ValueError(f"sds: expected standard deviations greater than 0, got {_shown(sds.tolist())}")
    return _mixture_logpdf(z, w, means, sds)


def _mixture_logpdf(z, w, means, sds):
    z = np.asarray(z, dtype=float)[..., None]
    logs = -0.5 * ((z - means) / sds) ** 2 - np.log(sds) - 0.5 * _LOG_2PI
    with np.errstate(divide="ignore"):
        logw = np.log(np.array([w, 1.0 - w]))
    return special.logsumexp(logs + logw, axis=-1)


def _elbo_mixture(model: Model, w: float, means, sds) -> float:
    """E_q[log p(x,z) - log q(z)] for the mixture: Gauss–Hermite within each component."""
    total = 0.0
    for k, wk in enumerate((w, 1.0 - w)):
        if wk <= 0.0:
            continue
        z = means[k] + sds[k] * _GH_Z
        total += wk * float(_GH_W @ (model.log_joint(z) - _mixture_logpdf(z, w, means, sds)))
    return total


def elbo_mixture(model: Model, weight: float, means, sds) -> float:
    """ELBO of q = w N(m1, s1²) + (1 - w) N(m2, s2²).

    Notes
    -----
    .. math::

        \\mathcal{L}(q) = \\sum_{k=1}^{2} w_k\\, E_{\\mathcal N(m_k, s_k^2)}\\big[\\log p(x, z) - \\log q(z)\\big],

    each expectation by 96-node Gauss–Hermite (log q is smooth, so this is
    exact to rounding for the smooth models here).
    """
    _check_model(model)
    w = _scalar(weight, "weight")
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"weight: expected a number from 0 to 1, got {w!r}")
    means = as_array(means, "means", shape=(2,))
    sds = as_array(sds, "sds", shape=(2,))
    if np.any(sds <= 0):
        raise ValueError(f"sds: expected standard deviations greater than 0, got {_shown(sds.tolist())}")
    return _elbo_mixture(model, w, means, sds)


@dataclass(frozen=True)
class MixtureFit:
    """The best two-component Gaussian-mixture q, compared with the best Gaussian.

    Attributes
    ----------
    weight : float
        w of component 1.
    means, sds : ndarray, shape (2,)
    elbo : float
    log_evidence : float
    gap : float
        log p(x) - elbo: what the mixture family leaves.
    gaussian : GaussianQFit
        The best single Gaussian.
    closed_fraction : float
        (gaussian.gap - gap) / gaussian.gap, the share of the Gaussian's gap the
        mixture closes; NaN when the Gaussian already closes it (gap < 1e-9).
    """

    weight: float
    means: np.ndarray
    sds: np.ndarray
    elbo: float
    log_evidence: float
    gap: float
    gaussian: GaussianQFit
    closed_fraction: float

    def logpdf(self, z) -> np.ndarray:
        return _mixture_logpdf(z, self.weight, self.means, self.sds)


def _unpack_mixture(theta):
    w = float(np.clip(special.expit(theta[0]), 1e-12, 1.0 - 1e-12))
    return w, np.array([theta[1], theta[3]]), np.exp(np.clip([theta[2], theta[4]], *LOG_SD_BOUNDS))


def _neg_elbo_mixture_and_grad(theta, model: Model):
    """−ELBO of the mixture and its gradient in (logit w, m1, log s1, m2, log s2).

    Reparameterised within each component, z = m_k + s_k ε; the explicit
    dependence of log q on the parameters drops out (E_q[∇ log q] = 0), so with
    h = log p(x, ·) − log q:  ∂/∂m_k = w_k E_k[h'], ∂/∂log s_k = w_k s_k E_k[h' ε],
    ∂/∂logit w = w(1 − w)(E_1[h] − E_2[h]).
    """
    w, means, sds = _unpack_mixture(theta)
    weights = (w, 1.0 - w)
    e_h = np.empty(2)
    grad = np.zeros(5)
    for k in range(2):
        z = means[k] + sds[k] * _GH_Z
        comp = -0.5 * ((z[:, None] - means) / sds) ** 2 - np.log(sds) - 0.5 * _LOG_2PI + np.log(weights)
        log_q = special.logsumexp(comp, axis=1)
        resp = np.exp(comp - log_q[:, None])
        dlog_q = np.sum(resp * (-(z[:, None] - means) / sds ** 2), axis=1)
        h = model.log_joint(z) - log_q
        dh = model.grad_log_joint(z) - dlog_q
        e_h[k] = _GH_W @ h
        grad[1 + 2 * k] = weights[k] * float(_GH_W @ dh)
        grad[2 + 2 * k] = weights[k] * sds[k] * float(_GH_W @ (dh * _GH_Z))
    grad[0] = w * (1.0 - w) * (e_h[0] - e_h[1])
    value = w * e_h[0] + (1.0 - w) * e_h[1]
    return -value, -grad


def fit_mixture_q(model: Model, ev: Evidence | None = None, gaussian: GaussianQFit | None = None) -> MixtureFit:
    """Maximise the ELBO over two-component Gaussian mixtures q.

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
    ev : Evidence, optional
    gaussian : GaussianQFit, optional
        The best Gaussian (computed when not given); one start is that
        Gaussian itself, so the mixture never does worse.

    Returns
    -------
    MixtureFit

    Notes
    -----
    Parameters (logit w, m1, log s1, m2, log s2), BFGS with the exact
    reparameterised gradient of the Gauss–Hermite ELBO (:func:`elbo_mixture`),
    from three starts that split the best Gaussian into two components (log s
    is clipped to LOG_SD_BOUNDS). When the best Gaussian already closes the gap
    (< 1e-9) it is returned as the mixture: no q can do better.
    """
    _check_model(model)
    ev = evidence(model) if ev is None else ev
    gaussian = fit_gaussian_q(model, ev) if gaussian is None else gaussian
    m, ls = gaussian.mean, math.log(gaussian.sd)
    best_theta = np.array([0.0, m, ls, m, ls])              # the best Gaussian, as a mixture
    best_val = -_elbo_mixture(model, *_unpack_mixture(best_theta))
    if gaussian.gap > 1e-9:                                  # else the Gaussian is already the posterior
        for w0, d, shrink in ((0.5, 0.6, 0.3), (0.3, 0.8, 0.4), (0.7, 0.8, 0.4)):
            x0 = np.array([special.logit(w0), m - d * gaussian.sd, ls - shrink, m + d * gaussian.sd, ls - shrink])
            res = optimize.minimize(_neg_elbo_mixture_and_grad, x0=x0, args=(model,), jac=True, method="BFGS",
                                    options=dict(gtol=1e-8, maxiter=1000))
            if np.all(np.isfinite(res.x)) and res.fun < best_val:
                best_theta, best_val = res.x, float(res.fun)
    w, means, sds = _unpack_mixture(best_theta)
    elbo = -best_val
    gap = max(ev.log_evidence - elbo, 0.0)
    frac = (gaussian.gap - gap) / gaussian.gap if gaussian.gap > 1e-9 else math.nan
    return MixtureFit(w, readonly(means), readonly(sds), elbo, ev.log_evidence, gap, gaussian, frac)


def kl_mixture_q_quad(model: Model, fit: MixtureFit, ev: Evidence | None = None) -> float:
    """KL(q ‖ p(z|x)) for a fitted mixture q, directly by quadrature (q before p)."""
    _check_model(model)
    ev = evidence(model) if ev is None else ev

    def integrand(z):
        lq = float(fit.logpdf(z))
        return math.exp(lq) * (lq - model.log_joint_scalar(z) + ev.log_evidence)

    lo = float(np.min(fit.means - 12.0 * fit.sds))
    hi = float(np.max(fit.means + 12.0 * fit.sds))
    pts = sorted(float(v) for v in fit.means if lo < v < hi)
    return integrate.quad(integrand, lo, hi, points=pts, epsabs=1e-13, epsrel=1e-11, limit=400)[0]


# ---------------------------------------------------------------------------
# Importance-weighted bounds
# ---------------------------------------------------------------------------

def _log_weights(model: Model, mean: float, sd: float, eps: np.ndarray) -> np.ndarray:
    z = mean + sd * eps
    log_q = -0.5 * eps * eps - math.log(sd) - 0.5 * _LOG_2PI
    return model.log_joint(z) - log_q


def _check_ks(ks) -> np.ndarray:
    arr = np.asarray(ks)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 1) \
            or np.any(arr > 100000):
        raise ValueError(f"ks: expected a list of whole numbers from 1 to 100000, got {_shown(np.asarray(ks).tolist())}")
    return arr.astype(int)


@dataclass(frozen=True)
class IWAEResult:
    """Monte-Carlo estimates of the importance-weighted bounds L_K.

    Attributes
    ----------
    ks : ndarray of int, shape (A,)
    means : ndarray, shape (A,)
        Average of the R replicate values of log (1/K) Σ_k p(x, z_k)/q(z_k).
    ses : ndarray, shape (A,)
        Standard errors of those averages (sample sd / √R).
    n_replicates : int
    elbo : float
        The exact ELBO of q (= L_1 in expectation).
    log_evidence : float
        Exact log p(x) (the limit as K → ∞).
    """

    ks: np.ndarray
    means: np.ndarray
    ses: np.ndarray
    n_replicates: int
    elbo: float
    log_evidence: float


def iwae(model: Model, mean: float, sd: float, ks, n_replicates: int, rng: np.random.Generator,
         ev: Evidence | None = None) -> IWAEResult:
    """The importance-weighted (IWAE) bounds L_K for q = N(mean, sd²).

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
    mean, sd : float
        The proposal q.
    ks : sequence of int
        Numbers of samples K (each 1..100000).
    n_replicates : int
        Independent replicates R (2..10000) per K, for the mean and its standard error.
    rng : numpy.random.Generator

    Returns
    -------
    IWAEResult

    Notes
    -----
    .. math::

        \\mathcal L_K = E_{z_1..z_K \\sim q}\\Big[\\log \\frac1K \\sum_{k=1}^K \\frac{p(x, z_k)}{q(z_k)}\\Big],
        \\qquad \\mathcal L_1 = \\mathcal L(q) \\le \\mathcal L_K \\le \\mathcal L_{K+1} \\le \\log p(x)

    (Burda, Grosse & Salakhutdinov 2016). Each K gets fresh samples.
    """
    _check_model(model)
    mean = _scalar(mean, "mean")
    sd = _positive(sd, "sd")
    ks = _check_ks(ks)
    n_replicates = check_int(n_replicates, "n_replicates", 2, 10000)
    rng = check_rng(rng)
    ev = evidence(model) if ev is None else ev
    means, ses = np.empty(ks.size), np.empty(ks.size)
    chunk = max(1, 200000 // int(ks.max()))
    for a, k in enumerate(ks):
        vals = []
        for start in range(0, n_replicates, chunk):
            r = min(chunk, n_replicates - start)
            lw = _log_weights(model, mean, sd, rng.standard_normal((r, int(k))))
            vals.append(special.logsumexp(lw, axis=1) - math.log(k))
        vals = np.concatenate(vals)
        means[a] = vals.mean()
        ses[a] = vals.std(ddof=1) / math.sqrt(n_replicates)
    return IWAEResult(ks, readonly(means), readonly(ses), n_replicates, float(_elbo_gaussian(model, mean, sd)),
                      ev.log_evidence)


@dataclass(frozen=True)
class IWAECurves:
    """L_K(θ) over a grid of a model parameter θ, against the exact log p(x|θ).

    Attributes
    ----------
    thetas : ndarray, shape (G,)
    ks : ndarray of int, shape (A,)
    bounds : ndarray, shape (A, G)
        L_K(θ): exact ELBO for K = 1, Monte-Carlo average (common random
        numbers across θ) for K > 1.
    log_evidence : ndarray, shape (G,)
        Exact log p(x|θ) by quadrature.
    q_means, q_sds : ndarray, shape (G,)
        The q used at each θ.
    refit : bool
        True when q is the best Gaussian at each θ, False when one q is kept.
    """

    thetas: np.ndarray
    ks: np.ndarray
    bounds: np.ndarray
    log_evidence: np.ndarray
    q_means: np.ndarray
    q_sds: np.ndarray
    refit: bool


def iwae_over_theta(model: Model, thetas, ks, *, refit: bool, n_replicates: int, rng: np.random.Generator,
                    q: tuple[float, float] | None = None) -> IWAECurves:
    """L_K as curves over θ (``model.theta_name``) with q fixed or re-fitted at each θ.

    Parameters
    ----------
    model : LinearGaussian or PoissonLogNormal
        Its data are kept; θ (loading w, or prior mean μ0) is varied.
    thetas : array_like, shape (G,)
    ks : sequence of int
    refit : bool
        True: q = the best Gaussian at each θ. False: q fixed at ``q``.
    n_replicates : int
        Replicates R (1..10000) averaged at every θ.
    rng : numpy.random.Generator
    q : (mean, sd), optional
        The fixed q; by default the best Gaussian for ``model`` as given.

    Returns
    -------
    IWAECurves
    """
    _check_model(model)
    thetas = as_array(thetas, "thetas", ndim=1)
    ks = _check_ks(ks)
    n_replicates = check_int(n_replicates, "n_replicates", 1, 10000)
    rng = check_rng(rng)
    if not refit and q is None:
        fit = fit_gaussian_q(model)
        q = (fit.mean, fit.sd)
    eps = rng.standard_normal((n_replicates, int(ks.max())))
    bounds = np.empty((ks.size, thetas.size))
    log_ev = np.empty(thetas.size)
    q_means, q_sds = np.empty(thetas.size), np.empty(thetas.size)
    start = None
    for g, th in enumerate(thetas):
        mod = model.with_theta(float(th))
        ev = _evidence(mod, moments=False)
        log_ev[g] = ev.log_evidence
        if refit:
            fit = fit_gaussian_q(mod, ev, start=start)
            mq, sq = fit.mean, fit.sd
            start = (mq, sq)
        else:
            mq, sq = float(q[0]), float(q[1])
        q_means[g], q_sds[g] = mq, sq
        lw = _log_weights(mod, mq, sq, eps)
        for a, k in enumerate(ks):
            if k == 1:
                bounds[a, g] = float(_elbo_gaussian(mod, mq, sq))
            else:
                bounds[a, g] = float(np.mean(special.logsumexp(lw[:, :k], axis=1) - math.log(k)))
    return IWAECurves(readonly(thetas), ks, readonly(bounds), readonly(log_ev), readonly(q_means),
                      readonly(q_sds), bool(refit))


# ---------------------------------------------------------------------------
# Mean-field on a correlated 2-D Gaussian
# ---------------------------------------------------------------------------

def correlated_gaussian(rho: float, sds=(1.0, 1.0), mean=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a 2-D Gaussian with correlation ``rho``.

    Parameters
    ----------
    rho : float
        Correlation, strictly between -1 and 1.
    sds : (float, float)
        Marginal standard deviations, each > 0.
    mean : (float, float)

    Returns
    -------
    mean : ndarray, shape (2,)
    cov : ndarray, shape (2, 2)
    """
    rho = _scalar(rho, "rho")
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho: expected a correlation strictly between -1 and 1, got {rho!r}")
    sds = as_array(sds, "sds", shape=(2,))
    if np.any(sds <= 0):
        raise ValueError(f"sds: expected standard deviations greater than 0, got {_shown(sds.tolist())}")
    mean = as_array(mean, "mean", shape=(2,))
    cov = np.array([[sds[0] ** 2, rho * sds[0] * sds[1]], [rho * sds[0] * sds[1], sds[1] ** 2]])
    return readonly(mean), readonly(cov)


def _check_target(mean, cov) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = as_array(mean, "mean", shape=(2,))
    cov = as_array(cov, "cov", shape=(2, 2))
    if not np.allclose(cov, cov.T) or np.linalg.det(cov) <= 0 or np.any(np.diag(cov) <= 0):
        raise ValueError(f"cov: expected a symmetric positive-definite 2×2 covariance, got {_shown(cov.tolist())}")
    return mean, cov, np.linalg.inv(cov)


def cavi_update(mean, cov, q_means, q_vars, j: int) -> tuple[np.ndarray, np.ndarray]:
    """One CAVI update of factor j of q(z) = q1(z1) q2(z2) for a Gaussian target N(mean, cov).

    Parameters
    ----------
    mean : array_like, shape (2,)
    cov : array_like, shape (2, 2)
    q_means, q_vars : array_like, shape (2,)
        The current factors q_j = N(q_means[j], q_vars[j]).
    j : int
        0 or 1, the factor to update.

    Returns
    -------
    q_means, q_vars : ndarray, shape (2,)

    Notes
    -----
    With Λ = Σ⁻¹ and k the other index, the optimal q_j given q_k is exact:

    .. math::

        q_j^* = \\mathcal N\\Big(\\mu_j - \\frac{\\Lambda_{jk}}{\\Lambda_{jj}}(m_k - \\mu_k),\\;
        \\frac{1}{\\Lambda_{jj}}\\Big),

    and 1/Λ_jj = Σ_jj (1 - ρ²) ≤ Σ_jj: mean-field under-estimates the variance.
    """
    mean, cov, prec = _check_target(mean, cov)
    q_means = as_array(q_means, "q_means", shape=(2,)).copy()
    q_vars = as_array(q_vars, "q_vars", shape=(2,)).copy()
    if np.any(q_vars <= 0):
        raise ValueError(f"q_vars: expected variances greater than 0, got {_shown(q_vars.tolist())}")
    j = check_int(j, "j", 0, 1)
    k = 1 - j
    q_means[j] = mean[j] - prec[j, k] / prec[j, j] * (q_means[k] - mean[k])
    q_vars[j] = 1.0 / prec[j, j]
    return q_means, q_vars


def mean_field_elbo(mean, cov, q_means, q_vars) -> float:
    """ELBO of q1 q2 for the normalised target N(mean, cov): −KL(q ‖ p) (via :func:`vizcore.kl.kl_mvn`)."""
    q_vars = as_array(q_vars, "q_vars", shape=(2,))
    return -kl_mvn(q_means, np.diag(q_vars), mean, cov)


@dataclass(frozen=True)
class MeanFieldTrace:
    """CAVI, one factor per update.

    Attributes
    ----------
    means, variances : ndarray, shape (T+1, 2)
        q after 0..T updates.
    elbo : ndarray, shape (T+1,)
        −KL(q ‖ p); never decreases.
    updated : ndarray of int, shape (T,)
        Which factor each update changed (0, 1, 0, 1, ...).
    """

    means: np.ndarray
    variances: np.ndarray
    elbo: np.ndarray
    updated: np.ndarray


def cavi(mean, cov, q_means0, q_vars0, n_updates: int) -> MeanFieldTrace:
    """Run ``n_updates`` CAVI updates (factor 1, 2, 1, 2, ...) from q0.

    Parameters
    ----------
    mean, cov : the Gaussian target
    q_means0, q_vars0 : array_like, shape (2,)
    n_updates : int
        0..10000.
    """
    mean, cov, _ = _check_target(mean, cov)
    n_updates = check_int(n_updates, "n_updates", 0, 10000)
    m = as_array(q_means0, "q_means0", shape=(2,))
    v = as_array(q_vars0, "q_vars0", shape=(2,))
    if np.any(v <= 0):
        raise ValueError(f"q_vars0: expected variances greater than 0, got {_shown(v.tolist())}")
    ms, vs, el = [m], [v], [mean_field_elbo(mean, cov, m, v)]
    for t in range(n_updates):
        m, v = cavi_update(mean, cov, m, v, t % 2)
        ms.append(m)
        vs.append(v)
        el.append(mean_field_elbo(mean, cov, m, v))
    return MeanFieldTrace(readonly(ms), readonly(vs), readonly(el), np.arange(n_updates) % 2)


def forward_fit(mean, cov) -> tuple[np.ndarray, np.ndarray, float]:
    """The factorised q minimising the forward KL(p ‖ q): p's marginals.

    Returns
    -------
    means : ndarray, shape (2,)
    variances : ndarray, shape (2,)
        Σ_11, Σ_22 (the true marginal variances: mass-covering).
    kl : float
        KL(p ‖ q) = ½ log(Σ_11 Σ_22 / det Σ) = −½ log(1 − ρ²).
    """
    mean, cov, _ = _check_target(mean, cov)
    var = np.diag(cov).copy()
    return readonly(mean), readonly(var), kl_mvn(mean, cov, mean, np.diag(var))


def ellipse(mean, cov, n_sd: float = 2.0, n_points: int = 121) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of the n_sd contour {z : (z-μ)ᵀ Σ⁻¹ (z-μ) = n_sd²} of a 2-D Gaussian.

    Returns
    -------
    x, y : ndarray, shape (n_points,)
        A closed curve (first point repeated at the end).
    """
    mean, cov, _ = _check_target(mean, cov)
    n_sd = _positive(n_sd, "n_sd")
    n_points = check_int(n_points, "n_points", 3, 400)
    vals, vecs = np.linalg.eigh(cov)
    a = np.linspace(0.0, 2.0 * math.pi, n_points)
    circle = np.stack([np.cos(a), np.sin(a)])
    pts = mean[:, None] + n_sd * vecs @ (np.sqrt(vals)[:, None] * circle)
    return pts[0], pts[1]


# ---------------------------------------------------------------------------
# Variational EM: J Poisson groups with a shared Gaussian prior on the log-rates
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PoissonGroups:
    """J groups of counts; group j has its own log-rate z_j ~ N(μ0, σ0²), θ = (μ0, σ0²).

    .. math::

        z_j \\sim \\mathcal N(\\mu_0, \\sigma_0^2), \\qquad
        x_{ji} \\mid z_j \\sim \\mathrm{Poisson}(e^{z_j}), \\qquad
        \\log p(X\\mid\\theta) = \\sum_{j=1}^J \\log \\int \\mathcal N(z; \\mu_0, \\sigma_0^2)
        \\prod_i \\mathrm{Poisson}(x_{ji}\\mid e^{z})\\,dz.

    Parameters
    ----------
    counts : sequence of sequences of int
        counts[j] holds group j's counts (at least one per group, at least one group).
    """

    counts: tuple
    _n: np.ndarray = field(init=False, repr=False, compare=False)
    _sum: np.ndarray = field(init=False, repr=False, compare=False)
    _log_fact: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        try:
            groups = [np.asarray(g, dtype=float).ravel() for g in self.counts]
        except (TypeError, ValueError):
            raise ValueError(f"counts: expected lists of whole-number counts, got {_shown(self.counts)}") from None
        if not groups or any(g.size == 0 for g in groups):
            raise ValueError("counts: expected at least one group, each with at least one count")
        for g in groups:
            if not np.all(np.isfinite(g)) or np.any(g < 0) or np.any(g != np.round(g)):
                raise ValueError(f"counts: expected whole-number counts ≥ 0, got {_shown(g.tolist())}")
        object.__setattr__(self, "counts", tuple(tuple(int(v) for v in g) for g in groups))
        object.__setattr__(self, "_n", readonly([g.size for g in groups]))
        object.__setattr__(self, "_sum", readonly([g.sum() for g in groups]))
        object.__setattr__(self, "_log_fact", readonly([special.gammaln(g + 1.0).sum() for g in groups]))

    @property
    def n_groups(self) -> int:
        return len(self.counts)

    def group(self, j: int, prior_mean: float, prior_var: float) -> PoissonLogNormal:
        """Group j as a :class:`PoissonLogNormal` model under θ = (prior_mean, prior_var)."""
        return PoissonLogNormal(self.counts[j], prior_mean, prior_var)

    def log_lik(self, z) -> np.ndarray:
        """log p(x_j | z) for every group j (last axis) at z (any shape + (1,) broadcast): shape z.shape + (J,)."""
        z = np.asarray(z, dtype=float)[..., None]
        with np.errstate(over="ignore"):
            return self._sum * z - self._n * np.exp(z) - self._log_fact

    @classmethod
    def sample(cls, n_groups: int, prior_mean: float, prior_var: float, n_per_group: int,
               rng: np.random.Generator) -> "PoissonGroups":
        """Draw z_j ~ N(μ0, σ0²) and n_per_group counts per group from Poisson(e^{z_j})."""
        n_groups = check_int(n_groups, "n_groups", 1, 1000)
        n_per_group = check_int(n_per_group, "n_per_group", 1, 1000)
        mu = _scalar(prior_mean, "prior_mean")
        var = _positive(prior_var, "prior_var")
        rng = check_rng(rng)
        z = mu + math.sqrt(var) * rng.standard_normal(n_groups)
        return cls(tuple(tuple(int(c) for c in rng.poisson(math.exp(zj), n_per_group)) for zj in z))


def _check_groups(groups) -> None:
    if not isinstance(groups, PoissonGroups):
        raise ValueError(f"groups: expected a PoissonGroups, got {type(groups).__name__}")


def _check_theta(prior_mean, prior_var) -> tuple[float, float]:
    return _scalar(prior_mean, "prior_mean"), _positive(prior_var, "prior_var")


def group_log_marginal(groups: PoissonGroups, prior_mean: float, prior_var: float) -> float:
    """Exact log p(X|θ) = Σ_j log p(x_j|θ), each term by :func:`evidence` (adaptive quadrature)."""
    _check_groups(groups)
    mu, var = _check_theta(prior_mean, prior_var)
    return float(sum(_evidence(groups.group(j, mu, var), moments=False).log_evidence
                     for j in range(groups.n_groups)))


def _grid_log_integrals(groups: PoissonGroups, mus: np.ndarray, variances: np.ndarray, *, tol: float = 1e-9,
                        max_points: int = 2 ** 16) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Trapezoid integrals over a shared uniform z-grid, for every θ cell and group.

    Returns (log Z, E[z], E[z²]) of shape (G, J) and the error estimate
    max |log Z_h − log Z_2h|. The grid covers every prior to ±12 sd and every
    group's likelihood peak; it is refined until the estimate is below ``tol``
    and widened while the integrand at an edge is within 40 nats of its peak.
    """
    sds = np.sqrt(variances)
    peaks = np.log(np.maximum(groups._sum, 0.5) / groups._n)
    lo = float(min(np.min(mus - 12.0 * sds), peaks.min() - 3.0))
    hi = float(max(np.max(mus + 12.0 * sds), peaks.max() + 3.0))
    width_lik = 1.0 / math.sqrt(float(np.max(groups._sum + groups._n)) + 1.0)
    h = min(float(sds.min()), width_lik) / 2.0
    n = int(math.ceil((hi - lo) / h)) + 1
    n += (n + 1) % 2                                   # odd: every other point is a grid too
    while True:
        z = np.linspace(lo, hi, n)
        log_prior = (-0.5 * (_LOG_2PI + np.log(variances))[:, None]
                     - 0.5 * (z[None, :] - mus[:, None]) ** 2 / variances[:, None])      # (G, Z)
        ll = groups.log_lik(z)                                                          # (Z, J)
        logg = log_prior[:, None, :] + ll.T[None, :, :]                                 # (G, J, Z)
        peak = logg.max(axis=2, keepdims=True)
        edge = max(float(np.max(logg[..., 0] - peak[..., 0])), float(np.max(logg[..., -1] - peak[..., 0])))
        dz = z[1] - z[0]
        w = np.exp(logg - peak)
        tw = np.full(n, dz)
        tw[[0, -1]] *= 0.5
        s0 = w @ tw
        tw2 = np.full((n + 1) // 2, 2.0 * dz)
        tw2[[0, -1]] *= 0.5
        s0_coarse = w[..., ::2] @ tw2
        err = float(np.max(np.abs(np.log(s0) - np.log(s0_coarse))))
        if edge > -40.0:
            lo, hi = lo - 0.5 * (hi - lo), hi + 0.5 * (hi - lo)
            n = 2 * n - 1
        elif err > tol:
            n = 2 * n - 1
        else:
            break
        if n > max_points:
            raise ValueError(
                "prior_var: the quadrature grid would need more than "
                f"{max_points} points; use a larger prior variance (got min {float(variances.min()):.3g})")
    log_z = np.log(s0) + peak[..., 0]
    ez = (w @ (tw * z)) / s0
    ez2 = (w @ (tw * z * z)) / s0
    return log_z, ez, ez2, err


def group_log_marginal_grid(groups: PoissonGroups, prior_means, prior_vars, chunk: int = 64) -> np.ndarray:
    """Exact log p(X|θ) for many θ at once (a contour), by an error-checked dense grid.

    Parameters
    ----------
    groups : PoissonGroups
    prior_means : array_like, shape (G,)
    prior_vars : array_like, shape (G,)
        Paired θ values (flatten a mesh first).

    Returns
    -------
    ndarray, shape (G,)

    Notes
    -----
    Each log p(x_j|θ) is a trapezoid sum on a uniform z-grid, refined until
    halving the grid changes it by less than 1e-9 (the integrands are smooth
    with Gaussian-or-faster tails, so the rule converges spectrally). Agrees
    with :func:`group_log_marginal` (scipy ``quad``) to about 1e-9.
    """
    _check_groups(groups)
    mus = as_array(prior_means, "prior_means", ndim=1)
    variances = as_array(prior_vars, "prior_vars", shape=mus.shape)
    if np.any(variances <= 0):
        raise ValueError(f"prior_vars: expected variances greater than 0, got {_shown(variances.tolist())}")
    out = np.empty(mus.size)
    for a in range(0, mus.size, chunk):
        out[a:a + chunk] = _grid_log_integrals(groups, mus[a:a + chunk], variances[a:a + chunk])[0].sum(axis=1)
    return out


def group_bound(groups: PoissonGroups, q_means, q_sds, prior_means, prior_var: float) -> np.ndarray:
    """L(q, θ) for Gaussian q_j = N(m_j, s_j²), in closed form, over a slice of μ0 values.

    Parameters
    ----------
    groups : PoissonGroups
    q_means, q_sds : array_like, shape (J,)
    prior_means : array_like, shape (G,)
        μ0 values.
    prior_var : float
        σ0² held fixed along the slice.

    Returns
    -------
    ndarray, shape (G,)

    Notes
    -----
    .. math::

        \\mathcal L(q, \\theta) = \\sum_j \\Big[S_j m_j - n_j e^{m_j + s_j^2/2} - \\sum_i\\log x_{ji}!
            - \\tfrac12\\log(2\\pi\\sigma_0^2) - \\frac{(m_j - \\mu_0)^2 + s_j^2}{2\\sigma_0^2}
            + \\tfrac12\\log(2\\pi e s_j^2)\\Big],

    exact: E_q[e^z] = e^{m + s²/2} for a Gaussian q.
    """
    _check_groups(groups)
    m = as_array(q_means, "q_means", shape=(groups.n_groups,))
    s = as_array(q_sds, "q_sds", shape=(groups.n_groups,))
    if np.any(s <= 0):
        raise ValueError(f"q_sds: expected standard deviations greater than 0, got {_shown(s.tolist())}")
    mus = as_array(prior_means, "prior_means")
    var = _positive(prior_var, "prior_var")
    return _group_bound(groups, m, s, mus, var)


def _group_bound(groups, m, s, mus, var):
    mus = np.asarray(mus, dtype=float)
    lik = float(np.sum(groups._sum * m - groups._n * np.exp(m + 0.5 * s * s) - groups._log_fact))
    ent = float(np.sum(0.5 * (_LOG_2PI + 1.0) + np.log(s)))
    sq = np.sum((m[:, None] - np.ravel(mus)[None, :]) ** 2, axis=0).reshape(mus.shape) + float(np.sum(s * s))
    return lik + ent - 0.5 * groups.n_groups * (_LOG_2PI + math.log(var)) - 0.5 * sq / var


@dataclass(frozen=True)
class VEMTrace:
    """Variational EM: Gaussian q_j per group (E-step), closed-form θ (M-step).

    Attributes
    ----------
    prior_means, prior_vars : ndarray, shape (T+1,)
        θ_0 .. θ_T.
    q_means, q_sds : ndarray, shape (T+1, J)
        q_t, the best Gaussians at θ_t (after the E-step of iteration t).
    bound_after_e : ndarray, shape (T+1,)
        L(q_t, θ_t).
    bound_after_m : ndarray, shape (T,)
        L(q_t, θ_{t+1}).
    log_marginal : ndarray, shape (T+1,)
        Exact log p(X|θ_t) (:func:`group_log_marginal_grid`): the bound no longer touches it.
    """

    prior_means: np.ndarray
    prior_vars: np.ndarray
    q_means: np.ndarray
    q_sds: np.ndarray
    bound_after_e: np.ndarray
    bound_after_m: np.ndarray
    log_marginal: np.ndarray

    @property
    def bounds(self) -> np.ndarray:
        """L after E_0, M_1, E_1, M_2, ...: shape (2T+1,), never decreasing."""
        out = np.empty(2 * self.bound_after_m.size + 1)
        out[0::2] = self.bound_after_e
        out[1::2] = self.bound_after_m
        return out


_VAR_FLOOR = 1e-3     # σ0² never goes below this (σ0 ≥ 0.032): a collapsing prior is stopped, not followed


def _m_step(q_means, q_second):
    mu = float(np.mean(q_means))
    return mu, max(float(np.mean(q_second)) - mu * mu, _VAR_FLOOR)


def variational_em(groups: PoissonGroups, prior_mean0: float, prior_var0: float, n_iter: int) -> VEMTrace:
    """Variational EM with a Gaussian q_j for each group's log-rate.

    Parameters
    ----------
    groups : PoissonGroups
    prior_mean0, prior_var0 : float
        θ_0 = (μ0, σ0²).
    n_iter : int
        Iterations T (0..1000).

    Returns
    -------
    VEMTrace

    Notes
    -----
    E-step: for each group, q_j = argmax over Gaussians of L_j(q_j, θ_t)
    (:func:`fit_gaussian_q`, warm-started at q_{t-1}, kept only if it improves).
    M-step, in closed form:

    .. math::

        \\mu_0 = \\frac1J\\sum_j m_j, \\qquad
        \\sigma_0^2 = \\frac1J\\sum_j \\big(s_j^2 + (m_j - \\mu_0)^2\\big)

    (σ0² floored at 1e-3). Both steps maximise L(q, θ) over their block, so
    the bound never decreases; but q_j ≠ p(z_j|x_j, θ), so after the E-step
    L(q_t, θ_t) < log p(X|θ_t) and the fixed point is not the MLE.
    """
    _check_groups(groups)
    mu, var = _check_theta(prior_mean0, prior_var0)
    n_iter = check_int(n_iter, "n_iter", 0, 1000)
    J = groups.n_groups
    m = np.empty(J)
    s = np.empty(J)
    mus, vars_, qm, qs, after_e, after_m = [], [], [], [], [], []
    first = True
    for t in range(n_iter + 1):
        for j in range(J):
            mod = groups.group(j, mu, var)
            if first:
                fit = fit_gaussian_q(mod)
                m[j], s[j] = fit.mean, fit.sd
            else:
                m_new, s_new, v_new = _fit_gaussian(mod, (m[j], s[j]))
                if v_new > float(_elbo_gaussian(mod, m[j], s[j])):
                    m[j], s[j] = m_new, s_new
        first = False
        mus.append(mu)
        vars_.append(var)
        qm.append(m.copy())
        qs.append(s.copy())
        after_e.append(float(_group_bound(groups, m, s, mu, var)))
        if t == n_iter:
            break
        mu, var = _m_step(m, m * m + s * s)
        after_m.append(float(_group_bound(groups, m, s, mu, var)))
    logp = group_log_marginal_grid(groups, mus, vars_)
    return VEMTrace(readonly(mus), readonly(vars_), readonly(qm), readonly(qs), readonly(after_e),
                    readonly(after_m), readonly(logp))


@dataclass(frozen=True)
class EMPath:
    """Exact EM on :class:`PoissonGroups` (E-step: posterior moments by quadrature).

    Attributes
    ----------
    prior_means, prior_vars : ndarray, shape (T+1,)
    log_marginal : ndarray, shape (T+1,)
        Exact log p(X|θ_t); never decreases.
    converged : bool
        The change in log p fell below ``tol``.
    """

    prior_means: np.ndarray
    prior_vars: np.ndarray
    log_marginal: np.ndarray
    converged: bool


def exact_em(groups: PoissonGroups, prior_mean0: float, prior_var0: float, max_iter: int = 2000,
             tol: float = 1e-10) -> EMPath:
    """EM with the exact posterior: E-step moments E[z_j], E[z_j²] by quadrature.

    Parameters
    ----------
    groups : PoissonGroups
    prior_mean0, prior_var0 : float
    max_iter : int
        1..100000.
    tol : float
        Stop when log p(X|θ) rises by less than this.

    Notes
    -----
    M-step: μ0 = mean_j E[z_j], σ0² = mean_j E[z_j²] − μ0² (floored at 1e-3).
    Its fixed point is a maximum-likelihood θ.
    """
    _check_groups(groups)
    mu, var = _check_theta(prior_mean0, prior_var0)
    max_iter = check_int(max_iter, "max_iter", 1, 100000)
    tol = _positive(tol, "tol")
    mus, vars_, logp = [], [], []
    converged = False
    for _ in range(max_iter + 1):
        log_z, ez, ez2, _ = _grid_log_integrals(groups, np.array([mu]), np.array([var]))
        mus.append(mu)
        vars_.append(var)
        logp.append(float(log_z.sum()))
        if len(logp) > 1 and logp[-1] - logp[-2] < tol:
            converged = True
            break
        mu, var = _m_step(ez[0], ez2[0])
    return EMPath(readonly(mus), readonly(vars_), readonly(logp), converged)
