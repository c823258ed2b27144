"""Helpers shared by the modules of :mod:`v1lab.analysis` (not part of its public API)."""

from __future__ import annotations

import numpy as np

__all__ = ["nan_argmax"]


def nan_argmax(t: np.ndarray) -> np.ndarray:
    """Index of the largest finite value along axis 0 (NaN counts as −∞)."""
    return np.argmax(np.where(np.isfinite(t), t, -np.inf), axis=0)
