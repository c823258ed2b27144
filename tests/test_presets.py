"""The shipped protocols: they load, and each shows its classic result on a small scale."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from v1lab.analysis import compute_metrics
from v1lab.experiment import run_protocol
from v1lab.model.stimulus import RetinaGrid, SparseNoise, render_frames
from v1lab.protocol import list_protocols, load_protocol, parse_protocol

STIMULI = Path(__file__).resolve().parents[1] / "stimuli"
PRESETS = (
    "hubel_wiesel_bars", "spot_map", "drifting_gratings", "contrast_series", "length_tuning",
    "sparse_noise", "orientation_map",
)  # fmt: skip
SIMPLE_LIKE = ("simple", "ds_simple")


def _preset(name: str, **overrides) -> dict:
    with open(STIMULI / f"{name}.toml", "rb") as fh:
        data = tomllib.load(fh)
    for key, value in overrides.items():
        data[key] = value
    return data


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_and_documents_itself(name):
    protocol = load_protocol(name)
    assert protocol.name == name
    assert protocol.description
    text = (STIMULI / f"{name}.toml").read_text()
    assert text.startswith(f"# {name} — ")  # a header that says what the protocol shows
    assert "What to look for" in text or name == "hubel_wiesel_bars"
    assert name in dict(list_protocols())


def test_sparse_noise_renders_its_pattern_exactly():
    noise = SparseNoise(grid_size=4, square_deg=1.0, density=0.5, frame_duration_s=0.1,
                        duration_s=0.3, noise_seed=2)  # fmt: skip
    grid = RetinaGrid(extent_deg=4.0, pixels_per_deg=2.0)  # 2 × 2 pixels per square
    frames = render_frames(noise, grid, [0.0, 0.05, 0.1, 0.25, 0.3])
    pattern = noise.pattern()
    np.testing.assert_allclose(frames[0][::2, ::2], pattern[0])
    np.testing.assert_allclose(frames[1], frames[0])  # same noise frame
    np.testing.assert_allclose(frames[2][1::2, 1::2], pattern[1])
    np.testing.assert_allclose(frames[3][::2, ::2], pattern[2])
    assert not frames[4].any()  # off after duration_s
    assert SparseNoise(noise_seed=2, duration_s=0.3).pattern().shape == (8, 12, 12)


# --------------------------------------------------------------------------------------
# Each protocol on a small population shows its qualitative result
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_spot_map_simple_cells_have_separate_on_and_off_subregions():
    # H&W (1959): antagonistic, side-by-side ON and OFF subregions in simple cells,
    # overlapping ones in complex cells; diffuse light barely drives either.
    data = _preset("spot_map", retina={"extent_deg": 8.0, "lgn_extent_deg": 5.0})
    rec = run_protocol(parse_protocol(data))
    m = compute_metrics(rec)
    simple = np.isin(m["cell_type"], SIMPLE_LIKE)
    # Every simple cell's ON and OFF maps are anticorrelated (a light and a dark spot
    # move its rate in opposite directions); complex cells' maps coincide.
    assert np.all(m["on_off_corr"][simple] < 0.0) and np.all(m["on_off_corr"][~simple] > 0.4)
    # The overlap index reads one centroid per sign, so an even-symmetric simple cell
    # (flanks on both sides of the centre) reads as overlapping; the odd-symmetric ones
    # (side-by-side ON and OFF subregions) must overlap less than any complex cell.
    oi = m["overlap_index"]
    phase = np.mod(rec.population.phase_deg, 180.0)
    odd = (rec.population.cell_type == "simple") & (np.abs(phase - 90.0) < 1e-9)
    assert odd.sum() >= 2
    assert np.nanmax(oi[odd]) < 0.4 < np.nanmin(oi[~simple])
    assert np.median(m["diffuse_ratio"][simple]) < 0.2


@pytest.mark.slow
def test_drifting_gratings_f1_f0_separates_simple_from_complex_cells():
    data = _preset(
        "drifting_gratings",
        population={"n_cells": 8, "rf_scatter_deg": 0.3, "type_fractions": {"simple": 0.5, "complex": 0.5}},
        trials={"n_trials": 4, "isi_s": 0.5},
    )  # fmt: skip
    data["stimuli"][0].update(direction_deg={"start": 0, "stop": 360, "step": 45},
                              temporal_frequency_hz=4.0)  # fmt: skip
    m = compute_metrics(run_protocol(parse_protocol(data)))
    simple = m["cell_type"] == "simple"
    # Skottun et al. (1991) classified cells that responded: cells whose surround
    # (Cavanaugh et al. 2002a) all but silences them for a full-field grating give F1
    # and F0 of a few spikes, which 4 trials cannot tell apart. Responsive: F0 + F1 (the
    # peak of the response's fundamental) at least 5 spikes/s above spontaneous at the
    # preferred condition.
    f0 = m["peak_rate_hz"] - m["spontaneous_rate_hz"]
    responsive = f0 * (1.0 + m["f1_f0"]) >= 5.0
    assert np.sum(responsive & simple) >= 2 and np.sum(responsive & ~simple) >= 2
    f1_f0 = m["f1_f0"]
    assert np.all(f1_f0[simple & responsive] > 1.0)
    assert np.all(f1_f0[~simple & responsive] < 1.0)
    ratio = m["spatial_frequency_measured_cpd"] / m["spatial_frequency_cpd"]
    assert np.mean((ratio > 0.5) & (ratio < 2.0)) >= 0.75  # SF tuning peaks near the truth
    assert np.median(m["g_osi"]) > 0.3


@pytest.mark.slow
def test_contrast_series_width_is_contrast_invariant_and_the_response_saturates():
    cells = [
        {"type": "complex", "orientation_deg": 40.0, "ny": 0.35, "c50": 0.1, "exponent": 2.5},
        {"type": "complex", "orientation_deg": 120.0, "ny": 0.35, "c50": 0.25, "exponent": 2.0},
    ]
    data = _preset("contrast_series", population={"cells": cells},
                   trials={"n_trials": 4, "isi_s": 0.5})  # fmt: skip
    # The curve's shape is the model's; the trial-to-trial gain (tested in tests/cells)
    # would add a 10 % SD to each 4-trial mean, which on the plateau of a c50 = 0.1 cell
    # is as large as the rise left to fit. Six contrasts, two per octave of the rise.
    data["spiking"]["gain_sd"] = 0.0
    data["stimuli"][0].update(contrast=[0.03, 0.06, 0.12, 0.25, 0.5, 1.0],
                              direction_deg={"start": 0, "stop": 360, "step": 22.5})  # fmt: skip
    m = compute_metrics(run_protocol(parse_protocol(data)))
    # Sclar & Freeman (1982): the same width at 12 % as at 100 % contrast (and widths
    # the 11.25° limit of this sampling resolves, not NaN = unresolved).
    assert np.all(np.isfinite(m["hwhh_deg_c012"])) and np.all(np.isfinite(m["hwhh_deg_c100"]))
    np.testing.assert_allclose(m["hwhh_deg_c012"], m["hwhh_deg_c100"], rtol=0.25)
    # A saturating Naka–Rushton curve whose c50 is the model cell's.
    assert np.all(m["nr_r2"] > 0.9)
    np.testing.assert_allclose(m["c50_measured"], m["c50"], rtol=0.5)


@pytest.mark.slow
def test_length_tuning_end_stopped_cells_peak_and_fall():
    # A plateauing cell's SI from spike counts is biased up by the noise of its peak (the
    # largest of five noisy means); its noise-free SI is at most 0.05 here. Over seeds
    # 1965, 1, 2 and 3 it reached 0.49 at 6 repeats and 0.31 at 16. Repeats cost only
    # spikes: each condition's rates are computed once.
    data = _preset("length_tuning", trials={"n_trials": 16, "isi_s": 0.5})
    data["population"]["cells"] = data["population"]["cells"][:2] + data["population"]["cells"][3:6]
    data["stimuli"][0].update(direction_deg=0.0, length_deg=[0.5, 1.0, 1.5, 3.0, 6.0])
    m = compute_metrics(run_protocol(parse_protocol(data)))
    stopped = m["cell_type"] == "end_stopped"
    assert np.all(m["suppression_index"][stopped] > 0.5)  # Hubel & Wiesel (1965)
    assert np.all(m["suppression_index"][~stopped] < 0.35)
    assert np.all(m["optimal_length_deg"][stopped] <= 3.0)  # short slits are best


@pytest.mark.slow
def test_sparse_noise_sta_of_simple_cells_is_a_gabor():
    cells = [
        {"type": "simple", "orientation_deg": 30.0, "phase_deg": 0.0, "c50": 0.1},
        {"type": "simple", "orientation_deg": 120.0, "phase_deg": 90.0, "c50": 0.1},
        {"type": "complex", "orientation_deg": 75.0, "c50": 0.1},
    ]
    data = _preset("sparse_noise", population={"cells": cells})
    data["stimuli"][0]["noise_seed"] = {"start": 1, "stop": 17, "step": 1}  # 4 minutes
    m = compute_metrics(run_protocol(parse_protocol(data)))
    simple = m["cell_type"] == "simple"
    assert np.all(m["gabor_r2"][simple] > 0.5)  # Jones & Palmer (1987)
    assert m["gabor_r2"][~simple].max() < m["gabor_r2"][simple].min()
    err = (m["gabor_orientation_deg"] - m["preferred_orientation_deg"] + 90) % 180 - 90
    assert np.all(np.abs(err[simple]) < 15)
    # The STA's envelope is the RF's widened by the normalisation: a small square on the
    # RF's flank is divided by the flank's own share of the pool, so the map falls off
    # more slowly than the linear RF (measured 0.43 and 0.60 against 0.40); within 60 %.
    np.testing.assert_allclose(m["gabor_nx"][simple], m["nx"][simple], rtol=0.6)
    assert np.all((m["sta_lag_s"][simple] > 0.0) & (m["sta_lag_s"][simple] < 0.1))
