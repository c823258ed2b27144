"""The per-cell metrics table and the condition table of a small recorded protocol."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.analysis import compute_condition_table, compute_metrics, compute_width_limit_deg
from v1lab.experiment import run_protocol
from v1lab.protocol import parse_protocol


@pytest.fixture(scope="module")
def grating_recording():
    data = {
        "name": "gratings",
        "seed": 4,
        "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
        "population": {"cells": [
            {"type": "simple", "orientation_deg": 30.0},
            {"type": "complex", "orientation_deg": 120.0},
        ]},
        "trials": {"n_trials": 4, "isi_s": 0.5},
        "stimuli": [{"kind": "grating", "spatial_frequency_cpd": 0.8, "temporal_frequency_hz": 4.0,
                     "duration_s": 1.0, "direction_deg": {"start": 0, "stop": 360, "step": 30},
                     "contrast": [0.1, 0.3, 1.0]}],
    }  # fmt: skip
    return run_protocol(parse_protocol(data))


def test_metrics_of_a_grating_contrast_series(grating_recording):
    m = compute_metrics(grating_recording)
    assert m["cell_type"].tolist() == ["simple", "complex"]
    for name in ("f1_f0", "hwhh_deg", "c50_measured", "nr_exponent", "hwhh_deg_c010",
                 "hwhh_deg_c100", "preferred_orientation_fit_deg", "fano_factor"):  # fmt: skip
        assert name in m and len(m[name]) == 2
    assert m["f1_f0"][0] > 1.0 > m["f1_f0"][1]  # Skottun et al. (1991)
    err = (m["preferred_orientation_fit_deg"] - m["preferred_orientation_deg"] + 90) % 180 - 90
    assert np.all(np.abs(err) < 10)
    assert np.all(m["g_osi"] > 0.3)


def test_widths_finer_than_the_sampling_are_reported_as_a_limit(grating_recording):
    # 30° direction steps: orientations 30° apart, so widths below 15° are not measured.
    directions = np.arange(0.0, 360.0, 30.0)
    assert compute_width_limit_deg(np.mod(directions - 90.0, 180.0)) == 15.0
    m = compute_metrics(grating_recording)
    hwhh, below = m["hwhh_deg"], m["hwhh_below_deg"]
    assert np.all(np.isfinite(hwhh) ^ np.isfinite(below))  # each cell one or the other
    assert np.all(hwhh[np.isfinite(hwhh)] >= 15.0)
    assert np.all(below[np.isfinite(below)] == 15.0)
    assert np.all(np.isnan(m["bandwidth_deg"][np.isfinite(below)]))
    # These two model cells are tuned more sharply than 30° sampling can tell.
    assert np.isfinite(below).sum() == 2
    for name in ("hwhh_deg_c010", "hwhh_deg_c030", "hwhh_deg_c100"):
        widths = m[name]
        assert np.all(widths[np.isfinite(widths)] >= 15.0)


def test_condition_table_lists_every_condition(grating_recording):
    table = compute_condition_table(grating_recording)
    assert len(table["stimulus_condition_id"]) == 36
    assert set(table["contrast"]) == {0.1, 0.3, 1.0}
