"""Orientation-map sheets: the sheet, its protocol option, and a measured sheet."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import v1lab.model.maps as maps_module
from v1lab._validate import ParameterError
from v1lab.analysis import compute_map_summary, compute_metrics
from v1lab.experiment import run_protocol
from v1lab.model.maps import make_map_population, make_sheet_positions, sheet_side
from v1lab.protocol import parse_protocol


def test_sheet_population_follows_the_map_and_the_retinotopy():
    pop = make_map_population(
        900, np.random.default_rng(3), sheet_size_mm=3.0, magnification_mm_per_deg=2.0,
        rf_scatter_deg=0.0, center_deg=(1.0, -0.5),
    )  # fmt: skip
    x_mm, y_mm = make_sheet_positions(30, 3.0)
    np.testing.assert_allclose(pop.x_deg, 1.0 + (x_mm.ravel() - 1.5) / 2.0)
    np.testing.assert_allclose(pop.y_deg, -0.5 + (y_mm.ravel() - 1.5) / 2.0)
    theta = pop.orientation_deg.reshape(30, 30)
    # Neighbouring cells prefer similar orientations (a smooth map, not salt and pepper).
    step = np.abs((np.diff(theta, axis=1) + 90) % 180 - 90)
    assert np.median(step) < 10.0
    again = make_map_population(900, np.random.default_rng(3), sheet_size_mm=3.0)
    np.testing.assert_array_equal(again.orientation_deg, pop.orientation_deg)


def test_sheets_need_a_square_number_of_cells():
    assert sheet_side(400) == 20
    with pytest.raises(ParameterError, match="perfect square"):
        sheet_side(401)


SHEET = {
    "name": "small_map",
    "seed": 1992,
    "retina": {"extent_deg": 8.0, "lgn_extent_deg": 5.0},
    "population": {
        "layout": "orientation_map", "n_cells": 900, "sheet_size_mm": 3.0,
        "column_spacing_mm": 1.0, "magnification_mm_per_deg": 2.0, "rf_scatter_deg": 0.1,
        "type_fractions": {"simple": 0.5, "complex": 0.5},
    },
    "trials": {"n_trials": 2, "isi_s": 0.5},
    "stimuli": [{"kind": "grating", "spatial_frequency_cpd": 0.8, "temporal_frequency_hz": 4.0,
                 "duration_s": 1.0, "direction_deg": {"start": 0, "stop": 360, "step": 30}}],
}  # fmt: skip


def test_the_sheet_layout_is_a_protocol_option_that_round_trips():
    protocol = parse_protocol(SHEET)
    assert protocol.population.layout == "orientation_map"
    assert 'layout = "orientation_map"' in protocol.to_toml()
    bad = {**SHEET, "population": {**SHEET["population"], "n_cells": 901}}
    with pytest.raises(ParameterError, match="perfect square"):
        parse_protocol(bad)
    ordinary = parse_protocol({**SHEET, "population": {"n_cells": 4}})
    assert "layout" not in ordinary.to_toml()  # scatter protocols' TOML is unchanged


def test_a_measured_sheet_recovers_the_map_and_its_pinwheels():
    recording = run_protocol(parse_protocol(SHEET))
    metrics = compute_metrics(recording)
    assert {"sheet_x_mm", "sheet_y_mm"} <= set(metrics)
    err = (metrics["preferred_orientation_measured_deg"] - metrics["preferred_orientation_deg"]
           + 90) % 180 - 90  # fmt: skip
    assert np.median(np.abs(err)) < 8.0
    summary = compute_map_summary(recording, metrics)
    assert len(summary.true_pinwheels) > 10
    assert len(summary.pinwheels) == pytest.approx(len(summary.true_pinwheels), rel=0.25)
    assert summary.column_spacing_mm == pytest.approx(1.0, rel=0.15)
    assert 2.0 < summary.pinwheel_density < 4.5


def test_docstring_examples_run():
    result = doctest.testmod(maps_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
