"""Learned fields as model V1 cells (v1lab.learn.cells, the V1 layer's rf_images hook)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("threadpoolctl")

from v1lab._validate import ParameterError
from v1lab.analysis import compute_osi, make_gabor
from v1lab.experiment import Circuit, sim_rates
from v1lab.learn import LearnedFields, LearnSettings, compute_field_fits, make_pixel_grid
from v1lab.learn.cells import compute_quadrature_field, make_learned_cells, make_learned_circuit
from v1lab.model.cortex import make_gabor_weights, make_image_weights
from v1lab.model.population import population_from_cells
from v1lab.model.retina import Retina
from v1lab.model.stimulus import Grating

RETINA = Retina(extent_deg=6.0, lgn_extent_deg=3.0)


def _learned(orientations=(30.0, 120.0), patch_px=12):
    x, y = make_pixel_grid(patch_px)
    xx, yy = np.meshgrid(x, y)
    fields = np.array([
        make_gabor(xx, yy, orientation_deg=o, spatial_frequency_cpd=0.2, sigma_across_deg=1.6,
                   sigma_along_deg=2.4, phase_deg=0.0)
        for o in orientations
    ], dtype=np.float32)  # fmt: skip
    settings = LearnSettings(patch_px=patch_px, n_basis=len(orientations))
    return LearnedFields(fields, settings, np.zeros(0), (), compute_field_fits(fields))


def test_image_weights_of_a_gabor_match_the_gabor_weights():
    # A Gabor drawn on a fine grid (0.05°) and read back by bilinear interpolation
    # equals the analytic Gabor to within the interpolation error, |f''| h²/8 ≈ 0.01.
    pixel = 0.05
    x, y = make_pixel_grid(81)
    xx, yy = np.meshgrid(x * pixel, y * pixel)
    params = dict(orientation_deg=35.0, spatial_frequency_cpd=0.8, phase_deg=20.0,
                  sigma_across_deg=0.4, sigma_along_deg=0.6)  # fmt: skip
    image = make_gabor(xx - 0.3, yy + 0.2, **params)
    pos = np.stack(np.meshgrid(np.linspace(-1.5, 1.5, 31), np.linspace(-1.5, 1.5, 31)), -1)
    pos = pos.reshape(-1, 2)
    got = make_image_weights(pos, image[None], x_deg=np.array([0.1]), y_deg=np.array([-0.1]),
                             pixel_deg=pixel)[:, 0]  # fmt: skip
    want = make_gabor_weights(
        pos, x_deg=np.array([0.4]), y_deg=np.array([-0.3]),
        **{k: np.array([v]) for k, v in params.items()},
    )[:, 0]  # fmt: skip
    np.testing.assert_allclose(got, want, atol=0.012)


def test_quadrature_partner_is_orthogonal_with_the_same_energy():
    learned = _learned()
    for field, ori in zip(learned.fields, learned.fit_column("orientation_deg"), strict=True):
        field = field.astype(np.float64)
        q = compute_quadrature_field(field, ori)
        # Parseval: the transform keeps every Fourier component's energy except on the
        # line k·n = 0 (the DC among them), which it zeroes, and on the Nyquist row and
        # column, where a component is its own negative and an odd multiplier cannot act
        # (part of that is lost); −i sign(k·n) is odd, so the pair is orthogonal.
        spectrum = np.abs(np.fft.fft2(field)) ** 2 / field.size
        theta = np.deg2rad(ori + 90.0)
        ky = -np.fft.fftfreq(field.shape[0])[:, None]
        kx = np.fft.fftfreq(field.shape[1])[None, :]
        on_line = np.sign(kx * np.cos(theta) + ky * np.sin(theta)) == 0
        nyquist = (np.abs(kx) == 0.5) | (np.abs(ky) == 0.5)
        kept = np.sum(field**2) - spectrum[on_line].sum()
        assert kept - spectrum[nyquist & ~on_line].sum() - 1e-9 <= np.sum(q**2) <= kept + 1e-9
        assert np.sum(q**2) > 0.98 * np.sum(field**2)
        assert abs(np.sum(q * field)) < 1e-9 * np.sum(field**2)


def _grating_responses(circuit, orientations, sf_cpd, tf_hz=4.0):
    fs = circuit.retina.frame_rate_hz
    f0, f1 = [], []
    for o in orientations:
        circuit.reset()
        stim = Grating(orientation_deg=o, spatial_frequency_cpd=sf_cpd, temporal_frequency_hz=tf_hz,
                       contrast=1.0, duration_s=1.0)  # fmt: skip
        r = sim_rates(circuit, stim)[int(0.5 * fs) :]  # the last 2 cycles, past the onset
        t = np.arange(len(r)) / fs
        f0.append(r.mean(axis=0) - circuit.population.spontaneous_hz)
        f1.append(2 * np.abs((r * np.exp(-2j * np.pi * tf_hz * t)[:, None]).mean(axis=0)))
    return np.array(f0), np.array(f1)


@pytest.mark.parametrize("kind", ["simple", "complex"])
def test_learned_cells_are_tuned_to_their_fields_orientation(kind):
    learned = _learned((30.0, 120.0))
    pop, images = make_learned_cells(learned, cell_type=kind, pixel_deg=0.2)
    np.testing.assert_allclose(pop.orientation_deg, [30.0, 120.0], atol=0.5)
    np.testing.assert_allclose(pop.spatial_frequency_cpd, 1.0, rtol=0.02)  # 0.2 c/px ÷ 0.2°
    circuit = make_learned_circuit(RETINA, pop, images, pixel_deg=0.2)
    oris = np.arange(0.0, 180.0, 30.0)
    f0, f1 = _grating_responses(circuit, oris, sf_cpd=1.0)
    # Each cell prefers its own field's orientation (on a 30° grid) and is selective.
    assert oris[np.argmax(f0, axis=0)].tolist() == [30.0, 120.0]
    assert np.all(compute_osi(oris, f0, period=180.0) > 0.5)
    best = f0.max(axis=0)
    ratio = f1[np.argmax(f0, axis=0), [0, 1]] / best
    if kind == "simple":
        # A rectified linear cell follows the drifting grating: F1/F0 > 1 (Skottun et al.
        # 1991; a half-wave rectified sinusoid has π/2).
        assert np.all(ratio > 1.0)
    else:
        # The energy of a quadrature pair hardly follows it: F1/F0 < 1.
        assert np.all(ratio < 1.0)


def test_learned_cells_match_gabor_cells_for_gabor_fields():
    # Fields that are exactly Gabors give (nearly) the Gabor cells' responses: the hook
    # changes where the RF comes from, not what the layer does with it.
    learned = _learned((60.0,))
    pop, images = make_learned_cells(learned, pixel_deg=0.2)
    learned_rates = sim_rates(make_learned_circuit(RETINA, pop, images, pixel_deg=0.2),
                              Grating(orientation_deg=60.0, spatial_frequency_cpd=1.0,
                                      temporal_frequency_hz=4.0, duration_s=0.5))  # fmt: skip
    gabor_rates = sim_rates(Circuit(RETINA, pop), Grating(
        orientation_deg=60.0, spatial_frequency_cpd=1.0, temporal_frequency_hz=4.0, duration_s=0.5
    ))  # fmt: skip
    # Pixel-sampled at the LGN spacing (0.2° = a fifth of the period), the drive differs
    # by a few % of its peak.
    peak = gabor_rates.max()
    np.testing.assert_allclose(learned_rates, gabor_rates, atol=0.05 * peak)


def test_bad_learned_cells_are_one_line():
    learned = _learned()
    with pytest.raises(ParameterError, match="cell_type"):
        make_learned_cells(learned, cell_type="end_stopped")
    with pytest.raises(ParameterError, match="min_r2"):
        make_learned_cells(learned, min_r2=1.1)
    pop = population_from_cells([{"type": "ds_simple"}, {"type": "simple"}])
    with pytest.raises(ParameterError, match="expected simple or complex"):
        make_learned_circuit(RETINA, pop, np.zeros((2, 2, 12, 12)))
    with pytest.raises(ParameterError, match="rf_images"):
        make_learned_circuit(RETINA, pop, np.zeros((2, 12, 12)))
