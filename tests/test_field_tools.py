"""A run folder read by the field's tools: pynapple loads recording.nwb, and Elephant
(on Neo spike trains) measures it; both agree with what v1lab wrote in metrics.csv.

The README section "Analyse with the field's tools" shows these calls.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from v1lab.cli import save_recording_folder
from v1lab.experiment import run_protocol
from v1lab.protocol import parse_protocol

nap = pytest.importorskip("pynapple")

# metrics.csv holds 10 significant digits (v1lab.io.save_table_csv).
CSV_RTOL = 1e-9

GRATINGS = {
    "name": "field_tools",
    "seed": 7,
    "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
    "population": {"n_cells": 5, "rf_scatter_deg": 0.2,
                   "type_fractions": {"simple": 0.6, "complex": 0.4}},
    "trials": {"n_trials": 4, "isi_s": 0.3},
    "stimuli": [{"kind": "grating", "spatial_frequency_cpd": 0.8, "temporal_frequency_hz": 2.0,
                 "duration_s": 1.0, "direction_deg": {"start": 0, "stop": 360, "step": 45}}],
}  # fmt: skip


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    recording = run_protocol(parse_protocol(GRATINGS))
    return save_recording_folder(recording, tmp_path_factory.mktemp("field") / "run", audio=False)


@pytest.fixture(scope="module")
def metrics(run_folder):
    with open(run_folder / "metrics.csv") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def data(run_folder):
    return nap.load_file(str(run_folder / "recording.nwb"))


def test_pynapple_loads_units_with_ground_truth_and_the_presentations(data, run_folder):
    from v1lab.io import load_npz

    saved = load_npz(run_folder / "recording.npz")
    units, trials = data["units"], data["trials"]
    assert isinstance(units, nap.TsGroup) and isinstance(trials, nap.IntervalSet)
    assert list(units.keys()) == list(range(len(saved["spike_times"])))
    for cell, times in enumerate(saved["spike_times"]):
        np.testing.assert_array_equal(units[cell].t, times)
    for column in ("cell_type", "preferred_orientation_deg", "rf_x_deg", "phase_deg"):
        np.testing.assert_array_equal(units[column].to_numpy(), saved["units"][column])
    np.testing.assert_array_equal(trials.start, saved["trials"]["start_time"])
    np.testing.assert_array_equal(trials.end, saved["trials"]["stop_time"])
    for column in ("stimulus_condition_id", "stimulus", "direction_deg", "contrast"):
        np.testing.assert_array_equal(trials[column].to_numpy(), saved["trials"][column])


def _direction_tuning(data):
    """Mean rate per direction (unit × direction), through pynapple only."""
    units, trials = data["units"], data["trials"]
    directions = np.unique(trials["direction_deg"].to_numpy())
    epochs = {d: trials[trials["direction_deg"].to_numpy() == d] for d in directions}
    tuning = nap.compute_response_per_epoch(units, epochs)  # spikes/s, (unit, epochs)
    return directions, tuning.to_numpy()


def test_a_tuning_curve_through_pynapple_matches_metrics_csv(data, metrics):
    directions, tuning = _direction_tuning(data)
    assert tuning.shape == (len(metrics), 8)
    for cell, row in enumerate(metrics):
        curve = tuning[cell]
        best = int(np.argmax(curve))
        orth = np.mean([curve[(best + 2) % 8], curve[(best - 2) % 8]])  # ±90° at 45° steps
        null = curve[(best + 4) % 8]
        assert directions[best] == float(row["preferred_direction_measured_deg"])
        assert curve[best] == pytest.approx(float(row["peak_rate_hz"]), rel=CSV_RTOL)
        osi = (curve[best] - orth) / (curve[best] + orth)
        dsi = (curve[best] - null) / (curve[best] + null)
        assert osi == pytest.approx(float(row["osi"]), rel=CSV_RTOL)
        assert dsi == pytest.approx(float(row["dsi"]), rel=CSV_RTOL)
    # Not trivially equal: the cells are tuned, some sharply.
    assert max(float(r["osi"]) for r in metrics) > 0.5


def test_elephant_fano_factor_on_neo_spike_trains_matches_metrics_csv(data, metrics):
    neo = pytest.importorskip("neo")
    elephant_statistics = pytest.importorskip("elephant.statistics")
    units, trials = data["units"], data["trials"]
    condition = trials["stimulus_condition_id"].to_numpy()
    ids = np.unique(condition)
    epochs = {c: trials[condition == c] for c in ids}
    rates = nap.compute_response_per_epoch(units, epochs).to_numpy()
    checked = 0
    for cell, row in enumerate(metrics):
        best = trials[condition == ids[int(np.argmax(rates[cell]))]]
        trains = [
            neo.SpikeTrain(
                units[cell].restrict(best[i]).t, t_start=best.start[i], t_stop=best.end[i],
                units="s",
            )
            for i in range(len(best))
        ]  # fmt: skip
        fano = elephant_statistics.fanofactor(trains)
        n = len(trains)
        # Elephant divides the population variance (ddof=0); metrics.csv the sample
        # variance across repeats (ddof=1), as Tolhurst, Movshon & Dean (1983) did.
        if row["fano_factor"]:
            assert fano * n / (n - 1) == pytest.approx(float(row["fano_factor"]), rel=CSV_RTOL)
            checked += 1
    assert checked == len(metrics)
