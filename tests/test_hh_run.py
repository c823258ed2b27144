"""A whole run with Hodgkin–Huxley spiking: protocol field, CLI flag, figure and pops."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab import ParameterError
from v1lab.audio import load_wav, make_run_waveform
from v1lab.cells import HHSpikeShape
from v1lab.cli import main
from v1lab.experiment import run_protocol
from v1lab.protocol import dump_toml, parse_protocol

HH = {
    "name": "tiny_hh",
    "seed": 8,
    "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
    "population": {"cells": [{"type": "complex", "orientation_deg": 0.0}]},
    "spiking": {"model": "hodgkin_huxley"},
    "trials": {"n_trials": 2, "isi_s": 0.5},
    "stimuli": [
        {
            "kind": "bar",
            "speed_deg_s": 4.0,
            "duration_s": 1.0,
            "direction_deg": [0.0, 90.0, 180.0, 270.0],
        }
    ],
}


@pytest.fixture(scope="module")
def recording():
    return run_protocol(parse_protocol(HH))


def test_hh_run_fires_for_the_preferred_slit(recording):
    counts = recording.spike_counts()[:, 0]
    directions = recording.presentations["direction_deg"]
    preferred = counts[np.isin(directions, (90.0, 270.0))].sum()  # a horizontal slit moving up/down
    orthogonal = counts[np.isin(directions, (0.0, 180.0))].sum()
    assert preferred > 3 * max(orthogonal, 1)
    assert np.all(np.diff(recording.spike_times[0]) >= 0.002)


def test_hh_run_pops_are_the_cells_own_spike(recording):
    shape = make_run_waveform(recording)
    assert isinstance(shape, HHSpikeShape)
    assert 0.5e-3 <= shape.duration_s <= 2e-3


def test_hh_protocol_round_trips_and_checks_its_fields():
    p = parse_protocol(HH)
    assert parse_protocol(__import__("tomllib").loads(p.to_toml())) == p
    assert p.spiking.params()["dt_s"] == 2.5e-5
    bad = {**HH, "spiking": {"model": "hodgkin_huxley", "hh_dt_s": 1e-4}}
    with pytest.raises(ParameterError, match=r"spiking\.hh_dt_s = 0\.0001"):
        parse_protocol(bad)


@pytest.mark.slow
def test_cli_spiking_flag_writes_the_membrane_figure(tmp_path):
    proto = dict(HH, spiking={"model": "poisson"})
    path = tmp_path / "p.toml"
    path.write_text(dump_toml(proto))
    out = tmp_path / "run"
    assert (
        main(["--protocol", str(path), "--out", str(out), "--quiet", "--spiking", "hodgkin_huxley"])
        == 0
    )
    assert 'model = "hodgkin_huxley"' in (out / "protocol.toml").read_text()
    assert (out / "figures" / "membrane.png").is_file()
    audio, _ = load_wav(out / "audio" / "session.wav")
    assert np.abs(audio).max() <= 10 ** (-1 / 20) + 1 / 32767
