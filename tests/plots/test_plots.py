"""Figures: every plot function draws data with labelled axes; a run writes its figures."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display in tests

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import check_figure_has_data

import v1lab.plots as plots_module
from v1lab.analysis import (
    compute_gabor_fit,
    compute_metrics,
    compute_naka_rushton_fit,
    compute_spot_maps,
    compute_sta,
    compute_von_mises_fit,
    make_gabor,
    make_von_mises,
)
from v1lab.analysis.maps import compute_map_summary, compute_pinwheels
from v1lab.experiment import run_protocol
from v1lab.model.maps import make_orientation_field, make_sheet_positions
from v1lab.plots import (
    plot_cell_contrast,
    plot_cell_spot_maps,
    plot_cell_sta,
    plot_cell_tuning,
    plot_contrast_overlay,
    plot_contrast_response,
    plot_f1_f0_histogram,
    plot_length_tuning,
    plot_orientation_map,
    plot_population_length_tuning,
    plot_population_summary,
    plot_population_tuning,
    plot_psth,
    plot_raster,
    plot_selectivity_map,
    plot_sheet_maps,
    plot_spot_map,
    plot_sta,
    plot_tuning_curve,
    plot_tuning_polar,
    save_run_figures,
)
from v1lab.protocol import parse_protocol

RETINA = {"extent_deg": 6.0, "lgn_extent_deg": 3.0}
TWO_CELLS = [
    {"type": "simple", "orientation_deg": 30.0},
    {"type": "complex", "orientation_deg": 100.0},
]


def _run(stimuli, *, cells=TWO_CELLS, n_trials=2, population=None, retina=RETINA):
    data = {
        "name": "plots", "seed": 3, "retina": retina,
        "population": population or {"cells": cells},
        "trials": {"n_trials": n_trials, "isi_s": 0.5}, "stimuli": stimuli,
    }  # fmt: skip
    return run_protocol(parse_protocol(data))


@pytest.fixture(scope="module")
def gratings():
    return _run([{
        "kind": "grating", "spatial_frequency_cpd": [0.4, 0.8, 1.6], "temporal_frequency_hz": 4.0,
        "duration_s": 0.5, "contrast": [0.1, 0.3, 1.0],
        "direction_deg": {"start": 0, "stop": 360, "step": 45},
    }])  # fmt: skip


@pytest.fixture(scope="module")
def spots():
    grid = {"start": -0.9, "stop": 1.0, "step": 0.6}
    return _run([
        {"kind": "spot", "contrast": [1.0, -1.0], "radius_deg": 0.3, "duration_s": 0.1,
         "x_deg": grid, "y_deg": grid},
        {"kind": "full_field", "contrast": [1.0, -1.0], "duration_s": 0.1},
    ])  # fmt: skip


@pytest.fixture(scope="module")
def noise():
    return _run([{"kind": "sparse_noise", "grid_size": 8, "square_deg": 0.4, "density": 0.3,
                  "duration_s": 10.0, "noise_seed": [1, 2]}], n_trials=1)  # fmt: skip


@pytest.fixture(scope="module")
def bars():
    return _run([{"kind": "bar", "orientation_deg": 90.0, "direction_deg": 0.0, "speed_deg_s": 4.0,
                  "width_deg": 0.4, "duration_s": 1.0, "length_deg": [0.5, 1.5, 3.0]}],
                cells=[{"type": "end_stopped", "orientation_deg": 90.0},
                       {"type": "complex", "orientation_deg": 90.0}])  # fmt: skip


@pytest.fixture(scope="module")
def sheet():
    population = {"layout": "orientation_map", "n_cells": 144, "sheet_size_mm": 2.0,
                  "magnification_mm_per_deg": 2.0, "type_fractions": {"complex": 1.0}}  # fmt: skip
    return _run([{"kind": "grating", "spatial_frequency_cpd": 0.8, "temporal_frequency_hz": 4.0,
                  "duration_s": 0.5, "direction_deg": {"start": 0, "stop": 360, "step": 30}}],
                population=population)  # fmt: skip


def _check_axes(fig) -> None:
    """Every panel of a figure has data and a y label (colour bars excepted)."""
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.get_visible()]
    assert panels
    for ax in panels:
        assert ax.has_data(), ax
        if getattr(ax, "name", "") != "polar":
            assert ax.get_ylabel(), ax


# --------------------------------------------------------------------------------------
# Single panels
# --------------------------------------------------------------------------------------


def test_tuning_curves_with_their_fits():
    a = np.arange(0, 360, 30.0)
    r = make_von_mises(a, preferred_deg=60, kappa=2.0, amplitude=20, baseline=1, period=360.0)
    fit = compute_von_mises_fit(a, r, period=360.0)
    ax = plot_tuning_curve(a, r, r * 0.1, fit=fit, baseline_hz=1.0)
    check_figure_has_data(ax)
    assert any(line.get_label() == "fit" for line in ax.get_lines())
    ax = plot_tuning_polar(a, r, r * 0.1, fit=fit, marker_deg=60.0)
    check_figure_has_data(ax)
    ax = plot_tuning_curve(np.array([0.4, 0.8, 1.6]), np.array([3.0, 9, 4]), log_x=True,
                           xlabel="Spatial frequency (cycles/deg)")  # fmt: skip
    check_figure_has_data(ax)
    assert ax.get_xscale() == "log"
    plt.close("all")


def test_raster_and_psth():
    ax = plot_raster([np.array([0.1, 0.3]), np.array([0.2])], duration_s=0.5)
    check_figure_has_data(ax)
    ax = plot_psth(np.arange(0.025, 1, 0.05), np.linspace(0, 10, 20), np.ones(20), duration_s=0.5)
    check_figure_has_data(ax)
    plt.close("all")


def test_population_histograms_shade_the_published_ranges():
    values = np.array([0.2, 0.4, 1.4, 1.6, 1.8, 7.0])
    ax = plot_f1_f0_histogram(values, np.array(["complex"] * 2 + ["simple"] * 4))
    check_figure_has_data(ax)
    assert any(abs(line.get_xdata()[0] - 1.0) < 1e-9 for line in ax.get_lines())  # boundary
    assert len(ax.patches) > 2
    metrics = {"hwhh_deg": np.array([12.0, 20, 25]), "f1_f0": values[:3], "dsi": np.array([0.1, 0.5, 0.2]),
               "cell_type": np.array(["simple", "complex", "simple"])}  # fmt: skip
    fig = plot_population_summary(metrics)
    _check_axes(fig)
    assert len(fig.axes) == 3
    assert plot_population_summary({"osi": np.ones(3)}) is None
    plt.close("all")


def test_contrast_overlay_and_contrast_response():
    o = np.arange(0, 180, 15.0)
    tunings = {
        c: c * make_von_mises(o, preferred_deg=45, kappa=2, amplitude=30) for c in (0.1, 0.3, 1)
    }
    ax = plot_contrast_overlay(o, tunings)
    check_figure_has_data(ax)
    assert len(ax.get_lines()) >= 3
    c = np.array([0.05, 0.1, 0.2, 0.5, 1.0])
    r = 40 * c**2 / (c**2 + 0.15**2)
    ax = plot_contrast_response(c, r, r * 0.1, fit=compute_naka_rushton_fit(c, r))
    check_figure_has_data(ax)
    ax = plot_length_tuning(np.array([0.5, 1, 2, 4]), np.array([5.0, 20, 10, 3]))
    check_figure_has_data(ax)
    plt.close("all")


def test_sta_and_orientation_maps():
    x = np.linspace(-1, 1, 9)
    image = make_gabor(*np.meshgrid(x, x[::-1]), orientation_deg=30)
    ax = plot_sta(image, x, x[::-1])
    check_figure_has_data(ax)
    assert np.isfinite(compute_gabor_fit(image, x, x[::-1]).r2)
    xs, ys = make_sheet_positions(40, 4.0)
    z = make_orientation_field(xs, ys, column_spacing_mm=1.0, rng=np.random.default_rng(0))
    theta = np.mod(np.rad2deg(np.angle(z)) / 2, 180)
    pw = compute_pinwheels(z, spacing=0.1)
    ax = plot_orientation_map(theta, spacing_mm=0.1, pinwheels=pw, selectivity=np.abs(z))
    check_figure_has_data(ax)
    ax = plot_selectivity_map(np.abs(z), spacing_mm=0.1, pinwheels=pw)
    check_figure_has_data(ax)
    plt.close("all")


# --------------------------------------------------------------------------------------
# Figures of real (tiny) runs
# --------------------------------------------------------------------------------------


def test_cell_tuning_card_and_population_grid(gratings):
    fig = plot_cell_tuning(gratings, 0)
    _check_axes(fig)
    # polar + direction + SF (TF has one value) + 2 × (raster, PSTH)
    assert len([a for a in fig.axes if a.get_label() != "<colorbar>"]) == 7
    _check_axes(plot_population_tuning(gratings))
    _check_axes(plot_cell_contrast(gratings, 1))
    plt.close("all")


def test_spot_map_and_sta_figures(spots, noise):
    maps = compute_spot_maps(spots)
    assert maps.on.shape == (4, 4, 2)
    ax = plot_spot_map(maps, 0, "diff")
    check_figure_has_data(ax)
    _check_axes(plot_cell_spot_maps(spots, 1, maps))
    _check_axes(plot_cell_sta(noise, 0, compute_sta(noise)))
    plt.close("all")


def test_length_and_sheet_figures(bars, sheet):
    _check_axes(plot_population_length_tuning(bars))
    fig_o, fig_s = plot_sheet_maps(compute_map_summary(sheet))
    _check_axes(fig_o)
    _check_axes(fig_s)
    plt.close("all")


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("gratings", {"tuning_cell_000", "tuning_cell_001", "population_tuning", "contrast_cell_000"}),
        ("spots", {"spot_maps_cell_000", "spot_maps_cell_001"}),
        ("noise", {"sta_cell_000", "sta_cell_001"}),
        ("bars", {"length_tuning"}),
        ("sheet", {"orientation_map", "selectivity_map", "population_tuning", "f1_f0",
                   "population_summary"}),
    ],
)  # fmt: skip
def test_save_run_figures_writes_what_each_protocol_needs(fixture, expected, request, tmp_path):
    recording = request.getfixturevalue(fixture)
    paths = save_run_figures(recording, tmp_path, compute_metrics(recording))
    stems = {p.stem for p in paths}
    assert expected <= stems
    assert all(p.suffix == ".png" and p.stat().st_size > 1000 for p in paths)
    if fixture == "sheet":  # per-cell figures for at most 16 cells
        assert len([s for s in stems if s.startswith("tuning_cell_")]) == 16


def test_svg_on_request(bars, tmp_path):
    paths = save_run_figures(bars, tmp_path, formats=("png", "svg"))
    assert sorted(p.name for p in paths) == ["length_tuning.png", "length_tuning.svg"]
    assert (tmp_path / "length_tuning.svg").read_text().lstrip().startswith("<?xml")


def test_docstring_examples_run():
    attempted = 0
    for info in pkgutil.iter_modules(plots_module.__path__):
        module = importlib.import_module(f"{plots_module.__name__}.{info.name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 0
    plt.close("all")
