"""The synapse lab's entry point: validation first, then a complete run folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from v1lab._validate import ParameterError
from v1lab.io import RunFolderExistsError, load_npz, load_nwb_tables
from v1lab.synapse.lab import run_lab_protocol

STIMULI = Path(__file__).resolve().parents[2] / "stimuli"

SMALL_SUMMATION = {
    "lab": "synapse",
    "experiment": "synaptic_summation",
    "description": "small",
    "seed": 3,
    "epsp": {"synchronous_n": [1, 5], "pair_intervals_ms": [0, 10]},
    "spike_probability": {
        "cells": ["rs"],
        "n_max": 60,
        "n_step": 6,
        "n_trials": 10,
        "jitter_ms": [0.0],
    },
    "nmda": {"holding_mv": [-80, -40]},
}
SMALL_LGN = {
    "lab": "synapse",
    "experiment": "lgn_to_simple_cell",
    "seed": 2,
    "circuits": {"push_pull": [0.0]},
    "gratings": {
        "orientations_deg": [0, 45, 90, 135],
        "contrasts": [1.0],
        "duration_s": 0.5,
        "n_trials": 1,
    },
    "slits": {"n_trials": 1, "speed_deg_s": 8.0},
}


def test_shipped_protocols_parse():
    from v1lab.synapse.spec import parse_lab_protocol

    for name in ("synaptic_summation", "lgn_to_simple_cell"):
        data = tomllib.loads((STIMULI / f"{name}.toml").read_text())
        assert parse_lab_protocol(data, name=name).experiment == name


def test_summation_run_folder_is_complete_and_reproducible(tmp_path):
    out = []

    class Sink:
        def write(self, text):
            out.append(text)

    a, b = tmp_path / "a", tmp_path / "b"
    assert run_lab_protocol(SMALL_SUMMATION, a, name="small", out=Sink()) == 0
    assert run_lab_protocol(SMALL_SUMMATION, b, name="small", quiet=True) == 0
    for f in ("protocol.toml", "recording.nwb", "recording.npz", "presentations.csv",
              "spatial_summation.csv", "temporal_summation.csv", "spike_probability.csv",
              "sigmoid_fits.csv", "inhibition.csv", "nmda.csv", "report.html",
              "figures/spike_probability.png", "audio/n_inputs_sweep.wav"):  # fmt: skip
        assert (a / f).is_file(), f
        if f.endswith((".csv", ".toml")):
            assert (a / f).read_text() == (b / f).read_text(), f
    assert not list(tmp_path.glob(".*"))  # no temporary folder left
    tables = load_nwb_tables(a / "recording.nwb")
    npz = load_npz(a / "recording.npz")
    assert len(npz["spike_times"]) == 1 and npz["spike_times"][0].size > 0
    assert set(tables) >= {"units", "trials"}
    # the resolved protocol reproduces the run
    again = tomllib.loads((a / "protocol.toml").read_text())
    assert again["seed"] == 3 and again["epsp"]["synchronous_n"] == [1, 5]
    assert "Passive cell" in "".join(out)
    html = (a / "report.html").read_text()
    assert "audio/n_inputs_sweep.wav" in html and "figures/nmda.png" in html


@pytest.mark.slow
def test_lgn_run_folder(tmp_path):
    folder = tmp_path / "lgn"
    circuits = {"push_pull": [0.0, 0.0], "vm_noise_sd_mv": [0.0, 2.0], "background_ns": [0, 20]}
    run_lab_protocol({**SMALL_LGN, "circuits": circuits}, folder, name="lgn", quiet=True)
    noisy = "feedforward_noise_2mv_background_20ns"
    for f in ("tuning_widths.csv", "grating_responses.csv", "lgn_inputs.csv", "slits.csv",
              "vm_to_rate.csv", "pair_efficacy.csv", "pair_window.csv",
              "contrast_invariance.csv", "figures/orientation_tuning.png",
              "audio/aligned_slit_feedforward.wav", "audio/crossed_slit_feedforward.wav",
              f"audio/aligned_slit_{noisy}.wav"):  # fmt: skip
        assert (folder / f).is_file(), f
    rows = (folder / "pair_window.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[2].startswith(noisy)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"epsp": {"unitary_mv": -1}}, "epsp.unitary_mv"),
        ({"epsp": {"synchronous_n": [0, 5]}}, "epsp.synchronous_n"),
        ({"spike_probability": {"cells": ["squid"]}}, "spike_probability.cells"),
        ({"spike_probability": {"p_release": 1.5}}, "spike_probability.p_release"),
        ({"nmda": {"mg": 1.0}}, "nmda.mg"),
        ({"inhibition": {"inhibitory_ns": "lots"}}, "inhibition.inhibitory_ns"),
        ({"cell": "pyramid"}, "cell"),
        ({"experiment": "voltage_clamp"}, "experiment"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_protocol_is_refused_before_anything_runs(tmp_path, change, field):
    data = {**SMALL_SUMMATION, **change}
    with pytest.raises(ParameterError) as err:
        run_lab_protocol(data, tmp_path / "run", name="bad", quiet=True)
    assert err.value.field == field
    assert "\n" not in str(err.value)
    assert not any(tmp_path.iterdir())


def test_lgn_fields_are_named(tmp_path):
    for change, field in (
        ({"simple_cell": {"sigma_deg": 0}}, "simple_cell.sigma_deg"),
        ({"simple_cell": {"push_pull": 1.0}}, "simple_cell.push_pull"),
        ({"gratings": {"contrasts": [2.0]}}, "gratings.contrasts"),
        ({"circuits": {"push_pull": []}}, "circuits.push_pull"),
        ({"retina": {"lgn_extent_deg": 9.0}}, "retina.lgn_extent_deg"),
    ):
        with pytest.raises(ParameterError) as err:
            run_lab_protocol({**SMALL_LGN, **change}, tmp_path / "run", name="bad", quiet=True)
        assert err.value.field == field


def test_existing_folder_is_not_overwritten(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(RunFolderExistsError):
        run_lab_protocol(SMALL_SUMMATION, folder, name="small", quiet=True)
    assert (folder / "keep.txt").read_text() == "mine"


def test_the_lab_nwb_passes_nwbinspector_with_the_dandi_config(tmp_path):
    """No CRITICAL and no BEST_PRACTICE_VIOLATION, as for the visual presets."""
    import tomllib

    from _nwb_check import blocking, inspect

    from v1lab.protocol import find_protocol
    from v1lab.synapse import run_lab_protocol

    data = tomllib.loads(find_protocol("touch_receptor").read_text(encoding="utf-8"))
    assert run_lab_protocol(data, tmp_path / "run", name="touch_receptor", quiet=True) == 0
    assert blocking(inspect(tmp_path / "run" / "recording.nwb")) == []
