"""Contrast response: the Naka–Rushton function and its fit (Albrecht & Hamilton 1982).

References
----------
Albrecht DG, Hamilton DB (1982) Striate cortex of monkey and cat: contrast response
function. J Neurophysiol 48:217-237.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["NakaRushtonFit", "compute_naka_rushton_fit", "make_naka_rushton"]


def make_naka_rushton(
    contrast: Any, *, r_max: float, c50: float, n: float, baseline: float = 0.0
) -> np.ndarray:
    """The Naka–Rushton (hyperbolic ratio) function ``b + R_max c^n / (c^n + c50^n)``.

    Albrecht & Hamilton (1982) showed it describes V1 contrast responses.

    Examples
    --------
    >>> make_naka_rushton([0.0, 0.2, 1.0], r_max=40, c50=0.2, n=2).round(3).tolist()
    [0.0, 20.0, 38.462]
    """
    c = np.maximum(np.asarray(contrast, dtype=float), 0.0)
    cn = c**n
    return baseline + r_max * cn / (cn + c50**n)


@dataclass(frozen=True)
class NakaRushtonFit:
    """A fitted contrast-response function (:func:`compute_naka_rushton_fit`)."""

    r_max: float
    c50: float
    n: float
    baseline: float
    r2: float

    def __call__(self, contrast: Any) -> np.ndarray:
        return make_naka_rushton(
            contrast, r_max=self.r_max, c50=self.c50, n=self.n, baseline=self.baseline
        )


def compute_naka_rushton_fit(
    contrast: Any, response: Any, *, baseline: float | None = 0.0
) -> NakaRushtonFit:
    """Fit the Naka–Rushton function to a contrast-response curve by least squares.

    Parameters
    ----------
    contrast, response : array_like (n,)
        Contrasts (0–1, sign ignored) and responses (NaN ignored).
    baseline : float or None
        Fixed baseline (0 for responses with the spontaneous rate subtracted), or None
        to fit it.

    Returns
    -------
    NakaRushtonFit
        All NaN with fewer points than parameters or no response.

    Examples
    --------
    >>> c = np.array([0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0])
    >>> fit = compute_naka_rushton_fit(c, make_naka_rushton(c, r_max=50, c50=0.15, n=2.5))
    >>> round(fit.c50, 4), round(fit.n, 3), round(fit.r_max, 2)
    (0.15, 2.5, 50.0)
    """
    from scipy.optimize import least_squares

    c = np.abs(np.asarray(contrast, dtype=float).ravel())
    r = np.asarray(response, dtype=float).ravel()
    ok = np.isfinite(c) & np.isfinite(r)
    c, r = c[ok], r[ok]
    n_params = 3 if baseline is not None else 4
    nan = math.nan
    if len(c) < n_params or np.ptp(r) <= 0 or np.max(r) <= (baseline or 0.0):
        return NakaRushtonFit(nan, nan, nan, nan, nan)
    b0 = float(baseline) if baseline is not None else float(np.min(r))
    top = float(np.max(r) - b0)
    half = b0 + 0.5 * top
    order = np.argsort(c)
    above = np.flatnonzero(r[order] >= half)
    c50_0 = float(c[order][above[0]]) if len(above) else float(np.median(c))

    def model(x: np.ndarray) -> np.ndarray:
        b = baseline if baseline is not None else x[3]
        return make_naka_rushton(c, r_max=x[0], c50=x[1], n=x[2], baseline=b)

    x0 = [top * 1.1, max(c50_0, 0.01), 2.0] + ([] if baseline is not None else [b0])
    lo = [0.0, 1e-3, 0.3] + ([] if baseline is not None else [-np.inf])
    hi = [10.0 * top + 1e-9, 10.0, 10.0] + ([] if baseline is not None else [np.inf])
    x0 = np.clip(x0, lo, hi)
    fit = least_squares(lambda x: model(x) - r, x0, bounds=(lo, hi), x_scale="jac")
    total = float(np.sum((r - r.mean()) ** 2))
    r2 = 1.0 - float(np.sum(fit.fun**2)) / total
    b = float(baseline) if baseline is not None else float(fit.x[3])
    return NakaRushtonFit(float(fit.x[0]), float(fit.x[1]), float(fit.x[2]), b, r2)
