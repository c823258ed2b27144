"""The length suppression index of an end-stopped and a plateauing cell."""

from __future__ import annotations

import numpy as np

from v1lab.analysis import compute_suppression_index


def test_suppression_index():
    lengths = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    stopped = np.array([5.0, 20.0, 12.0, 6.0, 4.0])
    plateau = np.array([3.0, 10.0, 18.0, 20.0, 20.0])
    si = compute_suppression_index(lengths, np.column_stack([stopped, plateau]), baseline=2.0)
    np.testing.assert_allclose(si, [1 - 2 / 18, 0.0])
