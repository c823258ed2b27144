"""Helpers shared by the spike-generator tests of tests/cells."""

from __future__ import annotations

import numpy as np

from v1lab.cells.trains import SpikeTrains


def within_train_isis(st: SpikeTrains) -> np.ndarray:
    """All interspike intervals, with the gaps across train boundaries removed."""
    diffs = np.diff(st.times_s)
    boundary = st.indptr[1:-1] - 1  # diff index that straddles two trains
    keep = np.ones(diffs.size, dtype=bool)
    keep[boundary[(boundary >= 0) & (boundary < diffs.size)]] = False
    return diffs[keep]
