"""The pop waveform and the electrode's per-cell amplitudes (v1lab.audio.pops)."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.audio import electrode_amplitudes, make_spike_waveform

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
