"""Densities of a latent-variable model on a grid of x values (the data as a grid).

Pure numpy: the joint p(x, z = k | θ) = π_k p(x | z = k, θ), the marginal
p(x | θ) = Σ_k p(x, z = k | θ) and the posterior p(z | x, θ) across x are
computed by evaluating the model's own ``log_joint`` and
:func:`vizcore.posterior` on a grid of x values, so the curves a page draws are
exactly the numbers every other page uses.

Also small helpers the "latent-variable models" page needs: weights normalised
onto the simplex, a 2-D covariance from standard deviations and a correlation,
1-D and 2-D grids that resolve narrow components, and a histogram normalised as
a density.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_array, check_int
from .inference import _model, posterior


@dataclass(frozen=True)
class GridDensities:
    """A model's densities on a grid of G x values, for K latent values.

    ``joint[g, k] = p(x_g, z = k | θ) = π_k p(x_g | z = k, θ)`` (G, K);
    ``marginal[g] = p(x_g | θ) = Σ_k joint[g, k]`` (G,);
    ``resp[g, k] = p(z = k | x_g, θ)`` (G, K), rows summing to 1.
    """

    x: np.ndarray
    joint: np.ndarray
    marginal: np.ndarray
    resp: np.ndarray


def on_grid(model, params, x) -> GridDensities:
    """Joint, marginal and posterior of ``model`` at ``params`` on the grid ``x``.

    Parameters
    ----------
    model : str or Model
    params : the model's Params (or a mapping accepted by ``make_params``)
    x : array, a valid data set for the model: (G,) for ``gmm1d``, (G, 2) for
        ``gmm2d``, rows (heads, tosses) for ``coins``, rows of four counts for ``linkage``.

    Returns
    -------
    GridDensities

    Notes
    -----
    p(x, z = k | θ) = exp log_joint; p(x | θ) = Σ_k p(x, z = k | θ);
    p(z = k | x, θ) = p(x, z = k | θ) / p(x | θ) (Bayes' rule, in log space).
    """
    model = _model(model)
    params = params if isinstance(params, model.Params) else model.make_params(params)
    x = model.validate_data(x)
    with np.errstate(under="ignore"):
        joint = np.exp(np.asarray(model.log_joint(x, params), dtype=float))
    resp = posterior(model, x, params)
    return GridDensities(x=x, joint=joint, marginal=joint.sum(1), resp=resp)


def normalise_weights(raw) -> tuple[np.ndarray, bool]:
    """Weights divided by their sum; equal weights when all are zero.

    Returns ``(weights, fallback)`` where ``fallback`` says the equal weights were used.
    """
    w = as_array(raw, "weights", ndim=1)
    if w.size < 1:
        raise ValueError("weights: expected at least one number, got none")
    if np.any(w < 0):
        raise ValueError(f"weights: expected numbers ≥ 0, got {w.tolist()}")
    total = w.sum()
    if total <= 0:
        return np.full(w.size, 1.0 / w.size), True
    w = w / total
    return w / w.sum(), False


def covariance_2d(sd_x: float, sd_y: float, rho: float) -> np.ndarray:
    """Σ = [[σx², ρ σx σy], [ρ σx σy, σy²]] with σx, σy > 0 and −1 < ρ < 1."""
    sd_x, sd_y, rho = float(sd_x), float(sd_y), float(rho)
    if not (sd_x > 0 and sd_y > 0):
        raise ValueError(f"sd: expected standard deviations > 0, got ({sd_x}, {sd_y})")
    if not -1 < rho < 1:
        raise ValueError(f"rho: expected a correlation strictly between −1 and 1, got {rho}")
    c = rho * sd_x * sd_y
    return np.array([[sd_x * sd_x, c], [c, sd_y * sd_y]])


def grid_1d(lo: float, hi: float, means=(), sds=(), n: int = 300, per_component: int = 16) -> np.ndarray:
    """A sorted grid on [lo, hi]: ``n`` even points plus ``per_component`` points within ±4 sd of each mean.

    The extra points keep a narrow component's peak sharp while the whole grid
    stays short (at most n + K·per_component points).
    """
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        raise ValueError(f"grid: expected lo < hi, got lo={lo}, hi={hi}")
    n = check_int(n, "n", 2, 100_000)
    parts = [np.linspace(lo, hi, n)]
    for m, s in zip(np.atleast_1d(means), np.atleast_1d(sds)):
        parts.append(np.linspace(m - 4 * s, m + 4 * s, per_component))
    g = np.unique(np.concatenate(parts))
    return g[(g >= lo) & (g <= hi)]


def grid_2d(x_range, y_range, n: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Axes gx (n,), gy (n,) and the points (n·n, 2) in row-major order (rows follow gy)."""
    n = check_int(n, "n", 2, 2000)
    gx = np.linspace(float(x_range[0]), float(x_range[1]), n)
    gy = np.linspace(float(y_range[0]), float(y_range[1]), n)
    xx, yy = np.meshgrid(gx, gy)
    return gx, gy, np.column_stack([xx.ravel(), yy.ravel()])


def histogram_density(x, lo: float, hi: float, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and heights normalised so that Σ heights · width = fraction of x inside [lo, hi].

    Points outside [lo, hi] are not drawn but still count in N, so the bars stay
    comparable with a density that integrates to 1 over the whole line.
    """
    x = np.asarray(x, dtype=float).ravel()
    bins = check_int(bins, "bins", 1, 10_000)
    counts, edges = np.histogram(x, bins=bins, range=(float(lo), float(hi)))
    width = edges[1] - edges[0]
    dens = counts / (max(x.size, 1) * width)
    return 0.5 * (edges[:-1] + edges[1:]), dens
