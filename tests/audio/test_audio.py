"""Tests of v1lab.audio that need no sound card (device tests: test_audio_device.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from v1lab import ParameterError
from v1lab.audio import (
    AudioOutputError,
    AudioStream,
    SpikeAudioRenderer,
    _StreamDone,
    check_audio_output,
    electrode_amplitudes,
    list_devices,
    load_wav,
    make_spike_waveform,
    play_audio,
    render_spikes,
    save_wav,
)

FS = 44100
CEILING = 10 ** (-1 / 20)  # -1 dBFS
UNIT_PEAK = 10 ** (-12 / 20)  # default level_dbfs of one unit spike
REPO_ROOT = Path(__file__).resolve().parents[2]


def spaced_trains(rng, n_cells, duration_s, *, min_isi_s=0.004, mean_gap_s=0.04):
    """Spike trains whose spikes (all cells pooled) are at least ``min_isi_s`` apart."""
    gaps = min_isi_s + rng.exponential(mean_gap_s, size=int(duration_s / min_isi_s))
    times = 0.02 + np.cumsum(gaps)
    times = times[times < duration_s - 0.02]
    cell = rng.integers(0, n_cells, size=times.size)
    return [times[cell == c] for c in range(n_cells)], times


def poisson_trains(rng, n_cells, rate_hz, duration_s, t0=0.0):
    return [
        np.sort(rng.uniform(t0, t0 + duration_s, rng.poisson(rate_hz * duration_s)))
        for _ in range(n_cells)
    ]


def detect_pops(x, threshold):
    """Times (s) of the trough of each excursion below ``threshold`` (< 0)."""
    below = np.concatenate([[False], x < threshold, [False]])
    edges = np.flatnonzero(np.diff(below.astype(np.int8)))
    starts, stops = edges[::2], edges[1::2]
    return np.array([(s + np.argmin(x[s:e])) / FS for s, e in zip(starts, stops, strict=True)])


# --------------------------------------------------------------------------------------
# Waveform and amplitudes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fs", [44100, 48000])
def test_spike_waveform_is_biphasic_negative_first(fs):
    w = make_spike_waveform(fs)
    k_trough, k_peak = int(np.argmin(w)), int(np.argmax(w))
    assert w[k_trough] == pytest.approx(-1.0)
    assert k_trough < k_peak
    assert 0.3e-3 <= (k_peak - k_trough) / fs <= 0.5e-3
    assert 0.3 <= w[k_peak] <= 0.7  # smaller positive (repolarisation) phase
    assert 0.9e-3 <= w.size / fs <= 1.1e-3  # about 1 ms
    assert abs(w.sum()) < 0.05 * np.abs(w).sum()  # zero mean-ish
    assert w[0] == pytest.approx(0, abs=1e-3) and w[-1] == pytest.approx(0, abs=1e-3)


def test_spike_waveform_trough_to_peak_is_exact_at_high_rate():
    w = make_spike_waveform(192000, trough_to_peak_s=0.5e-3, duration_s=1e-3)
    assert (np.argmax(w) - np.argmin(w)) / 192000 == pytest.approx(0.5e-3, abs=1 / 192000)


def test_electrode_amplitudes_fall_off_with_distance():
    a = electrode_amplitudes([0, 25, 50, 100, 200], r0_um=50)
    np.testing.assert_allclose(a, 1 / (1 + (np.array([0, 25, 50, 100, 200]) / 50) ** 2))
    assert np.all(np.diff(a) < 0)
    np.testing.assert_allclose(
        electrode_amplitudes([0.05], unit="deg", um_per_deg=1000), electrode_amplitudes([50])
    )


# --------------------------------------------------------------------------------------
# Timing and shape of the pops
# --------------------------------------------------------------------------------------


def test_one_pop_per_spike_within_1ms():
    rng = np.random.default_rng(11)
    trains, times = spaced_trains(rng, 3, 3.0)
    audio = render_spikes(trains, 3.0, amplitudes=[1.0, 0.9, 0.8], rng=np.random.default_rng(12))
    pops = detect_pops(audio, -0.5 * UNIT_PEAK)
    assert pops.size == times.size
    assert np.max(np.abs(pops - np.sort(times))) < 1e-3


def test_spike_lands_on_the_right_sample():
    # Sub-sample placement: the trough of an unfiltered-like render follows fractional
    # spike times; the error (incl. the band-pass delay) stays far below 1 ms.
    shifts = []
    for frac in np.linspace(0, 1, 8, endpoint=False):
        t = 0.1 + frac / FS
        a = render_spikes([np.array([t])], 0.2, hiss_level=0, amplitude_jitter=0)
        k = int(np.argmin(a))
        # parabolic interpolation of the trough
        y0, y1, y2 = a[k - 1 : k + 2].astype(float)
        shifts.append((k + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)) / FS - t)
    shifts = np.array(shifts)
    assert np.max(np.abs(shifts)) < 1 / FS  # timing error below one sample period
    assert np.ptp(shifts) < 0.2 / FS  # the same delay for every sub-sample offset


def test_pops_are_biphasic_and_about_a_millisecond_long():
    rng = np.random.default_rng(3)
    trains, times = spaced_trains(rng, 2, 2.0, min_isi_s=0.006)
    audio = render_spikes(trains, 2.0, hiss_level=0.0, rng=np.random.default_rng(4))
    for t in np.sort(times):
        k = round(t * FS)
        seg = audio[k - round(1.5e-3 * FS) : k + round(2.5e-3 * FS)].astype(float)
        i_tr, i_pk = int(np.argmin(seg)), int(np.argmax(seg))
        trough = -seg[i_tr]
        assert i_tr < i_pk, "negative phase first"
        assert seg[i_pk] > 0.3 * trough, "then a positive phase"
        assert not np.any(seg[:i_tr] > 0.1 * trough), "no positive phase before the trough"
        loud = np.flatnonzero(np.abs(seg) > 0.1 * trough)
        length_s = (loud[-1] - loud[0] + 1) / FS
        assert 0.5e-3 <= length_s <= 2e-3


def test_most_energy_in_spike_band():
    rng = np.random.default_rng(5)
    audio = render_spikes(poisson_trains(rng, 5, 20, 2.0), 2.0, rng=rng).astype(float)
    power = np.abs(np.fft.rfft(audio)) ** 2
    freq = np.fft.rfftfreq(audio.size, 1 / FS)
    in_band = power[(freq >= 300) & (freq <= 7000)].sum() / power.sum()
    assert in_band > 0.5


def test_spikes_after_the_end_are_ignored_and_ragged_arrays_work():
    base = [np.array([0.1, 0.2]), np.array([0.15])]
    ragged = np.empty(2, dtype=object)  # e.g. NWB units.spike_times
    ragged[:] = [np.array([0.1, 0.2, 0.3, 7.0]), np.array([0.15, 0.31])]
    a = render_spikes(base, 0.3, rng=np.random.default_rng(0))
    b = render_spikes(ragged, 0.3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)


def test_48khz_and_hiss_only():
    audio = render_spikes([], 0.5, fs_hz=48000, hiss_level=0.1, rng=np.random.default_rng(0))
    assert audio.shape == (24000,) and audio.dtype == np.float32
    rms = np.sqrt(np.mean(audio[4800:-4800].astype(float) ** 2))
    assert rms == pytest.approx(0.1 * UNIT_PEAK, rel=0.15)  # hiss level is relative
    assert np.all(render_spikes([], 0.1, hiss_level=0.0) == 0)  # 0 = off


# --------------------------------------------------------------------------------------
# Loudness: ceiling, smooth gain, fades
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2])
def test_never_above_minus_1_dbfs_in_a_300hz_burst_on_50_cells(channels):
    rng = np.random.default_rng(7)
    trains = poisson_trains(rng, 50, 300, 1.0)
    audio = render_spikes(trains, 1.0, channels=channels, level_dbfs=0.0, rng=rng)
    assert np.max(np.abs(audio)) <= CEILING
    assert np.max(np.abs(audio)) > 0.8 * CEILING  # limited, not silenced


def test_limiter_gain_never_jumps_and_releases_slowly():
    rng = np.random.default_rng(8)
    quiet = poisson_trains(rng, 50, 2, 0.3)
    burst = poisson_trains(rng, 50, 300, 0.3, t0=0.3)
    trains = [np.concatenate([q, b]) for q, b in zip(quiet, burst, strict=True)]
    r = SpikeAudioRenderer(50, duration_s=1.0, rng=np.random.default_rng(9))
    gains, blocks = [], []
    n_blocks = (FS + r.latency_samples) // 441 + 1
    for b in range(n_blocks):  # 10-ms blocks, as the live mode will render them
        a0 = b * 441
        sp = [tr[(tr * FS >= a0) & (tr * FS < a0 + 441)] for tr in trains]
        blocks.append(r.render_block(sp, a0 / FS, 441))
        gains.append(r.last_gain)
    gain, audio = np.concatenate(gains), np.concatenate(blocks)
    step = np.diff(gain)
    assert gain.min() < 0.7  # the limiter did work
    assert np.max(-step) <= 1 / r.lookahead_samples + 1e-12  # attack is a ramp
    alpha = np.exp(-1 / (0.1 * FS))
    assert np.max(step) <= (1 - alpha) + 1e-12  # release: slow (100 ms time constant)
    after = r.latency_samples + round(0.62 * FS)  # 20 ms after the burst
    assert gain[after] < 0.99  # ...so the background does not pump back up at once
    assert np.max(np.abs(audio)) <= CEILING


def test_fade_in_and_out_start_and_end_at_zero():
    spikes = [np.array([0.0, 0.0003, 0.25, 0.4996])]
    audio = render_spikes(spikes, 0.5, hiss_level=0.5, rng=np.random.default_rng(1))
    assert audio[0] == 0 and audio[-1] == 0
    assert np.max(np.abs(audio[:10])) < 1e-3 and np.max(np.abs(audio[-10:])) < 1e-3
    middle = np.sqrt(np.mean(audio[5000:6000].astype(float) ** 2))
    assert np.sqrt(np.mean(audio[:44].astype(float) ** 2)) < 0.1 * middle  # first 1 ms


@pytest.mark.parametrize("channels", [1, 2])
def test_blockwise_rendering_equals_one_shot(channels):
    rng = np.random.default_rng(21)
    trains = poisson_trains(rng, 4, 80, 1.0)
    trains[0] = np.concatenate([trains[0], [0.0, 0.01, 0.5 - 1e-9]])  # block edges
    trains = [np.sort(t) for t in trains]
    one_shot = render_spikes(trains, 1.0, channels=channels, rng=np.random.default_rng(5))
    r = SpikeAudioRenderer(4, channels=channels, duration_s=1.0, rng=np.random.default_rng(5))
    sizes = np.resize([441, 7, 1000, 441, 96], 200)
    out, a0 = [], 0
    while a0 < FS + r.latency_samples:
        n = int(sizes[len(out)])
        sp = [tr[(tr * FS >= a0) & (tr * FS < a0 + n)] for tr in trains]
        out.append(r.render_block(sp, r.next_t0_s, n))
        a0 += n
    blocks = np.concatenate(out)[r.latency_samples : r.latency_samples + FS]
    np.testing.assert_allclose(blocks, one_shot, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------------------
# Stereo, WAV files
# --------------------------------------------------------------------------------------


def test_stereo_puts_cell0_left_and_cell1_right():
    rng = np.random.default_rng(2)
    left_only = render_spikes(
        [np.array([0.1, 0.2]), np.array([])], 0.3, channels=2, hiss_level=0, rng=rng
    )
    right_only = render_spikes(
        [np.array([]), np.array([0.1, 0.2])], 0.3, channels=2, hiss_level=0, rng=rng
    )
    assert left_only.shape == (13230, 2)
    assert np.abs(left_only[:, 0]).max() > 0.1 and np.abs(left_only[:, 1]).max() < 1e-6
    assert np.abs(right_only[:, 1]).max() > 0.1 and np.abs(right_only[:, 0]).max() < 1e-6
    centre = render_spikes([np.array([0.1])], 0.3, channels=2, pan=[0.0], hiss_level=0)
    np.testing.assert_allclose(centre[:, 0], centre[:, 1])


@pytest.mark.parametrize(("fs", "channels"), [(44100, 1), (48000, 2)])
def test_save_wav_round_trips_and_refuses_to_overwrite(tmp_path, fs, channels):
    rng = np.random.default_rng(4)
    audio = render_spikes(poisson_trains(rng, 2, 30, 0.5), 0.5, fs_hz=fs, channels=channels)
    path = save_wav(tmp_path / "pops.wav", audio, fs)
    back, fs_back = load_wav(path)
    assert fs_back == fs and back.shape == audio.shape
    np.testing.assert_allclose(back, audio, atol=1 / 32767)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_wav(path, audio, fs)
    save_wav(path, np.zeros_like(audio), fs, overwrite=True)
    assert np.all(load_wav(path)[0] == 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pops.wav"]  # no temp files left


# --------------------------------------------------------------------------------------
# Bad input names the field
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: render_spikes([[0.1]], 1.0, fs_hz=1000), "fs_hz"),
        (lambda: render_spikes([[0.1]], 1.0, channels=3), "channels"),
        (lambda: render_spikes([[0.1]], 0.0), "duration_s"),
        (lambda: render_spikes([[0.1]], 1.0, hiss_level=-1), "hiss_level"),
        (lambda: render_spikes([[0.1]], 1.0, peak_dbfs=3), "peak_dbfs"),
        (lambda: render_spikes([[0.1], [-0.2]], 1.0), "spike_times_s[1]"),
        (lambda: render_spikes([[np.nan]], 1.0), "spike_times_s[0]"),
        (lambda: render_spikes(np.array([0.1, 0.2]), 1.0), "spike_times_s"),
        (lambda: render_spikes([[0.1]], 1.0, amplitudes=[1, 1]), "amplitudes"),
        (lambda: render_spikes([[0.1]], 1.0, pan=[0]), "pan"),
        (lambda: render_spikes([[0.1]], 1.0, rng=42), "rng"),
        (lambda: make_spike_waveform(44100, trough_to_peak_s=0.9e-3), "trough_to_peak_s"),
        (lambda: make_spike_waveform(44100, duration_s=0.05), "duration_s"),
        (lambda: electrode_amplitudes([-1.0]), "distances"),
        (lambda: electrode_amplitudes([1.0], unit="deg"), "um_per_deg"),
        (lambda: electrode_amplitudes([1.0], unit="mm"), "unit"),
        (lambda: SpikeAudioRenderer(1).render_block([[0.5]], 0.0, 441), "spike_times_in_block[0]"),
        (lambda: SpikeAudioRenderer(1).render_block([[]], 0.5, 441), "t0_s"),
        (lambda: SpikeAudioRenderer(1).render_block([[]], 0.0, 0), "n_samples"),
        (lambda: AudioStream(blocksize=-1), "blocksize"),
        (lambda: AudioStream(device=2.5), "device"),
        (lambda: AudioStream(channels=2).push(np.zeros(10)), "block"),
        (lambda: save_wav("x.wav", np.full(10, 2.0), 44100), "audio"),
        (lambda: save_wav("x.wav", np.zeros(10), 0), "fs_hz"),
        (lambda: check_audio_output(device=-3), "device"),
    ],
)
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.field == field


# --------------------------------------------------------------------------------------
# Ring buffer (the callback logic, driven directly) and the "cannot play" messages
# --------------------------------------------------------------------------------------


def _drive(stream, frames):
    out = np.full((frames, stream.channels), np.nan, dtype=np.float32)
    stream._callback(
        out,
        frames,
        SimpleNamespace(outputBufferDacTime=1.01, currentTime=1.0),
        SimpleNamespace(output_underflow=False),
    )
    return out


def test_ring_buffer_push_wraps_fades_and_counts_underflows():
    s = AudioStream(fs_hz=1000, blocksize=10, buffer_s=0.05, fade_s=0.01)  # 50 frames, 10 fade
    assert s.capacity_frames == 50 and s.push(np.ones(30))
    assert not s.push(np.ones(30))  # full: refused, nothing queued
    out = _drive(s, 20)
    assert out[0, 0] == 0 and np.all(np.diff(out[:10, 0]) > 0) and np.all(out[10:, 0] == 1)
    assert s.push(np.full(30, 0.5))  # wraps around the end of the ring
    out = _drive(s, 50)
    np.testing.assert_array_equal(out[:, 0], np.r_[np.ones(10), np.full(30, 0.5), np.zeros(10)])
    assert s.stats.underflows == 1 and s.stats.underflow_frames == 10
    assert s.stats.measured_latency_s == pytest.approx(0.01)
    s.push(np.ones(25))
    s.finish()  # end of input: the last 10 frames fade out, then the stream stops
    with pytest.raises(_StreamDone):  # sounddevice.CallbackStop once started
        _drive(s, 30)
    assert s.stats.underflows == 1 and s.stats.frames_played == 85
    with pytest.raises(RuntimeError):
        s.push(np.ones(1))


def test_missing_portaudio_gives_one_line_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # `import sounddevice` fails
    msg = check_audio_output()
    assert "libportaudio2" in msg and "\n" not in msg
    assert "libportaudio2" in list_devices()
    with pytest.raises(AudioOutputError, match="libportaudio2"):
        AudioStream().start()
    with pytest.raises(AudioOutputError, match="libportaudio2"):
        play_audio(np.zeros(100, np.float32), 44100)


def test_portaudio_library_missing_oserror(monkeypatch, tmp_path):
    # What sounddevice really does without libportaudio: raise OSError on import.
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    msg = check_audio_output()
    assert "apt-get install libportaudio2" in msg and "\n" not in msg


def test_import_works_without_portaudio():
    code = (
        "import sys; sys.modules['sounddevice'] = None; import v1lab.audio as a; "
        "print(a.check_audio_output())"
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "libportaudio2" in proc.stdout


def test_bad_device_gives_one_line_with_the_fix():
    try:
        import sounddevice  # noqa: F401
    except (OSError, ImportError) as exc:
        pytest.skip(f"PortAudio unavailable ({exc}); apt-get install libportaudio2")
    for device in ("no-such-device", 9999):
        msg = check_audio_output(device=device)
        assert msg is not None and "--device" in msg and "--list-devices" in msg
        assert "\n" not in msg
    with pytest.raises(AudioOutputError, match="--device"):
        AudioStream(device="no-such-device").start()
