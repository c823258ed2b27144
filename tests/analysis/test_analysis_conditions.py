"""Factorial designs: tuning through each cell's preferred condition, and protocols' designs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from v1lab.analysis import compute_design, compute_factorial_tuning
from v1lab.protocol import load_protocol


def test_factorial_tuning_reads_each_cell_through_its_own_preferred_condition():
    table = {
        "stimulus_condition_id": np.arange(6),
        "stimulus": np.array(["grating"] * 6),
        "direction_deg": np.array([0.0, 90, 180, 0, 90, 180]),
        "orientation_deg": np.array([90.0, 0, 90, 90, 0, 90]),
        "spatial_frequency_cpd": np.array([0.4, 0.4, 0.4, 0.8, 0.8, 0.8]),
    }
    mean = np.array([[1.0, 9], [5, 2], [1, 1], [2, 3], [8, 1], [2, 1]])
    values, m, _ = compute_factorial_tuning(table, mean, mean, "direction_deg")
    np.testing.assert_allclose(values, [0, 90, 180])
    np.testing.assert_allclose(m[:, 0], [2, 8, 2])  # cell 0 prefers 0.8 cpd
    np.testing.assert_allclose(m[:, 1], [9, 2, 1])  # cell 1 prefers 0.4 cpd
    _, m, _ = compute_factorial_tuning(table, mean, mean, "spatial_frequency_cpd")
    np.testing.assert_allclose(m, [[5, 9], [8, 3]])
    _, m, _ = compute_factorial_tuning(table, mean, mean, "direction_deg",
                                       fixed={"spatial_frequency_cpd": 0.4})  # fmt: skip
    np.testing.assert_allclose(m[:, 0], [1, 5, 1])


def test_each_shipped_protocol_declares_the_design_it_is_for():
    def design(name):
        p = load_protocol(name)
        return compute_design(SimpleNamespace(conditions=p.conditions(), protocol=p))

    assert design("hubel_wiesel_bars").direction_kind == "bar"
    d = design("drifting_gratings")
    assert d.direction_kind == "grating" and d.gratings and d.sf_tuning and d.tf_tuning
    assert design("contrast_series").contrast_series
    assert design("length_tuning").length_tuning
    d = design("spot_map")
    assert d.spot_map and d.diffuse and d.direction_kind is None
    assert design("sparse_noise").sparse_noise
    d = design("orientation_map")
    assert d.sheet and d.direction_kind == "grating"
