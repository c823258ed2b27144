"""Tests for v1lab.cells.hh_waveform: the pop of a Hodgkin–Huxley spike."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from v1lab import audio
from v1lab import cells as hh

# --------------------------------------------------------------------------------------
# The pop
# --------------------------------------------------------------------------------------


def test_hh_pop_is_biphasic_negative_first_and_0p5_to_2_ms():
    fs = 44100
    w = hh.make_hh_spike_waveform(fs)
    shape = hh.HHSpikeShape.make()
    k0 = int(np.ceil(shape.pre_s * fs))
    assert w[k0] == pytest.approx(-1.0, abs=1e-12) and w.min() == pytest.approx(-1.0)
    assert 0.5e-3 <= shape.duration_s <= 2e-3
    assert 0.1e-3 <= shape.trough_to_peak_s <= 0.6e-3  # 0.3 ms here; cortex 0.2–0.6 ms
    # Biphasic: ignoring the < 2 % edges, one negative lobe, then one positive lobe.
    signs = np.sign(w[np.abs(w) > 0.02])
    assert signs[0] == -1 and np.count_nonzero(np.diff(signs)) == 1
    assert 0.1 < w.max() < 0.6  # repolarisation lobe smaller than the trough
    # It is the membrane's own -C dV/dt: the trough is at the fastest upstroke.
    tr = hh.sim_action_potential(dt_s=1e-6)
    dvdt = np.gradient(tr.v_mv[0], 1e-3)
    f = hh.compute_spike_features(tr.v_mv[0], tr.dt_s)
    t_fastest = np.argmax(dvdt) * tr.dt_s
    assert f["t_threshold_s"] < t_fastest < f["t_peak_s"]
    # Band-passed like every pop (the monitor's 100–7000 Hz), it stays negative first.
    sos = signal.butter(2, audio.MONITOR_BAND_HZ, btype="bandpass", fs=fs, output="sos")
    y = signal.sosfilt(sos, np.concatenate([w, np.zeros(200)]))
    assert np.argmin(y) < np.argmax(y) and -y.min() > y.max()


def _render_with_hh_pop(trains, duration_s, monkeypatch, **kw):
    """Render through v1lab.audio with the Hodgkin–Huxley waveform (its waveform= hook)."""
    return audio.render_spikes(trains, duration_s, waveform=hh.HHSpikeShape.make(), **kw)


def test_hh_pop_passes_the_audio_loudness_limits(monkeypatch):
    fs = 44100
    rng = np.random.default_rng(5)
    # One isolated spike: peaks at level_dbfs (the renderer's fixed gain).
    one = _render_with_hh_pop(
        [np.array([0.25])], 0.5, monkeypatch, hiss_level=0.0, amplitude_jitter=0.0, rng=rng
    )
    assert 20 * np.log10(np.abs(one).max()) == pytest.approx(-12.0, abs=0.5)
    # A dense discharge of 50 cells at 100 spikes/s: the limiter holds −1 dBFS.
    trains = [np.sort(rng.uniform(0, 1.0, 100)) for _ in range(50)]
    loud = _render_with_hh_pop(trains, 1.0, monkeypatch, rng=rng)
    assert loud.shape == (fs,) and np.isfinite(loud).all()
    assert np.abs(loud).max() <= 10 ** (-1 / 20) + 1e-6
