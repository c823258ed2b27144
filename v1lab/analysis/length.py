"""Length tuning: the suppression index of end-stopped cells (DeAngelis et al. 1994).

References
----------
DeAngelis GC, Freeman RD, Ohzawa I (1994) Length and width tuning of neurons in the
cat's primary visual cortex. J Neurophysiol 71:347-374.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["compute_suppression_index"]


def compute_suppression_index(lengths: Any, responses: Any, *, baseline: Any = 0.0) -> np.ndarray:
    """Length suppression index ``SI = 1 − (R_longest − b) / (R_peak − b)`` per cell.

    0 for a cell whose response rises and plateaus; near 1 for an end-stopped cell
    that the longest bar silences (DeAngelis, Freeman & Ohzawa 1994; Hubel & Wiesel
    1965's hypercomplex cells).

    Parameters
    ----------
    lengths : array_like (n_lengths,)
    responses : array_like (n_lengths, n_cells) or (n_lengths,)
    baseline : float or array_like (n_cells,)
        Spontaneous rate subtracted from both responses.

    Examples
    --------
    >>> L = np.array([0.5, 1.0, 2.0, 4.0])
    >>> compute_suppression_index(L, np.array([[5.0, 5.0], [20, 10], [10, 15], [4, 15]])).tolist()
    [0.8, 0.0]
    """
    L = np.asarray(lengths, dtype=float)
    r = np.asarray(responses, dtype=float).reshape(len(L), -1) - np.asarray(baseline, float)
    longest = r[np.argmax(np.where(np.isfinite(L), L, -np.inf))]
    peak = np.nanmax(np.where(np.isfinite(r), r, -np.inf), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(peak > 0, 1.0 - longest / peak, np.nan)
