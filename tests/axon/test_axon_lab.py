"""The axon lab's entry point: a protocol in, a complete run folder out; bad input refused."""

from __future__ import annotations

import copy
import csv
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import correlate

from v1lab._validate import ParameterError
from v1lab.audio.wav import load_wav
from v1lab.axon.lab import run_lab_protocol
from v1lab.io import RunFolderExistsError

ROOT = Path(__file__).resolve().parents[2]

SMALL = {
    "lab": "axon",
    "description": "a short squid axon",
    "axon": {"kind": "unmyelinated", "length_mm": 30.0, "dx_um": 250.0},
    "run": {"duration_ms": 3.0, "dt_us": 25.0, "electrodes_mm": [10.0, 20.0]},
    "sound": {"fs_hz": 44100, "repeats": 2},
}


def _measurements(folder: Path) -> dict[str, float]:
    with open(folder / "measurements.csv") as fh:
        return {r["quantity"]: float(r["value"] or "nan") for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab") / "run"
    assert run_lab_protocol(SMALL, folder, name="small", quiet=True) == 0
    return folder


def test_run_folder_is_complete(small_run):
    names = {p.relative_to(small_run).as_posix() for p in small_run.rglob("*") if p.is_file()}
    for expected in (
        "protocol.toml",
        "measurements.csv",
        "recording.nwb",
        "report.html",
        "sound/electrodes.wav",
        "figures/space_time.png",
        "figures/snapshots.png",
        "figures/traces.png",
    ):
        assert expected in names
    assert not [p for p in small_run.parent.iterdir() if p.name.startswith(".")]
    assert tomllib.loads((small_run / "protocol.toml").read_text()) == SMALL


def test_stereo_delay_is_distance_over_velocity_within_half_a_sample(small_run):
    audio, fs = load_wav(small_run / "sound" / "electrodes.wav")
    assert audio.shape[1] == 2
    m = _measurements(small_run)
    v = m["velocity between electrodes 0 and 1"]
    expected = (10e-3 / v) * fs  # 10 mm apart
    # The lag of the right channel behind the left: cross-correlation peak.
    left, right = audio[:, 0].astype(float), audio[:, 1].astype(float)
    xc = correlate(right, left, mode="full", method="fft")
    lag = int(np.argmax(xc)) - (left.size - 1)
    assert abs(lag - expected) <= 0.5, (lag, expected)  # the issue asks for one sample


def test_nwb_holds_the_electrode_voltages(small_run):
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(small_run / "recording.nwb"), "r") as io:
        nwb = io.read()
        series = nwb.acquisition["V_electrode_1"]
        v = np.asarray(series.data[:]) * series.conversion * 1e3
        assert v.max() > 0 > v.min()  # a spike, in mV once converted
        assert "electrode_0" in nwb.icephys_electrodes


def test_existing_folder_is_not_overwritten(small_run):
    before = (small_run / "measurements.csv").read_bytes()
    with pytest.raises(RunFolderExistsError):
        run_lab_protocol(SMALL, small_run, name="small", quiet=True)
    assert (small_run / "measurements.csv").read_bytes() == before


def _bad(path: str, value):
    data = copy.deepcopy(SMALL)
    section, _, key = path.rpartition(".")
    target = data.setdefault(section, {}) if section else data
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("lab", "synapse"),
        ("description", ""),
        ("colour", "red"),
        ("axon.kind", "glass"),
        ("axon.diameter_um", -3.0),
        ("axon.length_mm", 0.0),
        ("axon.dx_um", 1e6),
        ("axon.n_nodes", 5),  # a myelinated field on an unmyelinated axon
        ("run.dt_us", 500.0),
        ("run.method", "runge_kutta"),
        ("run.duration_ms", "long"),
        ("run.electrodes_mm", [10.0, 99.0]),
        ("sound.electrodes", [0, 0]),
        ("sound.fs_hz", 8000),
        ("clinic.lower_limit_m_s", -5.0),
    ],
)
def test_bad_input_is_refused_in_one_line_before_any_work(tmp_path, path, value):
    folder = tmp_path / "run"
    with pytest.raises(ParameterError) as err:
        run_lab_protocol(_bad(path, value), folder, name="bad", quiet=True)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.split(" = ")[0].split("[")[0] == path, msg
    assert not folder.exists() and not list(tmp_path.iterdir())


def test_lesions_need_a_myelinated_axon(tmp_path):
    data = copy.deepcopy(SMALL)
    data["lesions"] = {"myelin_divisors": [1.0, 2.0]}
    with pytest.raises(ParameterError, match=r"^lesions = "):
        run_lab_protocol(data, tmp_path / "run", name="bad", quiet=True)


def test_clinic_refuses_a_thinning_series_on_a_bare_axon(tmp_path):
    data = copy.deepcopy(SMALL)
    data["clinic"] = {"myelin_insulations": [10.0]}
    with pytest.raises(ParameterError, match=r"^clinic\.myelin_insulations = "):
        run_lab_protocol(data, tmp_path / "run", name="bad", quiet=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["axon_conduction", "myelinated_axon", "demyelination", "nerve_conduction"]
)
def test_shipped_protocols_run(tmp_path, name):
    data = tomllib.loads((ROOT / "stimuli" / f"{name}.toml").read_text())
    assert run_lab_protocol(data, tmp_path / name, name=name, quiet=True) == 0
    m = _measurements(tmp_path / name)
    assert np.isfinite(m["velocity (fit, middle half)"])


def test_the_lab_nwb_passes_nwbinspector_with_the_dandi_config(tmp_path):
    """No CRITICAL and no BEST_PRACTICE_VIOLATION, as for the visual presets."""
    import tomllib

    from _nwb_check import blocking, inspect

    from v1lab.axon import run_lab_protocol
    from v1lab.protocol import find_protocol

    data = tomllib.loads(find_protocol("axon_conduction").read_text(encoding="utf-8"))
    data.pop("sweeps", None)  # the cable run alone writes the file
    assert run_lab_protocol(data, tmp_path / "run", name="axon_conduction", quiet=True) == 0
    assert blocking(inspect(tmp_path / "run" / "recording.nwb")) == []
