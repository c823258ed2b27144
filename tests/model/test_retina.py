"""Retina / LGN: centre–surround facts, mirror-image ON/OFF cells, exact streaming."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from v1lab import ParameterError
from v1lab.model.retina import (
    Retina,
    RetinaFilter,
    compute_dog_gain,
    make_dog_weights,
    make_temporal_iir,
    make_temporal_kernel,
)
from v1lab.model.stimulus import FullField, RetinaGrid, Spot, render_frames

RETINA = Retina(extent_deg=6.0, pixels_per_deg=10.0, lgn_extent_deg=1.0)


def _centre_cell(rf: RetinaFilter) -> int:
    return int(np.argmin(np.hypot(*rf.positions_deg.T)))


def _step_response(rf: RetinaFilter, stimulus, n_frames: int = 60) -> np.ndarray:
    """LGN channels over time for a stimulus switched on at t = 0."""
    rf.reset()
    frames = render_frames(stimulus, RETINA.grid, np.arange(n_frames) / RETINA.frame_rate_hz)
    return rf.process(frames)


def test_dog_weights_integrate_to_one_minus_surround_weight():
    # A uniform field of contrast c gives (1 - Ks) c: the surround nearly cancels it.
    w = make_dog_weights(
        RetinaGrid(10.0, 10.0),
        np.zeros((1, 2)),
        center_sigma_deg=0.15,
        surround_sigma_deg=0.6,
        surround_weight=0.85,
    )
    assert w.sum() == pytest.approx(0.15, abs=1e-4)
    assert w.max() > 0 > w.min()  # excitatory centre, inhibitory surround


def test_best_spot_drives_more_than_diffuse_light_as_the_dog_predicts():
    # Linear DoG with Gaussian centre/surround of integrated weights 1 and Ks: a centred
    # spot of radius r gives (1 - e^(-r²/2σc²)) - Ks (1 - e^(-r²/2σs²)) and diffuse light
    # 1 - Ks. Croner & Kaplan's (1995) mean Ks = 0.55 makes diffuse light about half as
    # effective as the best spot. Low contrast keeps the LGN in its linear range.
    rf = RetinaFilter(RETINA)
    cell = _centre_cell(rf)
    radii = np.arange(0.1, 0.75, 0.05)
    spots = [
        _step_response(rf, Spot(radius_deg=r, contrast=0.2, duration_s=1.0))[:, cell].max()
        for r in radii
    ]
    diffuse = _step_response(rf, FullField(contrast=0.2, duration_s=1.0))[:, cell].max()
    ks, sc, ss = RETINA.surround_weight, RETINA.center_sigma_deg, RETINA.surround_sigma_deg
    fine = np.linspace(0.01, 2.0, 400)
    mass = (1 - np.exp(-(fine**2) / (2 * sc**2))) - ks * (1 - np.exp(-(fine**2) / (2 * ss**2)))
    predicted = (1 - ks) / mass.max()
    assert RETINA.surround_weight == 0.55
    assert max(spots) > 0
    # Pixel sampling and the coarse radius grid cost a few percent: ±0.08 of the ratio.
    assert diffuse / max(spots) == pytest.approx(predicted, abs=0.08)
    assert diffuse < 0.65 * max(spots)


def test_dog_gain_is_band_pass():
    kw = {"center_sigma_deg": 0.15, "surround_sigma_deg": 0.6, "surround_weight": 0.85}
    f = np.array([0.0, 0.5, 3.0])
    g = compute_dog_gain(f, **kw)
    assert g[0] == pytest.approx(0.15)
    assert g[1] > 3 * g[0]  # the surround cancels low frequencies…
    assert g[2] < g[1]  # …the centre's size cuts high ones


def test_on_and_off_cells_are_mirror_images():
    rf = RetinaFilter(RETINA)
    n = rf.n_positions
    light = _step_response(rf, Spot(radius_deg=0.3, contrast=0.4, duration_s=1.0))
    dark = _step_response(rf, Spot(radius_deg=0.3, contrast=-0.4, duration_s=1.0))
    on_light, off_light = light[:, :n], light[:, n : 2 * n]
    on_dark, off_dark = dark[:, :n], dark[:, n : 2 * n]
    np.testing.assert_allclose(on_light, off_dark, atol=1e-6)
    np.testing.assert_allclose(off_light, on_dark, atol=1e-6)
    cell = _centre_cell(rf)
    assert on_light[:, cell].max() > 0.05  # a light spot excites the ON centre…
    assert off_light[:, cell].min() < -0.05  # …and silences the OFF centre below baseline


def test_grey_screen_gives_exactly_zero():
    rf = RetinaFilter(RETINA)
    out = rf.process(np.zeros((20, RETINA.grid.n_pixels, RETINA.grid.n_pixels)))
    assert not out.any()


def test_rectification_bounds_the_decrease_at_the_maintained_discharge():
    rf = RetinaFilter(RETINA)
    out = _step_response(rf, Spot(radius_deg=0.3, contrast=-1.0, duration_s=1.0))
    assert out.min() >= -RETINA.baseline - 1e-6
    assert out.min() == pytest.approx(-RETINA.baseline, abs=1e-6)


def test_temporal_kernel_is_biphasic_with_dc_gain_one_minus_beta():
    k = make_temporal_kernel(200.0, 0.008, 0.8)
    # The taps stop where the kernel is below 1e-4 of its peak; the lost tail is ~1e-5.
    assert k.sum() == pytest.approx(0.2, abs=1e-4)
    peak = int(np.argmax(k))
    assert 0.02 <= peak / 200.0 <= 0.05  # first lobe peaks at 20–50 ms (cat X cells)
    assert k[peak:].min() < -0.05 * k.max()  # a real negative lobe


def test_iir_realises_the_kernel_exactly():
    for tau, beta in ((0.008, 0.8), (0.016, 0.3)):
        b, a = make_temporal_iir(200.0, tau, beta)
        impulse = np.zeros(200)
        impulse[0] = 1.0
        iir = lfilter(b, a, impulse)
        fir = make_temporal_kernel(200.0, tau, beta, n_taps=200)
        np.testing.assert_allclose(iir / iir.max(), fir / fir.max(), atol=1e-9)


def test_blockwise_processing_equals_one_shot():
    rng = np.random.default_rng(3)
    n = RETINA.grid.n_pixels
    frames = rng.normal(0, 0.3, (47, n, n)).astype(np.float32)
    rf = RetinaFilter(RETINA)
    whole = rf.process(frames)
    rf.reset()
    parts = [rf.process(frames[i : i + 2]) for i in range(0, 47, 2)]  # 10-ms blocks
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)


def test_lagged_cells_respond_later():
    rf = RetinaFilter(RETINA)
    n = rf.n_positions
    cell = _centre_cell(rf)
    out = _step_response(rf, Spot(radius_deg=0.2, contrast=0.5, duration_s=1.0), n_frames=80)
    t_fast = np.argmax(out[:, cell])
    t_lagged = np.argmax(out[:, 2 * n + cell])
    assert (t_lagged - t_fast) / RETINA.frame_rate_hz >= 0.02


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("surround_sigma_deg", 0.1),  # narrower than the centre
        ("surround_weight", 1.5),
        ("frame_rate_hz", -5.0),
        ("lgn_extent_deg", 20.0),  # larger than the screen
        ("pixels_per_deg", 1.0),  # pixels coarser than the RF centre
    ],
)
def test_bad_retina_parameters_are_named(field, value):
    with pytest.raises(ParameterError, match=field):
        Retina(**{field: value})
