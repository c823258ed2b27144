"""The renderer (v1lab.audio.mix): pop timing and shape, loudness, fades, blocks, stereo."""

from __future__ import annotations

import numpy as np
import pytest
from _audio_signals import CEILING, FS, UNIT_PEAK, detect_pops, poisson_trains, spaced_trains

from v1lab.audio import SpikeAudioRenderer, render_spikes

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
