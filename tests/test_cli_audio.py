"""The sound of a run: audio/ in the run folder, --listen, --play and its failure paths."""

from __future__ import annotations

import re
import sys

import _audio_stack
import numpy as np
import pytest

from v1lab.audio import load_wav, make_demo_conditions, save_run_audio
from v1lab.audio.run_audio import DEMO_PAUSE_S
from v1lab.cli import main
from v1lab.experiment import run_protocol
from v1lab.protocol import dump_toml, parse_protocol

jack_server = _audio_stack.jack_server  # fixture: a private dummy jackd

TINY = {
    "name": "tiny_sound",
    "seed": 4,
    "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
    "population": {
        "cells": [
            {"type": "complex", "orientation_deg": 0.0},
            {"type": "simple", "orientation_deg": 90.0},
        ]
    },
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


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny_sound.toml"
    path.write_text(dump_toml(TINY))
    return path


@pytest.fixture(scope="module")
def recording():
    return run_protocol(parse_protocol(TINY))


def test_run_folder_has_session_condition_and_demo_wavs(tiny, tmp_path):
    out = tmp_path / "run"
    assert main(["--protocol", str(tiny), "--out", str(out), "--quiet", "--listen", "0"]) == 0
    names = sorted(p.name for p in (out / "audio").iterdir())
    assert names == [
        "demo_cell_000.wav",
        "orientation_000_dir_090.wav",
        "orientation_000_dir_270.wav",
        "orientation_090_dir_000.wav",
        "orientation_090_dir_180.wav",
        "session.wav",
    ]
    session, fs = load_wav(out / "audio" / "session.wav")
    assert fs == 44100
    assert abs(len(session) / fs - 4 * 2 * 1.5 - 0.5) < 1 / fs + 1e-9  # the whole session
    assert np.abs(session).max() <= 10 ** (-1 / 20) + 1 / 32767  # never above −1 dBFS


def test_no_audio_writes_no_wavs(tiny, tmp_path):
    out = tmp_path / "run"
    assert main(["--protocol", str(tiny), "--out", str(out), "--quiet", "--no-audio"]) == 0
    assert not (out / "audio").exists()


def test_condition_wav_is_aligned_on_the_onset(recording, tmp_path):
    cell = 0
    result = save_run_audio(recording, tmp_path, cell=cell, neighbours=False)
    p = recording.presentations
    fs = 44100
    for cid, path in enumerate(result["conditions"]):
        audio, _ = load_wav(path)
        first = int(np.flatnonzero(p["stimulus_condition_id"] == cid)[0])
        onset = p["start_time"][first]
        spikes = recording.spike_times[cell]
        spikes = spikes[(spikes >= onset) & (spikes < onset + len(audio) / fs)] - onset
        # Pops are negative-first; their troughs are the samples far below the hiss.
        trough = np.flatnonzero(
            (audio < -0.5 * np.abs(audio).max())
            & (audio <= np.roll(audio, 1))
            & (audio <= np.roll(audio, -1))
        )
        if len(spikes) == 0:
            continue
        for t in spikes[(spikes > 0.02) & (spikes < len(audio) / fs - 0.02)]:
            assert np.min(np.abs(trough / fs - t)) < 1e-3  # every spike is heard at its time


def test_demo_hiss_runs_through_the_pause(recording, tmp_path):
    # Like session.wav, the demonstration is one recording: the amplifier's hiss does not
    # stop (or fade) between the preferred and the contrasting condition; only the very
    # start and end fade.
    result = save_run_audio(recording, tmp_path, cell=0, neighbours=False)
    demo, fs = load_wav(result["demo"])
    first = float(
        recording.presentations["start_time"][1] - recording.presentations["start_time"][0]
    )
    assert len(demo) == round(first * fs) * 2 + round(DEMO_PAUSE_S * fs)  # part, pause, part
    hiss_rms = 0.05 * 10 ** (-12 / 20)  # default hiss_level × the peak of one unit spike
    ramp = round(0.01 * fs)  # the fades at the very start and end
    inner = demo[ramp : len(demo) - ramp].astype(float)
    win = round(0.005 * fs)
    rms = np.sqrt(np.mean(inner[: len(inner) // win * win].reshape(-1, win) ** 2, axis=1))
    quiet = np.flatnonzero(rms < 0.5 * hiss_rms)
    assert quiet.size == 0, f"silent or faded 5-ms windows at {(ramp + quiet * win) / fs} s"


def test_listen_out_of_range_is_one_line(tiny, tmp_path, capsys):
    assert main(["--protocol", str(tiny), "--out", str(tmp_path / "r"), "--listen", "7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--listen = 7" in err


def test_play_without_a_device_still_completes_and_says_why(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(["--protocol", str(tiny), "--out", str(out), "--play", "--device", "no-such-device"])
        == 0
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if "not playing" in line]
    # The one line names the fix this machine needs: PortAudio first, then a device.
    fix = "libportaudio2" if _portaudio_missing() else "--device"
    assert len(lines) == 1 and fix in lines[0], lines
    assert (out / "audio" / "session.wav").is_file()


def _portaudio_missing() -> bool:
    try:
        import sounddevice  # noqa: F401
    except (OSError, ImportError):  # OSError: the module is there, libportaudio is not
        return True
    return False


def test_play_without_portaudio_still_completes_and_says_why(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if libportaudio2 were missing
    out = tmp_path / "run"
    assert main(["--protocol", str(tiny), "--out", str(out), "--play"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "not playing" in line]
    assert len(lines) == 1 and "libportaudio2" in lines[0]
    assert (out / "audio" / "session.wav").is_file()


@pytest.mark.audio
def test_play_demo_through_a_real_device(tiny, tmp_path, capsys, jack_server):
    out = tmp_path / "run"
    assert (
        main(
            [
                "--protocol",
                str(tiny),
                "--out",
                str(out),
                "--play",
                "--device",
                str(jack_server.device),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Playing cell" in printed and "not playing" not in printed
    # One line with what the device itself reported: its xruns (that they are 0 on this
    # card: test_audio_device.py), the ring buffer's underflows, the measured latency.
    played = [line for line in printed.splitlines() if line.startswith("v1lab: played ")]
    assert len(played) == 1, printed
    match = re.search(r": (\d+) xruns, (\d+) underflows, latency ([\d.]+) ms", played[0])
    assert match, played[0]
    underflows, latency_ms = int(match[2]), float(match[3])
    assert underflows == 0 and 0 < latency_ms < 100, played[0]


@pytest.mark.audio
def test_list_devices_shows_the_virtual_card(jack_server, capsys):
    assert main(["--list-devices"]) == 0
    assert "JACK" in capsys.readouterr().out


def _short_run(stimuli, cells):
    data = {
        "name": "demo_pairs", "seed": 6,
        "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
        "population": {"cells": cells}, "trials": {"n_trials": 3, "isi_s": 0.3},
        "stimuli": stimuli,
    }  # fmt: skip
    return run_protocol(parse_protocol(data))


def test_length_demo_plays_the_best_bar_then_the_longest(tmp_path):
    # Hubel & Wiesel (1965): an end-stopped cell falls silent when the slit grows long.
    rec = _short_run(
        [{"kind": "bar", "direction_deg": 0.0, "speed_deg_s": 4.0, "duration_s": 1.5,
          "width_deg": 0.4, "length_deg": [0.5, 1.5, 6.0]}],
        [{"type": "end_stopped", "orientation_deg": 90.0}],
    )  # fmt: skip
    best, longest = make_demo_conditions(rec, 0)
    lengths = [c.length_deg for c in rec.conditions]
    assert lengths[longest] == 6.0 and lengths[best] < 6.0
    result = save_run_audio(rec, tmp_path, cell=0)
    assert result["demo"].name == "demo_cell_000.wav"
    assert "longest (6°)" in result["demo_text"]
    # The demo is the best bar, a pause, then the longest: more spikes in the first half.
    spikes = rec.spike_counts()[:, 0]
    cid = rec.presentations["stimulus_condition_id"]
    assert spikes[cid == best].mean() > 2 * spikes[cid == longest].mean()


def test_spot_demo_plays_the_opposite_sign_at_the_same_place(tmp_path):
    rec = _short_run(
        [{"kind": "spot", "contrast": [1.0, -1.0], "radius_deg": 0.3, "duration_s": 0.2,
          "x_deg": [-0.6, 0.0, 0.6], "y_deg": 0.0}],
        [{"type": "simple", "orientation_deg": 90.0, "phase_deg": 0.0}],
    )  # fmt: skip
    best, other = make_demo_conditions(rec, 0)
    a, b = rec.conditions[best], rec.conditions[other]
    assert (a.x_deg, a.y_deg, a.radius_deg) == (b.x_deg, b.y_deg, b.radius_deg)
    assert a.contrast == -b.contrast
    text = save_run_audio(rec, tmp_path, cell=0)["demo_text"]
    assert "then a dark one" in text or "then a light one" in text


def test_nothing_to_contrast_means_no_demo(tmp_path):
    rec = _short_run([{"kind": "full_field", "contrast": 1.0, "duration_s": 0.2}],
                     [{"type": "complex", "orientation_deg": 0.0}])  # fmt: skip
    assert make_demo_conditions(rec, 0) is None
    result = save_run_audio(rec, tmp_path, cell=0)
    assert result["demo"] is None and result["demo_text"] is None
    assert not list((tmp_path / "audio").glob("demo_*"))
