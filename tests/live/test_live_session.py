"""Choosing the live cells and saving a session: the trials table, NWB, NPZ, WAV, CSV and
JSON of the run folder."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.io import load_npz, load_nwb_tables
from v1lab.live import (
    Guess,
    KeyEvent,
    LiveAnalysis,
    LiveEngine,
    LiveState,
    MouseEvent,
    ScrollEvent,
    compute_presentations,
    handle_key,
    handle_mouse_move,
    handle_scroll,
    load_session_log,
    make_live_config,
    save_live_session,
)
from v1lab.protocol import load_protocol, parse_protocol

# --------------------------------------------------------------------------------------
# Cells, sessions, files
# --------------------------------------------------------------------------------------


def test_live_cells_are_the_protocol_s_cells():
    protocol = load_protocol("hubel_wiesel_bars")
    config = make_live_config(protocol, cell=5)
    assert config.protocol_cells[0] == 5 and len(config.protocol_cells) == 4
    assert config.amplitudes[0] == 1.0 and all(0 < a < 1 for a in config.amplitudes[1:])
    seq = np.random.SeedSequence(protocol.seed).spawn(4)[0]
    full = protocol.population.make(np.random.default_rng(seq))
    for row, index in enumerate(config.protocol_cells):
        assert config.population.x_deg[row] == full.x_deg[index]
        assert config.population.cell_type[row] == full.cell_type[index]
    default = make_live_config(protocol)
    assert default.protocol_cells[0] == int(np.argmin(np.hypot(full.x_deg, full.y_deg)))
    with pytest.raises(ParameterError, match="--listen"):
        make_live_config(protocol, cell=16)
    mystery = make_live_config(protocol, mystery=True, rng=np.random.default_rng(1))
    assert len(mystery.population) == 1 and mystery.protocol_cells == ()


def test_presentations_split_the_session_where_the_stimulus_changes():
    fs = 200.0
    rows = []

    def frames(n, *, on=1, ori=90.0, kind=0, x0=0.0, dx=0.0):
        for i in range(n):
            t = len(rows) / fs
            rows.append([t, kind, on, x0 + i * dx, 0.0, ori, 4.0, 0.5, 1.0, 0.8, 2.0, 0.0])

    frames(10, dx=0.02)  # a slit at 90°, moving at 4 deg/s
    frames(5, on=0)  # shutter closed
    frames(10)  # the same slit again: a repeat
    frames(4, ori=105.0)  # turned: a new condition, straight after
    frames(6, kind=1)  # a spot
    pres = compute_presentations(np.array(rows), fs)
    np.testing.assert_allclose(pres["start_time"], [0.0, 0.075, 0.125, 0.145])
    np.testing.assert_allclose(pres["stop_time"], [0.05, 0.125, 0.145, 0.175])
    assert pres["stimulus_condition_id"].tolist() == [0, 0, 1, 2]
    assert pres["repeat"].tolist() == [0, 1, 0, 0]
    assert pres["stimulus"].tolist() == ["bar", "bar", "bar", "spot"]
    assert pres["speed_deg_s"][0] == pytest.approx(4.0 * 9 / 10)
    assert np.isnan(pres["orientation_deg"][3]) and pres["radius_deg"][3] == 0.25
    assert np.isnan(pres["radius_deg"][0]) and pres["length_deg"][0] == 4.0
    empty = compute_presentations(np.zeros((0, 12)), fs)
    assert empty["start_time"].size == 0 and "orientation_deg" in empty


def test_saved_session_holds_trajectory_spikes_marks_and_sound(tmp_path):
    protocol = parse_protocol(
        {
            "name": "saved",
            "seed": 3,
            "retina": {"extent_deg": 6.0, "lgn_extent_deg": 4.0},
            "population": {"cells": [{"type": "complex", "orientation_deg": 90.0}]},
            "stimuli": [{"kind": "bar"}],
        }
    )
    config = make_live_config(protocol, cell=0)
    engine = LiveEngine(config, log_dir=tmp_path / "log")
    state = LiveState(extent_deg=6.0)
    an = LiveAnalysis(1)
    for x in np.linspace(-2, 2, 100):  # a sweep, then the slit turned and flashed
        handle_mouse_move(state, MouseEvent(float(x), 0.0))
        an.add(engine.step(state.params()))
    handle_key(state, KeyEvent("m"))
    state.marks.append(an.make_mark(state))
    handle_scroll(state, ScrollEvent(3.0))
    handle_key(state, KeyEvent(" "))
    for _ in range(20):
        engine.step(state.params())
    handle_key(state, KeyEvent(" "))
    for _ in range(30):
        engine.step(state.params())
    snap = engine.snapshot()
    out = tmp_path / "session"
    notes = {"audio": {"underflows": 0}, "guess": Guess(), "array": np.arange(3)}
    path = save_live_session(
        out, snap, protocol=protocol, population=config.population, marks=state.marks,
        notes=notes, figure_png=b"\x89PNG fake",
    )  # fmt: skip
    assert path == out
    names = {p.name for p in out.iterdir()}
    assert {"protocol.toml", "recording.nwb", "recording.npz", "presentations.csv",
            "trajectory.csv", "marks.csv", "live_session.json", "audio", "figures"} <= names  # fmt: skip

    log = load_session_log(snap)
    npz = load_npz(out / "recording.npz")
    np.testing.assert_allclose(npz["spike_times"][0], np.sort(log.spike_times))
    assert npz["duration_s"] == pytest.approx(1.5)
    tables = load_nwb_tables(out / "recording.nwb")
    assert tables["units"]["cell_type"][0] == "complex"
    assert tables["trials"]["orientation_deg"].tolist() == [90.0, 135.0]
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(out / "recording.nwb"), "r") as nwb_io:
        nwb = nwb_io.read()
        series = nwb.stimulus["stimulus_trajectory"]
        np.testing.assert_allclose(series.timestamps[:], np.arange(300) / 200.0)
        np.testing.assert_allclose(series.data[1:200:2, 2], np.linspace(-2, 2, 100))  # block ends
        marks = nwb.intervals["marks"]
        assert marks["mark"][:].tolist() == [state.marks[0].sign]
        assert marks["x_deg"][:].tolist() == [2.0]
    with wave.open(str(out / "audio" / "session.wav"), "rb") as wav:
        assert wav.getframerate() == 44100
        assert wav.getnframes() == 150 * 441 - engine.renderer.latency_samples
    facts = json.loads((out / "live_session.json").read_text())
    assert facts["audio"]["underflows"] == 0 and facts["array"] == [0, 1, 2]
    assert facts["n_spikes"] == [int(log.spike_times.size)]
    assert "cells" in (out / "protocol.toml").read_text()
    # Saving again replaces the folder only when asked to.
    with pytest.raises(FileExistsError):
        save_live_session(out, snap, protocol=protocol, population=config.population)
    save_live_session(out, engine.snapshot(), protocol=protocol,
                      population=config.population, overwrite=True)  # fmt: skip
    assert not (out / "figures").exists()
    engine.close()
    assert (tmp_path / "log").exists()  # a log the engine was given is the caller's
