"""Parameter sets and markers shared by the Hodgkin–Huxley tests of tests/cells."""

from __future__ import annotations

import pytest

from v1lab import cells as hh

SQUID = hh.HHParameters(temperature_c=6.3)  # the 1952 model, as published
DEFAULT = hh.HHParameters()  # 16.3 °C: the effective temperature v1lab uses

HAVE_NUMBA = hh.hh_backend() == "numba"
numba_only = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed (or V1LAB_NUMBA=0)")


def heavy(test):
    """Hundreds of neuron-seconds: ~1 s with numba; on the numpy back-end (~20 s) the
    test joins the ``slow`` set (deselect with -m "not slow")."""
    return test if HAVE_NUMBA else pytest.mark.slow(test)
