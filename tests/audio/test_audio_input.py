"""Bad input to any public function of v1lab.audio names the field."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab import ParameterError
from v1lab.audio import (
    AudioStream,
    SpikeAudioRenderer,
    check_audio_output,
    electrode_amplitudes,
    make_spike_waveform,
    render_spikes,
    save_wav,
)

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
