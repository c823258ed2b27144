"""Tests for v1lab.cells.trains: the SpikeTrains container."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.cells.trains import SpikeTrains


def test_spiketrains_layout_and_methods():
    st = SpikeTrains(np.array([0.1, 0.4, 0.2, 0.3]), np.array([0, 2, 2, 3, 4]), 2, 2, 0.5)
    np.testing.assert_array_equal(st.train(0, 0), [0.1, 0.4])
    assert st.train(0, 1).size == 0
    np.testing.assert_array_equal(st.train(1, 1), [0.3])
    np.testing.assert_array_equal(st.counts(), [[2, 0], [1, 1]])
    assert st.counts().dtype == np.int64
    assert st.n_trains == 4 and st.n_spikes == 4
    moved = st.shifted(2.0)
    np.testing.assert_allclose(moved.times_s, st.times_s + 2.0)
    np.testing.assert_array_equal(moved.indptr, st.indptr)
    assert moved.duration_s == st.duration_s
    with pytest.raises(ValueError):
        st.times_s[0] = 1.0  # read-only
    with pytest.raises(ParameterError, match="trial"):
        st.train(2, 0)
    with pytest.raises(ParameterError, match="indptr"):
        SpikeTrains(np.array([0.1]), np.array([0, 2]), 1, 1, 1.0)
