"""The Naka–Rushton fit recovers the function it is fitted to."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.analysis import compute_naka_rushton_fit, make_naka_rushton


def test_naka_rushton_fit_recovers_its_parameters():
    c = np.array([0.03, 0.06, 0.1, 0.2, 0.3, 0.5, 1.0])
    r = make_naka_rushton(c, r_max=42.0, c50=0.18, n=2.7, baseline=3.0)
    fit = compute_naka_rushton_fit(c, r, baseline=None)
    assert (fit.r_max, fit.c50, fit.n, fit.baseline) == pytest.approx(
        (42.0, 0.18, 2.7, 3.0), rel=1e-4
    )
    assert fit.r2 == pytest.approx(1.0)
