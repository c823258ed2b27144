"""recording.nwb as the DANDI archive's gate reads it: nwbinspector with the DANDI config.

Every shipped preset, shrunk to a few cells, conditions and one trial (the file's layout
depends on the stimulus kinds and the population layout, not on their number), must give
no CRITICAL message and no BEST_PRACTICE_VIOLATION. Suggestions (all-NaN stimulus columns
of the data contract, no experimenter) are allowed, as DANDI allows them.
"""

from __future__ import annotations

import numpy as np
import pytest
from _nwb_check import blocking, inspect

from v1lab.experiment import run_protocol
from v1lab.io import save_nwb
from v1lab.protocol import list_protocols, load_lab_data, load_protocol, parse_protocol

nwbinspector = pytest.importorskip("nwbinspector")

# The visual presets (lab protocols, lab = "...", write their own files: see below).
PRESETS = sorted(name for name, _ in list_protocols() if load_lab_data(name) is None)


def shrink_protocol(name: str, **spiking: object) -> dict:
    """The preset's resolved protocol with few cells, two values per swept stimulus
    parameter, presentations of at most 0.5 s and one trial."""
    data = load_protocol(name).to_dict()
    data["trials"]["n_trials"] = 1
    population = data["population"]
    if "cells" in population:
        population["cells"] = population["cells"][:2]
        population["n_cells"] = 2
    else:
        population["n_cells"] = 4  # a perfect square: a sheet accepts it too
    data["retina"]["extent_deg"] = min(data["retina"]["extent_deg"], 6.0)
    data["retina"]["lgn_extent_deg"] = min(data["retina"]["lgn_extent_deg"], 4.0)
    for block in data["stimuli"]:
        for key, value in list(block.items()):
            if isinstance(value, list):
                block[key] = value[:2]
        block["duration_s"] = np.minimum(block["duration_s"], 0.5).tolist()
    data["spiking"].update(spiking)
    return data


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_passes_nwbinspector_with_the_dandi_config(name, tmp_path):
    recording = run_protocol(parse_protocol(shrink_protocol(name)))
    assert sum(len(t) for t in recording.spike_times) > 0  # a file with spikes to check
    save_nwb(recording, tmp_path / "recording.nwb")
    assert blocking(inspect(tmp_path / "recording.nwb")) == []


def test_the_inspector_would_catch_a_file_without_subject_or_resolution(tmp_path):
    # The check above can fail: the file v1lab wrote before had 1 CRITICAL (no subject)
    # and 1 BEST_PRACTICE_VIOLATION (Units.resolution unset).
    from datetime import UTC, datetime

    from pynwb import NWBHDF5IO, NWBFile

    nwb = NWBFile(session_description="x", identifier="x", session_start_time=datetime.now(UTC))
    nwb.add_unit(spike_times=[0.1, 0.2])
    with NWBHDF5IO(str(tmp_path / "bare.nwb"), "w") as io:
        io.write(nwb)
    found = {m.split(":")[0] for m in blocking(inspect(tmp_path / "bare.nwb"))}
    assert found == {
        "CRITICAL check_subject_exists",
        "BEST_PRACTICE_VIOLATION check_units_resolution_is_set",
    }


@pytest.mark.parametrize(
    ("model", "step"),
    [
        ("poisson", None),
        ("lif", "dt_s"),
        # ~20 s here, mostly compiling the Hodgkin–Huxley kernels.
        pytest.param("hodgkin_huxley", "hh_dt_s", marks=pytest.mark.slow),
    ],
)
def test_units_resolution_is_the_simulation_step(model, step, tmp_path):
    from pynwb import NWBHDF5IO

    data = shrink_protocol("hubel_wiesel_bars", model=model)
    recording = run_protocol(parse_protocol(data))
    save_nwb(recording, tmp_path / "recording.nwb")
    assert blocking(inspect(tmp_path / "recording.nwb")) == []
    with NWBHDF5IO(str(tmp_path / "recording.nwb"), "r") as io:
        nwb = io.read()
        resolution = nwb.units.resolution
        trains = list(nwb.units["spike_times"][:])
        subject = nwb.subject
        assert (subject.species, subject.sex, subject.age) == ("Felis catus", "U", "P1Y/")
        assert subject.subject_id == f"simulated-seed{data['seed']}"
        assert nwb.session_id == f"hubel-wiesel-bars-seed{data['seed']}"
        assert all(p.startswith("doi:10.") for p in nwb.related_publications)
    if step is None:  # continuous-time events: the float64 clock at the session's end
        assert resolution == np.spacing(recording.duration_s) and resolution < 1e-12
    else:
        assert resolution == data["spiking"][step]
    for train in trains:  # strictly ascending, as NWB asks
        assert np.all(np.diff(train) > 0)


def test_the_subject_is_the_protocols_species(tmp_path):
    from pynwb import NWBHDF5IO

    data = shrink_protocol("hubel_wiesel_bars", model="poisson")
    data["population"]["species"] = "macaque"
    recording = run_protocol(parse_protocol(data))
    save_nwb(recording, tmp_path / "recording.nwb")
    assert blocking(inspect(tmp_path / "recording.nwb")) == []
    with NWBHDF5IO(str(tmp_path / "recording.nwb"), "r") as io:
        subject = io.read().subject
        assert subject.species == "Macaca mulatta" and "macaque V1" in subject.description
