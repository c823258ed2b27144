"""Whitening, patches, inference and dictionary learning (v1lab.learn)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("threadpoolctl")

from scipy.optimize import linear_sum_assignment

from v1lab._validate import ParameterError
from v1lab.analysis import make_gabor
from v1lab.learn import (
    LearnSettings,
    LearnState,
    compute_radial_power_spectrum,
    compute_sparse_objective,
    compute_whitened,
    infer_fista,
    infer_lca,
    learn_dictionary,
    learn_from_batches,
    make_pixel_grid,
    make_unit_rows,
    make_whitening_filter,
    sample_patches,
)


def _one_over_f_image(n: int, seed: int) -> np.ndarray:
    """Gaussian noise with an amplitude spectrum 1/f (power 1/f²), as natural images."""
    rng = np.random.default_rng(seed)
    f = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :])
    f[0, 0] = 1.0
    return np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, n))) / f))


def _slope(image: np.ndarray) -> float:
    """Log–log slope of the radial power spectrum between 0.02 and 0.25 cycles/px."""
    f, p = compute_radial_power_spectrum(image)
    band = (f > 0.02) & (f < 0.25)
    return float(np.polyfit(np.log(f[band]), np.log(p[band]), 1)[0])


def test_whitening_flattens_a_one_over_f_spectrum():
    img = _one_over_f_image(256, seed=1)
    # The input's power falls as f^-2; the radial estimate over 24 rings of a 256² image
    # is within ~0.2 of it (the Hann window's leak flattens the lowest rings a little).
    assert _slope(img) == pytest.approx(-2.0, abs=0.25)
    white = compute_whitened(img)
    # Flat: |slope| < 0.25 in the band below the roll-off (at 0.25 c/px the roll-off
    # itself costs a factor exp(-2 (0.25/0.4)^4) = 0.74 in power, a slope of about -0.1).
    assert abs(_slope(white)) < 0.25
    assert white.mean() == pytest.approx(0.0, abs=1e-12)
    assert white.std() == pytest.approx(1.0, rel=1e-12)


def test_whitening_filter_peaks_where_the_ramp_meets_the_roll_off():
    # d/df [f exp(-(f/f0)^4)] = 0 at f = f0 / 4^(1/4) = f0/√2.
    r = make_whitening_filter((1, 4000), cutoff_cpp=0.4)[0, :2000]
    f = np.fft.fftfreq(4000)[:2000]
    assert f[np.argmax(r)] == pytest.approx(0.4 / np.sqrt(2), abs=1e-3)
    assert r[0] == 0.0


def test_patches_are_seeded_and_come_from_the_images():
    img = np.arange(400.0).reshape(20, 20)
    a = sample_patches([img], 50, 5, np.random.default_rng(3))
    b = sample_patches([img], 50, 5, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    tiles = a.reshape(50, 5, 5)
    # Each patch is a window of the image: rows step by 20, columns by 1.
    assert np.all(np.diff(tiles, axis=1) == 20) and np.all(np.diff(tiles, axis=2) == 1)
    with pytest.raises(ParameterError, match="patch_px"):
        sample_patches([img], 1, 21, np.random.default_rng(0))


def _known_code_problem(seed: int = 0):
    """A 1.5× overcomplete random dictionary, a 4-sparse code and its exact LASSO solution."""
    rng = np.random.default_rng(seed)
    n_pix, n_basis, lam = 64, 96, 0.05
    d = make_unit_rows(rng.standard_normal((n_basis, n_pix)))
    support = np.sort(rng.choice(n_basis, 4, replace=False))
    a_true = np.zeros(n_basis)
    a_true[support] = rng.choice([-1, 1], 4) * rng.uniform(1.0, 2.0, 4)
    x = a_true @ d
    # With the support and signs right, the L1 minimiser solves D_S D_Sᵀ a_S = D_S x − λ s.
    ds = d[support]
    a_lasso = np.zeros(n_basis)
    a_lasso[support] = np.linalg.solve(ds @ ds.T, ds @ x - lam * np.sign(a_true[support]))
    # ...and is the minimiser only if every other unit stays below threshold (KKT):
    off = np.setdiff1d(np.arange(n_basis), support)
    assert np.max(np.abs((x - a_lasso @ d) @ d[off].T)) < lam
    assert np.all(np.sign(a_lasso[support]) == np.sign(a_true[support]))
    return x[None, :], d, lam, a_true, a_lasso


@pytest.mark.parametrize("method", ["fista", "lca"])
def test_inference_recovers_a_known_sparse_code(method):
    x, d, lam, a_true, a_lasso = _known_code_problem()
    if method == "fista":
        a = infer_fista(x, d, lam, n_iter=3000)[0]
    else:
        a = infer_lca(x, d, lam, tau_s=0.01, dt_s=0.001, duration_s=40.0)[0]
    # The support is exact; the values are the L1 solution (the true code shrunk by
    # ~λ), converged to 1e-6 of it, and within 2λ·(condition) of the true code.
    np.testing.assert_array_equal(np.flatnonzero(a), np.flatnonzero(a_true))
    np.testing.assert_allclose(a, a_lasso, atol=1e-6)
    assert np.max(np.abs(a - a_true)) < 0.2
    # It is the minimum: no other code (the true one included) has a lower objective.
    assert compute_sparse_objective(x, d, a[None], lam) <= compute_sparse_objective(
        x, d, a_true[None], lam
    )


def _known_gabors(patch_px: int = 10) -> np.ndarray:
    """12 unit-norm Gabors: 6 orientations × even and odd phase, 0.2 c/px, σ 1.8 px."""
    x, y = make_pixel_grid(patch_px)
    xx, yy = np.meshgrid(x, y)
    rows = [
        make_gabor(xx, yy, orientation_deg=o, phase_deg=p, spatial_frequency_cpd=0.2,
                   sigma_across_deg=1.8, sigma_along_deg=1.8).ravel()
        for o in range(0, 180, 30) for p in (0.0, 90.0)
    ]  # fmt: skip
    return make_unit_rows(np.array(rows))


def test_learning_recovers_known_gabors_up_to_sign_and_order():
    truth = _known_gabors()
    k, p = truth.shape
    # The full Hebbian step (rate 1): these patches are exactly sparse in the Gabors.
    settings = LearnSettings(
        patch_px=10, n_basis=k, sparsity=0.1, n_batches=400, batch_size=128, rate=1.0
    )

    def batch(i: int) -> np.ndarray:
        # Each patch: 2 of the 12 Gabors with Laplace-like amplitudes, plus pixel noise.
        rng = np.random.default_rng([7, i])
        codes = np.zeros((128, k))
        rows = np.repeat(np.arange(128), 2)
        cols = np.concatenate([rng.choice(k, 2, replace=False) for _ in range(128)])
        codes[rows, cols] = rng.choice([-1, 1], 256) * (1.0 + rng.exponential(1.0, 256))
        return (codes @ truth + 0.05 * rng.standard_normal((128, p))).astype(np.float32)

    learned = learn_from_batches(batch, LearnState.start(settings)).dictionary
    overlap = np.abs(learned @ truth.T)  # |cos| of every learned field with every Gabor
    row, col = linear_sum_assignment(-overlap)
    # Every Gabor has its own learned field with |cos| ≥ 0.9 (a random unit vector in
    # 100-D has |cos| ≈ 0.1 with a given one; 0.9 leaves a residual of sin(acos 0.9) = 0.44).
    assert sorted(col.tolist()) == list(range(k))
    assert overlap[row, col].min() >= 0.9


def test_same_seed_same_fields_and_a_resumed_run_matches():
    images = [compute_whitened(_one_over_f_image(96, seed=s)) for s in (1, 2)]
    settings = LearnSettings(patch_px=8, n_basis=16, n_batches=30, batch_size=32, seed=3)
    whole = learn_dictionary(images, LearnState.start(settings))
    again = learn_dictionary(images, LearnState.start(settings))
    half = learn_dictionary(images, LearnState.start(settings), until=13)
    resumed = learn_dictionary(images, half)
    np.testing.assert_array_equal(whole.dictionary, again.dictionary)
    np.testing.assert_array_equal(whole.dictionary, resumed.dictionary)
    np.testing.assert_array_equal(whole.objective, resumed.objective)
    assert resumed.batch == 30 and len(resumed.objective) == 30
    other = learn_dictionary(images, LearnState.start(LearnSettings(
        patch_px=8, n_basis=16, n_batches=30, batch_size=32, seed=4)))  # fmt: skip
    assert not np.array_equal(whole.dictionary, other.dictionary)


@pytest.mark.parametrize(
    ("field", "value"),
    [("patch_px", 2), ("n_basis", 0), ("sparsity", -1.0), ("inference", "ista"), ("seed", -1)],
)
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(ParameterError, match=field):
        LearnSettings(**{field: value})
