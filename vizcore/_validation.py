"""Checks at the public boundary of vizcore.

Every error is a ``ValueError`` whose message names the parameter, says what
was expected and what was given, and, where there is one, the remedy.
Private inner functions trust their input (the scipy.stats habit).
"""
from __future__ import annotations

import numpy as np


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_array(value, name: str, *, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a finite float array, or raise a ValueError naming ``name``."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers, got {_shown(value)}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected an array with {ndim} dimension(s), got shape {arr.shape}")
    if shape is not None:
        want = tuple(arr.shape[i] if s is None else s for i, s in enumerate(shape))
        if arr.shape != want:
            raise ValueError(f"{name}: expected shape {want}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got NaN or infinity in {_shown(value)}")
    return arr


def check_probabilities(arr: np.ndarray, name: str, *, simplex: bool) -> None:
    if np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"{name}: expected values between 0 and 1, got {_shown(arr.tolist())}")
    if simplex and not np.isclose(arr.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(
            f"{name}: expected weights that sum to 1, got sum {arr.sum():.6g}; divide them by their sum"
        )


def check_positive(arr: np.ndarray, name: str) -> None:
    if np.any(arr <= 0):
        raise ValueError(f"{name}: expected values greater than 0, got {_shown(arr.tolist())}")


def check_int(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected a whole number from {lo} to {hi}, got {_shown(value)}")
    if not lo <= int(value) <= hi:
        raise ValueError(f"{name}: expected a whole number from {lo} to {hi}, got {value}")
    return int(value)


def check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng: expected a numpy.random.Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def readonly(arr) -> np.ndarray:
    out = np.array(arr, dtype=float)
    out.setflags(write=False)
    return out
