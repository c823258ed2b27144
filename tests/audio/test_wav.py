"""WAV files (v1lab.audio.wav): round trip, atomic write, no silent overwrite."""

from __future__ import annotations

import numpy as np
import pytest
from _audio_signals import poisson_trains

from v1lab.audio import load_wav, render_spikes, save_wav


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
