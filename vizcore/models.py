"""Latent-variable models with a discrete latent z.

A model supplies little: the joint ``log p(x_n, z_n = k | θ)`` with every
constant kept, the prior ``log p(z_n = k | θ)``, the expected sufficient
statistics of a q(z) and the closed-form M-step from them. Everything else
(marginal likelihood, posterior, ELBO, KL gap, EM, curves over θ) is written
once in :mod:`vizcore.inference` and :mod:`vizcore.views`.

Parameters are immutable dataclasses holding read-only float arrays. Inside
vizcore the same dataclasses also carry *batches* of parameters (a leading
grid axis on every field) so that a whole curve over θ is one vectorised
evaluation; such batches are built only by :mod:`vizcore.views`.

Models
------
``gmm1d``    1-D Gaussian mixture: ``weights`` (K,), ``means`` (K,), ``variances`` (K,).
``gmm2d``    2-D Gaussian mixture: ``weights`` (K,), ``means`` (K, 2), ``covariances`` (K, 2, 2).
``coins``    Binomial mixture ("two coins"): data rows ``(heads, tosses)``;
             ``weights`` (K,), ``heads_probs`` (K,). Each row's likelihood includes C(tosses, heads).
``linkage``  Genetic linkage (Dempster, Laird & Rubin 1977): a row of four counts y with cell
             probabilities (1/2 + θ/4, (1-θ)/4, (1-θ)/4, θ/4); ``theta`` (1,). The latent z is the
             number of the first cell's y1 counts that fall in its θ/4 part, z = 0..y1.

Variance floor
--------------
An M-step variance below ``VARIANCE_FLOOR_RELATIVE`` times the data's variance
(or below ``VARIANCE_FLOOR_ABSOLUTE`` when all points are equal) is raised to
the floor; a 2-D covariance's eigenvalues likewise, measured with each axis scaled by the data's
spread along it (so the floor does not depend on the units of either axis). Without it a
component that collapses onto one point sends log p(X|θ) to +∞; with it the
numbers stay finite and :func:`vizcore.inference.run_em` reports ``floored``.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, fields

import numpy as np
from scipy.special import gammaln, xlogy

from ._validation import as_array, check_int, check_positive, check_probabilities, check_rng, readonly

LOG_2PI = float(np.log(2 * np.pi))
MAX_COMPONENTS = 6
VARIANCE_FLOOR_RELATIVE = 1e-6
VARIANCE_FLOOR_ABSOLUTE = 1e-6


def _log(a):
    with np.errstate(divide="ignore"):
        return np.log(a)


def _by_component(k: int, lead: tuple, n: int) -> np.ndarray:
    """An empty (k, *lead, n) array: log_joint fills one contiguous (…, N) slice per component and
    returns its (…, N, k) view. numpy's loops over a short last axis of size k pay a per-row cost,
    so this layout makes a batch's log_joint 7–14× faster and the log-sum-exp over k ~25 % faster
    (same values; measured at N = 10,000, k = 2)."""
    return np.empty((k,) + tuple(lead) + (n,))


class _Params:
    """Common behaviour of the parameter dataclasses."""

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, readonly(getattr(self, f.name)))

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)}

    @property
    def n_components(self) -> int:
        return int(getattr(self, fields(self)[0].name).shape[-1])

    def __eq__(self, other):
        return type(self) is type(other) and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)
        )

    def __hash__(self):
        return hash(tuple(getattr(self, f.name).tobytes() for f in fields(self)))


@dataclass(frozen=True, eq=False)
class GMM1DParams(_Params):
    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray


@dataclass(frozen=True, eq=False)
class GMM2DParams(_Params):
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


@dataclass(frozen=True, eq=False)
class CoinsParams(_Params):
    weights: np.ndarray
    heads_probs: np.ndarray


@dataclass(frozen=True, eq=False)
class LinkageParams(_Params):
    theta: np.ndarray

    @property
    def n_components(self) -> int:  # K depends on the data for this model
        return 0


_NAME_RE = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?$")


class Model:
    """Base class: what every discrete-latent model shares."""

    name: str = ""
    title: str = ""
    Params: type = _Params
    data_columns: tuple[str, ...] = ()

    # ---- to be supplied by each model -------------------------------------------
    def _validate_params(self, p) -> None:
        raise NotImplementedError

    def log_prior(self, x, params):
        """log p(z_n = k | θ), shape (..., N, K)."""
        raise NotImplementedError

    def log_joint(self, x, params):
        """log p(x_n, z_n = k | θ) with all constants kept, shape (..., N, K)."""
        raise NotImplementedError

    def log_joint_minus(self, x, params, b):
        """log p(x_n, z_n = 1 | θ_g) − b_n, shape (G, N), for a batch of one-component parameters (G, 1).

        The exponent of a two-term sum e^(b_n) (1 + e^(·)): log p(X|θ) along a curve that moves one
        component, with ``b`` the log density of the components held still
        (:func:`~vizcore.views.log_marginal_batch`). A model may compute it in fewer array passes.
        """
        return self.log_joint(x, params)[..., 0] - b

    def expected_stats(self, x, resp) -> dict:
        """Expected sufficient statistics of q(z) = resp, the hand-off from E to M."""
        raise NotImplementedError

    def expected_log_joint(self, stats: dict, params):
        """E_q[log p(X, Z | θ)] from the statistics; vectorised over a batch of θ."""
        raise NotImplementedError

    def m_step_from_stats(self, stats: dict, params, fixed: dict):
        raise NotImplementedError

    def sample(self, params, n_samples: int, rng):
        raise NotImplementedError

    def onto_floor(self, x, params, fixed: dict):
        """``params`` with every free variance raised to the data's floor (unchanged if none is below).

        EM with a floor maximises over the θ that respect it; a start below the floor is first
        moved onto it, so that every later step can only raise log p(X|θ).
        """
        return params

    def validate_data(self, x) -> np.ndarray:
        raise NotImplementedError

    # ---- shared -----------------------------------------------------------------
    def make_params(self, params=None, /, **kwargs):
        """Build validated parameters from a Params, a mapping or keyword arguments."""
        if params is None:
            params = kwargs
        if isinstance(params, self.Params):
            params = params.to_dict()
        if not isinstance(params, dict):
            raise ValueError(f"params: expected a mapping of {self.param_names}, got {type(params).__name__}")
        missing = [n for n in self.param_names if n not in params]
        unknown = [n for n in params if n not in self.param_names]
        if missing or unknown:
            raise ValueError(
                f"params: model {self.name!r} takes exactly {list(self.param_names)}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"unknown {unknown}" if unknown else "")
            )
        arrays = {n: as_array(params[n], n) for n in self.param_names}
        p = self.Params(**arrays)
        self._validate_params(p)
        return p

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self.Params))

    def n_latent(self, x) -> int:
        """Number K of values the latent takes (for mixtures, the components)."""
        raise NotImplementedError

    def parse_fixed(self, params, fixed) -> dict:
        """Turn names such as ``"weights"`` or ``"means[1]"`` into boolean masks per field.

        A mask has the shape of the field's component axis (K,) (or (1,) for linkage).
        """
        masks = {n: np.zeros(getattr(params, n).shape[0], dtype=bool) for n in self.param_names}
        for item in fixed or ():
            m = _NAME_RE.match(str(item).strip())
            if not m or m.group(1) not in masks:
                raise ValueError(
                    f"fixed: expected parameter names from {list(self.param_names)}, optionally with a "
                    f"component index such as 'means[0]', got {item!r}"
                )
            field, idx = m.group(1), m.group(2)
            if idx is None:
                masks[field][:] = True
            else:
                i = int(idx)
                if i >= masks[field].size:
                    raise ValueError(
                        f"fixed: {item!r} names component {i}, but {field} has {masks[field].size} entries"
                    )
                masks[field][i] = True
        return masks

    # flat parameter vectors (for views of θ-space)
    def flatten(self, params) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(params, n)).ravel() for n in self.param_names])

    def unflatten(self, theta, like):
        """Inverse of flatten; ``theta`` may carry leading batch axes."""
        theta = np.asarray(theta, dtype=float)
        batch = theta.shape[:-1]
        out, i = {}, 0
        for n in self.param_names:
            shape = getattr(like, n).shape
            size = int(np.prod(shape))
            out[n] = theta[..., i:i + size].reshape(batch + shape)
            i += size
        return self.Params(**out)

    def coordinates(self, params) -> dict[str, list[int]]:
        """Named scalar coordinates of θ and the flat indices each one sets."""
        coords, offset = {}, 0
        for n in self.param_names:
            arr = getattr(params, n)
            if n == "weights" and arr.shape[0] == 1:
                pass  # a one-component mixture's weight is 1, not a free coordinate
            elif arr.ndim == 1:
                for k in range(arr.shape[0]):
                    coords[f"{n}[{k}]"] = [offset + k]
            elif arr.ndim == 2:
                d = arr.shape[1]
                for k in range(arr.shape[0]):
                    for j in range(d):
                        coords[f"{n}[{k}][{j}]"] = [offset + k * d + j]
            else:  # symmetric matrices: set (i, j) and (j, i) together
                d = arr.shape[1]
                for k in range(arr.shape[0]):
                    for i in range(d):
                        for j in range(i, d):
                            base = offset + k * d * d
                            coords[f"{n}[{k}][{i}][{j}]"] = sorted({base + i * d + j, base + j * d + i})
            offset += arr.size
        return coords


# ---------------------------------------------------------------------------------
def _weights_stats_loglik(nk, weights):
    return np.sum(xlogy(nk, weights), axis=-1)


def _m_step_weights(nk, old, fixed_mask):
    """argmax over the simplex of Σ_k N_k log w_k with some w_k held fixed."""
    free = ~fixed_mask
    if not free.any():
        return old
    mass = 1.0 - old[fixed_mask].sum()
    w = old.copy()
    total = nk[free].sum()
    share = nk[free] if total > 0 else np.ones(free.sum())  # no data on the free components: share equally
    w[free] = mass * share / share.sum()
    # A component with some responsibility keeps a positive weight even where N_k / N underflows (N_k near
    # 1e-323): otherwise N_k log w_k = −∞ and the M-step would lower the bound it maximises.
    w[free] = np.where((share > 0) & (w[free] == 0) & (mass > 0), np.nextafter(0.0, 1.0), w[free])
    return w


def _validate_weights(weights):
    if weights.ndim != 1 or not 1 <= weights.size <= MAX_COMPONENTS:
        raise ValueError(f"weights: expected 1 to {MAX_COMPONENTS} numbers, got shape {weights.shape}")
    check_probabilities(weights, "weights", simplex=True)


def _data_floor(variance: float) -> float:
    return VARIANCE_FLOOR_RELATIVE * variance if variance > 0 else VARIANCE_FLOOR_ABSOLUTE


def _clip_scaled(cov, axis_var, slack=1.0):
    """Covariances (K, 2, 2) whose eigenvalues, in coordinates scaled by the data's spread, are ≥ the floor.

    The floor is isotropic after dividing axis j by its data standard deviation, so it is
    ``VARIANCE_FLOOR_RELATIVE`` of the data's variance along every axis whatever their units (an
    axis with no spread uses ``VARIANCE_FLOOR_ABSOLUTE``). Clipping the scaled eigenvalues is the
    exact argmax of the bound subject to the floor (the Gaussian likelihood is equivariant under
    the scaling), so a floored M-step still never lowers log p. Returns (covariances with the low ones
    clipped and the others untouched, which were low); ``slack`` > 1 only widens the "low" test.
    """
    axis_var = np.asarray(axis_var, dtype=float)
    scale = np.where(axis_var > 0, axis_var, VARIANCE_FLOOR_ABSOLUTE / VARIANCE_FLOOR_RELATIVE)
    r = np.sqrt(scale)
    w = cov / (r[:, None] * r[None, :])
    w = 0.5 * (w + np.swapaxes(w, -1, -2))
    lam, vec = np.linalg.eigh(w)
    low = lam[:, 0] < VARIANCE_FLOOR_RELATIVE * slack
    if not np.any(low):
        return cov, low
    back = np.einsum("kij,kj,klj->kil", vec, np.maximum(lam, VARIANCE_FLOOR_RELATIVE), vec)
    return np.where(low[:, None, None], back * (r[:, None] * r[None, :]), cov), low


class GaussianMixture1D(Model):
    """1-D Gaussian mixture  p(x|θ) = Σ_k π_k N(x | μ_k, σ²_k)."""

    name = "gmm1d"
    title = "1-D Gaussian mixture"
    Params = GMM1DParams
    data_columns = ("x",)

    def _validate_params(self, p):
        _validate_weights(p.weights)
        k = p.weights.size
        for n in ("means", "variances"):
            if getattr(p, n).shape != (k,):
                raise ValueError(f"{n}: expected {k} numbers (one per component), got shape {getattr(p, n).shape}")
        check_positive(p.variances, "variances")

    def validate_data(self, x):
        x = as_array(x, "x")
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ValueError(f"x: expected one column of numbers, got shape {x.shape}")
        if x.size < 1:
            raise ValueError("x: expected at least one data point, got none")
        return x

    def n_latent(self, x):
        return None

    def log_prior(self, x, params):
        return np.broadcast_to(_log(params.weights)[..., None, :], params.weights.shape[:-1] + (len(x), params.weights.shape[-1]))

    def log_joint(self, x, params):
        mu, var, w = params.means, params.variances, params.weights  # (…, K)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # overflow: log density −∞
            const = _log(w) - 0.5 * (LOG_2PI + np.log(var))
            out = _by_component(w.shape[-1], w.shape[:-1], x.shape[0])
            for k, o in enumerate(out):
                np.subtract(x, mu[..., k, None], out=o)
                np.square(o, out=o)
                o /= var[..., k, None]  # not × (1 / var): 1 / var overflows for a subnormal variance
                o *= -0.5
                o += const[..., k, None]
        return np.moveaxis(out, 0, -1)

    def log_joint_minus(self, x, params, b):
        """The base method's values in three passes over the (G, N) array instead of six, for the curves
        the pages draw: along a mean, −(x_n s − μ_g s)² + (c − b_n) with s = √(1/2σ²); along a variance,
        −(x_n − μ)² · 1/(2σ²_g) + (c_g − b_n); c = log π − ½ log 2πσ². Anything else (a weight, a line
        through θ space, a value that is not a valid parameter) takes the base method."""
        mu, var, w = (np.asarray(a)[..., 0] for a in (params.means, params.variances, params.weights))
        if mu.ndim == 1 and mu.size:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                same_w = bool(np.all(w == w[0]))
                if same_w and np.all(var == var[0]):  # a curve of the mean
                    s = np.sqrt(0.5 / var[0])
                    c = np.log(w[0]) - 0.5 * (LOG_2PI + np.log(var[0]))
                    if np.isfinite(s) and s > 0 and np.isfinite(c):
                        out = np.subtract.outer(mu * s, x * s)
                        np.square(out, out=out)
                        np.subtract(c - b, out, out=out)
                        return out
                if same_w and np.all(mu == mu[0]):  # a curve of the variance
                    h = 0.5 / var
                    if np.all(np.isfinite(h)):
                        c = np.log(w) - 0.5 * (LOG_2PI + np.log(var))
                        out = np.multiply.outer(h, -np.square(x - mu[0]))
                        out += c[:, None]
                        out -= b
                        return out
        return super().log_joint_minus(x, params, b)

    def expected_stats(self, x, resp):
        c = float(np.mean(x))
        xc = x - c
        return {"nk": resp.sum(0), "s1": xc @ resp, "s2": (xc * xc) @ resp, "c": c,
                "n": float(len(x)), "data_var": float(np.mean(xc * xc))}

    def expected_log_joint(self, stats, params):
        nk, s1, s2 = stats["nk"], stats["s1"], stats["s2"]
        m = params.means - stats["c"]
        var = params.variances
        with np.errstate(divide="ignore", invalid="ignore"):
            quad = (s2 - 2 * m * s1 + m * m * nk) / var
            per = -0.5 * nk * (LOG_2PI + np.log(var)) - 0.5 * quad
        return _weights_stats_loglik(nk, params.weights) + per.sum(-1)

    def m_step_from_stats(self, stats, params, fixed):
        nk, s1, s2, c = stats["nk"], stats["s1"], stats["s2"], stats["c"]
        floor = _data_floor(stats["data_var"])
        has = nk > 0
        safe = np.where(has, nk, 1.0)
        means = np.where(has & ~fixed["means"], c + s1 / safe, params.means)
        m = means - c
        var_new = (s2 - 2 * m * s1 + m * m * nk) / safe
        variances = np.where(has & ~fixed["variances"], np.maximum(var_new, floor), params.variances)
        weights = _m_step_weights(nk, params.weights, fixed["weights"])
        return GMM1DParams(weights, means, variances)

    def floored(self, stats, params) -> bool:
        return bool(np.any(params.variances <= _data_floor(stats["data_var"]) * (1 + 1e-12)))

    def onto_floor(self, x, params, fixed):
        floor = _data_floor(float(np.var(x))) if len(x) else VARIANCE_FLOOR_ABSOLUTE
        low = (params.variances < floor) & ~fixed["variances"]
        if not np.any(low):
            return params
        return GMM1DParams(params.weights, params.means, np.where(low, floor, params.variances))

    def sample(self, params, n_samples, rng):
        rng = check_rng(rng)
        n = check_int(n_samples, "n_samples", 1, 10_000_000)
        z = rng.choice(params.weights.size, size=n, p=params.weights)
        x = rng.normal(params.means[z], np.sqrt(params.variances[z]))
        return x, z


class GaussianMixture2D(Model):
    """2-D Gaussian mixture  p(x|θ) = Σ_k π_k N(x | μ_k, Σ_k), full covariances."""

    name = "gmm2d"
    title = "2-D Gaussian mixture"
    Params = GMM2DParams
    data_columns = ("x1", "x2")

    def _validate_params(self, p):
        _validate_weights(p.weights)
        k = p.weights.size
        if p.means.shape != (k, 2):
            raise ValueError(f"means: expected shape ({k}, 2) as [[x, y], ...], got shape {p.means.shape}")
        if p.covariances.shape != (k, 2, 2):
            raise ValueError(
                f"covariances: expected shape ({k}, 2, 2) as [[[a, b], [b, d]], ...], got shape {p.covariances.shape}"
            )
        if not np.allclose(p.covariances, np.swapaxes(p.covariances, 1, 2)):
            raise ValueError("covariances: expected symmetric matrices [[a, b], [b, d]], got an asymmetric one")
        a, b, d = p.covariances[:, 0, 0], p.covariances[:, 0, 1], p.covariances[:, 1, 1]
        if np.any(a <= 0) or np.any(a * d - b * b <= 0):
            raise ValueError(
                "covariances: expected positive-definite matrices (a > 0 and a·d − b² > 0), got "
                f"{p.covariances.tolist()}"
            )

    def validate_data(self, x):
        x = as_array(x, "x")
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"x: expected two columns of numbers, got shape {x.shape}")
        if x.shape[0] < 1:
            raise ValueError("x: expected at least one data point, got none")
        return x

    def n_latent(self, x):
        return None

    def log_prior(self, x, params):
        return np.broadcast_to(_log(params.weights)[..., None, :], params.weights.shape[:-1] + (len(x), params.weights.shape[-1]))

    @staticmethod
    def _inv_parts(cov):
        a, b, d = cov[..., 0, 0], cov[..., 0, 1], cov[..., 1, 1]
        det = a * d - b * b
        return a, b, d, det

    def log_joint(self, x, params):
        a, b, d, det = self._inv_parts(params.covariances)
        w, mu = params.weights, params.means
        x0, x1 = x[:, 0], x[:, 1]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # overflow: log density −∞
            det = np.where(det > 0, det, np.nan)  # not a covariance: NaN
            const = _log(w) - LOG_2PI - 0.5 * np.log(det)
            out = _by_component(w.shape[-1], w.shape[:-1], x.shape[0])
            for k, q in enumerate(out):  # (d dx² − 2b dx dy + a dy²) / det, in place
                dx = x0 - mu[..., k, 0, None]
                dy = x1 - mu[..., k, 1, None]
                np.multiply(dx, dx, out=q)
                q *= d[..., k, None]
                dx *= dy
                dx *= 2 * b[..., k, None]
                q -= dx
                dy *= dy
                dy *= a[..., k, None]
                q += dy
                q /= det[..., k, None]
                q *= -0.5
                q += const[..., k, None]
        return np.moveaxis(out, 0, -1)

    def expected_stats(self, x, resp):
        c = x.mean(0)
        n = x.shape[0]
        feats = np.empty((n, 6), order="F")  # [1, x, y, x², xy, y²] about the data mean
        feats[:, 0] = 1.0
        np.subtract(x[:, 0], c[0], out=feats[:, 1])
        np.subtract(x[:, 1], c[1], out=feats[:, 2])
        np.multiply(feats[:, 1], feats[:, 1], out=feats[:, 3])
        np.multiply(feats[:, 1], feats[:, 2], out=feats[:, 4])
        np.multiply(feats[:, 2], feats[:, 2], out=feats[:, 5])
        p = feats.T @ resp  # (6, K)
        s2 = np.empty((resp.shape[1], 2, 2))
        s2[:, 0, 0], s2[:, 0, 1], s2[:, 1, 0], s2[:, 1, 1] = p[3], p[4], p[4], p[5]
        total = feats[:, 3::2].mean(0)
        return {"nk": p[0], "s1": p[1:3].T.copy(), "s2": s2, "c": c, "n": float(n),
                "data_var": float(min(total)), "axis_var": total}

    def expected_log_joint(self, stats, params):
        nk, s1, s2 = stats["nk"], stats["s1"], stats["s2"]
        m = params.means - stats["c"]
        a, b, d, det = self._inv_parts(params.covariances)
        # scatter about the mean: S2 − m s1ᵀ − s1 mᵀ + N_k m mᵀ
        sxx = s2[..., 0, 0] - 2 * m[..., 0] * s1[..., 0] + nk * m[..., 0] ** 2
        syy = s2[..., 1, 1] - 2 * m[..., 1] * s1[..., 1] + nk * m[..., 1] ** 2
        sxy = s2[..., 0, 1] - m[..., 0] * s1[..., 1] - m[..., 1] * s1[..., 0] + nk * m[..., 0] * m[..., 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            det = np.where(det > 0, det, np.nan)
            trace = (d * sxx - 2 * b * sxy + a * syy) / det
            per = -nk * LOG_2PI - 0.5 * nk * np.log(det) - 0.5 * trace
        return _weights_stats_loglik(nk, params.weights) + per.sum(-1)

    def m_step_from_stats(self, stats, params, fixed):
        nk, s1, s2, c = stats["nk"], stats["s1"], stats["s2"], stats["c"]
        has = nk > 0
        safe = np.where(has, nk, 1.0)
        means = np.where((has & ~fixed["means"])[:, None], c + s1 / safe[:, None], params.means)
        m = means - c
        scatter = (s2 - m[:, :, None] * s1[:, None, :] - s1[:, :, None] * m[:, None, :]
                   + nk[:, None, None] * m[:, :, None] * m[:, None, :]) / safe[:, None, None]
        scatter = 0.5 * (scatter + np.swapaxes(scatter, 1, 2))
        scatter, _ = _clip_scaled(scatter, stats["axis_var"])
        covs = np.where((has & ~fixed["covariances"])[:, None, None], scatter, params.covariances)
        weights = _m_step_weights(nk, params.weights, fixed["weights"])
        return GMM2DParams(weights, means, covs)

    def floored(self, stats, params) -> bool:
        return bool(np.any(_clip_scaled(params.covariances, stats["axis_var"], 1 + 1e-9)[1]))

    def onto_floor(self, x, params, fixed):
        axis_var = np.var(x, axis=0) if len(x) else np.zeros(2)
        clipped, low = _clip_scaled(params.covariances, axis_var)
        low &= ~fixed["covariances"]
        if not np.any(low):
            return params
        return GMM2DParams(params.weights, params.means, np.where(low[:, None, None], clipped, params.covariances))

    def sample(self, params, n_samples, rng):
        rng = check_rng(rng)
        n = check_int(n_samples, "n_samples", 1, 10_000_000)
        z = rng.choice(params.weights.size, size=n, p=params.weights)
        chol = np.linalg.cholesky(params.covariances)
        eps = rng.standard_normal((n, 2))
        x = params.means[z] + np.einsum("nij,nj->ni", chol[z], eps)
        return x, z


class TwoCoins(Model):
    """Binomial mixture: p(h | t, θ) = Σ_k π_k C(t, h) p_k^h (1 − p_k)^(t − h)."""

    name = "coins"
    title = "Two coins (binomial mixture)"
    Params = CoinsParams
    data_columns = ("heads", "tosses")

    def _validate_params(self, p):
        _validate_weights(p.weights)
        k = p.weights.size
        if p.heads_probs.shape != (k,):
            raise ValueError(f"heads_probs: expected {k} numbers (one per coin), got shape {p.heads_probs.shape}")
        check_probabilities(p.heads_probs, "heads_probs", simplex=False)

    def validate_data(self, x):
        x = as_array(x, "x")
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"x: expected two columns (heads, tosses), got shape {x.shape}")
        if x.shape[0] < 1:
            raise ValueError("x: expected at least one set of tosses, got none")
        for j, col in enumerate(("heads", "tosses")):
            bad = np.flatnonzero((x[:, j] < 0) | (x[:, j] != np.round(x[:, j])))
            if bad.size:
                raise ValueError(f"{col}: expected whole numbers ≥ 0, got {x[bad[0], j]:g} in row {bad[0] + 1}")
        bad = np.flatnonzero(x[:, 0] > x[:, 1])
        if bad.size:
            r = bad[0]
            raise ValueError(f"heads: expected at most the number of tosses, got {x[r, 0]:g} heads in {x[r, 1]:g} tosses in row {r + 1}")
        return x

    def n_latent(self, x):
        return None

    def log_prior(self, x, params):
        return np.broadcast_to(_log(params.weights)[..., None, :], params.weights.shape[:-1] + (len(x), params.weights.shape[-1]))

    @staticmethod
    def _log_binom_coef(x):
        h, t = x[:, 0], x[:, 1]
        return gammaln(t + 1) - gammaln(h + 1) - gammaln(t - h + 1)

    def log_joint(self, x, params):
        h, t = x[:, 0], x[:, 1]
        p, w = params.heads_probs, params.weights
        coef, lw = self._log_binom_coef(x), _log(w)
        out = _by_component(w.shape[-1], w.shape[:-1], x.shape[0])
        for k, o in enumerate(out):
            pk = p[..., k, None]
            np.add(lw[..., k, None], coef, out=o)
            o += xlogy(h, pk)
            o += xlogy(t - h, 1 - pk)
        return np.moveaxis(out, 0, -1)

    def expected_stats(self, x, resp):
        return {"nk": resp.sum(0), "heads": x[:, 0] @ resp, "tosses": x[:, 1] @ resp,
                "const": float(self._log_binom_coef(x).sum()), "n": float(len(x))}

    def expected_log_joint(self, stats, params):
        nk, h, t = stats["nk"], stats["heads"], stats["tosses"]
        p = params.heads_probs
        return (_weights_stats_loglik(nk, params.weights) + stats["const"]
                + np.sum(xlogy(h, p) + xlogy(t - h, 1 - p), -1))

    def m_step_from_stats(self, stats, params, fixed):
        h, t = stats["heads"], stats["tosses"]
        ok = (t > 0) & ~fixed["heads_probs"]
        probs = np.where(ok, h / np.where(t > 0, t, 1.0), params.heads_probs)
        # h / t rounds to 0 when a responsibility near 1e-323 carries the only heads: keep the smallest
        # positive double, or h log p = −∞ and the M-step lowers the bound it maximises. (h < t never rounds
        # up to 1: a correctly rounded quotient of doubles h < t is at most 1 − 2^-53.)
        probs = np.where(ok & (h > 0) & (probs == 0), np.nextafter(0.0, 1.0), probs)
        weights = _m_step_weights(stats["nk"], params.weights, fixed["weights"])
        return CoinsParams(weights, probs)

    def floored(self, stats, params) -> bool:
        return False

    def sample(self, params, n_samples, rng, tosses: int = 10):
        rng = check_rng(rng)
        n = check_int(n_samples, "n_samples", 1, 10_000_000)
        tosses = check_int(tosses, "tosses", 1, 100_000)
        z = rng.choice(params.weights.size, size=n, p=params.weights)
        heads = rng.binomial(tosses, params.heads_probs[z])
        return np.stack([heads, np.full(n, tosses)], 1).astype(float), z


class GeneticLinkage(Model):
    """Genetic linkage, the first example of Dempster, Laird & Rubin (1977).

    Observed counts y = (y1, y2, y3, y4) ~ Multinomial(n; 1/2 + θ/4, (1−θ)/4, (1−θ)/4, θ/4).
    The complete data split y1 into y1 − z counts of probability 1/2 and z counts of
    probability θ/4, so p(y, z | θ) is a five-cell multinomial (its coefficient kept)
    and Σ_z p(y, z | θ) is the four-cell multinomial above. The prior of z is its
    complete-data marginal Binomial(n, θ/4); the posterior is Binomial(y1, θ/(2 + θ)).
    """

    name = "linkage"
    title = "Genetic linkage"
    Params = LinkageParams
    data_columns = ("y1", "y2", "y3", "y4")

    def _validate_params(self, p):
        if p.theta.shape not in ((1,), ()):
            raise ValueError(f"theta: expected one number, got shape {p.theta.shape}")
        check_probabilities(p.theta.reshape(1), "theta", simplex=False)

    def make_params(self, params=None, /, **kwargs):
        if params is None:
            params = kwargs
        if isinstance(params, dict) and "theta" in params and np.ndim(params["theta"]) == 0:
            params = {**params, "theta": [params["theta"]]}
        return super().make_params(params)

    def validate_data(self, x):
        x = as_array(x, "y")
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != 4:
            raise ValueError(f"y: expected four counts per row (y1, y2, y3, y4), got shape {x.shape}")
        bad = np.argwhere((x < 0) | (x != np.round(x)))
        if bad.size:
            r, c = bad[0]
            raise ValueError(f"y: expected whole-number counts ≥ 0, got {x[r, c]:g} in row {r + 1}, count {c + 1}")
        if np.any(x.sum(1) == 0):
            raise ValueError("y: expected at least one count in each row, got a row of zeros")
        if x[:, 0].max() > 100_000:
            raise ValueError(f"y: expected y1 ≤ 100000 (the latent takes y1 + 1 values), got {x[:, 0].max():g}")
        return x

    def n_latent(self, x):
        return int(x[:, 0].max()) + 1

    def _z(self, x):
        z = np.arange(self.n_latent(x), dtype=float)
        valid = z[None, :] <= x[:, 0, None]
        return z, valid

    def log_prior(self, x, params):
        th = params.theta[..., :1]  # (..., 1)
        z, valid = self._z(x)
        n = x.sum(1)[:, None]
        q = th[..., None] / 4  # (..., 1, 1)
        lp = (gammaln(n + 1) - gammaln(z + 1) - gammaln(n - z + 1) + xlogy(z, q) + xlogy(n - z, 1 - q))
        return np.where(valid, lp, -np.inf)

    def log_joint(self, x, params):
        th = params.theta[..., :1][..., None]  # (..., 1, 1)
        z, valid = self._z(x)
        y1, y2, y3, y4 = (x[:, j, None] for j in range(4))
        n = y1 + y2 + y3 + y4
        x1 = np.maximum(y1 - z, 0)
        coef = gammaln(n + 1) - gammaln(x1 + 1) - gammaln(z + 1) - gammaln(y2 + 1) - gammaln(y3 + 1) - gammaln(y4 + 1)
        lj = (coef + x1 * np.log(0.5) + xlogy(z + y4, th / 4) + xlogy(y2 + y3, (1 - th) / 4))
        return np.where(valid, lj, -np.inf)

    def expected_stats(self, x, resp):
        z, valid = self._z(x)
        y1, y2, y3, y4 = (x[:, j, None] for j in range(4))
        n = y1 + y2 + y3 + y4
        x1 = np.maximum(y1 - z, 0)
        coef = gammaln(n + 1) - gammaln(x1 + 1) - gammaln(z + 1) - gammaln(y2 + 1) - gammaln(y3 + 1) - gammaln(y4 + 1)
        q = np.where(valid, resp, 0.0)
        ez = float((q * z).sum())
        return {"z": ez, "half": float((q * x1).sum()), "y23": float(x[:, 1:3].sum()), "y4": float(x[:, 3].sum()),
                "const": float((q * np.where(valid, coef, 0.0)).sum()), "n": float(len(x))}

    def expected_log_joint(self, stats, params):
        th = params.theta[..., 0]
        return (stats["const"] + stats["half"] * np.log(0.5) + xlogy(stats["z"] + stats["y4"], th / 4)
                + xlogy(stats["y23"], (1 - th) / 4))

    def m_step_from_stats(self, stats, params, fixed):
        if fixed["theta"].all():
            return params
        num = stats["z"] + stats["y4"]
        den = num + stats["y23"]
        return LinkageParams(np.array([num / den]) if den > 0 else params.theta)

    def floored(self, stats, params) -> bool:
        return False

    def sample(self, params, n_samples, rng):
        """Draw ``n_samples`` individuals: one row of four counts, and the latent split z."""
        rng = check_rng(rng)
        n = check_int(n_samples, "n_samples", 1, 10_000_000)
        th = float(params.theta[0])
        cells = rng.multinomial(n, [0.5, th / 4, (1 - th) / 4, (1 - th) / 4, th / 4])
        y = np.array([[cells[0] + cells[1], cells[2], cells[3], cells[4]]], dtype=float)
        return y, np.array([cells[1]])


MODELS: dict[str, Model] = {m.name: m for m in (GaussianMixture1D(), GaussianMixture2D(), TwoCoins(), GeneticLinkage())}


def get_model(name: str) -> Model:
    """The model called ``name`` (one of ``gmm1d``, ``gmm2d``, ``coins``, ``linkage``)."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"model: expected one of {sorted(MODELS)}, got {name!r}") from None
